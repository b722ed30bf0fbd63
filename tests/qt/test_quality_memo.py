"""Issue 18 in the studio: the quality plot's memorization-ratio row, ADA's p beside D(x), preset guidance."""
import math

import numpy as np

from ganstudio.qt.widgets.quality_plot import QualityPlot


def test_memorization_ratio_is_plotted_and_flagged_when_low(qtbot):
    qp = QualityPlot()
    qtbot.addWidget(qp)
    qp.append({"step": 500, "fd": 40.0, "kid": 0.5, "diversity": 20.0, "memorization": 1.02})
    qp.append({"step": 1000, "fd": 12.0, "kid": 0.1, "diversity": 21.0, "memorization": 0.35})
    x, y = qp.curves["memorization"].getData()
    assert list(x) == [500, 1000] and list(y) == [1.02, 0.35]
    assert len(qp.plots) == 3 and qp.plots[2].getAxis("bottom").labelText == "step"
    assert "memo 0.35 (copying training images?)" in qp.title.text()
    qp.append({"step": 1500, "fd": 10.0, "kid": 0.1, "diversity": 21.0, "memorization": 0.97})
    assert "memo 0.97 at step 1,500" in qp.title.text() and "copying" not in qp.title.text()


def test_history_without_the_ratio_still_loads(qtbot):
    """quality.jsonl written before the ratio existed: FD/KID plot, the ratio is NaN and left out of the title."""
    qp = QualityPlot()
    qtbot.addWidget(qp)
    qp.set_history([{"step": 100, "fd": 50.0, "kid": 1.0, "diversity": 10.0}])
    assert math.isnan(qp.latest()["memorization"]) and "memo" not in qp.summary()
    assert np.isnan(qp.column("memorization")).all() and qp.column("fd").tolist() == [50.0]


def test_ada_p_is_drawn_in_the_d_output_plot(qtbot):
    from ganstudio.qt.widgets.loss_plot import SERIES, LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    for s in range(1, 4):
        plot.append({"step": s, "g_loss": 1.0, "d_loss": 1.0, "d_real": 0.6, "d_fake": 0.4, "images_per_sec": 100.0,
                     "ada_p": 0.1 * s})
    plot.redraw_if_dirty(all_ranges=True)
    x, y = plot.raw["ada_p"].getData()
    assert SERIES["ada_p"][0] == SERIES["d_real"][0]          # beside D(x), D(G(z)): all in [0, 1]
    assert list(x) == [1, 2, 3] and np.allclose(y, [0.1, 0.2, 0.3])
    assert "p 0.300" in plot.describe_index(2)


def test_preset_selector_says_what_each_preset_is_for_and_what_it_reached(qtbot):
    from PySide6.QtCore import Qt

    from ganstudio.config.presets import PRESETS, expectation, get_preset
    from ganstudio.qt.widgets.hyperparams import HyperparamPanel

    panel = HyperparamPanel(get_preset("tutorial").config())
    qtbot.addWidget(panel)
    assert [panel.preset_combo.itemData(i) for i in range(3)] == ["tutorial", "dcgan-b64-ema-r1", "dcgan-b64-ema"]
    panel.preset_combo.setCurrentIndex(1)
    text = panel.preset_desc.text()
    assert text == PRESETS["dcgan-b64-ema-r1"].guidance() and "Recommended" in text
    assert panel.preset_combo.itemData(0, Qt.ToolTipRole) == PRESETS["tutorial"].guidance()
    panel.set_dataset_size(600)          # a dataset was loaded: the guidance quotes its size's row of the table
    assert panel.preset_desc.text() == PRESETS["dcgan-b64-ema-r1"].guidance(600)
    assert panel.preset_combo.itemData(0, Qt.ToolTipRole) == PRESETS["tutorial"].guidance(600)
    if expectation("dcgan-b64-ema-r1"):     # measured (resources/quality_expectations.json)
        assert "on 600 images: FD" in panel.preset_desc.text()
