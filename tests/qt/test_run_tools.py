"""Run-folder tools in the window: exports (background thread), the Checkpoints dock, the Runs tab, the Dataset
tab with drag-and-drop. They copy the session's tiny trained run (tests/conftest.py `trained_run`)."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ganstudio.engine.checkpoints import CheckpointStore, list_checkpoints
from ganstudio.engine.events import BestCheckpoint, RolledBack, StepMetrics
from ganstudio.runs import RunDir

TIMEOUT = 120_000   # the first export imports TensorFlow on 2 busy cores


@pytest.fixture
def run_copy(trained_run, tmp_path):
    dst = tmp_path / "runs" / "run-a"
    shutil.copytree(trained_run, dst)
    return dst


@pytest.fixture(autouse=True)
def _private_dataset_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))


def test_exports_run_in_background_with_replace_and_errors(make_main_window, run_copy, tmp_path, qtbot):
    win = make_main_window(preset="tiny")
    assert not win.run_export_actions["keras"].isEnabled()          # no run yet
    assert win.open_run(run_copy)
    assert all(a.isEnabled() for a in win.run_export_actions.values()) and win.act_sample.isEnabled()
    menu = [a.text() for a in win.export_menu.actions() if a.text()]
    assert menu == ["Export grid…", "Export generator (.keras)…", "Export SavedModel…", "Export ONNX (.onnx)…",
                    "Export LiteRT (.tflite)…", "Export training GIF…", "Sample grid…", "From the best checkpoint",
                    "From the latest checkpoint"]
    assert win.act_export_best.isChecked()      # no best yet in this run: the latest is used

    # .keras: the dialog is offered a default inside the run folder; the user picks another place
    asked = []
    win.choose_save_path = lambda title, start, filt: asked.append(start) or str(tmp_path / "gen")
    with qtbot.waitSignal(win.exportFinished, timeout=TIMEOUT) as blocker:
        win.run_export_actions["keras"].trigger()
        assert not win.run_export_actions["keras"].isEnabled()       # one export at a time
        assert win.act_new.isEnabled()                               # the window stays usable
    assert asked == [str(run_copy / "generator.keras")]
    assert blocker.args[0] == tmp_path / "gen.keras" and (tmp_path / "gen.keras").stat().st_size > 1000
    qtbot.waitUntil(lambda: win.run_export_actions["keras"].isEnabled(), timeout=5000)

    # GIF at its default place: one frame per sample grid
    win.choose_save_path = lambda title, start, filt: start
    with qtbot.waitSignal(win.exportFinished, timeout=TIMEOUT):
        win.run_export_actions["gif"].trigger()
    gif = run_copy / "training.gif"
    with Image.open(gif) as im:
        assert im.n_frames == len(list((run_copy / "samples").glob("step_*.png"))) >= 3
    qtbot.waitUntil(lambda: not win.tasks.tasks, timeout=5000)

    # it exists now: declining the replace starts nothing; accepting overwrites
    win.ask_replace = lambda p: False
    assert win.run_export_actions["gif"].trigger() is None and not win.tasks.tasks
    gif.write_bytes(b"old")
    win.ask_replace = lambda p: True
    with qtbot.waitSignal(win.exportFinished, timeout=TIMEOUT):
        win.run_export_actions["gif"].trigger()
    assert gif.read_bytes()[:3] == b"GIF"
    qtbot.waitUntil(lambda: not win.tasks.tasks, timeout=5000)

    # an engine error reaches the window's error path, once, as its message
    with qtbot.waitSignal(win.exportFinished, timeout=30_000) as blocker:
        assert win.export_run("gif", tmp_path / "missing" / "x.gif") is not None
    assert isinstance(blocker.args[0], Exception)
    assert len(win.errors) == 1 and "folder does not exist" in win.errors[0] and "RunDirError" not in win.errors[0]

    # Sample grid dialog: n, seed, rows, scale
    qtbot.waitUntil(lambda: win.act_sample.isEnabled(), timeout=5000)
    dlg = win.open_sample_dialog()
    assert dlg.path.text() == str(run_copy / "sample_step000003_n64.png")
    dlg.n.setValue(4)
    assert dlg.path.text().endswith("_n4.png")
    dlg.rows.setValue(1)
    dlg.scale.setValue(2)
    dlg.seed.setValue(7)
    dlg.path.setText(str(tmp_path / "s.png"))
    with qtbot.waitSignal(win.exportFinished, timeout=TIMEOUT) as blocker:
        dlg.accept()
    with Image.open(blocker.args[0]) as im:
        assert im.size == ((4 * 30 + 2) * 2, (1 * 30 + 2) * 2)
        assert np.asarray(im).std() > 0                     # real generator pixels, not padding only
    assert len(win.errors) == 1


def test_checkpoints_dock_pins_deletes_and_loads(make_main_window, run_copy, qtbot):
    win = make_main_window(preset="tiny")
    panel = win.ckpt_panel
    assert panel.tree.topLevelItemCount() == 0 and not panel.btn_delete.isEnabled()
    win.open_run(run_copy)
    # a new run saves its step-0 state, so the run has four checkpoints
    assert [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())] == ["3", "2", "1",
                                                                                                  "0"]

    panel.select_step(2)
    assert panel.btn_pin.text() == "Pin"
    panel.btn_pin.click()
    assert (run_copy / "checkpoints" / "step_000002" / "PINNED").exists()
    assert panel.tree.topLevelItem(1).text(2) and panel.btn_pin.text() == "Unpin"
    panel.btn_pin.click()
    assert not (run_copy / "checkpoints" / "step_000002" / "PINNED").exists()

    panel.select_step(1)
    panel.confirm_delete = lambda info: False
    panel.btn_delete.click()
    assert (run_copy / "checkpoints" / "step_000001").exists()
    asked = []
    panel.confirm_delete = lambda info: asked.append(info.step) or True
    panel.btn_delete.click()
    assert asked == [1] and not (run_copy / "checkpoints" / "step_000001").exists()
    assert panel.tree.topLevelItemCount() == 3

    # the best checkpoint is marked, and exports use it unless told otherwise
    CheckpointStore(None, run_copy / "checkpoints").set_best(2, 5.0)
    panel.refresh()
    assert [panel.tree.topLevelItem(i).text(2) for i in range(2)] == ["", "★ best"]
    assert "FD 5" in panel.tree.topLevelItem(1).toolTip(2)
    panel.tree.clearSelection()
    assert win.export_step() == 2 and win.default_export_target("sample", 4).name == "sample_step000002_n4.png"
    win.act_export_latest.trigger()
    assert win.export_step() == 3
    panel.select_step(2)
    assert win.export_step() == 2                # an explicit pick in the dock wins
    win.act_export_best.trigger()
    # a new best while training: the event moves the star; a user's restore is no NaN warning
    CheckpointStore(None, run_copy / "checkpoints").set_best(3, 4.0)
    win.on_engine_event(BestCheckpoint(3, 4.0, str(run_copy / "checkpoints" / "step_000003")))
    assert [panel.tree.topLevelItem(i).text(2) for i in range(2)] == ["★ best", ""]
    win.on_engine_event(RolledBack(3, 3, "restore"))
    assert win.health_banner.warnings == []

    # Load = Start resumes from that checkpoint: history and button follow it; the newer one is moved aside at
    # Start, so the user is asked first
    win.confirm_branch = lambda run, step, newer: (run, step, newer) == (run_copy, 2, [3])
    panel.select_step(2)
    panel.btn_load.click()
    assert win.resume_path == run_copy and win.resume_step == 2
    assert win.act_start.text() == "Resume from step 2" and win.plot.count == 2
    assert win.grid_view.entries[-1].step == 2
    assert win.errors == []


def test_loading_an_older_checkpoint_asks_then_moves_the_newer_ones_aside(make_main_window, run_copy, qtbot,
                                                                        monkeypatch):
    """Issue 15.1 in the window, scaled down: Load step 1 of 1/2/3, Start, Stop: the next Start continues from the
    stop, never from the abandoned step 3, and the metrics do not jump."""
    import ganstudio.qt.main_window as mw

    win = make_main_window(preset="tiny")
    assert win.open_run(run_copy)
    asked = []
    monkeypatch.setattr(mw.QMessageBox, "question", lambda *a: asked.append(a[2]) or mw.QMessageBox.Cancel)
    assert not win.load_checkpoint(1)                                    # Cancel keeps everything
    assert "newer checkpoints (2, 3) will be moved aside to run-a/abandoned/step-3-from-1/" in asked[0]
    assert win.resume_step is None and [c.step for c in list_checkpoints(run_copy / "checkpoints")] == [0, 1, 2, 3]
    monkeypatch.setattr(mw.QMessageBox, "question", lambda *a: mw.QMessageBox.Ok)
    assert win.load_checkpoint(1) and win.act_start.text() == "Resume from step 1"
    win.panel.set_value("steps", 0)
    win.panel.set_value("checkpoint_every", 0)
    win.act_start.trigger()
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step >= 2, timeout=TIMEOUT)
    assert win.ckpt_panel.tree.topLevelItemCount() == 2                 # 2 and 3 are gone from the dock at Start
    win.act_stop.trigger()
    qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
    stopped = win.last_metrics.step
    assert [c.step for c in list_checkpoints(run_copy / "checkpoints")] == [0, 1, stopped]
    assert [c.step for c in list_checkpoints(run_copy / "abandoned" / "step-3-from-1" / "checkpoints")] == [2, 3]
    assert [panel_step.text(0) for panel_step in
            map(win.ckpt_panel.tree.topLevelItem, range(win.ckpt_panel.tree.topLevelItemCount()))] == [str(stopped), "1",
                                                                                               "0"]

    assert win.act_start.text() == "Resume run"
    win.act_start.trigger()
    with qtbot.waitSignal(win.session.engineEvent, check_params_cb=lambda ev: isinstance(ev, StepMetrics),
                          timeout=TIMEOUT) as blocker:
        pass
    assert blocker.args[0].step == stopped + 1
    win.act_stop.trigger()
    qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
    rows = [r["step"] for r in RunDir(run_copy).read_metrics()]
    assert rows == list(range(1, rows[-1] + 1)) and rows[-1] >= stopped + 1
    assert win.errors == []


def test_runs_tab_lists_compares_and_opens(make_main_window, trained_run, tmp_path, qtbot):
    root = tmp_path / "runs"
    a, b = root / "run-a", root / "run-b"
    shutil.copytree(trained_run, a)
    shutil.copytree(trained_run, b)
    rows = [json.loads(line) for line in (b / "metrics.jsonl").read_text().splitlines()]
    (b / "metrics.jsonl").write_text("".join(json.dumps({**r, "g_loss": r["g_loss"] + 5}) + "\n" for r in rows))
    win = make_main_window(preset="tiny")
    win.show()
    win.tabs.setCurrentWidget(win.runs_panel)        # scanned lazily, on first show
    rp = win.runs_panel
    assert rp.tree.topLevelItemCount() == 2
    item_b = next(rp.tree.topLevelItem(i) for i in range(2) if rp.tree.topLevelItem(i).text(0) == "run-b")
    assert item_b.text(1) == "tiny" and item_b.text(2) == "bundled" and item_b.text(3) == "3"
    assert float(item_b.text(4)) == pytest.approx(rows[-1]["g_loss"] + 5, abs=1e-3)
    assert not item_b.icon(0).isNull()                 # thumbnail of the latest grid

    rp.select_names("run-a", "run-b")
    assert len(rp.g_plot.listDataItems()) == 2 and len(rp.d_plot.listDataItems()) == 2
    ys = sorted(float(rp.g_plot.listDataItems()[i].getData()[1][-1]) for i in range(2))
    assert ys[1] - ys[0] == pytest.approx(5, abs=1e-3)
    assert len(rp.grid_labels) == 2
    with Image.open(a / "samples" / "step_000003.png") as im:
        w, h = im.size
    for lab in rp.grid_labels:
        pm = lab.pixmap()
        assert not pm.isNull() and pm.width() % w == 0 and pm.height() % h == 0 and pm.height() >= h
    rp.select_names("run-a")
    assert len(rp.g_plot.listDataItems()) == 1 and len(rp.grid_labels) == 1

    rp.tree.itemDoubleClicked.emit(item_b, 0)
    assert win.run_path == b and win.tabs.currentIndex() == 0 and win.plot.count == 3


def write_pngs(folder, n=20, size=12):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(folder / f"img_{i:02d}.png")


def test_dataset_tab_previews_follows_form_and_accepts_drops(make_main_window, tmp_path, qtbot):
    win = make_main_window(preset="tiny")
    win.panel.set_value("dataset", "bundled")
    win.show()
    dp = win.dataset_panel
    with qtbot.waitSignal(win.datasetLoaded, timeout=30_000) as blocker:
        win.tabs.setCurrentWidget(dp)
    assert blocker.args[0][0] == "bundled"
    assert list(dp.bars.opts["height"]) == [600.0] * 10
    assert dp.lbl_count.text() == "6,000" and dp.lbl_shape.text().startswith("28 × 28 × 1")
    assert dp.preview.shape == (8 * 30 + 2, 8 * 30 + 2, 1)
    assert dp.real_image.image.shape == (242, 242)
    first = dp.preview.copy()

    # generated grid side by side
    win.grid_view.add_images(5, np.full((4, 28, 28, 1), 200, np.uint8))
    dp.compare.setChecked(True)
    assert not dp.fake_box.isHidden() and dp.fake_image.image.shape == (62, 62)
    assert "step 5" in dp.fake_title.text()

    # a simulated drop of a folder of PNGs: the form and the panel follow
    folder = tmp_path / "pngs"
    write_pngs(folder)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(folder))])
    ev = QDropEvent(QPointF(10, 10), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(win.datasetLoaded, timeout=30_000) as blocker:
        win.dropEvent(ev)
    assert blocker.args[0][0] == str(folder)
    assert win.panel.value("dataset") == str(folder)
    assert dp.lbl_count.text() == "20" and dp.bars is None          # no labels: no histogram
    assert not np.array_equal(dp.preview, first)
    assert win.errors == []

    # a bad drop: the error shows once, the previous dataset stays in the form and the panel
    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(win.datasetLoaded, timeout=30_000):
        assert win.drop_path(empty)
    assert len(win.errors) == 1 and "empty" in win.errors[0]
    assert win.panel.value("dataset") == str(folder) and dp.lbl_count.text() == "20"
    assert win.act_start.isEnabled()

    # typing in the form's field follows (debounced); a bad value shows in the panel, not a dialog
    win.panel.widgets["dataset"].setText(str(tmp_path / "nope.npz"))
    # Wait for this value's result, not just any datasetLoaded: a reload queued by the bad drop may finish first.
    qtbot.waitUntil(lambda: "no such file" in dp.status.text(), timeout=30_000)
    assert "no such file" in dp.status.text() and len(win.errors) == 1
