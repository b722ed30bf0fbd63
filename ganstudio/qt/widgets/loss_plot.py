"""Live training curves: losses, discriminator outputs and throughput on three X-linked plots.

Performance rules (pyqtgraph has no append API, and `setData` redraws the whole curve):
  * the event slot only writes into preallocated numpy buffers that double when full;
  * a QTimer redraws at ~15 Hz and only when new data arrived;
  * curves have no symbols and get only the visible points, peak-decimated to ~2 per pixel (`decimate`), so a
    million points stay fluid;
  * in follow mode the ranges are set from that data, not by pyqtgraph's auto-range (one repaint per redraw),
    and at most one range moves per live redraw (see `_follow_ranges`);
  * curves are bare PlotCurveItems: PlotDataItem's extra layer cost ~0.2 ms per curve and redraw.
"""
from __future__ import annotations

import time
from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.curves import ColumnBuffer, decimate, ema, sticky_range

# column -> (plot row, label, colour)
SERIES = {
    "g_loss": (0, "G loss", "#4fc3f7"),
    "d_loss": (0, "D loss", "#ff8a65"),
    "d_real": (1, "D(x)", "#81c784"),
    "d_fake": (1, "D(G(z))", "#ce93d8"),
    "ada_p": (1, "ADA p", "#a1887f"),   # adaptive augmentation's probability, also in [0, 1]; flat 0 when off
    "images_per_sec": (2, "images/s", "#fff176"),
}
PLOT_TITLES = ("Loss", "D output", "Throughput")
REDRAW_MS = 66  # ~15 Hz
LEFT_AXIS_PX = 62         # room for "-1.25e+03" at the default font; fixed so the three plots stay aligned
GRID_COLOUR = "#343842"   # opaque: what the foreground at 20% alpha looks like on the dark background


