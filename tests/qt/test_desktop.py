"""Issue 16: the studio as a desktop app (latent explorer on the live generator, sample grid, ...)."""
import numpy as np
import pytest
from PIL import Image

from PySide6.QtCore import QPoint, Qt

from ganstudio.engine.checkpoints import list_checkpoints
from ganstudio.engine.events import SampleGrid
from ganstudio.core.imaging import save_grid
from ganstudio.qt.widgets.sample_grid import GridEntry, SampleGridView

TIMEOUT = 90_000


def is_(kind):
    return lambda ev: isinstance(ev, kind)


@pytest.mark.slow
def test_latent_explorer_on_a_paused_run(make_main_window, start_paused, qtbot, tmp_path):
    """Paused, with no checkpoint of the paused step on disk (only the new run's step-0 state): every view comes
    from the trainer's own generator."""
    win = make_main_window(preset="tiny")
    step = start_paused(win, 2)
    session = win.session
    lat = win.latent
    assert lat.available and lat.live is not None and lat.btn_generate.isEnabled()
    assert [c.step for c in list_checkpoints(win.run_path / "checkpoints")] == [0] and step > 0
    win.tabs.setCurrentWidget(lat)
    lat.steps.setValue(6)
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.btn_generate.click()
    res = blocker.args[0]
    assert res["live"] and res["key"] == (str(win.run_path), step) and "live generator" in lat.info.text()
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(SampleGrid), timeout=TIMEOUT) as grid:
        session.control.request("sample")       # the trainer's own grid of its fixed noise, for comparison
    fixed_grid = grid.args[0].images
    assert res["grid_images"].shape == fixed_grid.shape == (4, 28, 28, 1)
    assert np.abs(res["grid_images"].astype(int) - fixed_grid).max() <= 1

    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.idx_b.setValue(3)                   # debounced regeneration
    strip = blocker.args[0]["strip"]
    assert strip.shape == (6, 28, 28, 1) and blocker.args[0]["params"]["b"] == 3
    assert np.abs(strip[[0, -1]].astype(int) - fixed_grid[[0, 3]]).max() <= 1
    assert not np.array_equal(strip[1], strip[0])

    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.sliders[1].setValue(20)
    moved = blocker.args[0]
    assert np.linalg.norm(moved["moved_z"] - moved["noise"][0]) == pytest.approx(2.0, rel=1e-5)
    assert not np.array_equal(moved["moved"][0], moved["moved"][1])

    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.btn_reroll.click()
    rerolled = blocker.args[0]
    assert rerolled["noise"].shape == (4, 16) and not np.array_equal(rerolled["noise"], res["noise"])
    assert "re-rolled" in lat.info.text()

    out = lat.export("png", tmp_path / "strip.png")
    with Image.open(out) as im:
        assert im.size == (6 * 30 + 2, 32)
    assert win.state == "paused" and win.last_metrics.step == step and win.errors == []

    # while training, too: the request is answered between two steps
    win.act_pause.trigger()
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.btn_generate.click()
    assert blocker.args[0]["live"] and blocker.args[0]["key"][1] >= step
    win.stop_training()
    qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
    assert lat.live is None and lat.available      # back to checkpoints (Stop saved one)


def test_dropping_colour_images_switches_the_network_with_a_note(make_main_window, tmp_path, qtbot):
    win = make_main_window(preset="tutorial")
    win.show()
    folder = tmp_path / "rgb"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    # (the Dataset tab opens on a drop and may preview the form's old dataset first)
    with qtbot.waitSignal(win.datasetLoaded, timeout=30_000, check_params_cb=lambda r: r[0] == str(folder)) as blocker:
        assert win.drop_path(folder)
    assert blocker.args[0][1].shape == (28, 28, 3)
    assert (win.panel.value("arch"), win.panel.value("image_size"), win.panel.value("channels")) == ("dcgan", 28, 3)
    note = win.dataset_panel.model_note
    assert note.isVisible() and "dcgan network at 28x28x3" in note.text()
    assert win.panel.validate() is not None and win.errors == []
    # data the network already fits: the note goes away, nothing changes
    with qtbot.waitSignal(win.datasetLoaded, timeout=30_000):
        assert win.load_dataset_preview("bundled", from_drop=True)
    assert not note.isVisible() and win.panel.value("arch") == "dcgan"


