"""The adviser: early detection, messages that agree with their own numbers, remedies as data and commands,
the loss family, D overfitting from r_real and the dataset size, and 'when to stop' from the quality history."""
import math
import re

import numpy as np
import pytest

from ganstudio.config import Config
from ganstudio.metrics.advice import HealthWarning, Remedy, best_quality, best_text
from ganstudio.metrics.health import HealthMonitor
from tests.test_health import feed, healthy, steps


def with_r(rows, r_real):
    return [(*row, r_real) for row in rows]


NUM = r"(-?[\d.]+(?:e[-+]?\d+)?)"


def number_after(label: str, text: str) -> float:
    m = re.search(re.escape(label) + r" " + NUM, text)
    assert m, f"{label!r} not in {text!r}"
    return float(m.group(1))


def check_directions(w: HealthWarning) -> None:
    """Each message's claims against the numbers it prints (the bug: 'D(real) 0.961 ... calls real images fake')."""
    msg = w.message
    for label in ("D(real)", "D(fake)"):
        if label in msg:
            key = {"D(real)": "d_real", "D(fake)": "d_fake"}[label]
            assert number_after(label, msg) == pytest.approx(w.evidence[key], abs=5e-4)
    if "scores real images as fake" in msg:
        assert number_after("D(real)", msg) < 0.5
    if "scores generated images as real" in msg:
        assert number_after("D(fake)", msg) > 0.5
    if "separates real from generated" in msg:
        assert number_after("D(real)", msg) > 0.5 > number_after("D(fake)", msg)
    if "as real (r_real" in msg:
        pct = float(re.search(r"scores (\d+) %", msg).group(1))
        assert pct == pytest.approx(100 * (1 + w.evidence["r_real"]) / 2, abs=0.5) and pct > 50
    if "jumped to" in msg:
        v, med = number_after("jumped to", msg), number_after("running median", msg)
        ratio = float(re.search(r"([\d,]+)x its running median", msg).group(1).replace(",", ""))
        assert abs(v) > 100 * max(med, 1.0) and ratio == pytest.approx(abs(v) / med, rel=0.01)
    if "rose from its best" in msg:
        assert number_after("to", msg.split("rose from its best")[1]) > number_after("rose from its best", msg)
    if "has not improved on its best" in msg:
        assert number_after("latest", msg) >= number_after("its best", msg)


def all_kinds_warnings() -> list[HealthWarning]:
    out = []
    mon = HealthMonitor(window=100)
    out += feed(mon, healthy(50) + [(51, 1e4, 1.0, 0.5, 0.5)])                            # divergence
    for dr, df, d in ((0.2, 0.45, 2.5), (0.961, 0.95, 4.0), (0.999, 0.001, 0.002)):        # failure x2, dominance
        mon = HealthMonitor(window=100)
        out += feed(mon, healthy(100) + steps(200, np.linspace(3, 6, 200), d, dr, df, start=101, noise=0.0005))
    cfg = Config().with_updates({"batch_size": 32})
    mon = HealthMonitor(window=100, config=cfg, dataset_size=64)
    out += feed(mon, with_r(steps(400, 2.0, 0.5, 0.9, 0.2), 0.999))                         # overfitting
    for fds in ((50, 30, 20, 28, 35, 40), (50, 30, 20, 21, 20.5, 21), (50, 20, 30, 22, 31)):  # rising, flat, zigzag
        mon = HealthMonitor()
        out += [w for i, fd in enumerate(fds, 1) for w in mon.update_quality(500 * i, fd)]
    return out


def test_every_message_agrees_with_its_numbers():
    ws = all_kinds_warnings()
    assert [w.kind for w in ws] == ["divergence", "d_failure", "d_failure", "d_dominance", "d_overfitting",
                                    "plateau", "plateau", "oscillation"]
    for w in ws:
        check_directions(w)
        assert w.cause and 1 <= len(w.remedies) <= 3 and all(r.label for r in w.remedies)
        assert HealthWarning.from_row(w.to_row()) == w


def test_a_loss_100x_its_running_median_fires_at_once_and_silences_the_rest():
    mon = HealthMonitor(window=200)
    assert feed(mon, healthy(30)) == []
    w = mon.update(31, 250.0, 1.2, 0.7, 0.3)          # G's loss 250x its median of ~1: no 200-step wait
    assert [x.kind for x in w] == ["divergence"] and w[0].evidence["ratio"] > 100
    # the exploded run: D's outputs saturate (would look like D dominance or failure) but only divergence speaks
    assert feed(mon, steps(300, 2e8, 0.0, 1.0, 0.0, start=32, noise=0)) == []
    # back to normal for S steps re-arms it
    assert feed(mon, healthy(40, start=332)) == []
    assert [x.kind for x in mon.update(372, 1.0, 500.0, 0.5, 0.5)] == ["divergence"]


