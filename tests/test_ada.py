"""Adaptive augmentation (StyleGAN2-ADA): the gated ops, the p update rule, and p in training and resume."""
import numpy as np
import pytest

from ganstudio.engine.augment import ada_step, diff_augment


def _images(b=64):
    from ganstudio.engine.tfsetup import import_tf

    tf = import_tf()
    return tf, tf.constant(np.random.default_rng(0).uniform(-1, 1, (b, 8, 8, 1)).astype(np.float32))


def test_gate_p0_is_identity_p1_is_diffaugment_and_p_half_augments_about_half():
    tf, x = _images()
    seed = tf.constant([3, 4], tf.int64)
    policy = ("translation", "color", "cutout")
    assert np.array_equal(diff_augment(x, policy, seed, tf.constant(0.0)).numpy(), x.numpy())
    assert np.array_equal(diff_augment(x, policy, seed, tf.constant(1.0)).numpy(), diff_augment(x, policy, seed).numpy())
    half = diff_augment(x, ("color",), seed, tf.constant(0.5)).numpy()
    changed = np.abs(half - x.numpy()).reshape(64, -1).max(axis=1) > 1e-6
    assert 20 <= changed.sum() <= 44, changed.sum()           # per image, not all-or-nothing for the batch
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(diff_augment(x, policy, seed, tf.constant(0.5)))
    g = t.gradient(y, x).numpy()
    assert np.isfinite(g).all() and np.abs(g).sum() > 0       # differentiable through the gate


def test_ada_step_moves_p_toward_the_target_at_the_stated_rate():
    # batch 100, kimg 1: 0.1 per step; r_t above the target raises p, below lowers it, clipped to [0, 1]
    assert ada_step(0.0, 0.9, 0.6, 100, 1.0) == pytest.approx(0.1)
    assert ada_step(0.5, 0.2, 0.6, 100, 1.0) == pytest.approx(0.4)
    assert ada_step(0.0, 0.2, 0.6, 100, 1.0) == 0.0 and ada_step(0.95, 1.0, 0.6, 100, 1.0) == 1.0
    assert ada_step(0.3, 0.9, 0.0, 100, 1.0) == 0.3                     # target 0: off
    assert ada_step(0.3, float("nan"), 0.6, 100, 1.0) == 0.3
    p = 0.0
    for _ in range(500):                   # 500 steps x 1,000 images at kimg=500: the paper's 0 -> 1
        p = ada_step(p, 1.0, 0.6, 1000, 500.0)
    assert p == pytest.approx(1.0)
