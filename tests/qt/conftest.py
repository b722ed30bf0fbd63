"""Fixtures for the Qt tests: offscreen platform, throwaway QSettings, a window factory that always joins its
threads, and a guard that fails any test leaving a QThread running (napari's `_dangling_qthreads`)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import traceback  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, QThread  # noqa: E402


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(monkeypatch, qapp):
    """Fail the test if a QThread it started is still running at the end (it would qFatal at exit)."""
    started: list[tuple[QThread, str]] = []
    original = QThread.start

    def recording_start(self, *args, **kwargs):
        started.append((self, "".join(traceback.format_stack(limit=8)[:-1])))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    dangling = []
    for thread, where in started:
        try:
            running = thread.isRunning()
        except RuntimeError:  # the C++ object is gone, so it is not running
            continue
        if running and not thread.wait(10_000):
            dangling.append(where)
    if dangling:
        pytest.fail("QThread(s) still running at the end of the test; started at:\n" + "\n".join(dangling))


@pytest.fixture
def settings(tmp_path):
    """A private INI file, so tests never read or write the user's ganstudio settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def make_main_window(qtbot, settings):
    """Factory for MainWindow; teardown stops training and joins every thread, whatever the test did."""
    from ganstudio.qt.main_window import MainWindow

    windows = []
    errors: list[str] = []

    def factory(**kwargs):
        kwargs.setdefault("settings", settings)
        win = MainWindow(**kwargs)
        win.show_error = errors.append          # no dialogs in tests; assert on `errors` instead
        win.errors = errors
        win.ask_close = lambda: "discard"
        qtbot.addWidget(win)
        windows.append(win)
        return win

    yield factory
    for win in windows:
        assert win.shutdown(60_000), "the training thread did not stop within 60 s"
        win._close_when_done = False
        win.close()


@pytest.fixture
def tiny_form_values():
    """Form values for a run that trains in well under a second per step on 2 CPU cores."""
    return {"limit": 256, "batch_size": 32, "steps": 0, "sample_every": 2, "num_samples": 4, "jit_compile": "off",
            "checkpoint_every": 0, "checkpoint_minutes": 0.0, "tensorboard": False, "width": 8, "noise_dim": 16}


@pytest.fixture
def start_paused(qtbot, tiny_form_values):
    """start_paused(win, min_step, **form) -> the step at which a tiny run, started from the window with these form
    values on top of tiny_form_values, paused once it had trained at least min_step steps."""
    from ganstudio.engine.events import Paused

    def start(win, min_step: int, **values) -> int:
        for k, v in {**tiny_form_values, **values}.items():
            win.panel.set_value(k, v)
        assert win.start_training()
        qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step >= min_step, timeout=90_000)
        with qtbot.waitSignal(win.session.engineEvent, check_params_cb=lambda ev: isinstance(ev, Paused),
                              timeout=90_000):
            win.act_pause.trigger()
        return win.last_metrics.step

    return start


@pytest.fixture
def trainer_step(qtbot):
    """trainer_step(session) -> the step the trainer is at, asked between steps: a 'generate' request is answered
    at the next step boundary, also while paused. What a fixed wait only hoped for, without the wait: that the
    trainer has looked at its Control since (e.g. a paused run that stays paused answers with the same step)."""
    from ganstudio.engine.events import Generated

    def ask(session, timeout: int = 90_000) -> int:
        with qtbot.waitSignal(session.engineEvent, timeout=timeout,
                              check_params_cb=lambda ev: isinstance(ev, Generated) and ev.tag == "probe") as b:
            session.control.request("generate", tag="probe")
        return b.args[0].step

    return ask