def test_sample_grid_integer_zoom_and_click_to_enlarge(qtbot, tmp_path):
    view = SampleGridView()
    qtbot.addWidget(view)
    view.resize(420, 380)
    view.show()
    qtbot.waitExposed(view)
    imgs = np.stack([np.full((28, 28, 1), 40 + 50 * i, np.uint8) for i in range(4)])
    imgs[3, 5, 7] = 255                         # one odd pixel, to see it survives the zoom
    view.add_images(7, imgs)
    c = view.canvas
    k = c.scale
    assert k == min(c.width() // 62, c.height() // 62) and k >= 4                  # fills the panel
    assert (c.pixmap().width(), c.pixmap().height()) == (62 * k, 62 * k)         # integer zoom, aspect kept
    pm = c.pixmap().toImage()
    y, x = (2 + 30 + 5) * k, (2 + 30 + 7) * k                                  # sample 3's odd pixel
    assert {pm.pixelColor(x + dx, y + dy).red() for dx in range(k) for dy in range(k)} == {255}   # nearest
    assert pm.pixelColor(x + k, y).red() == 190
    view.resize(840, 760)
    qtbot.waitUntil(lambda: c.scale > k, timeout=5000)
    assert c.pixmap().width() == 62 * c.scale

    def click(px, py):                          # image pixel -> a click on the canvas
        k, x0, y0 = c.scale, (c.width() - 62 * c.scale) / 2, (c.height() - 62 * c.scale) / 2
        qtbot.mouseClick(c, Qt.LeftButton, pos=QPoint(int(x0 + (px + 0.5) * k), int(y0 + (py + 0.5) * k)))

    click(2 + 30 + 10, 2 + 30 + 3)              # inside sample 3 (row 2, column 2)
    dlg = view.enlarged
    assert dlg.isVisible() and (dlg.index, dlg.step) == (3, 7)
    assert dlg.caption.text() == "Sample 3 (row 2, column 2) · step 7"
    np.testing.assert_array_equal(dlg.image.array, imgs[3])
    assert dlg.image.scale >= 12 and dlg.image.pixmap().width() == 28 * dlg.image.scale
    click(1, 1)                                 # the padding: nothing new opens
    assert dlg.index == 3
    click(5, 5)
    assert dlg.index == 0 and "Sample 0" in dlg.caption.text()

    # the scrubber still works, and a grid read from disk is cut by the run's image size
    view.add_images(9, imgs[::-1].copy())
    view.slider.setValue(0)
    assert view.current().step == 7 and view.enlarge(1).index == 1
    p = save_grid(imgs, tmp_path / "step_000011.png")
    view.set_entries([GridEntry(11, path=str(p))])
    assert view.enlarge(2) is None              # image size unknown yet
    view.sample_size = 28
    np.testing.assert_array_equal(view.enlarge(2).image.array, imgs[2])
    assert view.enlarged.step == 11


# -- desktop conventions -------------------------------------------------------------------------------------------
def menu_texts(win, title):
    menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == title)
    return [a.text() for a in menu.actions() if a.text()]


