"""Runs in the runs root: a sortable list with thumbnails, a sweep's trials grouped under it; selecting runs
overlays their loss curves and shows their latest grids side by side. Reads only run folders (numpy + PIL), never
TensorFlow."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QScrollArea, QSplitter, QTreeWidget, QTreeWidgetItem, QTreeWidgetItemIterator,
                               QVBoxLayout, QWidget)

from . import fill_with_panes
from ...core.imaging import load_png
from ...runs import RunDir, runs_root
from ...runs.watch import RunSummary, scan_runs
from ...sweeps.folder import SweepDir

COLUMNS = ("Run", "Preset", "Dataset", "Steps", "G loss", "D loss")
THUMB = 48
MAX_POINTS = 4000     # per overlaid curve; older points are strided (peak detail is not needed to compare runs)
COLORS = ("#4fc3f7", "#ff8a65", "#81c784", "#ce93d8", "#fff176", "#f06292", "#4db6ac", "#ffb74d", "#9575cd",
          "#aed581")


def to_qimage(arr: np.ndarray) -> QImage:
    """uint8 (H, W[, 1|3|4]) -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr)
    h, w = a.shape[:2]
    if a.ndim == 2:
        fmt = QImage.Format_Grayscale8
    elif a.shape[-1] == 3:
        fmt = QImage.Format_RGB888
    else:
        fmt = QImage.Format_RGBA8888
    return QImage(a.data, w, h, a.strides[0], fmt).copy()


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


