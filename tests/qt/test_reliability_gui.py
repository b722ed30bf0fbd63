"""The window under faults (issue 15): a failed write pauses the run behind a banner and Resume continues; Pin and
Delete go through the training thread while a run is live; a run finishing while the close dialog is open; Start
while a background task runs; the Runs tab and grid view with bad run folders."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from ganstudio.config import Config
from tests.helpers import disk_full

TIMEOUT = 90_000   # the first TensorFlow step on 2 busy cores can take a while


def _tiny(win, values, **more):
    for k, v in {**values, **more}.items():
        win.panel.set_value(k, v)
    assert win.panel.validate() is not None, win.panel.error_text


def test_failed_write_pauses_behind_a_banner_and_pin_delete_run_on_the_training_thread(
        make_main_window, tiny_form_values, qtbot, monkeypatch, trainer_step):
    import ganstudio.engine.checkpoints as checkpoints
    import ganstudio.engine.keeper as keeper
    import ganstudio.qt.widgets.checkpoints as dock

    full = disk_full(monkeypatch)
    threads = []
    real_pin = checkpoints.set_pinned
    for module in (checkpoints, keeper, dock):   # wherever it is bound: the trainer's keeper, the dock's own Pin
        monkeypatch.setattr(module, "set_pinned",
                            lambda info, pinned: threads.append(threading.get_ident()) or real_pin(info, pinned))

    win = make_main_window(preset="tiny")
    _tiny(win, tiny_form_values, checkpoint_every=1)
    win.act_start.trigger()
    qtbot.waitUntil(lambda: win.state == "paused" and not win.error_banner.isHidden(), timeout=TIMEOUT)
    text = win.error_banner.text()
    assert "metrics.jsonl: disk full while writing; free some space" in text
    assert "Training is paused at step 1: fix it, then press Resume" in text
    assert win.session is not None and win.errors == []        # paused, not lost; no modal dialog
    step = win.last_metrics.step
    assert trainer_step(win.session) == step                    # really paused
    assert win.last_metrics.step == step

    full["on"] = False                                          # the user frees space
    win.error_banner.resume_button.click()
    assert win.state == "running" and win.error_banner.isHidden()
    ckpts = win.run_path / "checkpoints"
    qtbot.waitUntil(lambda: len(checkpoints.list_checkpoints(ckpts)) >= 3, timeout=TIMEOUT)
    win.toggle_pause()
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.state == "paused", timeout=TIMEOUT)

    # Pin and Delete while the run is live: requests the trainer answers between steps
    win.ckpt_panel.refresh()
    first, second = checkpoints.list_checkpoints(ckpts)[:2]
    win.ckpt_panel.select_step(first.step)
    assert win.ckpt_panel.btn_pin.isEnabled() and win.ckpt_panel.btn_delete.isEnabled()
    win.ckpt_panel.btn_pin.click()
    qtbot.waitUntil(lambda: (first.path / "PINNED").exists(), timeout=TIMEOUT)
    assert threads and threading.main_thread().ident not in threads
    qtbot.waitUntil(lambda: win.ckpt_panel.selected() is not None and win.ckpt_panel.selected().pinned,
                    timeout=10_000)
    win.ckpt_panel.confirm_delete = lambda info: True
    win.ckpt_panel.select_step(second.step)
    win.ckpt_panel.btn_delete.click()
    qtbot.waitUntil(lambda: not second.path.exists(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: second.step not in [c.step for c in win.ckpt_panel.infos], timeout=10_000)
    win.stop_training()
    assert not win.ckpt_panel.btn_delete.isEnabled()            # stopping: no requests are answered any more
    qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
    assert win.state == "finished" and (first.path / "PINNED").exists()


def test_run_finishing_while_the_close_dialog_is_open_then_save(make_main_window, tiny_form_values, qtbot):
    win = make_main_window(preset="tiny")
    win.show()
    _tiny(win, tiny_form_values, steps=2)
    answers = []

    def ask_close():    # the dialog is open (its event loop runs) until the run has finished on its own
        qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
        answers.append("save")
        return "save"

    win.ask_close = ask_close
    win.act_start.trigger()
    qtbot.waitUntil(lambda: win.engine_ready and win.session is not None, timeout=TIMEOUT)
    win.close()
    assert answers == ["save"] and not win.isVisible() and win.state == "finished"


def test_start_is_refused_while_an_export_or_a_dataset_decode_runs(make_main_window, tiny_form_values, qtbot):
    from ganstudio.qt.worker import Task

    win = make_main_window(preset="tiny")
    _tiny(win, tiny_form_values)
    for name, text in (("export-keras", "Cannot start while an export is running"),
                       ("dataset", "Cannot start while the dataset preview's decode is running")):
        release = threading.Event()
        task = win.tasks.start(Task(lambda _p: release.wait(30), name=name))
        assert not win.start_training()
        assert win.session is None and win.state == "idle" and text in win.errors[-1]
        release.set()
        qtbot.waitUntil(lambda: task not in win.tasks.tasks, timeout=10_000)


def test_runs_tab_skips_a_config_that_is_not_an_object_and_grids_pass_the_bomb_guard(
        make_main_window, tmp_path, qtbot, monkeypatch):
    root = tmp_path / "runs"
    good, bad = root / "good", root / "bad"
    for run in (good, bad):
        (run / "samples").mkdir(parents=True)
    (good / "config.json").write_text(Config(preset="tiny").to_json())
    (good / "metrics.jsonl").write_text('[1]\n{"step": 1, "g_loss": "x", "d_loss": 0.5}\n')
    Image.fromarray(np.zeros((120, 120), np.uint8)).save(good / "samples" / "step_000001.png")
    (bad / "config.json").write_text('"just a string"')
    win = make_main_window()
    win.runs_panel.set_root(root)
    win.runs_panel.refresh()
    assert [win.runs_panel.tree.topLevelItem(i).text(0) for i in range(win.runs_panel.tree.topLevelItemCount())] \
        == ["good"]
    assert "Skipped 1: " in win.runs_panel.hint.text() and "holds a JSON str, not an object" in \
        win.runs_panel.hint.text()
    win.runs_panel.select_names("good")                        # overlays the curve: a string loss reads as NaN
    assert len(win.runs_panel.grid_labels) == 1
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 120 * 120 * 2 // 3)   # PIL itself would only warn
    assert win.open_run(good)
    assert "decompression-bomb limit" in win.grid_view.title.text()
    assert Path(win.run_path) == good


def test_close_during_a_background_task_does_not_freeze_the_window(make_main_window, qtbot):
    import time

    from ganstudio.qt.worker import Task

    win = make_main_window()
    win.show()
    release = threading.Event()
    win.tasks.start(Task(lambda _p: release.wait(30), name="export-gif"))
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 3.0 and win.isVisible()     # deferred: the export is finished, not killed
    assert "Waiting for a background task" in win.statusBar().currentMessage()
    release.set()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=10_000)
    assert win.tasks.tasks == []
