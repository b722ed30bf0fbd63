"""Widget tests that never import TensorFlow: the form, the plots, the grid view, export sizes."""

import numpy as np
import pytest
from PIL import Image

from ganstudio.config import FIELDS, LIVE_FIELDS, Config
from ganstudio.core.errors import ConfigError
from ganstudio.config.presets import get_preset
from ganstudio.qt.export_dialog import export_entry, export_size
from ganstudio.qt.widgets.hyperparams import HyperparamPanel, SciSpinBox
from ganstudio.qt.widgets.loss_plot import SERIES, LossPlot
from ganstudio.qt.widgets.sample_grid import GridEntry, SampleGridView


@pytest.fixture
def panel(qtbot):
    w = HyperparamPanel(get_preset("tutorial").config())
    qtbot.addWidget(w)
    return w


def test_form_has_a_widget_per_field_and_round_trips(panel):
    assert set(panel.widgets) == {f.name for f in FIELDS}
    cfg = panel.current_config()
    assert isinstance(cfg, Config)
    assert cfg == get_preset("tutorial").config()


def test_preset_switch_updates_form_but_keeps_dataset(panel):
    panel.set_value("dataset", "mnist")
    panel.preset_combo.setCurrentIndex(panel.preset_combo.findData("tiny"))
    cfg = panel.current_config()
    assert cfg.preset == "tiny"
    assert cfg.model.width == 8 and cfg.model.arch == "dcgan" and cfg.optim.g_lr == pytest.approx(2e-4)
    assert cfg.data.dataset == "mnist"


def test_invalid_value_shows_error_never_raises_from_the_slot(panel):
    panel.widgets["g_lr"].setValue(0.0)   # lr is exclusive at 0
    assert "g_lr" in panel.error_text
    assert not panel.error_label.isHidden()
    assert "e57373" in panel.widgets["g_lr"].styleSheet()
    with pytest.raises(ConfigError):
        panel.current_config()
    assert panel.validate() is None
    panel.widgets["g_lr"].setValue(3e-4)
    assert panel.error_text == ""
    assert panel.current_config().optim.g_lr == pytest.approx(3e-4)


def test_cross_field_error_is_reported(panel):
    # the tutorial network is fixed at 28x28x1
    combo = panel.widgets["image_size"]
    combo.setCurrentIndex(combo.findData(64))
    assert panel.error_text.startswith("arch:")
    assert "e57373" in panel.widgets["arch"].styleSheet() and panel.widgets["image_size"].styleSheet() == ""


def test_active_run_locks_non_live_fields_and_sends_live_edits(panel, qtbot):
    panel.set_active(True)
    for name, w in panel.widgets.items():
        assert w.isEnabled() == (name in LIVE_FIELDS), name
    assert "Locked while training" in panel.widgets["batch_size"].toolTip()
    assert not panel.preset_combo.isEnabled()
    with qtbot.waitSignal(panel.liveEdit, timeout=1000) as blocker:
        panel.widgets["d_lr"].setValue(5e-4)
    assert blocker.args == ["d_lr", pytest.approx(5e-4)]
    # invalid live value: error shown, nothing sent
    sent = []
    panel.liveEdit.connect(lambda *a: sent.append(a))
    panel.widgets["g_lr"].setValue(0.0)
    assert sent == [] and "g_lr" in panel.error_text
    # confirmed changes from the trainer do not echo back as edits
    panel.apply_changes({"sample_every": (100, 7)})
    assert panel.value("sample_every") == 7 and sent == []
    panel.set_active(False)
    assert all(w.isEnabled() for w in panel.widgets.values())


def test_sci_spinbox_formats_and_steps_multiplicatively(qtbot):
    s = SciSpinBox(log=True)
    qtbot.addWidget(s)
    s.setRange(0, 1)
    s.setValue(1e-4)
    assert s.text() == "0.0001"
    s.stepBy(1)
    assert s.value() == pytest.approx(2e-4)
    assert s.valueFromText("3e-5") == pytest.approx(3e-5)


def _rows(n, start=1):
    steps = np.arange(start, start + n)
    return [{"step": int(s), "g_loss": 1.0 + 0.001 * s, "d_loss": 1.4, "d_real": 0.6, "d_fake": 0.4,
             "images_per_sec": 1000.0} for s in steps]