def test_about_shortcuts_and_menus(make_main_window, qtbot):
    from PySide6.QtGui import QGuiApplication

    import ganstudio

    win = make_main_window()
    assert "Open &Recent" in menu_texts(win, "File") and "Import run…" in menu_texts(win, "File")
    assert "Export checkpoint…" in menu_texts(win, "File")
    assert {"Keyboard shortcuts", "About ganstudio"} <= set(menu_texts(win, "Help"))
    win.device_info = "CPU, XLA off, mixed_bfloat16"
    about = win.desktop.show_about()
    assert about.isVisible()
    text = about.copy()
    assert QGuiApplication.clipboard().text() == text and about.copy_button.text() == "Copied"
    lines = dict(line.split(": ", 1) for line in text.splitlines())
    assert lines["ganstudio"] == ganstudio.__version__
    assert lines["Device"] == "CPU, XLA off" and lines["Precision"] == "mixed_bfloat16"
    for key in ("TensorFlow", "Keras", "Qt / PySide6", "Python"):
        assert lines[key][0].isdigit(), (key, lines[key])
    about.close()
    table = win.desktop.show_shortcuts().table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Start"] == "Ctrl+R" and rows["Step"] == "F10" and rows["Keyboard shortcuts"] == "F1"
    assert "Pause" in rows and "Export grid" in rows


def test_open_recent_persists_and_prunes(make_main_window, settings, tmp_path, qtbot):
    from ganstudio.config import Config
    from ganstudio.runs import RunDir

    runs = [RunDir.create(tmp_path / f"run{i}", Config()).path for i in range(12)]
    win = make_main_window()
    for p in runs:
        assert win.open_run(p)
    win.desktop.fill_recent_menu()
    names = [a.text() for a in win.desktop.recent_menu.actions() if a.text()]
    assert names[:10] == [f"run{i}" for i in range(11, 1, -1)] and names[10:] == ["Clear recent runs"]
    import shutil

    shutil.rmtree(runs[11])                      # a vanished run is pruned, in the menu and the setting
    win2 = make_main_window(settings=settings)   # persisted: a new window with the same settings
    assert [p.name for p in win2.desktop.recent.paths()] == [f"run{i}" for i in range(10, 1, -1)]
    assert len(settings.value("recent/runs", [], list)) == 9
    win2.desktop.fill_recent_menu()
    first = next(a for a in win2.desktop.recent_menu.actions() if a.text() == "run10")
    first.trigger()
    assert win2.run_path == runs[10].resolve() or win2.run_path == runs[10]


def test_theme_switch_restyles_frame_and_plots(make_main_window, settings, qtbot, monkeypatch):
    import pyqtgraph as pg
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from ganstudio.qt.theme import GRID, PLOT, system_theme

    win = make_main_window()

    def look():
        axis = win.plot.glw.ci.getItem(0, 0).getAxis("left")
        return (QApplication.palette().color(QPalette.Window).lightness(),
                win.plot.glw.backgroundBrush().color().name(), axis.pen().color().name())

    assert win.desktop.theme.mode == "dark" and win.desktop.theme_actions["dark"].isChecked()   # the default
    w, bg, fg = look()
    assert w < 80 and (bg, fg) == (PLOT["dark"][0], GRID["dark"])
    win.desktop.theme_actions["light"].trigger()
    w, bg, fg = look()
    assert w > 200 and (bg, fg) == (PLOT["light"][0], GRID["light"])   # the loss plot's grid keeps its role
    assert win.plot.plots[0].legend.opts["labelTextColor"].name() == PLOT["light"][1]
    assert win.grid_view.canvas.styleSheet().startswith(f"background: {PLOT['light'][0]}")
    assert pg.getConfigOption("background") == PLOT["light"][0]       # new plots too
    assert settings.value("view/theme") == "light"
    win2 = make_main_window(settings=settings)
    assert win2.desktop.theme.mode == "light" and win2.desktop.theme_actions["light"].isChecked()
    assert win2.desktop.theme.set_mode("system") == system_theme()
    # following the OS: its scheme changes, the studio follows (the OS is simulated: offscreen Qt has none)
    from PySide6.QtCore import Qt as QtNS
    from PySide6.QtGui import QGuiApplication

    import ganstudio.qt.theme as theme_module

    for scheme, expect in ((QtNS.ColorScheme.Light, "light"), (QtNS.ColorScheme.Dark, "dark")):
        monkeypatch.setattr(theme_module, "system_theme", lambda expect=expect: expect)
        QGuiApplication.styleHints().colorSchemeChanged.emit(scheme)
        assert look()[1] == PLOT[expect][0] and win2.desktop.theme.current == expect
    win2.desktop.theme.set_mode("dark")
    assert look()[1] == PLOT["dark"][0]


