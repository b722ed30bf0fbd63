"""The window driving a real (tiny) training run: start, plots, pause, step, live lr, checkpoint, stop,
export, reopen + resume, close while running. One run keeps the suite fast on 2 CPU cores."""
import numpy as np
import pytest
from PIL import Image

from ganstudio.engine.events import CheckpointSaved, ConfigChanged, Paused, StepMetrics

TIMEOUT = 90_000  # the first TensorFlow step on 2 cores can take a while


def is_(kind):
    return lambda ev: isinstance(ev, kind)


@pytest.mark.slow
def test_full_training_flow(make_main_window, tiny_form_values, tmp_path, qtbot, trainer_step):
    win = make_main_window(preset="tiny")
    win.show()
    for k, v in tiny_form_values.items():
        win.panel.set_value(k, v)
    assert win.panel.validate() is not None, win.panel.error_text
    assert win.state == "idle" and win.act_start.isEnabled() and not win.act_pause.isEnabled()

    # -- Start: sample grids and plot data arrive -----------------------------------------------------------
    win.act_start.trigger()
    assert win.state == "running" and not win.act_start.isEnabled() and win.act_stop.isEnabled()
    assert not win.panel.widgets["batch_size"].isEnabled() and win.panel.widgets["g_lr"].isEnabled()
    session = win.session
    qtbot.waitUntil(lambda: len(win.grid_view.entries) >= 2 and win.plot.count >= 4, timeout=TIMEOUT)
    assert str(win.run_path).startswith(str(tmp_path))      # GANSTUDIO_RUNS points into tmp
    assert win.grid_view.canvas.array.shape == (2 * 30 + 2, 2 * 30 + 2, 1)   # 4 samples, 28 px, 2 px padding
    grown = win.plot.count
    qtbot.waitUntil(lambda: win.plot.count > grown + 2, timeout=TIMEOUT)

    def drawn():
        x = win.plot.raw["g_loss"].getData()[0]
        return x is not None and len(x) >= grown

    qtbot.waitUntil(drawn, timeout=5000)   # the redraw timer, not the event slot, updated the curve
    qtbot.waitUntil(lambda: win.lbl_step.text().startswith("step "), timeout=5000)

    # -- Pause: the step counter stops ----------------------------------------------------------------------
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(Paused), timeout=TIMEOUT):
        win.act_pause.trigger()
    assert win.state == "paused" and win.act_pause.text() == "Resume"
    paused_at = win.last_metrics.step
    assert trainer_step(session) == paused_at
    assert win.last_metrics.step == paused_at and win.plot.count == paused_at

    # -- Step: exactly one more -----------------------------------------------------------------------------
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(StepMetrics), timeout=TIMEOUT):
        win.act_step.trigger()
    assert trainer_step(session) == paused_at + 1
    assert win.last_metrics.step == paused_at + 1
    assert win.state == "paused"

    # -- Live lr edit reaches the optimizer (sent while paused; applied on the training thread) ----------------
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(ConfigChanged), timeout=TIMEOUT) as blocker:
        win.panel.widgets["g_lr"].setValue(7e-4)
    assert blocker.args[0].changes["g_lr"] == (pytest.approx(2e-4), pytest.approx(7e-4))
    assert float(np.asarray(session.trainer.g_opt.learning_rate)) == pytest.approx(7e-4)
    assert float(np.asarray(session.trainer.d_opt.learning_rate)) == pytest.approx(2e-4)

    # -- Step N and save a checkpoint while paused -----------------------------------------------------------
    win.step_n.setValue(2)
    target = paused_at + 3
    win.act_step_n.trigger()
    qtbot.waitUntil(lambda: win.last_metrics.step == target, timeout=TIMEOUT)
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(CheckpointSaved), timeout=TIMEOUT) as blocker:
        win.act_save.trigger()
    assert blocker.args[0].step == target
    assert trainer_step(session) == target and win.last_metrics.step == target

    # -- Resume, then Stop: the thread ends, the run is 'stopped' ---------------------------------------------
    win.act_pause.trigger()
    assert win.state == "running"
    qtbot.waitUntil(lambda: win.last_metrics.step > target, timeout=TIMEOUT)
    with qtbot.waitSignal(win.sessionFinished, timeout=TIMEOUT):
        win.act_stop.trigger()
        assert win.state == "stopping" and not win.act_stop.isEnabled()
    assert win.session is None and win.state == "finished" and win.finished_reason == "stopped"
    assert not session.qthread.isRunning()
    assert win.panel.widgets["batch_size"].isEnabled()
    assert win.errors == []
    run_path = win.run_path
    assert any((run_path / "checkpoints").iterdir())

    # -- Export: PNG of the expected pixel size ---------------------------------------------------------------
    out = win.export_grid(tmp_path / "grid.png", rows=1, scale=2)
    with Image.open(out) as im:
        assert im.size == ((4 * 30 + 2) * 2, (1 * 30 + 2) * 2)
    dlg = win.open_export_dialog()
    assert dlg.path.text().startswith(str(run_path / "samples"))
    dlg.rows.setValue(2)
    dlg.scale.setValue(3)
    dlg.path.setText(str(tmp_path / "dialog.png"))
    assert "186 × 186 px" in dlg.size_label.text()
    dlg.accept()
    with Image.open(tmp_path / "dialog.png") as im:
        assert im.size == (186, 186)

    # -- Reopen the run from disk, then resume it --------------------------------------------------------------
    stopped_at = win.last_metrics.step
    win.new_run()
    assert win.plot.count == 0 and win.grid_view.current() is None
    assert win.open_run(run_path)
    assert win.plot.count == stopped_at                      # metrics.jsonl refilled the plots
    assert win.grid_view.entries[-1].step == stopped_at or win.grid_view.entries[-1].step % 2 == 0
    assert win.act_start.text() == "Resume run"
    win.act_start.trigger()
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step > stopped_at, timeout=TIMEOUT)

    # -- Close while running: Cancel keeps it open; Save stops, joins and closes ------------------------------
    win.ask_close = lambda: "cancel"
    assert not win.close()
    assert win.isVisible() and win.session is not None
    win.ask_close = lambda: "save"
    thread = win.session.qthread
    win.close()
    qtbot.waitUntil(lambda: not win.isVisible() and win.session is None, timeout=TIMEOUT)
    assert not thread.isRunning()
    assert win.errors == []


