import subprocess
import sys

import numpy as np
import pytest

from ganstudio.core.resources import resource_path
from ganstudio.data import Dataset, load_dataset
from ganstudio.metrics import (QualityMetric, frechet_distance, frechet_distance_from_stats,
                               kernel_inception_distance, measure_cost)
from ganstudio.metrics.fid import _mmd2_unbiased, memorization_split, nearest_distances, polynomial_kernel

# ---- pure numpy: hand-checkable values -------------------------------------------------------------------------


def test_fd_of_1d_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 200_000), rng.normal(1, 2, 200_000)
    # (0-1)^2 + 1 + 4 - 2 * sqrt(1 * 4) = 2
    assert frechet_distance(a, b) == pytest.approx(2.0, abs=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_fd_from_stats_commuting_and_non_commuting_covariances():
    # diagonal: |mu|^2 + sum (sqrt(a) - sqrt(b))^2 = 2 + 1 + 1
    assert frechet_distance_from_stats(np.zeros(2), np.diag([1.0, 4.0]), np.ones(2), np.diag([4.0, 9.0])) \
        == pytest.approx(4.0)
    # S1 = [[2,1],[1,2]] (eigenvalues 3, 1) vs I: tr S1 + tr I - 2 tr S1^(1/2) = 4 + 2 - 2 (sqrt 3 + 1)
    s1 = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert frechet_distance_from_stats(np.zeros(2), s1, np.zeros(2), np.eye(2)) \
        == pytest.approx(6 - 2 * (np.sqrt(3) + 1))


def test_fd_is_finite_for_singular_covariances():
    rng = np.random.default_rng(1)
    few = rng.normal(size=(10, 64))            # 10 samples in 64-d: rank-9 covariance
    same = np.repeat(rng.normal(size=(1, 64)), 20, axis=0)  # zero covariance (a fully collapsed generator)
    for x, y in ((few, few), (few, same), (same, same)):
        fd = frechet_distance(x, y)
        assert np.isfinite(fd) and fd >= 0
    assert frechet_distance(same, same) == pytest.approx(0.0, abs=1e-9)


def test_kid_unbiased_mmd_matches_a_brute_force_loop():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)), rng.normal(0.5, 1, size=(5, 3))
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(a, b) for a in x for b in y) / 30
    assert _mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy)
    assert polynomial_kernel(x, y).shape == (6, 5)


def test_kid_near_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    same = kernel_inception_distance(a, b, subsets=5, subset_size=500)
    near = kernel_inception_distance(a, b + 0.3, subsets=5, subset_size=500)
    far = kernel_inception_distance(a, b + 1.0, subsets=5, subset_size=500)
    assert abs(same) < 0.01 < near < far
    assert kernel_inception_distance(a, b, subsets=5, subset_size=500) == same   # fixed seed: reproducible


def test_kid_full_kernel_path_equals_per_subset_path(monkeypatch):
    from ganstudio.metrics import fid

    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 8)), rng.normal(0.2, 1, size=(250, 8))
    fast = fid.kid_estimates(a, b, subsets=4, subset_size=100)
    cached = fid.kid_estimates(a, b, subsets=4, subset_size=100, kxx=fid.polynomial_kernel(a, a))
    monkeypatch.setattr(fid, "FULL_KERNEL_MAX", 10)
    np.testing.assert_allclose(fast, fid.kid_estimates(a, b, subsets=4, subset_size=100), rtol=1e-10)
    np.testing.assert_allclose(fast, cached, rtol=1e-12)


def test_memorization_split_is_disjoint_deterministic_and_sized():
    for n, held, ref in ((600, 60, 540), (2000, 200, 1800), (6000, 600, 5000), (60000, 1000, 5000), (64, 32, 32)):
        r, h = memorization_split(n)
        assert (len(h), len(r)) == (held, ref) and not np.intersect1d(r, h).size and r.max() < n
        r2, h2 = memorization_split(n)
        assert np.array_equal(r, r2) and np.array_equal(h, h2)
    assert not np.array_equal(memorization_split(600, seed=1)[1], memorization_split(600)[1])
    assert [len(a) for a in memorization_split(3)] == [0, 0]


def test_nearest_distances_match_brute_force():
    rng = np.random.default_rng(0)
    q, r = rng.normal(size=(37, 5)), rng.normal(size=(23, 5))
    brute = np.array([min(np.linalg.norm(a - b) for b in r) for a in q])
    np.testing.assert_allclose(nearest_distances(q, r, chunk=10), brute, rtol=1e-5, atol=1e-5)


def test_memorization_ratio_is_1_for_new_samples_and_low_for_copies():
    """Features = the flattened image: new draws of the data's distribution score ~1, copies of the training set
    score 1 - |reference| / n (only held-out copies are not at distance 0), half copies in between."""
    rng = np.random.default_rng(0)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64)  # noqa: E731
    draw = lambda k: rng.integers(0, 128, size=(k, 4, 4, 1)).astype(np.uint8)  # noqa: E731
    train = draw(600)
    qm = QualityMetric(flat, train, n=300)
    new = qm.score(draw(600))["memorization"]
    copies = qm.score(train)["memorization"]
    half = qm.score(np.concatenate([train[:300], draw(300)]))["memorization"]
    print("memorization new / copies / half", new, copies, half)
    assert 0.95 < new < 1.05
    assert abs(copies - 60 / 600) < 0.02
    assert copies < half < new
    assert qm.score(np.full((200, 4, 4, 1), 255, np.uint8))["memorization"] > 2   # far from the data: above 1


