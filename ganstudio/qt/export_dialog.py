"""Export the shown sample grid as a PNG with a chosen layout and pixel scale."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QSpinBox, QToolButton, QWidget)

from ..core.fileio import atomic_write_bytes
from ..core.imaging import grid_shape, png_bytes, save_grid
from .widgets.sample_grid import GridEntry

PAD = 2  # make_grid's default padding


def export_entry(entry: GridEntry, path: str | Path, rows: int = 0, scale: int = 1) -> Path:
    """Write one grid PNG. Live entries are re-tiled with `rows`; grids loaded from disk keep their layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if entry.images is not None:
        return save_grid(entry.images, path, rows=rows, scale=scale, pad=PAD)
    atomic_write_bytes(path, png_bytes(entry.grid(), scale))
    return path


def export_size(entry: GridEntry, rows: int, scale: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG `export_entry` would write."""
    if entry.images is None:
        h, w = entry.grid().shape[:2]
        return w * scale, h * scale
    n, h, w, _ = entry.images.shape
    r, c = grid_shape(n, rows)
    return (c * (w + PAD) + PAD) * scale, (r * (h + PAD) + PAD) * scale


class _PngDialog(QDialog):
    """Shared parts of the grid dialogs: a pixel-scale box and a PNG path row with a browse button."""

    def _scale_box(self, value: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(1, 32)
        box.setSuffix(" ×")
        box.setValue(value)
        return box

    def _path_row(self, caption: str, start: str, choose_path) -> QHBoxLayout:
        self.path = QLineEdit(start)
        self._path_edited = False
        self.path.textEdited.connect(lambda *_: setattr(self, "_path_edited", True))
        self.choose_path = choose_path or (lambda at: QFileDialog.getSaveFileName(
            self, caption, at, "PNG image (*.png)")[0])
        browse = QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        return row

    def _browse(self) -> None:
        p = self.choose_path(self.path.text())
        if p:
            self._path_edited = True
            self.path.setText(p if p.lower().endswith(".png") else p + ".png")


class ExportDialog(_PngDialog):
    def __init__(self, entry: GridEntry, default_path: Path, parent: QWidget | None = None,
                 choose_path: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export grid — step {entry.step:,}")
        self.entry = entry
        n = entry.images.shape[0] if entry.images is not None else 1
        self.rows = QSpinBox()
        self.rows.setRange(0, max(1, n))
        self.rows.setSpecialValueText("auto")
        self.rows.setEnabled(entry.images is not None)
        if entry.images is None:
            self.rows.setToolTip("This grid was loaded from the run folder as an image; its layout is fixed")
        self.scale = self._scale_box(4)
        path_row = self._path_row("Export grid", str(default_path), choose_path)
        self.size_label = QLabel()
        form = QFormLayout(self)
        form.addRow("Rows", self.rows)
        form.addRow("Scale", self.scale)
        form.addRow("Size", self.size_label)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.rows.valueChanged.connect(self._update_size)
        self.scale.valueChanged.connect(self._update_size)
        self._update_size()

    def _update_size(self) -> None:
        w, h = export_size(self.entry, self.rows.value(), self.scale.value())
        if self.entry.images is not None:
            r, c = grid_shape(self.entry.images.shape[0], self.rows.value())
            self.size_label.setText(f"{r} × {c} images, {w} × {h} px")
        else:
            self.size_label.setText(f"{w} × {h} px")

    def options(self) -> tuple[str, int, int]:
        return self.path.text().strip(), self.rows.value(), self.scale.value()


class SampleDialog(_PngDialog):
    """Options for `ganstudio.outputs.export.sample`: a fresh grid from a checkpoint's generator."""

    def __init__(self, step: int | None, default_path: Callable[[int], Path], parent: QWidget | None = None,
                 choose_path: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sample grid — checkpoint {'latest' if step is None else f'step {step:,}'}")
        self._default_path = default_path
        self.n = QSpinBox()
        self.n.setRange(1, 1024)
        self.n.setValue(64)
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("run's fixed noise")
        self.seed.setToolTip("-1 reuses the run's fixed noise (comparable with the training grids) when n fits")
        self.rows = QSpinBox()
        self.rows.setRange(0, 1024)
        self.rows.setSpecialValueText("auto")
        self.scale = self._scale_box(2)
        path_row = self._path_row("Sample grid", str(default_path(self.n.value())), choose_path)
        self.n.valueChanged.connect(self._n_changed)
        form = QFormLayout(self)
        form.addRow("Images", self.n)
        form.addRow("Seed", self.seed)
        form.addRow("Rows", self.rows)
        form.addRow("Scale", self.scale)
        form.addRow("File", path_row)
        note = QLabel("Runs the generator in the background (loads TensorFlow on first use).")
        note.setStyleSheet("color: palette(mid);")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _n_changed(self, n: int) -> None:
        if not self._path_edited:          # the default name carries n; keep it in step until the user edits
            self.path.setText(str(self._default_path(n)))

    def options(self) -> dict:
        return {"out": self.path.text().strip(), "n": self.n.value(),
                "seed": None if self.seed.value() < 0 else self.seed.value(), "rows": self.rows.value(),
                "scale": self.scale.value()}


__all__ = ["ExportDialog", "SampleDialog", "export_entry", "export_size"]