def test_bad_dataset_error_is_shown_and_window_stays_usable(make_main_window, tiny_form_values, tmp_path, qtbot):
    win = make_main_window(preset="tiny")
    for k, v in tiny_form_values.items():
        win.panel.set_value(k, v)
    win.panel.set_value("dataset", str(tmp_path / "missing.npz"))
    with qtbot.waitSignal(win.sessionFinished, timeout=TIMEOUT):
        assert win.start_training(tmp_path / "run")
    assert win.state == "error"
    assert len(win.errors) == 1 and "missing.npz" in win.errors[0] and "Error:" not in win.errors[0]
    assert win.act_start.isEnabled() and win.panel.widgets["batch_size"].isEnabled()


def test_invalid_form_refuses_to_start(make_main_window, qtbot):
    win = make_main_window(preset="tiny")
    win.panel.widgets["d_lr"].setValue(0.0)
    assert not win.start_training()
    assert win.session is None and win.state == "idle"
    assert win.errors and "d_lr" in win.errors[-1]


def test_settings_persist_preset_and_dataset(make_main_window, settings, qtbot):
    win = make_main_window(preset="hinge-sn")
    win.panel.set_value("dataset", "mnist")
    win.close()
    again = make_main_window()
    cfg = again.current_config()
    assert cfg.preset == "hinge-sn" and cfg.data.dataset == "mnist"
    assert settings.value("window/geometry") is not None


def test_first_launch_layout_leaves_the_sample_grid_room(make_main_window, qtbot):
    """Fresh settings, default window size: the long "no measurement yet" quality status once set the plot
    column's minimum width and squeezed the sample grid to ~150 px."""
    from ganstudio.qt.main_window import DEFAULT_SIZE

    win = make_main_window()
    avail = win.screen().availableGeometry()
    assert win.width() <= avail.width() and win.height() <= avail.height()   # offscreen's screen is 800x800
    win.resize(*DEFAULT_SIZE)     # the default size on a screen that has room for it
    win.show()
    qtbot.waitExposed(win)
    assert "no measurement yet" in win.quality_plot.title.text()
    settings_w, plots_w, grid_w = win.splitter.sizes()
    assert grid_w >= 280 and plots_w >= 450, win.splitter.sizes()
    assert win.grid_view.width() >= 280
    # nor does a long run name in the checkpoints dock widen it (its three buttons set its width)
    win.ckpt_panel.placeholder.setText("No checkpoints yet in 20261125-145613-tutorial-with-a-long-name")
    qtbot.waitUntil(lambda: win.ckpt_panel.placeholder.height() > 0)
    assert win.ckpt_panel.minimumSizeHint().width() <= win.ckpt_panel.btn_load.sizeHint().width() * 3 + 40


def test_open_run_errors_are_friendly(make_main_window, tmp_path):
    win = make_main_window()
    assert not win.open_run(tmp_path / "nope")
    assert "no such run folder" in win.errors[-1]
