"""The loss plot's numbers without Qt: column buffer, EMA, peak decimation, sticky ranges."""
import numpy as np
import pytest

from ganstudio.core.curves import ColumnBuffer, decimate, ema, sticky_range

def test_sticky_range_keeps_a_range_that_still_fits():
    assert sticky_range((0, 10), 1, 9) is None                                # fits, fills 80%
    assert sticky_range((0, 10), 1, 11) == pytest.approx((0.5, 13.5))         # ran past the top: room to grow
    assert sticky_range((0, 10), -1, 9) == pytest.approx((-3.5, 9.5))         # past the bottom
    assert sticky_range((0, 10), 4, 6) == pytest.approx((3.9, 6.1))           # fills < half: zoom in
    assert sticky_range((1, 10), 1, 10, pinned_low=True) is None
    assert sticky_range((1, 10), 1, 11, pinned_low=True) == pytest.approx((1, 13.5))
    assert sticky_range((1, 10), 0, 9, pinned_low=True) == pytest.approx((0, 11.25))   # start moved
    lo, hi = sticky_range((0, 1), 5, 5)                                       # a flat line gets a band
    assert lo < 5 < hi


def test_column_buffer_grows_and_keeps_rows():
    buf = ColumnBuffer(["a"], capacity=4)
    for i in range(9):
        buf.append({"step": i, "a": 10 * i} if i != 3 else {"step": i})   # a missing column reads as NaN
    assert buf.n == 9 and buf.capacity == 16
    np.testing.assert_array_equal(buf.view("step"), np.arange(9))
    assert np.isnan(buf.view("a")[3]) and buf.view("a")[8] == 80
    buf.set_columns({"step": np.array([5.0, 6.0])})
    assert buf.n == 2 and np.isnan(buf.view("a")).all()


def test_ema_matches_the_recursion_and_forward_fills_gaps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=700)          # crosses block boundaries (256)
    x[[0, 1, 300]] = np.nan
    alpha, y, last, want = 0.05, None, None, []
    for v in x:
        last = v if np.isfinite(v) else last      # a gap repeats the last finite value
        if last is not None:
            y = last if y is None else y + alpha * (last - y)
        want.append(np.nan if y is None else y)
    np.testing.assert_allclose(ema(x, alpha), want, rtol=1e-9, atol=1e-12)
    assert np.isnan(ema(np.full(3, np.nan), alpha)).all()


def test_decimate_keeps_ends_and_extremes_of_the_visible_range():
    x = np.arange(10_000, dtype=np.float64)
    y = np.sin(x / 100)
    y[5_000] = 7.0                    # a spike survives decimation
    y[6_000] = np.nan                 # a NaN inside a bucket does not hide its other values
    xd, (yd,) = decimate(x, [y], 1_000, 9_000, buckets=100)
    assert len(xd) == len(yd) < 300
    assert xd[0] == 999 and xd[-1] >= 9_000          # one point beyond each end, so lines reach the edges
    assert yd.max() == 7.0 and np.isfinite(yd).all()
    xs, (ys,) = decimate(x, [y], 10, 20, buckets=100)   # few points: returned as they are
    np.testing.assert_array_equal(xs, x[9:22])
    np.testing.assert_array_equal(ys, y[9:22])
