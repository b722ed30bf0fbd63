"""Issue 16: the studio as a desktop app (latent explorer on the live generator, sample grid, ...)."""
import numpy as np
import pytest
from PIL import Image

from ganstudio.engine.checkpoints import list_checkpoints
from ganstudio.engine.events import Paused, SampleGrid

TIMEOUT = 90_000


def is_(kind):
    return lambda ev: isinstance(ev, kind)


@pytest.mark.slow
def test_latent_explorer_on_a_paused_run(make_main_window, tiny_form_values, qtbot, tmp_path):
    """Paused, with no checkpoint on disk: every view comes from the trainer's own generator."""
    win = make_main_window(preset="tiny")
    for k, v in tiny_form_values.items():
        win.panel.set_value(k, v)
    assert win.start_training()
    session = win.session
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(session.event, check_params_cb=is_(Paused), timeout=TIMEOUT):
        win.act_pause.trigger()
    step = win.last_metrics.step
    lat = win.latent
    assert lat.available and lat.live is not None and lat.btn_generate.isEnabled()
    assert list_checkpoints(win.run_path / "checkpoints") == []
    win.tabs.setCurrentWidget(lat)
    lat.steps.setValue(6)
    with qtbot.waitSignal(lat.generated, timeout=TIMEOUT) as blocker:
        lat.btn_generate.click()
    res = blocker.args[0]
    assert res["live"] and res["key"] == (str(win.run_path), step) and "live generator" in lat.info.text()
    with qtbot.waitSignal(session.event, check_params_cb=is_(SampleGrid), timeout=TIMEOUT) as grid:
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
