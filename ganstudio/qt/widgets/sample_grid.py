"""The fixed-noise sample grid, with a slider to scrub back through the grids of this run."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ...imaging import load_png, make_grid

MAX_HISTORY = 4000  # beyond this, every other old grid is dropped so memory stays bounded on long runs


@dataclass(frozen=True)
class GridEntry:
    step: int
    images: np.ndarray | None = None   # uint8 NHWC from a live SampleGrid event (export can re-tile these)
    path: str = ""                      # a grid PNG on disk (opened runs), loaded when shown

    def grid(self) -> np.ndarray:
        return make_grid(self.images) if self.images is not None else load_png(self.path)


class SampleGridView(QWidget):
    currentChanged = Signal(object)   # the GridEntry shown (or None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[GridEntry] = []
        self._shown: tuple[int, np.ndarray] | None = None   # (index, grid) cache
        self._shape: tuple[int, ...] = ()
        self.title = QLabel("No samples yet")
        self.title.setAlignment(Qt.AlignCenter)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        self.title.setFont(f)

        self.glw = pg.GraphicsLayoutWidget()
        self.view = self.glw.addViewBox(lockAspect=True, invertY=True, enableMouse=True)
        self.view.setMenuEnabled(False)
        # Row-major matches numpy (H, W[, C]); fixed levels stop pyqtgraph from auto-levelling every frame.
        self.image = pg.ImageItem(axisOrder="row-major", levels=(0, 255))
        self.view.addItem(self.image)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through earlier grids of this run (the latest is on the right)")
        self.position = QLabel("")
        self.position.setMinimumWidth(70)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.position)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.glw, 1)
        lay.addLayout(row)
        self.slider.valueChanged.connect(self._show_index)

    # -- data -------------------------------------------------------------------------------------------------
    def add_images(self, step: int, images: np.ndarray) -> None:
        self._add(GridEntry(step, images=images))

    def add_path(self, step: int, path: str | Path) -> None:
        self._add(GridEntry(step, path=str(path)))

    def _add(self, entry: GridEntry) -> None:
        at_end = self.slider.value() >= len(self.entries) - 1
        if self.entries and self.entries[-1].step == entry.step:
            self.entries[-1] = entry          # a re-sample of the same step replaces the old one
        else:
            self.entries.append(entry)
        if len(self.entries) > MAX_HISTORY:
            self.entries = self.entries[:-1:2] + self.entries[-1:]
        self._shown = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.entries) - 1)
        self.slider.setEnabled(len(self.entries) > 1)
        if at_end:
            self.slider.setValue(len(self.entries) - 1)   # follow the newest unless the user is scrubbing
        self.slider.blockSignals(False)
        self._show_index(self.slider.value())

    def set_entries(self, entries: list[GridEntry]) -> None:
        self.entries = list(entries)
        self._shown = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.entries) - 1))
        self.slider.setValue(max(0, len(self.entries) - 1))
        self.slider.setEnabled(len(self.entries) > 1)
        self.slider.blockSignals(False)
        if self.entries:
            self._show_index(self.slider.value())
        else:
            self.clear()

    def clear(self) -> None:
        self.entries = []
        self._shown = None
        self.image.clear()
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.title.setText("No samples yet")
        self.position.setText("")
        self.currentChanged.emit(None)

    def current(self) -> GridEntry | None:
        if not self.entries:
            return None
        return self.entries[min(self.slider.value(), len(self.entries) - 1)]

    def current_grid(self) -> np.ndarray | None:
        """The mosaic shown now (uint8 H x W x C), or None."""
        i = self.slider.value()
        if not self.entries:
            return None
        if self._shown is None or self._shown[0] != i:
            self._shown = (i, self.entries[i].grid())
        return self._shown[1]

    # -- view -------------------------------------------------------------------------------------------------
    def _show_index(self, i: int) -> None:
        if not self.entries:
            return
        i = min(max(i, 0), len(self.entries) - 1)
        entry = self.entries[i]
        try:
            grid = self.current_grid()
        except OSError as e:
            self.title.setText(f"step {entry.step}: cannot read {entry.path} ({e})")
            return
        img = grid[..., 0] if grid.shape[-1] == 1 else grid
        self.image.setImage(img, levels=(0, 255), autoLevels=False)
        if img.shape[:2] != self._shape:   # keep the user's zoom unless the mosaic changed size
            self._shape = img.shape[:2]
            self.view.autoRange(padding=0.01)
        latest = " (latest)" if i == len(self.entries) - 1 else ""
        self.title.setText(f"Step {entry.step:,}{latest}")
        self.position.setText(f"{i + 1}/{len(self.entries)}")
        self.currentChanged.emit(entry)