def test_divergence_at_step_two_offers_the_presets_learning_rates():
    from ganstudio.config.presets import adviser_expectations

    cfg = Config().with_updates({"lr": 1.0, "batch_size": 8})
    assert HealthMonitor.from_config(cfg)._preset_lrs() is None       # the adviser alone knows no preset
    mon = HealthMonitor.from_config(cfg, dataset_size=6000, expectations=adviser_expectations())   # as the trainer
    assert mon.update(1, 0.68, 1.33, 0.54, 0.51, 1.0) == []
    (w,) = mon.update(2, 0.0, 1.03e6, 1.0, 1.0, 1.0)       # the lr=1 run, as measured
    assert w.kind == "divergence" and w.step == 2
    assert [r.edits for r in w.remedies] == [{"g_lr": 1e-4, "d_lr": 1e-4}, {"g_lr": 0.1, "d_lr": 0.1}]
    assert w.remedies[0].command("runs/a b") == "ganstudio resume 'runs/a b' --set g_lr=0.0001 --set d_lr=0.0001"


def test_overwhelming_dominance_fires_within_the_short_window():
    mon = HealthMonitor(window=200)
    feed(mon, healthy(20))
    w = feed(mon, steps(100, 6.0, 0.005, 0.998, 0.002, start=21, noise=0.0005))
    assert [x.kind for x in w] == ["d_dominance"] and w[0].step <= 20 + 20 and w[0].evidence["steps"] == 20


def test_overfitting_needs_a_small_dataset_seen_many_times():
    cfg = Config().with_updates({"batch_size": 32})
    rows = with_r(steps(400, 2.0, 0.5, 0.9, 0.2), 0.999)
    w = feed(HealthMonitor(window=100, config=cfg, dataset_size=64), rows)
    # 64 images, 32 per step: each seen 100 times at step 200; the short window is already saturated
    assert [x.kind for x in w] == ["d_overfitting"] and w[0].step == 200 and w[0].evidence["epochs"] == 100
    assert [(r.edits, r.action) for r in w[0].remedies] == [({"diffaugment": "translation,cutout"}, "resume"),
                                                            ({"ada_target": 0.6}, ""),   # a live edit
                                                            ({"r1_gamma": 1.0}, "resume")]
    assert feed(HealthMonitor(window=100, config=cfg, dataset_size=60000), rows) == []     # a big dataset: no
    # a WGAN critic has no real/fake boundary: its r_real (reals above the fakes' mean) is no overfitting vote
    assert not any(x.kind == "d_overfitting" for x in
                   feed(HealthMonitor(window=100, loss="wgan_gp", config=cfg, dataset_size=64), rows))
    lsgan = feed(HealthMonitor(window=100, loss="lsgan", config=cfg, dataset_size=64), rows)
    assert "d_overfitting" in [x.kind for x in lsgan]    # r_real is taken against LSGAN's 0.5 boundary
    low = with_r(steps(400, 2.0, 0.5, 0.9, 0.2), 0.3)
    assert feed(HealthMonitor(window=100, config=cfg, dataset_size=64), low) == []         # D generalises: no


def test_least_squares_dominance_is_judged_by_its_loss_not_sigmoid_probabilities():
    mon = HealthMonitor(window=100, loss="lsgan")
    # LSGAN outputs 1 / 0 at D's targets: sigmoid gives 0.73 / 0.5, which the BCE thresholds would never flag
    w = feed(mon, steps(100, 0.25, 0.25, 0.62, 0.5) + steps(200, 0.49, 0.002, 0.73, 0.5, start=101, noise=0.0005))
    assert [x.kind for x in w] == ["d_dominance"]


def test_when_to_stop_from_the_quality_history():
    mon = HealthMonitor(patience=3)
    fired = [w for i, fd in enumerate((40, 25, 18, 19, 24, 26), 1) for w in mon.update_quality(500 * i, fd)]
    assert mon.best == (18.0, 1500)
    (w,) = fired
    assert w.kind == "plateau" and w.step == 3000 and "the best samples were at step 1,500" in w.message
    assert [r.action for r in w.remedies] == ["export_best", "rollback_best", "stop"]
    assert w.remedies[0].command("runs/x") == "ganstudio export runs/x --format keras --checkpoint best"
    assert w.remedies[1].command("runs/x") == ("ganstudio resume runs/x --checkpoint best --set g_lr=5e-05 "
                                               "--set d_lr=5e-05")
    assert mon.update_quality(3500, 27) == []                        # said once
    assert mon.update_quality(4000, 15) == []                        # a new best re-arms
    assert [w.kind for w in mon.update_quality(5500, 16) + mon.update_quality(6000, 17)
            + mon.update_quality(6500, 17)] == ["plateau"]
    assert best_text(mon.best) == "best FD 15 @ step 4,000"
    mon.update(6600, 1.0, 1.2, 0.7, 0.3)
    mon.update(3001, 1.0, 1.2, 0.7, 0.3)      # rolled back to step 3000: later evaluations no longer exist
    assert mon.best == (18.0, 1500)
    assert best_quality([{"step": 1, "fd": float("nan")}]) is None and best_text(None) == ""


