"""Issue #8: quality curve (FD / KID), health banner with NaN rollback, and the Latent explorer tab."""
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from ganstudio.engine.control import Control
from ganstudio.engine.events import ConfigChanged, HealthWarning, Metric, Paused, RolledBack, StepMetrics
from ganstudio.metrics.advice import Remedy

TIMEOUT = 90_000


def is_(kind):
    return lambda ev: isinstance(ev, kind)


def metrics_row(step):
    return StepMetrics(step, step / 10, step * 0.1, 1.0, 0.5, 0.6, 0.4, 100.0).to_row()


def fake_session(win, state="paused"):
    """A stand-in session: only its Control is used by the slots under test."""
    win.session = SimpleNamespace(control=Control(), stop=lambda save=True: None, shutdown=lambda ms=0: True)
    win.model.set_state(state)
    return win.session.control


def end_fake_session(win):
    win.session = None
    win.model.set_state("idle")


# -- quality curve -------------------------------------------------------------------------------------------------
def test_quality_plots_collapse_until_the_first_measurement(make_main_window, qtbot):
    from ganstudio.qt.main_window import DEFAULT_SIZE

    win = make_main_window(preset="tiny")
    win.resize(*DEFAULT_SIZE)
    win.show()
    qtbot.waitExposed(win)
    qp = win.quality_plot
    assert qp.collapsed and not qp.glw.isVisible() and "no measurement yet" in qp.title.text()
    assert qp.height() <= 3 * qp.title.fontMetrics().lineSpacing()   # the title only: the losses get the room
    empty_loss_h = win.plot.height()
    win.on_engine_event(Metric(10, 42.5, 0.031, 1.2, 100, 0.4, "bundled", 0.97))
    qtbot.waitUntil(lambda: qp.glw.isVisible())
    assert not qp.collapsed and qp.height() >= 150 and win.plot.height() < empty_loss_h
    qp.clear()                               # a new run: empty again
    assert qp.collapsed and not qp.glw.isVisible()


def test_quality_curve_from_events_request_and_files(make_main_window, tiny_config, tmp_path, qtbot):
    from ganstudio.runs import RunDir

    win = make_main_window(preset="tiny")
    assert "no measurement yet" in win.quality_plot.title.text()
    assert not win.act_quality.isEnabled()
    win.on_engine_event(Metric(10, 42.5, 0.031, 1.2, 100, 0.4, "bundled", 0.97))
    win.on_engine_event(Metric(20, 30.25, 0.021, 1.3, 100, 0.4, "bundled", 0.97))
    qp = win.quality_plot
    x, y = qp.curves["fd"].getData()
    np.testing.assert_array_equal(x, [10, 20])
    np.testing.assert_allclose(y, [42.5, 30.25])
    np.testing.assert_allclose(qp.curves["kid"].getData()[1], [0.031, 0.021])
    assert "FD 30.2" in qp.title.text() and "classifier: bundled, test accuracy 97.0%" in qp.title.text()
    assert win.lbl_quality.text() == "FD 30.2 · best FD 30.2 @ step 20"   # when to stop: the best and its step

    # "Compute quality now" sends control.request('metric') while paused
    control = fake_session(win)
    assert win.act_quality.isEnabled()
    win.act_quality.trigger()
    assert control.take_request() == ("metric", {})
    end_fake_session(win)
    assert not win.act_quality.isEnabled()

    # Opening a run refills from quality.jsonl
    run = RunDir.create(tmp_path / "run", tiny_config)
    for s in (1, 2, 3, 4):
        run.append_metrics(metrics_row(s))
    run.close()
    run.append_quality({"step": 2, "fd": 50.0, "kid": 0.05, "diversity": 1.0, "n": 100, "seconds": 1})
    run.append_quality({"step": 4, "fd": 40.0, "kid": 0.04, "diversity": 1.0, "n": 100, "seconds": 1})
    assert win.open_run(run.path)
    assert qp.count == 2 and list(qp.column("fd")) == [50.0, 40.0]
    assert win.lbl_quality.text() == "FD 40 · best FD 40 @ step 4"

    # Watch mode polls quality.jsonl itself (RunFollower tails metrics only)
    assert win.watch_run(run.path)
    assert qp.count == 2
    run.append_quality({"step": 6, "fd": 45.0, "kid": 0.03, "diversity": 1.0, "n": 100, "seconds": 1})
    win.poll_watch()
    assert list(qp.column("step")) == [2, 4, 6] and win.lbl_quality.text() == "FD 45 · best FD 40 @ step 4"
    assert "step 6" in qp.title.text()
    win.stop_watching()
    win.new_run()
    assert qp.count == 0 and "no measurement yet" in qp.title.text()