# ---- with the bundled classifier --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    from ganstudio.metrics.classifier import get_classifier

    ds = load_dataset("bundled")
    with np.load(resource_path("fashion_mnist_subset.npz")) as z:
        x_test = z["x_test"][..., None]
    fn, acc, source = get_classifier(ds)
    return ds, x_test, fn, acc, source


def collapsed(images, n, seed=0):
    """One image repeated n times with +-3 grey levels of noise: what a mode-collapsed generator produces."""
    rng = np.random.default_rng(seed)
    noisy = images[0].astype(int) + rng.integers(-3, 4, size=(n, *images.shape[1:]))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_bundled_classifier_ships_and_is_accurate(bundled):
    ds, x_test, fn, acc, source = bundled
    assert source == "bundled" and acc > 0.85
    assert resource_path("classifier_bundled.keras").stat().st_size < 5 * 1024 * 1024
    f = fn(ds.images[:7])
    assert f.shape == (7, 128) and f.dtype == np.float32 and np.isfinite(f).all()
    with pytest.raises(ValueError, match="expects images of shape"):
        fn(np.zeros((2, 32, 32, 3), np.uint8))


def test_fd_and_kid_rank_real_collapsed_and_noise(bundled):
    ds, x_test, fn, _, _ = bundled
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(ds))[:2000]
    half_a, half_b = fn(ds.images[idx[:1000]]), fn(ds.images[idx[1000:]])
    noise = fn(rng.integers(0, 256, size=(1000, 28, 28, 1), dtype=np.uint8))
    coll, test = fn(collapsed(ds.images, 1000)), fn(x_test)
    fd = {k: frechet_distance(half_a, v) for k, v in
          {"real": half_b, "test": test, "collapsed": coll, "noise": noise}.items()}
    kid = {k: kernel_inception_distance(half_a, v, subsets=5, subset_size=500) for k, v in
           {"real": half_b, "test": test, "collapsed": coll, "noise": noise}.items()}
    print("FD", fd, "KID", kid)
    assert fd["real"] < 0.05 * fd["noise"] and fd["test"] < 0.1 * fd["noise"]
    assert fd["collapsed"] > 5 * fd["test"]
    assert abs(kid["real"]) < 0.05 * kid["noise"] and kid["collapsed"] > 5 * kid["test"]


def test_quality_metric_caches_real_features_and_scores(bundled):
    ds, x_test, fn, _, _ = bundled
    calls = []

    def counting(images):
        calls.append(len(images))
        return fn(images)

    qm = QualityMetric(counting, ds.images, n=500)
    # one pass over the union of the FD subset, the memorization reference (5,000) and held-out (600) images
    assert calls == [5640] and qm.real_features.shape == (500, 128) and qm.memo_reference.shape == (5000, 128)
    good, bad = qm.score(x_test[:500]), qm.score(collapsed(ds.images, 500))
    assert calls == [5640, 500, 500]                              # real features computed once
    assert set(good) == {"fd", "kid", "diversity", "n", "memorization"} and good["n"] == 500
    # the test set was never trained on: as far from the training images as held-out ones are
    assert 0.85 < good["memorization"] < 1.15, good["memorization"]
    copies = qm.score(ds.images[:1000])["memorization"]
    assert copies < 0.3, copies
    assert bad["fd"] > 5 * good["fd"] and bad["kid"] > 5 * good["kid"]
    assert bad["diversity"] < 0.2 * good["diversity"] < good["diversity"] < 1.5 * qm.real_diversity


def test_metric_cost_for_1000_images(bundled):
    """The integrator's number: seconds to score 1000 generated images with the real features cached."""
    ds, x_test, fn, _, _ = bundled
    qm = QualityMetric(fn, ds.images, n=1000)
    gen = np.concatenate([x_test, x_test])[:1000]
    secs = measure_cost(qm, gen, repeats=2)
    print(f"metric cost, n=1000: {secs:.3f} s")
    assert 0 < secs < 10


# ---- training, cache and the unlabeled fallback ------------------------------------------------------------------


def test_train_then_cache_then_random_fallback(tmp_path, monkeypatch):
    from ganstudio.metrics import classifier as C

    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(C, "_memo", {})
    base = load_dataset("bundled")
    small = Dataset("custom", base.images[:400], base.labels[:400])
    progress = []
    fn, acc, source = C.get_classifier(small, progress=lambda i, n: progress.append((i, n)), epochs=2)
    assert source == "trained" and 0.3 < acc <= 1 and progress == [(1, 2), (2, 2)]
    key = C.dataset_key(small)
    assert (tmp_path / "cache" / "classifiers" / f"{key}.keras").exists()
    monkeypatch.setattr(C, "_memo", {})
    fn2, acc2, source2 = C.get_classifier(small, epochs=2)
    assert source2 == "cache" and acc2 == acc
    np.testing.assert_allclose(fn2(small.images[:5]), fn(small.images[:5]), rtol=1e-5, atol=1e-5)
    # any change to the images changes the key
    assert C.dataset_key(Dataset("custom", base.images[:401], base.labels[:401])) != key

    unlabeled = Dataset("folder", base.images[:200])
    fr, acc_r, source_r = C.get_classifier(unlabeled)
    assert source_r == "random" and acc_r is None
    again = C.random_feature_fn((28, 28, 1))                      # the same fixed net in every build
    np.testing.assert_allclose(fr(unlabeled.images[:4]), again(unlabeled.images[:4]), rtol=1e-5, atol=1e-5)


def test_importing_metrics_does_not_load_tensorflow():
    code = "import sys, ganstudio.metrics; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False False", r.stderr[-2000:]
