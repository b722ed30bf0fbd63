"""Quality of the generator over training: Fréchet distance (FD), KID and the memorization ratio vs step, three
X-linked plots.

Metric events are rare (every `train.metric_every` steps or on demand), so this plot draws at once on each
append; no redraw timer. Rows come from `Metric` events or `quality.jsonl` (RunDir.read_quality()).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

QWIDGETSIZE_MAX = (1 << 24) - 1

# column -> (plot row, label, colour)
QUALITY_SERIES = {
    "fd": (0, "FD", "#4dd0e1"),
    "kid": (1, "KID", "#ffb74d"),
    "memorization": (2, "memo", "#ce93d8"),
}
LAST_ROW = max(row for row, _, _ in QUALITY_SERIES.values())
MEMO_LOW = 0.8   # a ratio below this reads as copying in the title (healthy runs sit near 1; copies of 600 images: 0.1)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


class QualityPlot(QWidget):
    """FD and KID vs step (lower is better) and the memorization ratio (1 = new images as close to the training set
    as held-out real ones; well below 1 = copying it, with a dashed line at 1); a title line with the latest values.

    Until the first measurement only the title shows (empty plots would take the loss plots' room for the first
    `metric_every` steps); `collapsedChanged` tells the layout around it."""

    collapsedChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, float]] = []   # sorted by step, one row per step
        self.source: str | None = None
        self.accuracy: float | None = None
        self.title = QLabel("")
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.title.setStyleSheet("padding: 2px 4px;")
        self.title.setWordWrap(True)   # a long status must not set the plot column's minimum width (it squeezed the grid)
        self.glw = pg.GraphicsLayoutWidget()
        self.plots: list[pg.PlotItem] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        for c, (row, label, colour) in QUALITY_SERIES.items():
            p = self.glw.addPlot(row=row, col=0)
            p.setLabel("left", label)
            p.getAxis("left").enableAutoSIPrefix(False)
            p.showGrid(x=True, y=True, alpha=0.2)
            if row:
                p.setXLink(self.plots[0])
            if row == LAST_ROW:
                p.setLabel("bottom", "step")
            else:
                p.getAxis("bottom").setStyle(showValues=False)
            if c == "memorization":
                p.addItem(pg.InfiniteLine(1.0, angle=0, pen=pg.mkPen("#888", style=Qt.DashLine)))
            # Few points: symbols are cheap here and show where the metric was measured.
            self.curves[c] = p.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                    symbolBrush=colour, symbolPen=None, name=label)
            self.plots.append(p)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.title)
        lay.addWidget(self.glw, 1)
        self._update_title()

    # -- data -------------------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.rows)

    def append(self, row: Mapping[str, float], source: str | None = None, accuracy: float | None = None) -> None:
        """One metric row ({'step', 'fd', 'kid', ...}); a re-measured step replaces the old value."""
        r = {"step": _num(row.get("step")), **{c: _num(row.get(c)) for c in (*QUALITY_SERIES, "diversity")}}
        self.rows = [x for x in self.rows if x["step"] != r["step"]]
        self.rows.append(r)
        self.rows.sort(key=lambda x: x["step"])
        if source is not None:
            self.source, self.accuracy = source, accuracy
        self._redraw()

    def set_history(self, rows: list[Mapping[str, float]]) -> None:
        """Refill from quality.jsonl rows (the classifier stays as last reported)."""
        by_step: dict[float, dict[str, float]] = {}
        for row in rows:
            r = {"step": _num(row.get("step")), **{c: _num(row.get(c)) for c in (*QUALITY_SERIES, "diversity")}}
            by_step[r["step"]] = r            # the latest line for a step wins (a resumed run re-measures it)
        self.rows = sorted(by_step.values(), key=lambda x: x["step"])
        self._redraw()

    def truncate(self, max_step: int) -> None:
        """Drop rows after `max_step` (a NaN rollback or a resume from an older checkpoint)."""
        self.rows = [r for r in self.rows if r["step"] <= max_step]
        self._redraw()

    def clear(self) -> None:
        self.rows = []
        self.source = self.accuracy = None
        self._redraw()

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.rows], np.float64)

    def latest(self) -> dict[str, float] | None:
        return self.rows[-1] if self.rows else None

    # -- view -------------------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        x = self.column("step") if self.rows else np.empty(0)
        for c, curve in self.curves.items():
            y = self.column(c) if len(x) else np.empty(0)
            if np.isfinite(y).any():
                curve.setData(x, y, connect="finite")
            else:   # e.g. the ratio in a quality.jsonl from before it existed: all-NaN symbols warn in pyqtgraph
                curve.setData([], [])
        for p in self.plots:
            p.enableAutoRange()
        self._update_title()

    @property
    def collapsed(self) -> bool:
        return self.glw.isHidden()

    def _set_collapsed(self, on: bool) -> None:
        if on == self.collapsed:
            return
        self.glw.setHidden(on)
        # Two lines of the wrapped "no measurement yet" title; a QSplitter honours the maximum height.
        self.setMaximumHeight(2 * self.title.fontMetrics().lineSpacing() + 8 if on else QWIDGETSIZE_MAX)
        self.collapsedChanged.emit(on)

    def classifier_text(self) -> str:
        if self.source is None:
            return ""
        acc = f", test accuracy {self.accuracy:.1%}" if self.accuracy is not None else ""
        return f"classifier: {self.source}{acc}"

    def summary(self) -> str:
        """'FD 12.3 · KID 0.0041 · memo 0.97 at step 500' for the status bar ('' before the first metric); the ratio
        is left out when not measured and flagged when it says the generator copies its training images."""
        r = self.latest()
        if r is None:
            return ""
        memo = r["memorization"]
        memo_text = "" if not np.isfinite(memo) else \
            f" · memo {memo:.2f}" + (" (copying training images?)" if memo < MEMO_LOW else "")
        return f"FD {r['fd']:.3g} · KID {r['kid']:.3g}{memo_text} at step {int(r['step']):,}"

    def _update_title(self) -> None:
        s = self.summary()
        self._set_collapsed(not s)
        if not s:
            self.title.setText("Quality (FD, KID: lower is better; memorization ratio: ~1): no measurement yet — "
                               "set metric_every or use Run ▸ Compute quality now")
            return
        cls = self.classifier_text()
        self.title.setText(f"Quality: {s}" + (f"  ({cls})" if cls else ""))