def test_runs_root_is_shown_chosen_and_persisted(make_main_window, settings, tmp_path, monkeypatch):
    import os

    from ganstudio.runs import new_run_path, runs_root

    monkeypatch.delenv("GANSTUDIO_RUNS")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    for cwd in (tmp_path / "home", "/"):          # what a desktop entry starts us in: never ./runs there
        monkeypatch.chdir(cwd)
        assert runs_root() == tmp_path / "share" / "ganstudio" / "runs"
    monkeypatch.chdir(tmp_path / "work")
    assert runs_root() == __import__("pathlib").Path("runs")
    monkeypatch.chdir(tmp_path / "home")

    win = make_main_window()
    panel = win.runs_panel
    assert panel.root == tmp_path / "share" / "ganstudio" / "runs"
    assert "home folder" in panel.root_label.text() and "new runs go here" in panel.root_label.text()
    chosen = tmp_path / "chosen"
    panel.choose_folder = lambda: str(chosen)
    panel._choose_root()                                              # the Runs tab's "Choose folder…"
    assert os.environ["GANSTUDIO_RUNS"] == str(chosen) and panel.root == chosen
    assert new_run_path("tiny").parent == chosen and "chosen here" in panel.root_label.text()
    assert settings.value("runs/root") == str(chosen)

    monkeypatch.delenv("GANSTUDIO_RUNS")                              # a later launch keeps the choice
    win2 = make_main_window(settings=settings)
    assert runs_root() == chosen and win2.runs_panel.root == chosen
    monkeypatch.setenv("GANSTUDIO_RUNS", str(tmp_path / "env"))      # but GANSTUDIO_RUNS at launch wins
    win3 = make_main_window(settings=settings)
    assert win3.runs_panel.root == tmp_path / "env" and "GANSTUDIO_RUNS" in win3.runs_panel.root_label.text()


def test_export_and_import_a_checkpoint_from_the_file_menu(make_main_window, tiny_config, tmp_path, qtbot):
    from ganstudio.engine.trainer import Trainer, run_to_end

    run = tmp_path / "orig"
    run_to_end(Trainer(tiny_config.with_updates({"checkpoint_every": 2, "steps": 3}), run_dir=run))
    win = make_main_window()
    assert win.open_run(run)
    starts = []
    win.choose_save_path = lambda title, start, filt: (starts.append(start), str(tmp_path / "out" / "a"))[1]
    (tmp_path / "out").mkdir()
    with qtbot.waitSignal(win.exportFinished, timeout=60_000) as blocker:
        win.desktop.act_export_ckpt.trigger()
    assert starts == [str(run / "orig_step000003.tar.gz")]            # the latest checkpoint by default
    archive = tmp_path / "out" / "a.tar.gz"
    assert blocker.args[0] == archive and archive.is_file()

    win.desktop.choose_archive = lambda: str(archive)
    win.desktop.act_import.trigger()
    qtbot.waitUntil(lambda: win.run_path is not None and win.run_path.name == "orig" and win.run_path != run,
                    timeout=60_000)
    assert win.run_path.parent == tmp_path / "runs"                   # the runs root (GANSTUDIO_RUNS in tests)
    assert win.act_start.text() == "Resume run" and win.plot.count == 3 and win.errors == []
    assert [c.step for c in list_checkpoints(win.run_path / "checkpoints")] == [3]