def test_loss_plot_buffers_grow_and_redraw_only_when_dirty(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    for row in _rows(3000):       # crosses several doublings of the 1024-row buffer
        plot.append(row)
    assert plot.count == 3000 and plot._buf.capacity == 4096
    before = plot.redraw_count
    plot.redraw_if_dirty()
    plot.redraw_if_dirty()        # nothing new: no second redraw
    assert plot.redraw_count == before + 1
    x, y = plot.raw["g_loss"].getData()
    # more points than ~4 per pixel: decimated, but the ends and the extremes are kept
    assert len(x) < 3000 and x[0] == 1 and x[-1] == 3000
    assert y.max() == pytest.approx(1.0 + 0.001 * 3000) and y.min() == pytest.approx(1.001)
    np.testing.assert_allclose(plot.column("step"), np.arange(1, 3001))
    np.testing.assert_allclose(plot.column("g_loss"), 1.0 + 0.001 * np.arange(1, 3001))
    # the EMA trails the rising raw curve
    _, ys = plot.smooth["g_loss"].getData()
    assert ys[-1] < y[-1]
    assert "step 3000" in plot.describe_index(2999)


def test_follow_mode_shows_all_data_and_moves_axes_only_when_needed(qtbot):
    plot = LossPlot()
    plot.resize(600, 500)
    qtbot.addWidget(plot)
    rows = _rows(200)
    ranges = []
    for row in rows[:100]:
        plot.append(row)
        plot.redraw_if_dirty()
        ranges.append(tuple(plot.plots[0].getViewBox().viewRange()[0]))
    for _ in range(len(plot.plots)):    # ranges left to move (one per redraw tick) move within 3 more ticks
        plot.redraw_if_dirty()
    assert not plot.ranges_pending
    x_lo, x_hi = plot.plots[0].getViewBox().viewRange()[0]
    assert x_lo == pytest.approx(1) and x_hi >= 100                       # every step in view
    assert len(set(ranges)) < 25                                            # not a new x range per step
    for p, row_i in zip(plot.plots, (0, 1, 2)):
        y_lo, y_hi = p.getViewBox().viewRange()[1]
        for c, (r, _, _) in SERIES.items():
            if r == row_i and c in rows[0]:    # ada_p: not in these rows, not drawn
                assert y_lo <= plot.column(c).min() and plot.column(c).max() <= y_hi
    # a spike leaves the y range: it grows to show it
    spike = dict(rows[100], g_loss=50.0)
    plot.append(spike)
    plot.redraw_if_dirty()
    assert plot.plots[0].getViewBox().viewRange()[1][1] >= 50
    # pyqtgraph's auto-range stays off (it would re-range every plot inside paint), even after its "A" button
    plot.follow_box.setChecked(False)
    plot.plots[1].autoBtnClicked()
    plot.plots[1].autoBtn.clicked.emit(plot.plots[1].autoBtn)
    assert plot.follow_box.isChecked()
    plot.redraw_if_dirty()
    assert not any(any(p.getViewBox().autoRangeEnabled()) for p in plot.plots)


def test_follow_mode_moves_one_range_per_redraw_tick_data_outside_first(qtbot):
    """A repaint that re-renders several axes at once was the worst GUI stall while training: live redraws move
    one range each, and a range the data has left goes before one that only zooms in."""
    plot = LossPlot()
    plot.resize(600, 500)
    qtbot.addWidget(plot)
    for row in _rows(50):
        plot.append(row)
    plot.redraw_if_dirty()
    while plot.ranges_pending:
        plot.redraw_if_dirty()

    def ranges():
        return [tuple(map(tuple, p.getViewBox().viewRange())) for p in plot.plots]

    # every curve jumps out of its plot, and the steps run past the x range
    before = ranges()
    plot.append({"step": 200, "g_loss": 90.0, "d_loss": 1.4, "d_real": 5.0, "d_fake": 0.4, "images_per_sec": 9e4})
    moved = []
    for _ in range(4):
        plot.redraw_if_dirty()
        now = ranges()
        moved.append(sum(a != b for old, new in zip(before, now) for a, b in zip(old, new)))
        before = now
    # x moves the three linked plots' x together: one range; then each plot's y range, one per tick
    assert moved[0] == 3 and moved[1:] == [1, 1, 1]
    assert not plot.ranges_pending
    for p, top in zip(plot.plots, (90.0, 5.0, 9e4)):
        assert p.getViewBox().viewRange()[1][1] >= top
    assert plot.plots[0].getViewBox().viewRange()[0][1] >= 200
    # a one-off load (an opened run) moves every range at once
    plot.set_history(_rows(10))
    assert not plot.ranges_pending and plot.plots[0].getViewBox().viewRange()[0][1] < 20


def test_loss_plot_redraws_from_timer(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.append(_rows(1)[0])
    qtbot.waitUntil(lambda: plot.raw["d_real"].getData()[0] is not None
                    and len(plot.raw["d_real"].getData()[0]) == 1, timeout=2000)


def _ema_loop(v, alpha):
    out, last = [], None
    for x in v:
        last = x if last is None else last + alpha * (x - last)
        out.append(last)
    return np.array(out)


def test_set_history_and_million_points_stay_fluid(qtbot):
    plot = LossPlot()
    plot.resize(900, 600)
    qtbot.addWidget(plot)
    plot.show()
    plot.set_history(_rows(10))
    assert plot.count == 10
    n = 1_000_000
    steps = np.arange(1, n + 1, dtype=np.float64)
    cols = {"step": steps, **{c: np.sin(steps / 5000.0) + 1.5 for c in SERIES}}
    plot.set_columns(cols)       # its speed (and the redraw's) is measured in benchmarks/gui.py, not asserted here
    assert plot.count == n
    # the vectorised EMA matches the recurrence
    np.testing.assert_allclose(plot._ema.view("g_loss")[:300], _ema_loop(cols["g_loss"][:300], plot.alpha))
    # A live append then a redraw: what the 15 Hz timer does while training.
    for i in range(3):
        plot.append({"step": n + 1 + i, **{c: 1.0 for c in SERIES}})
        plot.redraw_if_dirty()
    x, y = plot.raw["g_loss"].getData()
    # Peak decimation hands pyqtgraph ~2 points per pixel, not a million; the peaks survive it.
    assert len(x) < 5000 and x[0] == 1 and x[-1] == n + 3
    assert y.max() == pytest.approx(2.5, abs=1e-3) and y.min() == pytest.approx(0.5, abs=1e-3)
    assert len(plot.smooth["g_loss"].getData()[0]) == len(x)
    plot.glw.grab()                              # and it paints
    # Zoomed in (follow off), the visible window is drawn at full resolution.
    plot.follow_box.setChecked(False)
    plot.plots[0].setXRange(1000, 1500, padding=0)
    plot.redraw_if_dirty()
    x, _ = plot.raw["g_loss"].getData()
    assert x[0] <= 1000 and x[-1] >= 1500 and len(x) < 600 and np.all(np.diff(x) == 1)


def _images(n=4, c=1, value=None):
    rng = np.random.default_rng(0)
    if value is not None:
        return np.full((n, 28, 28, c), value, np.uint8)
    return rng.integers(0, 256, (n, 28, 28, c), dtype=np.uint8)


def test_sample_grid_follows_latest_and_scrubs(qtbot):
    view = SampleGridView()
    qtbot.addWidget(view)
    assert view.current() is None
    for step in (0, 10, 20):
        view.add_images(step, _images(value=step))
    assert view.current().step == 20 and "Step 20" in view.title.text()
    assert view.current_grid().shape == (2 * 30 + 2, 2 * 30 + 2, 1)
    view.slider.setValue(0)
    assert view.current().step == 0 and "Step 0" in view.title.text()
    view.add_images(30, _images(value=30))
    assert view.current().step == 0            # the user is scrubbing: stay put
    view.slider.setValue(view.slider.maximum())
    assert view.current().step == 30
    img = view.canvas.array
    assert img.shape == (62, 62, 1) and img[2, 2, 0] == 30   # pixel values untouched


def test_sample_grid_from_disk_and_export_sizes(tmp_path, qtbot):
    from ganstudio.core.imaging import save_grid

    imgs = _images(6, 3)
    p = save_grid(imgs, tmp_path / "step_000010.png")
    view = SampleGridView()
    qtbot.addWidget(view)
    view.set_entries([GridEntry(10, path=str(p))])
    assert view.current_grid().shape == (2 * 30 + 2, 3 * 30 + 2, 3)

    live = GridEntry(10, images=imgs)
    assert export_size(live, rows=1, scale=2) == ((6 * 30 + 2) * 2, 32 * 2)
    out = export_entry(live, tmp_path / "x" / "a.png", rows=3, scale=3)
    with Image.open(out) as im:
        assert im.size == ((2 * 30 + 2) * 3, (3 * 30 + 2) * 3)
    out = export_entry(GridEntry(10, path=str(p)), tmp_path / "b.png", scale=2)
    with Image.open(out) as im:
        assert im.size == export_size(GridEntry(10, path=str(p)), 0, 2) == ((3 * 30 + 2) * 2, (2 * 30 + 2) * 2)