class _NumItem(QTreeWidgetItem):
    """Sort numeric columns by value, not text."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        col = self.treeWidget().sortColumn() if self.treeWidget() else 0
        a, b = self.data(col, Qt.UserRole + 1), other.data(col, Qt.UserRole + 1)
        if a is not None and b is not None:
            return a < b
        return self.text(col) < other.text(col)


class RunsPanel(QWidget):
    openRequested = Signal(str)   # a run folder (double-click)
    rootChosen = Signal(str)      # the user picked another runs root (the window makes it where runs go)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = runs_root()
        self.root_note = ""       # where the root came from, shown after it
        self.summaries: list[RunSummary] = []
        self._scanned = False
        self.choose_folder: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Runs folder", str(self.root))

        self.root_label = QLabel()
        self.root_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self._choose_root)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.root_label, 1)
        top.addWidget(choose)
        top.addWidget(refresh)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)    # sweeps expand to their trials
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setSortingEnabled(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.tree.setToolTip("Select several runs (Ctrl/Shift-click) to compare them; double-click opens one")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda item, _c: item.data(0, Qt.UserRole) and
                                            self.openRequested.emit(item.data(0, Qt.UserRole)))

        self.glw = pg.GraphicsLayoutWidget()
        self.g_plot = self.glw.addPlot(row=0, col=0, title="G loss")
        self.d_plot = self.glw.addPlot(row=1, col=0, title="D loss")
        self.d_plot.setXLink(self.g_plot)
        self.d_plot.setLabel("bottom", "step")
        for p in (self.g_plot, self.d_plot):
            p.showGrid(x=True, y=True, alpha=0.2)
            p.addLegend(offset=(-10, 10), labelTextSize="9pt")
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")

        self.grids_box = QWidget()
        self.grids_layout = QHBoxLayout(self.grids_box)
        self.grids_layout.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.grid_labels: list[QLabel] = []      # the image label of each selected run, in selection order
        self._grid_boxes: list[QWidget] = []
        grids_scroll = QScrollArea()
        grids_scroll.setWidget(self.grids_box)
        grids_scroll.setWidgetResizable(True)
        self.hint = QLabel("Select runs to compare their curves and latest grids")
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setStyleSheet("color: palette(mid);")
        self.hint.setWordWrap(True)         # a skipped run's message must not widen the panel

        right = QSplitter(Qt.Vertical)
        right.addWidget(self.glw)
        right.addWidget(grids_scroll)
        right.setSizes([500, 260])
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(top)
        ll.addWidget(self.tree, 1)
        ll.addWidget(self.hint)
        fill_with_panes(self, left, right, (520, 760))
        self._update_root_label()

    # -- scanning ---------------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - scan lazily: a big runs folder costs nothing until shown
        super().showEvent(event)
        if not self._scanned:
            self.refresh()

    def set_root(self, root: str | Path) -> None:
        self.root = Path(root)
        self._update_root_label()
        if self._scanned:          # otherwise the first show scans it
            self.refresh()

    def show_root(self, root: str | Path, note: str) -> None:
        """The runs root and where it came from (`note`, rich text shown after it)."""
        self.root_note = note
        if self.root != Path(root):
            self.set_root(root)
        else:
            self._update_root_label()

    def _choose_root(self) -> None:
        d = self.choose_folder()
        if d:
            self.set_root(d)
            self.rootChosen.emit(d)

    def _update_root_label(self) -> None:
        self.root_label.setText(f"Runs in <b>{self.root}</b>{self.root_note}")

    def refresh(self) -> None:
        self._scanned = True
        keep = {s.path for s in self.selected()}
        self.skipped: list[str] = []        # runs that cannot be listed (e.g. a config.json that is not an object)
        self.summaries = scan_runs(self.root, self.skipped)
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for s in self.summaries:
            self.tree.addTopLevelItem(self._run_item(s))
        sweeps = sorted(p for p in self.root.iterdir() if SweepDir.is_sweep(p)) if self.root.is_dir() else []
        for folder in sweeps:
            trials = sorted(scan_runs(folder, self.skipped), key=lambda t: t.name)
            first = trials[0] if trials else None
            group = _NumItem([f"{folder.name} ({len(trials)} trial{'s' * (len(trials) != 1)})", "sweep",
                              first.dataset if first else "", "", "", ""])
            group.setFlags(group.flags() & ~Qt.ItemIsSelectable)   # select its trials to compare them
            group.setToolTip(0, f"{folder}: ranked in {SweepDir(folder).summary_md.name}, grids in "
                                f"{SweepDir(folder).montage.name}")
            group.addChildren([self._run_item(t) for t in trials])
            self.tree.addTopLevelItem(group)
            group.setExpanded(True)
            self.summaries.extend(trials)
        self.select_paths(keep)
        self.tree.setSortingEnabled(True)
        self.hint.setText(f"{len(self.summaries)} run{'s' * (len(self.summaries) != 1)}; select runs to compare"
                          if self.summaries else f"No runs in {self.root} yet")
        if self.skipped:
            self.hint.setText(f"{self.hint.text()}. Skipped {len(self.skipped)}: {self.skipped[0]}")
            self.hint.setToolTip("\n".join(self.skipped))
        self._selection_changed()

    def _run_item(self, s: RunSummary) -> QTreeWidgetItem:
        item = _NumItem([s.name, s.preset, s.dataset, f"{s.step:,}", _fmt(s.g_loss), _fmt(s.d_loss)])
        item.setData(0, Qt.UserRole, str(s.path))
        for col, v in ((3, s.step), (4, s.g_loss), (5, s.d_loss)):
            item.setData(col, Qt.UserRole + 1, v)
            item.setTextAlignment(col, Qt.AlignRight | Qt.AlignVCenter)
        item.setToolTip(0, str(s.path))
        if s.latest_grid is not None:
            try:
                pm = QPixmap.fromImage(to_qimage(load_png(s.latest_grid)))
                item.setIcon(0, QIcon(pm.scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.FastTransformation)))
            except OSError:
                pass
        return item

    def selected(self) -> list[RunSummary]:
        paths = {it.data(0, Qt.UserRole) for it in self.tree.selectedItems()}
        return [s for s in self.summaries if str(s.path) in paths]

    def _items(self) -> list[QTreeWidgetItem]:
        out, it = [], QTreeWidgetItemIterator(self.tree)
        while it.value():
            out.append(it.value())
            it += 1
        return out

    def select_paths(self, paths: set[Path]) -> None:
        for item in self._items():
            item.setSelected(item.data(0, Qt.UserRole) in {str(p) for p in paths})

    def select_names(self, *names: str) -> None:
        for item in self._items():
            item.setSelected(item.text(0) in names)

    # -- comparison -------------------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        runs = self.selected()
        for p in (self.g_plot, self.d_plot):
            p.clear()
            if p.legend is not None:
                p.legend.clear()
        for box in self._grid_boxes:
            box.deleteLater()
        self._grid_boxes: list[QWidget] = []
        self.grid_labels = []
        for i, s in enumerate(runs):
            color = COLORS[i % len(COLORS)]
            rows = RunDir(s.path).read_metrics()
            if len(rows) > MAX_POINTS:
                rows = rows[:: -(-len(rows) // MAX_POINTS)] + rows[-1:]
            x = np.array([r.get("step", np.nan) for r in rows], np.float64)   # read_metrics: numeric steps only
            for plot, key in ((self.g_plot, "g_loss"), (self.d_plot, "d_loss")):
                y = np.array([v if isinstance(v := r.get(key), (int, float)) else np.nan for r in rows], np.float64)
                plot.plot(x, y, pen=pg.mkPen(color, width=1.5), name=s.name)
            self._add_grid(s, color)

    def _add_grid(self, s: RunSummary, color: str) -> None:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(4, 0, 4, 0)
        caption = QLabel(f"<span style='color:{color}'>■</span> {s.name} — step {s.step:,}")
        lab = QLabel()
        lab.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        if s.latest_grid is None:
            lab.setText("(no grid yet)")
        else:
            try:
                img = to_qimage(load_png(s.latest_grid))
                scale = max(1, 200 // max(1, img.height()))   # small grids magnified, pixel-exact
                lab.setPixmap(QPixmap.fromImage(img).scaled(img.width() * scale, img.height() * scale,
                                                            Qt.KeepAspectRatio, Qt.FastTransformation))
                lab.setProperty("grid_path", str(s.latest_grid))
            except OSError as e:
                lab.setText(f"cannot read grid ({e})")
        lab.setToolTip(f"{s.name}: latest grid ({s.latest_grid})")
        v.addWidget(caption)
        v.addWidget(lab)
        v.addStretch(1)
        self.grids_layout.addWidget(box)
        self._grid_boxes.append(box)
        self.grid_labels.append(lab)
