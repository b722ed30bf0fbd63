"""Fréchet distance and Kernel Inception Distance on feature arrays, in plain numpy (no scipy, no TF).

The features come from `classifier.get_classifier()` rather than Inception: a 28x28 Fashion-MNIST GAN is judged by
a classifier trained on its own data, so the numbers are comparable between runs on the same dataset only, never
with published FID values.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .health import sample_diversity

FeatureFn = Callable[[np.ndarray], np.ndarray]   # uint8 (N, H, W, C) -> float (N, D)


def _as_2d(f: np.ndarray) -> np.ndarray:
    """(N,) -> (N, 1) so 1-D samples work; float64 because covariances of 128-d features lose digits in float32."""
    f = np.asarray(f, dtype=np.float64)
    return f[:, None] if f.ndim == 1 else f.reshape(len(f), -1)


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of the rows."""
    f = _as_2d(features)
    if len(f) < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {len(f)}")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix; tiny negative eigenvalues (round-off, rank deficiency) clip to 0."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_from_stats(mu1, s1, mu2, s2) -> float:
    """|mu1-mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) equals the sum of sqrt(eigenvalues) of the *symmetric* PSD matrix A S2 A with A = S1^(1/2)
    (same spectrum as S1 S2), so eigvalsh suffices: no complex parts, no scipy.linalg.sqrtm, stable when the
    covariances are singular (fewer samples than dimensions, or a collapsed generator)."""
    a = _psd_sqrt(s1)
    m = a @ s2 @ a
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1) - np.asarray(mu2)
    fd = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)
    return max(fd, 0.0)   # round-off can give -1e-12 for identical sets


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature arrays (N1, D) and (N2, D) (or 1-D samples)."""
    return frechet_distance_from_stats(*gaussian_stats(f1), *gaussian_stats(f2))


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3, the KID kernel of Binkowski et al. (2018)."""
    k = x @ y.T / x.shape[1] + 1.0
    return k * k * k   # 30x faster than ** 3, which goes through the general pow()


def _mmd2_from_kernels(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    """Unbiased MMD^2: within-set kernel means exclude the diagonal (k(x, x) would bias it upwards)."""
    m, n = len(kxx), len(kyy)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    return _mmd2_from_kernels(polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y))


FULL_KERNEL_MAX = 2048   # up to this many rows per set, compute each kernel matrix once and slice the subsets


def kid_estimates(f1: np.ndarray, f2: np.ndarray, subsets: int = 10, subset_size: int = 1000,
                  seed: int = 0, kxx: np.ndarray | None = None) -> np.ndarray:
    """One unbiased MMD^2 per random subset pair (subset_size is capped by the smaller set).

    For sets of <= FULL_KERNEL_MAX rows the three kernel matrices are computed once (3 matmuls instead of
    3 x subsets) and the subsets are slices of them; `kxx` = polynomial_kernel(f1, f1), if the caller cached it."""
    x, y = _as_2d(f1), _as_2d(f2)
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)   # fixed seed: the same inputs always give the same score
    draws = [(rng.choice(len(x), size, replace=False), rng.choice(len(y), size, replace=False))
             for _ in range(subsets)]
    if max(len(x), len(y)) > FULL_KERNEL_MAX:
        return np.array([_mmd2_unbiased(x[i], y[j]) for i, j in draws])
    kxx = polynomial_kernel(x, x) if kxx is None else kxx
    kyy, kxy = polynomial_kernel(y, y), polynomial_kernel(x, y)
    return np.array([_mmd2_from_kernels(kxx[np.ix_(i, i)], kyy[np.ix_(j, j)], kxy[np.ix_(i, j)])
                     for i, j in draws])


def kernel_inception_distance(f1: np.ndarray, f2: np.ndarray, subsets: int = 10, subset_size: int = 1000,
                              seed: int = 0, kxx: np.ndarray | None = None) -> float:
    """KID: mean of the unbiased polynomial-kernel MMD^2 over `subsets` random subsets. Unbiased, so it can be
    slightly negative for two samples of one distribution; unlike FD it does not grow with 1/n bias."""
    return float(kid_estimates(f1, f2, subsets, subset_size, seed, kxx).mean())


MEMO_REFERENCE_MAX = 5000   # training images searched for nearest neighbours (~1 s of features once, 0.1 s a score)


