"""The live loss plot's numbers, Qt-free: a growable column store, EMA smoothing, peak decimation to the pixels
shown, and sticky axis ranges. qt/widgets/loss_plot.py draws what these compute; tests run them without Qt."""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

MARGIN = 0.05   # follow mode: space around the data, as a fraction of its span
GROW = 0.25     # and on a side the data has just run past: room to grow, so a trend moves the axes rarely


def sticky_range(current: tuple[float, float] | list[float], lo: float, hi: float,
                 pinned_low: bool = False) -> tuple[float, float] | None:
    """The range to show [lo, hi] in, or None to keep `current`: it still holds the data, which fills at least
    half of it (and, with `pinned_low`, starts exactly where the data starts)."""
    c_lo, c_hi = float(current[0]), float(current[1])
    inside = (c_lo == lo if pinned_low else c_lo <= lo) and hi <= c_hi
    if inside and (hi - lo) >= 0.5 * (c_hi - c_lo):
        return None
    span = max(hi - lo, abs(hi) * 1e-3, 1e-12)    # a flat line still gets a visible band
    if pinned_low:
        return lo, hi + GROW * span
    # outside: grow on the side(s) the data ran past; inside but small: zoom in with a margin all round
    below = GROW if lo < c_lo and not inside else MARGIN
    above = GROW if hi > c_hi and not inside else MARGIN
    return lo - below * span, hi + above * span


class ColumnBuffer:
    """Growable column store: amortised O(1) append, views handed to pyqtgraph are never written again."""

    def __init__(self, columns: Iterable[str], capacity: int = 1024) -> None:
        self.columns = ["step", *columns]
        self.n = 0
        self.data = {c: np.empty(capacity, np.float64) for c in self.columns}

    @property
    def capacity(self) -> int:
        return len(self.data["step"])

    def _grow(self, need: int) -> None:
        cap = self.capacity
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for c, arr in self.data.items():
            new = np.empty(cap, np.float64)
            new[:self.n] = arr[:self.n]
            self.data[c] = new

    def append(self, row: Mapping[str, float]) -> None:
        self._grow(self.n + 1)
        i = self.n
        for c in self.columns:
            self.data[c][i] = row.get(c, np.nan)
        self.n += 1

    def set_columns(self, cols: Mapping[str, np.ndarray]) -> None:
        n = len(cols["step"])
        self.data = {c: np.empty(max(1024, n * 2), np.float64) for c in self.columns}
        for c in self.columns:
            src = cols.get(c)
            self.data[c][:n] = np.nan if src is None else np.asarray(src, np.float64)
        self.n = n

    def view(self, c: str) -> np.ndarray:
        return self.data[c][:self.n]


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average y_t = y_{t-1} + alpha (x_t - y_{t-1}), y_0 = x_0, vectorised in blocks of 256
    (a triangular weight matrix inside a block, a short Python loop carries the state across blocks), so a
    million-row history smooths in well under a second. Non-finite values are forward-filled."""
    v = np.asarray(values, np.float64)
    n = len(v)
    finite = np.isfinite(v)
    if not finite.any():
        return np.full(n, np.nan)
    first = int(np.argmax(finite))
    idx = np.where(finite, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = v[idx]
    filled[:first] = v[first]
    B = 256
    nb = -(-n // B)
    blocks = np.full(nb * B, filled[-1])
    blocks[:n] = filled
    blocks = blocks.reshape(nb, B)
    d = 1.0 - alpha
    i = np.arange(B)
    lag = i[:, None] - i[None, :]
    W = np.where(lag >= 0, alpha * d ** np.maximum(lag, 0), 0.0)
    inner = blocks @ W.T
    decay = d ** (i + 1)
    out = np.empty_like(blocks)
    prev = filled[0]
    for k in range(nb):
        out[k] = inner[k] + decay * prev
        prev = out[k, -1]
    res = out.reshape(-1)[:n].copy()
    res[:first] = np.nan
    return res


def decimate(x: np.ndarray, ys: list[np.ndarray], lo: float, hi: float, buckets: int
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Peak (min/max per bucket) decimation of the points in [lo, hi] to about 2*buckets points.

    pyqtgraph's own peak downsampling + clip-to-view also scans every point for bounds and finiteness on each
    setData; decimating first makes a redraw cost one numpy pass per curve, so a million points stay fluid.
    `x` must be ascending (steps are)."""
    n = len(x)
    i0 = max(0, int(np.searchsorted(x, lo)) - 1)
    i1 = min(n, int(np.searchsorted(x, hi, side="right")) + 1)
    m = i1 - i0
    if m <= 4 * buckets:
        return x[i0:i1], [y[i0:i1] for y in ys]
    k = m // buckets
    end = i0 + k * buckets
    xs = np.repeat(x[i0:end:k], 2)
    out = []
    for y in ys:
        blocks = y[i0:end].reshape(buckets, k)
        d = np.empty(2 * buckets)
        d[0::2] = np.fmin.reduce(blocks, axis=1)   # fmin/fmax skip NaN unless a whole bucket is NaN
        d[1::2] = np.fmax.reduce(blocks, axis=1)
        out.append(np.concatenate([d, y[end:i1]]))
    return np.concatenate([xs, x[end:i1]]), out
