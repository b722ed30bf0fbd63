import math

import numpy as np
import pytest

from ganstudio.metrics.health import HealthMonitor, HealthWarning, sample_diversity, weights_finite

LN2 = math.log(2)


def steps(n, g, d, dr, df, start=1, seed=0, noise=0.01):
    """n synthetic StepMetrics-like tuples; each of g, d, dr, df is a constant or an (n,) array, plus noise."""
    rng = np.random.default_rng(seed)
    cols = [np.broadcast_to(np.asarray(v, float), (n,)) + rng.normal(0, noise, n) for v in (g, d, dr, df)]
    cols[2:] = [np.clip(c, 1e-4, 1 - 1e-4) for c in cols[2:]]
    return [(start + i, *(float(c[i]) for c in cols)) for i in range(n)]


def feed(mon, rows):
    return [w for row in rows for w in mon.update(*row)]


def healthy(n, start=1, seed=0):
    return steps(n, 1.0, 1.2, 0.7, 0.3, start, seed, noise=0.05)


def test_healthy_and_equilibrium_sequences_stay_silent():
    mon = HealthMonitor(window=200)
    assert feed(mon, healthy(1000)) == []
    # d_real = d_fake = 0.5, D loss 2 ln 2, G loss ln 2: the ideal equilibrium is not 'D collapse'
    assert feed(mon, steps(600, LN2, 2 * LN2, 0.5, 0.5, start=1001)) == []
    assert mon.history == []


def test_nan_fires_immediately_once_per_episode_and_rearms():
    mon = HealthMonitor(window=10)
    feed(mon, healthy(20))
    w = mon.update(21, float("nan"), 1.0, 0.5, 0.5)
    assert [x.kind for x in w] == ["nan"] and w[0].step == 21 and "learning rate" in w[0].cause
    assert w[0].remedies[0].edits == {"g_lr": 5e-5, "d_lr": 5e-5}     # half of the default 1e-4
    assert mon.update(22, 1.0, float("inf"), 0.5, 0.5) == []       # same episode: silent
    assert mon.update(23, 1.0, 1.0, 0.7, 0.3) == []                 # finite again: re-armed
    assert [x.kind for x in mon.update(24, 1.0, 1.0, float("nan"), 0.3)] == ["nan"]
    assert isinstance(mon.history[0], HealthWarning) and "step 21" in mon.history[0].text()


def test_d_dominance_fires_once_then_rearms_after_recovery():
    mon = HealthMonitor(window=200)
    rows = healthy(300) + steps(400, np.linspace(4, 8, 400), 0.03, 0.99, 0.01, start=301, noise=0.003)
    w = feed(mon, rows)
    assert [x.kind for x in w] == ["d_dominance"]
    # the window mean of d_fake crosses 0.05 after ~ (0.3-0.05)/(0.3-0.01) * 200 = 172 dominated steps
    assert 450 < w[0].step < 500, w[0].step
    assert [r.label for r in w[0].remedies] == ["Halve d_lr", "One-sided label smoothing 0.1", "R1 penalty 1.0 on D"]
    assert w[0].remedies[1].action == "resume" and w[0].remedies[0].edits == {"d_lr": 5e-5}
    assert feed(mon, healthy(300, start=701)) == []                  # recovery re-arms, fires nothing
    again = feed(mon, steps(300, np.linspace(4, 8, 300), 0.03, 0.99, 0.01, start=1001, noise=0.003))
    assert [x.kind for x in again] == ["d_dominance"]


def test_d_dominance_needs_g_loss_not_recovering():
    mon = HealthMonitor(window=200)
    falling_g = steps(400, np.linspace(8, 3, 400), 0.03, 0.99, 0.01, noise=0.003)
    assert feed(mon, falling_g) == []


def test_d_failure_names_the_side_its_numbers_show():
    mon = HealthMonitor(window=100)
    w = feed(mon, healthy(100) + steps(200, 0.3, 2.5, 0.2, 0.45, start=101))
    assert [x.kind for x in w] == ["d_failure"] and 140 < w[0].step < 200, w
    assert "scores real images as fake" in w[0].message and w[0].evidence["d_real"] < 0.3
    # the case: D(real) 0.961 with a high D loss is D fooled by generated images, not 'calls real fake'
    mon = HealthMonitor(window=100)
    w = feed(mon, healthy(100) + steps(200, 0.05, 4.0, 0.961, 0.95, start=101))
    assert [x.kind for x in w] == ["d_failure"] and "scores generated images as real" in w[0].message
    assert "real images as fake" not in w[0].message


