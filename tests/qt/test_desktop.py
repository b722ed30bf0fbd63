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