def test_plateau_needs_thousands_of_steps_not_three_evaluations():
    """metric_every=10: three evaluations without a new best are 30 steps of early, noisy FD, not convergence."""
    mon = HealthMonitor(patience=3)
    early = [w for s in range(10, 2000, 10) for w in mon.update_quality(s, 40.0 if s == 10 else 41.0)]
    assert early == []                                    # the issue: "training has converged" at step 40
    (w,) = mon.update_quality(2000, 41.0)                 # 2,000 steps trained, 1,990 of them without a new best
    assert w.kind == "plateau" and w.step == 2000 and "converged" in w.cause and w.evidence["evaluations"] == 199
    assert mon.update_quality(2500, 30.0) == []           # a new best re-arms...
    assert [w for s in range(2510, 3500, 10) for w in mon.update_quality(s, 31.0)] == []   # ...and 990 steps are
    assert [w.kind for w in mon.update_quality(3500, 31.0)] == ["plateau"]              # not enough; 1,000 are
    zigzag = HealthMonitor(patience=3)                    # swings over 40 steps: noise, not an oscillation
    assert [w for i, fd in enumerate((50, 20, 30, 22, 31), 1) for w in zigzag.update_quality(10 * i, fd)] == []


def test_remedy_commands_and_validation():
    assert Remedy("Stop", {}, "stop").command("r").startswith("Ctrl-C")
    assert Remedy("x", {"diffaugment": "translation,cutout", "spectral_norm": True}, "resume").command("r") == \
        "ganstudio resume r --set diffaugment=translation,cutout --set spectral_norm=true"
    with pytest.raises(ValueError):
        Remedy("x", {}, "explode")
    w = HealthWarning("nan", 3, "losses are not finite", "lr", {"g_loss": math.nan}, (Remedy("a", {"g_lr": 1e-3}),))
    assert w.to_row()["evidence"] == {"g_loss": None}                 # valid JSON: no NaN
    assert math.isnan(HealthWarning.from_row(w.to_row()).evidence["g_loss"])
    assert w.cli_lines("runs/r")[-1] == "  fix: a: ganstudio resume runs/r --set g_lr=0.001"


def test_copying_from_the_memorization_ratio():
    cfg = Config().with_updates({"ada_target": 0.0, "diffaugment": ""})
    mon = HealthMonitor(config=cfg)
    assert mon.update_quality(500, 40.0, memorization=1.05) == []
    w = mon.update_quality(1000, 30.0, memorization=0.42)
    assert [x.kind for x in w] == ["memorization"] and w[0].evidence["memorization"] == 0.42
    assert "0.42" in w[0].message and "below 0.7" in w[0].message
    assert [(r.edits, r.action) for r in w[0].remedies] == [({"ada_target": 0.6}, ""), ({}, "rollback_best"),
                                                            ({"diffaugment": "translation,cutout"}, "resume")]
    assert mon.update_quality(1500, 28.0, memorization=0.5) == []          # fires once...
    assert mon.update_quality(2000, 27.0, memorization=0.9) == []          # ...re-arms when healthy again
    assert [x.kind for x in mon.update_quality(2500, 26.0, memorization=0.3)] == ["memorization"]


def test_a_tutorial_plateau_names_the_preset_that_reaches_further(monkeypatch):
    import ganstudio.config.presets as presets
    from ganstudio.config.presets import get_preset

    rows = {"tutorial": 130.0, "dcgan": 31.0}    # docs/quality.md's 5-minute FD on 60,000 images, as shipped data
    monkeypatch.setattr(presets, "quality_table", lambda: {"budgets": {"5 min": {
        p: {"full": {"images": 60000, "fd": fd, "fd_seeds": [fd], "steps": 1}} for p, fd in rows.items()}}})
    for preset, expected in (("tutorial", "dcgan"), ("dcgan", None)):
        mon = HealthMonitor(patience=3, config=get_preset(preset).config(),
                            expectations=presets.adviser_expectations())
        fired = [w for i, fd in enumerate((40, 25, 18, 19, 19.5, 19.2), 1) for w in mon.update_quality(500 * i, fd)]
        assert [w.kind for w in fired] == ["plateau"]
        assert ("preset reaches further" in fired[0].cause) == (expected is not None)
        if expected:
            assert f"the {expected} preset" in fired[0].cause and "FD 31 where tutorial reached 130" in fired[0].cause
