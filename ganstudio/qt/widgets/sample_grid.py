"""The fixed-noise sample grid, with a slider to scrub back through the grids of this run.

The grid fills its panel at the largest integer zoom (nearest neighbour: every generated pixel a crisp square, the
aspect kept); clicking a sample opens it large with its index and step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QSlider, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from ...core.imaging import grid_cell, grid_index, grid_shape, load_png, make_grid
from . import hbox, vbox
from .image_label import ImageLabel

MAX_HISTORY = 4000  # beyond this, every other old grid is dropped so memory stays bounded on long runs


@dataclass(frozen=True)
class GridEntry:
    step: int
    images: np.ndarray | None = None   # uint8 NHWC from a live SampleGrid event (export can re-tile these)
    path: str = ""                      # a grid PNG on disk (opened runs), loaded when shown

    def grid(self) -> np.ndarray:
        return make_grid(self.images) if self.images is not None else load_png(self.path)


class EnlargedSample(QDialog):
    """One sample of the grid, large (integer zoom), titled with its index and step; follows later clicks."""

    SIZE = 336      # target edge in pixels: 12x a 28 px sample, 5x a 64 px one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignCenter)
        self.image = ImageLabel()
        lay = QVBoxLayout(self)
        lay.addWidget(self.caption)
        lay.addWidget(self.image, 1)
        self.index = self.step = -1

    def show_sample(self, img: np.ndarray, index: int, step: int, cols: int) -> None:
        self.index, self.step = index, step
        r, c = divmod(index, cols)
        text = f"Sample {index} (row {r + 1}, column {c + 1}) · step {step:,}"
        self.setWindowTitle(text)
        self.caption.setText(text)
        k = max(1, self.SIZE // max(img.shape[:2]))
        self.image.setMinimumSize(img.shape[1] * k + 4, img.shape[0] * k + 4)
        self.image.set_array(img)
        self.show()
        self.raise_()


class SampleGridView(QWidget):
    currentChanged = Signal(object)   # the GridEntry shown (or None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[GridEntry] = []
        self._shown: tuple[int, np.ndarray] | None = None   # (index, grid) cache
        self.title = QLabel("No samples yet")
        self.title.setAlignment(Qt.AlignCenter)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        self.title.setFont(f)

        self.canvas = ImageLabel()
        self.canvas.setToolTip("Click a sample to see it large")
        self.canvas.clickedAt.connect(self._clicked)
        self.sample_size = 0      # the run's image size, to cut grids read from disk (live grids know theirs)
        self.enlarged: EnlargedSample | None = None

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through earlier grids of this run (the latest is on the right)")
        self.position = QLabel("")
        self.position.setMinimumWidth(70)
        vbox(self, self.title, (self.canvas, 1), hbox((self.slider, 1), self.position), margin=0)
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
        with signals_blocked(self.slider):
            self.slider.setRange(0, len(self.entries) - 1)
            self.slider.setEnabled(len(self.entries) > 1)
            if at_end:
                self.slider.setValue(len(self.entries) - 1)   # follow the newest unless the user is scrubbing
        self._show_index(self.slider.value())

    def set_entries(self, entries: list[GridEntry]) -> None:
        self.entries = list(entries)
        self._shown = None
        with signals_blocked(self.slider):
            self.slider.setRange(0, max(0, len(self.entries) - 1))
            self.slider.setValue(max(0, len(self.entries) - 1))
            self.slider.setEnabled(len(self.entries) > 1)
        if self.entries:
            self._show_index(self.slider.value())
        else:
            self.clear()

    def clear(self) -> None:
        self.entries = []
        self._shown = None
        self.canvas.set_array(None)
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
        self.canvas.set_array(grid)
        latest = " (latest)" if i == len(self.entries) - 1 else ""
        self.title.setText(f"Step {entry.step:,}{latest}")
        self.position.setText(f"{i + 1}/{len(self.entries)}")
        self.currentChanged.emit(entry)

    # -- click to enlarge -------------------------------------------------------------------------------------
    def _layout(self, entry: GridEntry, grid: np.ndarray) -> tuple[int, int, int, int] | None:
        """(n, rows, h, w) of the grid shown: live grids know their images; a grid PNG read from disk is cut by
        the run's image size (`sample_size`, set by the window), every cell counting as a sample."""
        if entry.images is not None:
            n, h, w = entry.images.shape[:3]
            return n, grid_shape(n)[0], h, w
        s = self.sample_size
        if not s:
            return None
        rows, cols = (grid.shape[0] - 2) // (s + 2), (grid.shape[1] - 2) // (s + 2)
        return (rows * cols, rows, s, s) if rows and cols else None

    def _clicked(self, x: float, y: float, _button=None) -> None:
        entry, grid = self.current(), self.canvas.array
        layout = self._layout(entry, grid) if entry is not None and grid is not None else None
        if layout is not None:
            n, rows, h, w = layout
            i = grid_index(x, y, n, h, w, rows)
            if i is not None:
                self.enlarge(i)

    def enlarge(self, i: int) -> EnlargedSample | None:
        """Open sample i of the grid shown in the (reused, non-modal) enlarged view."""
        entry, grid = self.current(), self.canvas.array
        layout = self._layout(entry, grid) if entry is not None and grid is not None else None
        if layout is None or not 0 <= i < layout[0]:
            return None
        n, rows = layout[:2]
        img = entry.images[i] if entry.images is not None else grid_cell(grid, i, n, rows)
        if self.enlarged is None:
            self.enlarged = EnlargedSample(self)
        self.enlarged.show_sample(img, i, entry.step, grid_shape(n, rows)[1])
        return self.enlarged
