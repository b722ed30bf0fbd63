"""A seeded UI fuzzer for the real MainWindow (tiny preset, offscreen): random sequences of the user's actions, with
every modal dialog answered at random. Used by tests/qt/test_ui_fuzz.py (a few sequences in CI) and
benchmarks/ui_fuzz.py (many). Qt-only, no pytest: it pumps the event loop itself.

A sequence fails on: an exception in a slot (sys.excepthook, where PySide6 reports them), a qCritical/qFatal, an
action that blocks the GUI thread for more than HANG_S, a close() call that blocks for more than CLOSE_S (3 s), a window
that has not closed HANG_S after the close was accepted, or a QThread still running after the window closed.
"""
from __future__ import annotations

import faulthandler
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QThread, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QFileDialog, QLineEdit, QMessageBox

HANG_S = 180.0     # an action or a deferred close taking longer is a hang (the first step traced in 45-80 s on
                   # 2 cores at load average 16, and Stop waits for it)
CLOSE_S = 3.0      # closeEvent joins the trainer for CLOSE_WAIT_MS (1 s), then defers: it must never block longer
FORM = {"limit": 256, "batch_size": 32, "steps": 0, "sample_every": 2, "num_samples": 4, "jit_compile": "off",
        "checkpoint_every": 3, "checkpoint_minutes": 0.0, "tensorboard": False, "width": 8, "noise_dim": 16,
        "metric_every": 0, "precision": "float32"}
VALID_EDITS = {"g_lr": (1e-5, 1e-3), "d_lr": (1e-5, 1e-3), "beta1": (0.0, 0.9), "sample_every": (1, 5),
               "checkpoint_every": (1, 5), "keep_checkpoints": (1, 4)}
INVALID_TEXT = ("abc", "-1", "1e400", "nan", "", "0", "99999999999", "1,5", "--")
ACTIONS = ("start", "start", "pause", "step", "step_n", "stop", "save", "new_run", "edit_valid", "edit_invalid",
           "tab", "load", "pin", "delete", "close", "wait", "wait")


@dataclass
class Result:
    seed: int
    actions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors_shown: int = 0         # user-facing error messages (expected: invalid edits, refused actions)
    max_close_s: float = 0.0
    steps_trained: int = 0        # the highest step the window showed


def pump(ms: float) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.AllEvents, 20)
        time.sleep(0.005)