class LossPlot(QWidget):
    """Three stacked plots sharing the step axis, with EMA smoothing, follow mode and a hover readout."""

    def __init__(self, parent: QWidget | None = None, smoothing: float = 0.05) -> None:
        super().__init__(parent)
        self.alpha = smoothing
        self._buf = ColumnBuffer(SERIES)
        self._ema = ColumnBuffer(SERIES)       # smoothed copies, filled incrementally
        self._ema_last: dict[str, float | None] = {c: None for c in SERIES}
        self._dirty = False
        self._pending_moves: list[tuple] = []   # follow-mode range moves still to make, one per redraw tick
        self.redraw_count = 0             # tests and benchmarks read this

        self.follow_box = QCheckBox("Follow")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip("Auto-range to show all data as it arrives; panning or zooming turns it off")
        self.smooth_box = QCheckBox("Smoothed")
        self.smooth_box.setChecked(True)
        self.smooth_box.setToolTip(f"Overlay an exponential moving average (alpha {smoothing:g}); raw curves dim")
        self.readout = QLabel("")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setStyleSheet("font-family: monospace;")
        top = QHBoxLayout()
        top.addWidget(self.follow_box)
        top.addWidget(self.smooth_box)
        top.addStretch(1)
        top.addWidget(self.readout)

        self.glw = pg.GraphicsLayoutWidget()
        self.plots: list[pg.PlotItem] = []
        for row, title in enumerate(PLOT_TITLES):
            p = self.glw.addPlot(row=row, col=0)
            p.setLabel("left", title)
            p.getAxis("left").enableAutoSIPrefix(False)   # "(x0.001)" on probabilities reads badly
            p.getAxis("left").setWidth(LEFT_AXIS_PX)   # tick labels that change width never re-lay out the plots
            # Paint cost matters (one repaint per step, while TensorFlow has the cores): an opaque dim grid instead
            # of alpha-blended lines, cached legends and axes, and a step axis only under the bottom plot. Each
            # step axis re-renders its plot-sized grid when the x range moves; three of them made those repaints
            # the event loop's worst stalls (benchmarks/gui.py measures it).
            p.showGrid(x=True, y=True, alpha=1.0)
            # a backing so a legend over the small plots stays readable (it is cached, so the alpha costs nothing)
            p.addLegend(offset=(-10, 10), labelTextSize="9pt", brush=pg.mkBrush(27, 29, 35, 210))
            p.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            for side in ("left", "bottom"):
                ax = p.getAxis(side)
                ax.setPen(pg.mkPen(GRID_COLOUR))
                ax.setTextPen(pg.mkPen(pg.getConfigOption("foreground")))   # setPen recoloured the labels
                ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            if row < len(PLOT_TITLES) - 1:
                p.hideAxis("bottom")   # the x-linked plot below shows the steps
            # No pyqtgraph clip-to-view/auto-downsampling: `decimate` already does both, and theirs re-process
            # the data inside paint when the range moves, which costs a second repaint per step.
            if row:
                p.setXLink(self.plots[0])
            if row == len(PLOT_TITLES) - 1:
                p.setLabel("bottom", "step")
            p.getViewBox().sigRangeChangedManually.connect(self._user_moved)
            p.autoBtn.clicked.connect(self._auto_clicked)   # the corner "A" button means: follow again
            p.getViewBox().disableAutoRange()   # follow mode ranges; disabling it later runs one last auto-range
            p.getViewBox().sigXRangeChanged.connect(self._x_range_changed)
            self.plots.append(p)
        self.glw.ci.layout.setRowStretchFactor(0, 2)
        self.raw: dict[str, pg.PlotCurveItem] = {}
        self.smooth: dict[str, pg.PlotCurveItem] = {}
        for c, (row, label, colour) in SERIES.items():
            self.raw[c] = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1))
            # The legend shows the full-colour pen, not the dimmed raw curve.
            self.smooth[c] = pg.PlotCurveItem(pen=pg.mkPen(colour, width=2), name=label)
            self.plots[row].addItem(self.raw[c])
            self.plots[row].addItem(self.smooth[c])
        self.cursor_lines = [pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.DashLine))
                             for _ in self.plots]
        for p, line in zip(self.plots, self.cursor_lines):
            p.addItem(line, ignoreBounds=True)
            line.hide()
        self._mouse_proxy = pg.SignalProxy(self.glw.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.glw, 1)

        self.follow_box.toggled.connect(self._set_follow)
        self.smooth_box.toggled.connect(self._apply_smooth_visibility)
        self._apply_smooth_visibility(True)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw_if_dirty)
        self._timer.start()

    # -- data in ----------------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self._buf.n

    def append(self, row: Mapping[str, float]) -> None:
        """Event slot: buffer only; drawing happens on the timer."""
        self._buf.append(row)
        srow = {"step": row["step"]}
        for c in SERIES:
            v = row.get(c)
            if v is not None and v == v:
                last = self._ema_last[c]
                self._ema_last[c] = v if last is None else last + self.alpha * (v - last)
            srow[c] = np.nan if self._ema_last[c] is None else self._ema_last[c]
        self._ema.append(srow)
        self._dirty = True

    def set_columns(self, cols: Mapping[str, np.ndarray]) -> None:
        """Replace all data with whole columns ({'step': ..., 'g_loss': ...}); e.g. an opened run's history."""
        self._buf.set_columns(cols)
        smooth = {"step": self._buf.view("step")}
        for c in SERIES:
            smooth[c] = ema(self._buf.view(c), self.alpha)
            finite = smooth[c][np.isfinite(smooth[c])]
            self._ema_last[c] = float(finite[-1]) if len(finite) else None
        self._ema.set_columns(smooth)
        self._dirty = True
        self.redraw_if_dirty(all_ranges=True)   # a one-off load: no stream to spread the range changes over

    def set_history(self, rows: list[Mapping[str, float]]) -> None:
        """Refill from metrics rows (RunDir.read_metrics())."""
        cols = {c: np.array([r.get(c, np.nan) for r in rows], np.float64) for c in ["step", *SERIES]}
        self.set_columns(cols)

    def clear(self) -> None:
        self.set_columns({"step": np.empty(0)})

    def truncate(self, max_step: float) -> None:
        """Drop rows after `max_step` (the trainer rolled back to a checkpoint)."""
        keep = self._buf.view("step") <= max_step
        if keep.all():
            return
        self.set_columns({c: self._buf.view(c)[keep] for c in self._buf.columns})

    def last_row(self) -> dict[str, float] | None:
        if not self._buf.n:
            return None
        row = {c: float(self._buf.data[c][self._buf.n - 1]) for c in self._buf.columns}
        row["step"] = int(row["step"])
        return row

    def column(self, name: str) -> np.ndarray:
        return self._buf.view(name).copy()

    # -- drawing ----------------------------------------------------------------------------------------------
    def redraw_if_dirty(self, all_ranges: bool = False) -> None:
        if not self._dirty:
            self._move_ranges(None if all_ranges else 1)
            return
        self._dirty = False
        self.redraw_count += 1
        t0 = time.perf_counter()
        x = self._buf.view("step")
        smooth_on = self.smooth_box.isChecked()
        names = list(SERIES)
        ys = [self._buf.view(c) for c in names] + ([self._ema.view(c) for c in names] if smooth_on else [])
        if self.follow_box.isChecked() or not len(x):
            lo, hi = (x[0], x[-1]) if len(x) else (0.0, 0.0)
        else:
            lo, hi = self.plots[0].getViewBox().viewRange()[0]
        buckets = max(200, int(self.plots[0].getViewBox().width()))
        xd, yd = decimate(x, ys, lo, hi, buckets)
        for i, c in enumerate(names):
            self.raw[c].setData(xd, yd[i], connect="finite")
            if smooth_on:
                self.smooth[c].setData(xd, yd[len(names) + i], connect="finite")
        self._pending_moves = []
        if self.follow_box.isChecked() and len(x):
            self._follow_ranges(float(lo), float(hi), names, yd, limit=None if all_ranges else 1)
        # Adaptive throttle: never spend more than ~1/4 of the GUI thread's time redrawing.
        cost_ms = 1000 * (time.perf_counter() - t0)
        self._timer.setInterval(int(max(REDRAW_MS, 4 * cost_ms)))

    def _follow_ranges(self, lo: float, hi: float, names: list[str], yd: list[np.ndarray],
                       limit: int | None = 1) -> None:
        """Keep every curve in view, changing a range only when the data leaves it (or shrinks well inside it).

        Ranges come from the decimated data we already hold: pyqtgraph's auto-range would compute bounds again
        inside paint and schedule a second paint. They are sticky, with headroom: a new range re-lays out and
        re-renders an axis with its grid, the costliest part of a repaint. And at most `limit` of them move per
        redraw, data that left its range first: early in a run the x range and all three y ranges often move at
        once, and one repaint re-rendering four axes was the GUI's worst stall while training (benchmarks/gui.py).
        The others move at the next timer ticks, 66 ms apart (`_pending_moves`)."""
        per_row: dict[int, list[np.ndarray]] = {}
        for i, c in enumerate(names):
            per_row.setdefault(SERIES[c][0], []).append(yd[i])   # raw curves bound the smoothed ones
        for p in self.plots:
            # pyqtgraph's own auto-range (on by default, and back after its "A" button) would re-range during
            # paint, for every plot whenever the data changes, re-rendering every axis.
            if any(p.getViewBox().autoRangeEnabled()):
                p.getViewBox().disableAutoRange()
        moves = []   # (data outside the range, view box, axis, new range)
        vb0 = self.plots[0].getViewBox()
        (c_lo, c_hi), x_hi = vb0.viewRange()[0], max(hi, lo + 1)
        x_new = sticky_range((c_lo, c_hi), lo, x_hi, pinned_low=True)
        if x_new is not None:
            moves.append((lo != c_lo or x_hi > c_hi, vb0, "x", x_new))
        for row, p in enumerate(self.plots):
            ys = np.concatenate(per_row.get(row, [np.empty(0)]))
            ys = ys[np.isfinite(ys)]
            if not len(ys):
                continue
            vb = p.getViewBox()
            (c_lo, c_hi), y_lo, y_hi = vb.viewRange()[1], float(ys.min()), float(ys.max())
            y_new = sticky_range((c_lo, c_hi), y_lo, y_hi)
            if y_new is not None:
                moves.append((y_lo < c_lo or y_hi > c_hi, vb, "y", y_new))
        moves.sort(key=lambda m: not m[0])   # stable: x before y, top plot first
        self._pending_moves = moves
        self._move_ranges(limit)

    def _move_ranges(self, limit: int | None) -> None:
        """Make up to `limit` (None: all) of the pending range moves. Each touches one axis, so the rest stay
        what `_follow_ranges` computed until new data recomputes them."""
        n = len(self._pending_moves) if limit is None else min(limit, len(self._pending_moves))
        for _, vb, axis, (r_lo, r_hi) in self._pending_moves[:n]:
            (vb.setXRange if axis == "x" else vb.setYRange)(r_lo, r_hi, padding=0)
        del self._pending_moves[:n]
        if n:
            # Apply the new transforms now: done lazily in prepareForPaint, it re-dirties the axes/grid mid-paint
            # and Qt paints the plot area a second time.
            for p in self.plots:
                p.getViewBox().updateMatrix()

    @property
    def ranges_pending(self) -> bool:
        """Follow mode still has ranges to move (one per redraw tick)."""
        return bool(self._pending_moves)

    def _apply_smooth_visibility(self, on: bool) -> None:
        for c, (_, _, colour) in SERIES.items():
            self.smooth[c].setVisible(on)
            col = pg.mkColor(colour)
            if on:
                col.setAlpha(90)  # raw curve recedes behind the trend
            self.raw[c].setPen(pg.mkPen(col, width=1))
        self._dirty = True

    def _set_follow(self, on: bool) -> None:
        self._pending_moves = []
        if on:
            self._dirty = True    # the next redraw sets the ranges to the whole run

    def _x_range_changed(self, *_: object) -> None:
        if not self.follow_box.isChecked():
            self._dirty = True   # zoomed/panned: decimate the newly visible range (at the next tick)

    def _auto_clicked(self, *_: object) -> None:
        self.follow_box.setChecked(True)

    def _user_moved(self, *_: object) -> None:
        self.follow_box.setChecked(False)

    def _mouse_moved(self, args: tuple) -> None:
        pos = args[0]
        n = self._buf.n
        for p, line in zip(self.plots, self.cursor_lines):
            if p.sceneBoundingRect().contains(pos) and n:
                x = p.getViewBox().mapSceneToView(pos).x()
                steps = self._buf.view("step")
                i = int(np.clip(np.searchsorted(steps, x), 0, n - 1))
                if i > 0 and abs(steps[i - 1] - x) < abs(steps[i] - x):
                    i -= 1
                for ln in self.cursor_lines:
                    ln.setPos(steps[i])
                    ln.show()
                self.readout.setText(self.describe_index(i))
                return
        for ln in self.cursor_lines:
            ln.hide()

    def describe_index(self, i: int) -> str:
        d = self._buf.data
        return (f"step {int(d['step'][i])}  G {d['g_loss'][i]:.4f}  D {d['d_loss'][i]:.4f}  "
                f"D(x) {d['d_real'][i]:.3f}  D(G(z)) {d['d_fake'][i]:.3f}  p {d['ada_p'][i]:.3f}  "
                f"{d['images_per_sec'][i]:,.0f} img/s")