# -- health banner -------------------------------------------------------------------------------------------------
def test_health_banner_stacks_rolls_back_and_halves_lrs(make_main_window, qtbot):
    win = make_main_window(preset="tiny")
    win.show()
    qtbot.waitExposed(win)
    banner = win.health_banner
    assert banner.isHidden()
    win.on_engine_event(HealthWarning("d_dominance", 50, "D(real) 0.99 and D(fake) 0.01 for 200 steps",
                                      "D learns faster than G", {},
                                      (Remedy("Set d_lr to g_lr (0.0001)", {"d_lr": 1e-4}),)))
    assert banner.isVisible() and [b.text() for b in banner.remedy_buttons] == ["Set d_lr to g_lr (0.0001)"]
    text = banner.plain_text()
    assert "Discriminator dominates" in text and "D learns faster than G" in text and "step 50" in text
    # a colored frame above the plots, not a dialog
    assert banner.geometry().bottom() < win.plot_splitter.geometry().top()
    img = banner.grab().toImage()
    c = img.pixelColor(img.width() // 2, img.height() - 3)
    assert c.red() > c.blue() + 20 and c.green() > c.blue()      # amber
    assert not win.errors

    win.on_engine_event(HealthWarning("mode_collapse", 60, "sample diversity fell", "G stopped exploring"))
    assert banner.counter.text() == "2 warnings" and "mode collapse" in banner.plain_text().lower()

    # NaN: plots were at step 6, the trainer rolled back to 4 and paused
    for s in range(1, 7):
        win.plot.append(metrics_row(s))
    win.on_engine_event(Metric(3, 50.0, 0.05, 1.0, 100, 0.1, "bundled", 0.9))
    win.on_engine_event(Metric(6, 40.0, 0.04, 1.0, 100, 0.1, "bundled", 0.9))
    control = fake_session(win, "running")
    win.panel.set_value("g_lr", 2e-4)
    win.panel.set_value("d_lr", 4e-4)
    win.on_engine_event(HealthWarning("nan", 6, "losses are NaN/Inf", "a learning rate too high", {},
                                      (Remedy("Halve both learning rates", {"g_lr": 1e-4, "d_lr": 2e-4}),)))
    win.on_engine_event(RolledBack(4, 6))
    win.on_engine_event(Paused(4))
    assert win.state == "paused"
    text = banner.plain_text()
    assert "rolled back to step 4 and paused; apply a fix, then resume" in text.lower()
    assert banner.counter.text() == "3 warnings" and [b.text() for b in banner.remedy_buttons] == \
        ["Halve both learning rates"]
    img = banner.grab().toImage()
    c = img.pixelColor(img.width() // 2, img.height() - 3)
    assert c.red() > c.green() + 20 and c.red() > c.blue() + 20    # red for NaN
    assert win.plot.count == 4 and win.plot.column("step")[-1] == 4
    assert list(win.quality_plot.column("step")) == [3]

    qtbot.mouseClick(banner.remedy_buttons[0], Qt.LeftButton)
    edits = control.take_edits()
    assert edits == {"g_lr": pytest.approx(1e-4), "d_lr": pytest.approx(2e-4)}
    end_fake_session(win)

    qtbot.mouseClick(banner.close_button, Qt.LeftButton)
    assert banner.isHidden() and banner.warnings == []


@pytest.mark.slow
def test_nan_rollback_end_to_end(make_main_window, start_paused, qtbot):
    import tensorflow as tf

    win = make_main_window(preset="tiny")
    paused_at = start_paused(win, 3, checkpoint_every=2, sample_every=1, metric_n=100)
    session = win.session
    last_ckpt = paused_at - paused_at % 2
    # the latent explorer works on the live, paused run (tests/qt/test_desktop.py generates with it)
    assert win.latent.available and win.latent.live is not None
    session.trainer._step_fn = lambda images, labels: tf.constant([np.nan, 1.0, 0.5, 0.5, 0.0])
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(RolledBack), timeout=TIMEOUT) as blocker:
        win.act_pause.trigger()         # Resume: the next step is NaN
    assert (blocker.args[0].step, blocker.args[0].from_step) == (last_ckpt, paused_at + 1)
    qtbot.waitUntil(lambda: win.state == "paused", timeout=TIMEOUT)
    banner = win.health_banner
    halve = banner.remedy_buttons[0]
    assert not banner.isHidden() and halve.isVisibleTo(win) and halve.text() == "Halve both learning rates"
    assert f"rolled back to step {last_ckpt} and paused" in banner.plain_text().lower()
    qtbot.waitUntil(lambda: win.plot.count == last_ckpt, timeout=5000)
    assert win.plot.column("step")[-1] == last_ckpt and np.isfinite(win.plot.column("g_loss")).all()
    assert max(e.step for e in win.grid_view.entries) <= last_ckpt

    g_lr, d_lr = win.panel.value("g_lr"), win.panel.value("d_lr")
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(ConfigChanged), timeout=TIMEOUT) as blocker:
        halve.click()
    assert blocker.args[0].changes["g_lr"][1] == pytest.approx(g_lr / 2)
    assert blocker.args[0].changes["d_lr"][1] == pytest.approx(d_lr / 2)
    assert win.panel.value("g_lr") == pytest.approx(g_lr / 2)

    # Compute quality now works while paused
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(Metric), timeout=TIMEOUT):
        win.act_quality.trigger()
    assert win.quality_plot.count == 1 and win.quality_plot.rows[0]["step"] == last_ckpt
    assert "classifier:" in win.quality_plot.title.text() and win.lbl_quality.text().startswith("FD ")
    assert win.state == "paused" and win.errors == []