def wait_until(pred: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        pump(20)
    return pred()


def run_sequence(make_window: Callable[[], object], seed: int, n_actions: int = 12) -> Result:
    """Drive one window through `n_actions` random actions, then close it; return what went wrong."""
    rng = random.Random(seed)
    res = Result(seed)
    threads: list[QThread] = []
    original_start, original_hook = QThread.start, sys.excepthook

    def recording_start(self, *a, **kw):
        threads.append(self)
        return original_start(self, *a, **kw)

    def on_message(kind, context, text):
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            res.failures.append(f"qCritical: {text}")

    def excepthook(etype, value, tb):
        import traceback

        res.failures.append("exception in a slot: " + "".join(traceback.format_exception(etype, value, tb))[-1500:])

    patches = [(QThread, "start", recording_start),
               (QMessageBox, "question", staticmethod(lambda *a, **k: rng.choice((QMessageBox.Yes, QMessageBox.No)))),
               (QMessageBox, "warning", staticmethod(lambda *a, **k: QMessageBox.Ok)),
               (QMessageBox, "information", staticmethod(lambda *a, **k: QMessageBox.Ok)),
               (QMessageBox, "critical", staticmethod(lambda *a, **k: QMessageBox.Ok)),
               (QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", ""))),
               (QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", ""))),
               (QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))]
    saved = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in patches]
    for cls, name, value in patches:
        setattr(cls, name, value)
    sys.excepthook = excepthook
    previous_handler = qInstallMessageHandler(on_message)
    win = None
    try:
        win = make_window()
        win.show_error = lambda text: setattr(res, "errors_shown", res.errors_shown + 1)
        answers = {"next": "discard", "dialog_s": 0.0}

        def ask_close():     # the dialog stays open a random while: the run may finish meanwhile
            t0 = time.monotonic()
            delay = rng.choice((0, 0, 200, 1500, None))
            if delay is None:    # left open until the run has ended (a Stop or a finite run), at most 8 s
                wait_until(lambda: win.session is None, 8)
            else:
                pump(delay)
            answers["dialog_s"] += time.monotonic() - t0
            return answers["next"]

        win.ask_close = ask_close
        win.ckpt_panel.confirm_delete = lambda info: rng.random() < 0.7
        for k, v in FORM.items():
            win.panel.set_value(k, v)
        win.panel.set_value("steps", rng.choice((0, 0, 8)))   # 8: runs also finish on their own
        win.show()
        for i in range(n_actions):
            action = "start" if i == 0 and rng.random() < 0.7 else rng.choice(ACTIONS)
            res.actions.append(action)
            t0 = time.monotonic()
            closed = _act(win, action, rng, answers, res)
            if time.monotonic() - t0 > HANG_S:
                res.failures.append(f"{action} blocked the GUI thread for {time.monotonic() - t0:.1f} s")
            if win.last_metrics is not None:
                res.steps_trained = max(res.steps_trained, int(win.last_metrics.step))
            if closed:
                break
            pump(rng.choice((20, 50, 100, 300, 800)))
        if win.isVisible():
            answers["next"] = rng.choice(("save", "discard"))
            res.actions.append(f"close({answers['next']})")
            _close(win, res, answers)
    except Exception as e:  # noqa: BLE001 - the driver's own failure is a finding too
        import traceback

        res.failures.append("driver: " + traceback.format_exc()[-1500:])
        del e
    finally:
        if win is not None and not wait_until(lambda: win.session is None and not win.tasks.tasks, HANG_S):
            res.failures.append("threads did not finish after close")
            win.shutdown(120_000)
        for t in threads:
            try:
                if t.isRunning() and not t.wait(HANG_S * 1000):
                    res.failures.append(f"QThread {t.objectName()} still running after close")
            except RuntimeError:      # its C++ object is gone: not running
                pass
        qInstallMessageHandler(previous_handler)
        sys.excepthook = original_hook
        for cls, name, value in saved:
            if value is None:
                delattr(cls, name)
            else:
                setattr(cls, name, value)
        if win is not None:
            win._close_when_done = False
            win.close()
            win.deleteLater()
            pump(50)
    return res


def _close(win, res: Result, answers: dict) -> bool:
    """Close as the user does; the time the (simulated) dialog was open does not count as blocking."""
    answers["dialog_s"] = 0.0
    t0 = time.monotonic()
    win.close()
    blocked = time.monotonic() - t0 - answers["dialog_s"]
    res.max_close_s = max(res.max_close_s, blocked)
    if blocked > CLOSE_S:
        res.failures.append(f"close() blocked the GUI thread for {blocked:.1f} s")
    # accepted: closed now or once the trainer's step ends (_close_when_done); cancelled: stays open
    if not wait_until(lambda: not win.isVisible() or not win._close_when_done, HANG_S):
        faulthandler.dump_traceback(all_threads=True)     # where every thread is, for the report
        s = win.session
        res.failures.append(f"an accepted close did not finish within {HANG_S:.0f} s (state {win.state}, trainer "
                            f"thread {'running' if s is not None and s.qthread.isRunning() else 'done'}, step "
                            f"{win.last_metrics.step if win.last_metrics else '-'}, tasks "
                            f"{[t.objectName() for t in win.tasks.tasks]})")
    return not win.isVisible()


def _pick_checkpoint(win, rng: random.Random) -> bool:
    panel = win.ckpt_panel
    panel.refresh()
    if not panel.infos:
        return False
    panel.select_step(rng.choice(panel.infos).step)
    return True


def _act(win, action: str, rng: random.Random, answers: dict, res: Result) -> bool:
    """Do one action; True when it closed the window."""
    plain = {"start": win.act_start, "pause": win.act_pause, "step": win.act_step, "stop": win.act_stop,
             "save": win.act_save}
    if action in plain:
        plain[action].trigger()
    elif action == "step_n":
        win.step_n.setValue(rng.randint(1, 5))
        win.act_step_n.trigger()
    elif action == "new_run":
        win.act_new.trigger()
        for k, v in FORM.items():     # New run keeps the form; a loaded run may have replaced it
            win.panel.set_value(k, v)
    elif action == "edit_valid":
        name, (lo, hi) = rng.choice(sorted(VALID_EDITS.items()))
        w = win.panel.widgets[name]
        if w.isEnabled():
            w.setValue(rng.randint(lo, hi) if isinstance(lo, int) else rng.uniform(lo, hi))
    elif action == "edit_invalid":
        name = rng.choice(sorted(n for n, w in win.panel.widgets.items()
                                 if isinstance(w, (QAbstractSpinBox, QLineEdit)) and w.isEnabled() and n != "dataset")
                          or ["g_lr"])
        w = win.panel.widgets[name]
        edit = w.lineEdit() if isinstance(w, QAbstractSpinBox) else w
        if edit is not None and w.isEnabled():
            edit.selectAll()
            QTest.keyClicks(edit, rng.choice(INVALID_TEXT))
            QTest.keyClick(edit, Qt.Key_Return)
            for k, v in FORM.items():   # restore the tiny settings, which the sequence relies on for speed
                if k == name and win.panel.widgets[k].isEnabled():
                    win.panel.set_value(k, v)
    elif action == "tab":
        win.tabs.setCurrentIndex(rng.randrange(win.tabs.count()))
    elif action in ("load", "pin", "delete"):
        if _pick_checkpoint(win, rng):
            {"load": win.ckpt_panel.btn_load, "pin": win.ckpt_panel.btn_pin,
             "delete": win.ckpt_panel.btn_delete}[action].click()
    elif action == "close":
        answers["next"] = rng.choice(("save", "discard", "cancel"))
        res.actions[-1] = f"close({answers['next']})"
        return _close(win, res, answers)
    elif action == "wait":
        pump(rng.choice((300, 1000, 2500)))
    return False