def test_critics_are_judged_by_divergence_only():
    mon = HealthMonitor(window=50, loss="wgan_gp")
    # critic losses of -20 or +10 are normal for WGAN; probabilities in a healthy range
    assert feed(mon, steps(200, 5.0, -20.0, 0.7, 0.3) + steps(200, 5.0, 10.0, 0.6, 0.4, start=201)) == []
    # a critic's outputs have no saturation point: sigmoid(D) says nothing about dominance or failure
    assert feed(mon, steps(200, 5.0, 10.0, 0.1, 0.6, start=401)) == []   # no D-failure rule for critics
    assert not any(m.kind == "d_dominance" for m in feed(mon, steps(300, 5.0, 10.0, 0.999, 0.001, start=601)))


def test_mode_collapse_relative_to_best_and_real():
    mon = HealthMonitor(real_diversity=10.0)
    fired = [w for s, d in enumerate([1, 4, 8, 10, 9, 3.5], 1) for w in mon.update_diversity(s * 100, d)]
    assert [w.kind for w in fired] == ["mode_collapse"] and fired[0].step == 600
    assert mon.update_diversity(700, 2.0) == []                      # same episode
    assert mon.update_diversity(800, 7.0) == []                      # >= 60% of best 10: re-armed
    assert [w.kind for w in mon.update_diversity(900, 1.0)] == ["mode_collapse"]
    # 3.5 < 40% of best but the real data itself is not diverse (3.5 >= 50% of 5): no warning
    mon = HealthMonitor(real_diversity=5.0)
    assert [w for d in (10, 3.5) for w in mon.update_diversity(1, d)] == []


def test_rollback_clears_the_windows():
    mon = HealthMonitor(window=100)
    feed(mon, healthy(100) + steps(60, 0.3, 2.5, 0.2, 0.6, start=101))
    # back to step 50 (a checkpoint): the 60 bad steps must not combine with 40 new bad ones into a warning
    assert feed(mon, steps(60, 0.3, 2.5, 0.2, 0.6, start=50)) == []


def test_sample_diversity_and_weights_finite_by_hand():
    assert sample_diversity(np.array([0.0, 3.0])) == pytest.approx(3.0)
    tri = np.array([[0, 0], [1, 0], [0.5, math.sqrt(3) / 2]])
    assert sample_diversity(tri) == pytest.approx(1.0)
    assert sample_diversity(np.ones((5, 8))) == pytest.approx(0.0, abs=1e-6)
    assert weights_finite([np.zeros((2, 2)), np.ones(3)])
    assert not weights_finite([np.zeros(2), np.array([1.0, np.nan])])
    assert not weights_finite([np.array([np.inf])])


@pytest.mark.slow
def test_silent_on_a_real_short_healthy_run(tmp_path):
    from ganstudio.config.presets import get_preset
    from ganstudio.data import load_dataset
    from ganstudio.engine import SampleGrid, StepMetrics
    from ganstudio.engine.trainer import Trainer, run_to_end
    from ganstudio.metrics.classifier import get_classifier

    cfg = get_preset("tiny").config().with_updates(
        {"limit": 128, "batch_size": 16, "steps": 30, "jit_compile": "off", "num_samples": 8, "sample_every": 10,
         "checkpoint_every": 0})
    events = run_to_end(Trainer(cfg, run_dir=tmp_path / "run"))
    metrics = [e for e in events if isinstance(e, StepMetrics)]
    assert len(metrics) == 30
    feature_fn, _, _ = get_classifier(load_dataset("bundled"))
    real = load_dataset("bundled").images[:8]
    mon = HealthMonitor(window=10, real_diversity=sample_diversity(feature_fn(real)))
    warnings = [w for m in metrics for w in mon.update(m.step, m.g_loss, m.d_loss, m.d_real, m.d_fake, m.r_real)]
    warnings += [w for g in events if isinstance(g, SampleGrid)
                 for w in mon.update_diversity(g.step, sample_diversity(feature_fn(g.images)))]
    assert warnings == [], [w.text() for w in warnings]
    assert mon.best_diversity > 0