def memorization_split(n: int, seed: int = 0, max_reference: int = MEMO_REFERENCE_MAX) -> tuple[np.ndarray, np.ndarray]:
    """(reference, held_out) indices into the n training images, disjoint and a pure function of (n, seed).

    held_out: 10 % of the images (at least min(50, n/2), at most 1000); reference: up to `max_reference` of the
    rest. Both come from the set the GAN trains on, so a generator that copies its training images uniformly lands
    on a reference image (distance 0) with probability |reference| / n and scores a ratio of about 1 - |reference| / n:
    0.1 for 600 or 2,000 images, 0.17 for 6,000, but 0.92 for 60,000, where copying is not the risk anyway."""
    if n < 4:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    perm = np.random.default_rng([seed, 0x6D656D6F]).permutation(n)   # its own stream: the FD subset is unchanged
    held = min(max(n // 10, min(50, n // 2)), 1000)
    return np.sort(perm[held:held + max_reference]), np.sort(perm[:held])


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row (chunked: bounded memory). float32:
    half the time of float64 (the matmul is most of the ratio's cost), ~1e-3 absolute error on distances of ~10."""
    q, r = _as_2d(queries).astype(np.float32), _as_2d(reference).astype(np.float32)
    r2 = (r * r).sum(axis=1)
    out = []
    for i in range(0, len(q), chunk):
        c = q[i:i + chunk]
        d2 = (c * c).sum(axis=1)[:, None] - 2.0 * c @ r.T + r2[None, :]
        out.append(np.sqrt(np.clip(d2.min(axis=1), 0, None)))
    return np.concatenate(out) if out else np.zeros(0)


class QualityMetric:
    """Scores generated images against a fixed real subset whose features are computed once.

    `feature_fn` maps uint8 images to features (see classifier.get_classifier). `n` real images are drawn once with
    `seed`; score() should get a comparable number of generated images (FD is biased upwards for small n, so only
    compare scores computed with the same n).

    `memorization` = mean distance from generated images to their nearest training image / the same for held-out
    training images (memorization_split), in the classifier's feature space: ~1 when the generator makes new
    images as close to the data as real ones are, well below 1 when it reproduces training images. It answers only
    "copying?", beside FD's "how good?": FD cannot see copying (a copy of the training set has FD ~0), and the
    ratio cannot see bad samples (grey blurs two steps into training also score ~1)."""

    def __init__(self, feature_fn: FeatureFn, real_images: np.ndarray, n: int = 1000, seed: int = 0,
                 kid_subsets: int = 10, kid_subset_size: int = 500) -> None:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(real_images), min(n, len(real_images)), replace=False))
        ref_idx, held_idx = memorization_split(len(real_images), seed)
        # one feature pass over every image any statistic needs
        union = np.union1d(np.union1d(idx, ref_idx), held_idx)
        feats = _as_2d(feature_fn(real_images[union]))
        pos = lambda i: feats[np.searchsorted(union, i)]  # noqa: E731
        self.feature_fn = feature_fn
        self.n = len(idx)
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.real_features = pos(idx)
        self.memo_reference = pos(ref_idx)
        self.heldout_distance = float(nearest_distances(pos(held_idx), self.memo_reference).mean()) \
            if len(held_idx) else float("nan")
        self.real_mu, self.real_sigma = gaussian_stats(self.real_features)
        self.real_diversity = sample_diversity(self.real_features)
        # the real-real KID kernel never changes: cache it (8 MB for n=1000)
        self._kxx = polynomial_kernel(self.real_features, self.real_features) if self.n <= FULL_KERNEL_MAX else None

    def features(self, images: np.ndarray) -> np.ndarray:
        return _as_2d(self.feature_fn(images))

    def score_features(self, feats: np.ndarray) -> dict[str, float]:
        feats = _as_2d(feats)
        mu, sigma = gaussian_stats(feats)
        return {"fd": frechet_distance_from_stats(self.real_mu, self.real_sigma, mu, sigma),
                "kid": kernel_inception_distance(self.real_features, feats, self.kid_subsets, self.kid_subset_size,
                                                 kxx=self._kxx),
                "diversity": sample_diversity(feats), "n": len(feats), "memorization": self.memorization(feats)}

    def memorization(self, feats: np.ndarray) -> float:
        """Mean nearest-training-image distance of generated features over that of held-out real ones (NaN for
        datasets of fewer than 4 images or a degenerate held-out set)."""
        if not len(self.memo_reference) or not self.heldout_distance > 0:
            return float("nan")
        return float(nearest_distances(feats, self.memo_reference).mean() / self.heldout_distance)

    def score(self, images: np.ndarray) -> dict[str, float]:
        """dict(fd=..., kid=..., diversity=..., n=..., memorization=...) for uint8 generated images (N, H, W, C)."""
        return self.score_features(self.features(images))


def measure_cost(metric: QualityMetric, images: np.ndarray, repeats: int = 1) -> float:
    """Seconds for one score() of `images` with the real features already cached (best of `repeats`); divide by
    the seconds per training step to choose a metric interval costing < 5% of training."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        metric.score(images)
        best = min(best, time.perf_counter() - t0)
    return best
