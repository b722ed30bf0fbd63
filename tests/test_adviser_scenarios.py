"""The adviser's fast scenarios as real tiny runs (benchmarks/adviser_scenarios.py runs them all), the CLI printing
remedies as commands that work, and resume --set reaching the optimizers."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ganstudio.cli import main

spec = importlib.util.spec_from_file_location(
    "adviser_scenarios", Path(__file__).resolve().parents[1] / "benchmarks" / "adviser_scenarios.py")
scenarios = sys.modules["adviser_scenarios"] = importlib.util.module_from_spec(spec)   # dataclasses look it up
spec.loader.exec_module(scenarios)
BY_NAME = {s.name: s for s in scenarios.SCENARIOS}


def test_nan_rollback_scenario(tmp_path):
    sc = BY_NAME["NaN rollback"]
    r = scenarios.run_scenario(sc, tmp_path)
    assert r["ok"] and r["fired"] == [("nan", 7)] and r["rolled"] == [(4, 7)], r
    rows = [json.loads(line) for line in (Path(r["run_dir"]) / "health.jsonl").read_text().splitlines()]
    assert [(row["kind"], row["step"]) for row in rows] == r["fired"]       # persisted for the report


def test_lr1_scenario_through_the_cli_prints_remedies_that_resume_with_them(tmp_path, capsys):
    """The issue's `train --steps 300 --batch-size 8 --set lr=1` (the scenario suite's 'lr=1'), 12 steps."""
    sc = BY_NAME["lr=1"]
    run = tmp_path / "lr1"
    common = ["--set", "jit_compile=off", "--set", "tensorboard=false", "--set", "precision=float32", "--no-progress"]
    assert main(["train", "--preset", sc.preset, "--steps", "12", "--batch-size", "8", "--set", "lr=1",
                 "--set", "metric_every=0", "--set", "sample_every=100", "--run-dir", str(run), *common]) == 0
    rows = [json.loads(line) for line in (run / "health.jsonl").read_text().splitlines()]
    assert [(row["kind"], row["step"]) for row in rows] == [("divergence", 2)] and 2 <= sc.by_step
    out = capsys.readouterr().out
    assert "warning at step 2: D's loss jumped to" in out and "likely cause: learning rates too high" in out
    fix = f"ganstudio resume {run} --set g_lr=0.0001 --set d_lr=0.0001"
    assert f"  fix: Use the tutorial preset's learning rates (g_lr 0.0001, d_lr 0.0001): {fix}" in out
    args = fix.split()[1:] + ["--steps", "7", *common]
    assert main(args) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["optim"]["g_lr"] == 1e-4 and cfg["optim"]["d_lr"] == 1e-4


def test_resume_set_reaches_the_optimizers(tiny_config, tmp_path):
    from ganstudio.engine.trainer import Trainer, run_to_end

    run_to_end(Trainer(tiny_config, run_dir=tmp_path / "r"))
    t = Trainer(tiny_config.with_updates({"steps": 4, "g_lr": 1e-5}), run_dir=tmp_path / "r", resume=True)
    run_to_end(t)   # the checkpoint holds the optimizers' old learning-rate variables; the config wins
    assert float(t.g_opt.learning_rate.numpy()) == pytest.approx(1e-5)
    assert float(t.d_opt.learning_rate.numpy()) == pytest.approx(tiny_config.optim.d_lr)
