"""What the model will train on: source, size, value range, class histogram and a fixed-seed preview grid,
optionally beside the latest generated grid. The window loads the Dataset off the GUI thread and hands it here."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from . import fill_with_panes
from ...data import Dataset
from ...core.imaging import make_grid

PREVIEW_N = 64        # 8 x 8
PREVIEW_SEED = 0      # fixed, so the same dataset always previews the same images


def preview_images(ds: Dataset, n: int = PREVIEW_N, seed: int = PREVIEW_SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))
    return ds.images[idx]


def _image_view() -> tuple[pg.GraphicsLayoutWidget, pg.ImageItem, pg.ViewBox]:
    glw = pg.GraphicsLayoutWidget()
    view = glw.addViewBox(lockAspect=True, invertY=True, enableMouse=True)
    view.setMenuEnabled(False)
    item = pg.ImageItem(axisOrder="row-major", levels=(0, 255))   # fixed levels: no auto-levelling
    view.addItem(item)
    return glw, item, view


class DatasetPanel(QWidget):
    reloadRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.spec = ""
        self.preview: np.ndarray | None = None      # the preview mosaic (uint8 H x W x C)
        self.generated: np.ndarray | None = None    # the latest generated mosaic, if any

        self.status = QLabel("No dataset loaded")
        self.status.setWordWrap(True)
        self.lbl_source = QLabel("—")
        self.lbl_source.setWordWrap(True)
        self.lbl_source.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.lbl_count = QLabel("—")
        self.lbl_shape = QLabel("—")
        self.lbl_range = QLabel("—")
        self.lbl_notes = QLabel("")
        # The form switched network to fit this data (issue 16.3): say so where the user is looking.
        self.model_note = QLabel("")
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("background: #24405e; color: #e8eef5; padding: 6px; border-radius: 3px;")
        self.model_note.hide()
        self.lbl_notes.setWordWrap(True)
        self.lbl_notes.setStyleSheet("color: palette(mid);")
        self.reload = QPushButton("Reload")
        self.reload.setToolTip("Decode the dataset in the form again (e.g. after adding images to a folder)")
        self.reload.clicked.connect(self.reloadRequested)
        info = QFormLayout()
        info.addRow("Source", self.lbl_source)
        info.addRow("Images", self.lbl_count)
        info.addRow("Shape", self.lbl_shape)
        info.addRow("Values", self.lbl_range)

        self.hist = pg.PlotWidget(title="Images per class")
        self.hist.setMouseEnabled(x=False, y=False)
        self.hist.showGrid(y=True, alpha=0.2)
        self.hist.setMenuEnabled(False)
        self.bars: pg.BarGraphItem | None = None

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.status)
        ll.addWidget(self.model_note)
        ll.addLayout(info)
        ll.addWidget(self.lbl_notes)
        ll.addWidget(self.reload, 0, Qt.AlignLeft)
        ll.addWidget(self.hist, 1)

        self.compare = QCheckBox("Side by side with the latest generated grid")
        self.compare.setToolTip("Real samples (left) next to the generator's fixed-noise grid (right)")
        self.real_title = QLabel(f"Real samples ({PREVIEW_N}, seed {PREVIEW_SEED})")
        self.fake_title = QLabel("Generated (latest)")
        for t in (self.real_title, self.fake_title):
            t.setAlignment(Qt.AlignCenter)
        self.real_glw, self.real_image, self.real_view = _image_view()
        self.fake_glw, self.fake_image, self.fake_view = _image_view()
        real_box, fake_box = QWidget(), QWidget()
        for box, title, glw in ((real_box, self.real_title, self.real_glw), (fake_box, self.fake_title, self.fake_glw)):
            v = QVBoxLayout(box)
            v.setContentsMargins(0, 0, 0, 0)
            v.addWidget(title)
            v.addWidget(glw, 1)
        self.fake_box = fake_box
        images = QHBoxLayout()
        images.addWidget(real_box, 1)
        images.addWidget(fake_box, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.compare)
        rl.addLayout(images, 1)

        fill_with_panes(self, left, right, (420, 860))
        self.compare.toggled.connect(self._update_compare)
        self._update_compare()

    # -- states -----------------------------------------------------------------------------------------------
    def show_loading(self, spec: str, done: int = 0, total: int = 0) -> None:
        self.status.setText(f"Loading {spec} … {done:,}/{total:,}" if total else f"Loading {spec} …")

    def show_error(self, spec: str, message: str) -> None:
        """A dataset the form names but cannot be read; the last good preview stays below for reference."""
        self.status.setText(f"<span style='color:#e57373'>{message}</span>")

    def set_dataset(self, spec: str, ds: Dataset) -> None:
        self.spec = spec
        self.dataset = ds
        h, w, c = ds.shape
        self.status.setText(f"<b>{ds.name}</b>")
        self.lbl_source.setText(spec if spec == ds.name else f"{spec}")
        self.lbl_count.setText(f"{len(ds):,}")
        self.lbl_shape.setText(f"{h} × {w} × {c} ({'RGB' if c == 3 else 'grayscale'})")
        lo, hi = int(ds.images.min()), int(ds.images.max())
        self.lbl_range.setText(f"uint8 [{lo}, {hi}], mean {float(ds.images.mean()):.1f}")
        notes = list(ds.notes) + [f"⚠ {w_}" for w_ in ds.warnings]
        self.lbl_notes.setText("\n".join(notes))
        self._set_histogram(ds)
        self.preview = make_grid(preview_images(ds), rows=8)
        self._show(self.real_image, self.real_view, self.preview)
        self.real_title.setText(f"Real samples ({min(PREVIEW_N, len(ds))}, seed {PREVIEW_SEED})")

    def show_model_note(self, text: str) -> None:
        self.model_note.setText(text)
        self.model_note.setVisible(bool(text))

    def set_generated(self, grid: np.ndarray | None, step: int | None = None) -> None:
        self.generated = grid
        if grid is None:
            self.fake_image.clear()
            self.fake_title.setText("Generated (none yet)")
        else:
            self._show(self.fake_image, self.fake_view, grid)
            self.fake_title.setText(f"Generated, step {step:,}" if step is not None else "Generated")

    # -- drawing ----------------------------------------------------------------------------------------------
    def _set_histogram(self, ds: Dataset) -> None:
        if self.bars is not None:
            self.hist.removeItem(self.bars)
            self.bars = None
        counts = ds.class_counts()
        axis = self.hist.getAxis("bottom")
        if not len(counts):
            self.hist.setTitle("Images per class (no labels)")
            axis.setTicks(None)
            return
        self.hist.setTitle("Images per class")
        x = np.arange(len(counts))
        self.bars = pg.BarGraphItem(x=x, height=counts.astype(float), width=0.8, brush="#4fc3f7")
        self.hist.addItem(self.bars)
        names = ds.class_names if len(ds.class_names) == len(counts) else tuple(str(i) for i in x)
        # Index ticks: ten names like "T-shirt/top" overlap at any sensible width; the names go in the tooltip.
        axis.setTicks([[(int(i), str(i)) for i in x]])
        self.hist.setToolTip("<br>".join(f"{i}: {n} — {int(c):,}" for i, n, c in zip(x, names, counts)))
        self.hist.setXRange(-0.6, len(counts) - 0.4, padding=0)
        self.hist.setYRange(0, float(counts.max()) * 1.08, padding=0)

    @staticmethod
    def _show(item: pg.ImageItem, view: pg.ViewBox, grid: np.ndarray) -> None:
        img = grid[..., 0] if grid.shape[-1] == 1 else grid
        item.setImage(img, levels=(0, 255), autoLevels=False)
        view.autoRange(padding=0.01)

    def _update_compare(self, *_: object) -> None:
        self.fake_box.setVisible(self.compare.isChecked())