# -- latent explorer -----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_latent_explorer_strip_and_exports(make_main_window, trained_run, tmp_path, qtbot):
    from ganstudio.outputs.export import generate, load_generator

    win = make_main_window(preset="tiny")
    lat = win.latent
    assert not lat.available and not lat.btn_generate.isEnabled()
    assert win.open_run(trained_run)
    assert lat.available and lat.btn_generate.isEnabled() and not lat.btn_png.isEnabled()
    win.tabs.setCurrentWidget(lat)
    assert win.tabs.tabText(win.tabs.currentIndex()) == "Latent"
    lat.steps.setValue(8)
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT):
        lat.btn_generate.click()
    # generation ran in a Task thread; the result came back here
    lat.idx_a.setValue(0)
    lat.idx_b.setValue(3)
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        pass                          # the spin boxes trigger a debounced regeneration
    res = blocker.args[0]
    assert res["params"]["a"] == 0 and res["params"]["b"] == 3 and res["params"]["mode"] == "slerp"
    assert res["key"] == (str(trained_run), 3)          # the latest checkpoint (nothing selected in the dock)
    strip = res["strip"]
    assert strip.shape == (8, 28, 28, 1) and strip.dtype == np.uint8
    assert lat.strip_label.array.shape == (32, 8 * 30 + 2, 1)
    assert not lat.strip_label.pixmap().isNull() and not lat.grid_label.pixmap().isNull()

    restored = load_generator(trained_run)
    noise = restored.fixed_noise
    np.testing.assert_array_equal(lat.noise, noise)
    ends = generate(restored.generator, noise[[0, 3]])
    assert np.abs(strip[0].astype(int) - ends[0]).max() <= 1
    assert np.abs(strip[-1].astype(int) - ends[1]).max() <= 1

    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.mode.setCurrentIndex(lat.mode.findData("linear"))
    linear = blocker.args[0]["strip"]
    assert blocker.args[0]["params"]["mode"] == "linear"
    np.testing.assert_array_equal(linear[[0, -1]], strip[[0, -1]])
    assert not np.array_equal(linear[1:-1], strip[1:-1])
    np.testing.assert_allclose(blocker.args[0]["strip_z"][0], noise[0])

    # a direction slider moves the chosen sample; the base stays the generator's output for it
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.sliders[0].setValue(30)
    moved = blocker.args[0]["moved"]
    assert not np.array_equal(moved[0], moved[1])
    assert np.linalg.norm(blocker.args[0]["moved_z"] - noise[0]) == pytest.approx(3.0, rel=1e-5)

    # exports go through the (injectable) file dialog into the run folder by default
    starts = []
    win.choose_save_path = lambda title, start, filt: (starts.append(start), str(tmp_path / "strip"))[1]
    lat.btn_png.click()
    assert starts[-1].startswith(str(trained_run)) and starts[-1].endswith(".png")
    with Image.open(tmp_path / "strip.png") as im:
        assert im.size == (8 * 30 + 2, 32)
        assert np.array_equal(np.asarray(im)[2:30, 2:30], linear[0][..., 0])
    lat.btn_gif.click()
    with Image.open(tmp_path / "strip.gif") as im:
        assert im.n_frames == 8
    out = lat.export("png")
    assert out.parent == trained_run and out.exists()

    # Re-roll noise: different noise, same shape
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.btn_reroll.click()
    assert blocker.args[0]["noise"].shape == noise.shape and not np.array_equal(blocker.args[0]["noise"], noise)
    assert win.errors == []
