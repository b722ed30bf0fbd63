"""Adaptive augmentation (StyleGAN2-ADA): the gated ops, the p update rule, and p in training and resume."""
import numpy as np
import pytest

from ganstudio.engine.augment import ada_step, diff_augment


def _images(b=64):
    from ganstudio.core.tfsetup import import_tf

    tf = import_tf()
    return tf, tf.constant(np.random.default_rng(0).uniform(-1, 1, (b, 8, 8, 1)).astype(np.float32))


def test_gate_p0_is_identity_p1_is_diffaugment_and_p_half_augments_about_half():
    tf, x = _images()
    seed = tf.constant([3, 4], tf.int64)
    policy = ("translation", "color", "cutout")
    assert np.array_equal(diff_augment(x, policy, seed, tf.constant(0.0)).numpy(), x.numpy())
    always = diff_augment(x, policy, seed).numpy()
    assert np.array_equal(diff_augment(x, policy, seed, tf.constant(1.0)).numpy(), always)
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


def _ada_cfg(tiny_config, **kw):
    # batch 16 / (0.16 * 1000) = p moves 0.1 per step, from 0.5: the gate is live from the first step
    return tiny_config.with_updates({"ada_target": 0.6, "ada_kimg": 0.16, "ada_p": 0.5, "tensorboard": False, **kw})


def test_resume_with_ada_is_exact_and_p_is_checkpointed_and_logged(tiny_config, tmp_path):
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer, run_to_end
    from ganstudio.runs import RunDir

    cfg = _ada_cfg(tiny_config, deterministic=True, steps=6, limit=64)
    straight = Trainer(cfg, run_dir=tmp_path / "straight")
    ev_straight = [e for e in run_to_end(straight) if isinstance(e, StepMetrics)]
    run_to_end(Trainer(cfg.with_updates({"steps": 3}), run_dir=tmp_path / "split"))
    resumed = Trainer(cfg, run_dir=tmp_path / "split", resume=True)
    ev_resumed = [e for e in run_to_end(resumed) if isinstance(e, StepMetrics)]

    ps = [e.ada_p for e in ev_straight]
    assert ps[0] == pytest.approx(0.5) and len(set(np.round(ps, 6))) > 1    # p moved during the run
    assert [(e.step, e.ada_p, e.g_loss, e.d_loss) for e in ev_resumed] == \
        [(e.step, e.ada_p, e.g_loss, e.d_loss) for e in ev_straight][3:]
    assert float(resumed.ada_p.numpy()) == float(straight.ada_p.numpy())
    w = lambda t: [v.numpy() for v in t.G.weights + t.D.weights]  # noqa: E731
    assert max(np.abs(a - b).max() for a, b in zip(w(straight), w(resumed), strict=True)) <= 1e-5
    rows = RunDir.open(tmp_path / "split").read_metrics()
    assert [r["ada_p"] for r in rows] == pytest.approx(ps)


def test_ada_off_keeps_p_at_zero_and_a_live_edit_sets_p(tiny_config, tmp_path):
    from ganstudio.engine import Control, StepMetrics
    from ganstudio.engine.trainer import Trainer

    control = Control()
    t = Trainer(tiny_config.with_updates({"steps": 6}), run_dir=tmp_path / "r", control=control)
    ps = []
    for ev in t.run():
        if isinstance(ev, StepMetrics):
            ps.append(ev.ada_p)
            if ev.step == 2:
                control.edit(ada_target=0.6, ada_p=0.7, ada_kimg=0.16)
    assert ps[:2] == [0.0, 0.0]            # off: no augmentation, p not reported
    assert ps[2] == pytest.approx(0.7, abs=1e-6)    # the edit took effect at the next step (retraced with ADA)
    assert [abs(b - a) for a, b in zip(ps[2:], ps[3:])] == pytest.approx([0.1] * 3, abs=1e-5)


def _train_p(tiny_config, tmp_path, limit, steps, **kw):
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer

    cfg = tiny_config.with_updates({"ada_target": 0.6, "ada_kimg": 0.5, "limit": limit, "steps": steps,
                                    "sample_every": 10**6, "tensorboard": False, **kw})
    return np.array([e.ada_p for e in Trainer(cfg, run_dir=tmp_path / f"r{limit}").run()
                     if isinstance(e, StepMetrics)])


def test_p_rises_on_a_tiny_dataset_trained_long(tiny_config, tmp_path):
    """16 images seen 150 times each by a discriminator with a 2x learning rate: it scores them as real (r_t above
    0.6) and p climbs from 0, at the set rate of 16 / 500 per step, to the top."""
    p = _train_p(tiny_config, tmp_path, 16, 150, d_lr=4e-4)
    print("p every 20 steps", p[::20].round(2))
    assert p[0] == 0 and p.max() >= 0.9 and p[-50:].mean() > 0.5


def test_p_stays_near_zero_on_a_large_dataset_while_d_does_not_lead(tiny_config, tmp_path):
    """6,000 images, each seen at most once, with G's learning rate 4x D's: D never scores the real images
    confidently (r_t stays under 0.6) and p stays at the bottom. (With equal rates a tiny D leads a tiny G early
    on any dataset size: r_t passes 0.6 for a while and p rises too; see docs/quality.md.)"""
    p = _train_p(tiny_config, tmp_path, 6000, 150, g_lr=4e-4, d_lr=1e-4)
    print("p every 20 steps", p[::20].round(2))
    assert p.max() <= 0.3 and p[-50:].mean() <= 0.1
