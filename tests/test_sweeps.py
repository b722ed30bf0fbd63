"""Sweeps (ganstudio.sweeps) and the engine's training-time budget they rely on."""
from __future__ import annotations

import time
import types

from ganstudio.engine import trainer as trainer_mod
from ganstudio.engine.trainer import Trainer, run_to_end


def test_time_budget_counts_training_steps_only(tiny_config, tmp_path, monkeypatch):
    """A fake clock: each training call takes 1 s, each quality evaluation 100 s. The 6 s budget ends after the
    tracing call (start-up, not counted) plus 6 calls, however long the evaluations took."""
    clock = [0.0]
    fake_time = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    fake_time.perf_counter = lambda: clock[0]     # the clock the budget reads; the rest of `time` stays real
    monkeypatch.setattr(trainer_mod, "time", fake_time)
    real_call, real_metric = Trainer._train_call, Trainer.compute_metric

    def call(self, data):
        clock[0] += 1.0
        return real_call(self, data)

    def metric(self):
        clock[0] += 100.0
        return real_metric(self)

    monkeypatch.setattr(Trainer, "_train_call", call)
    monkeypatch.setattr(Trainer, "compute_metric", metric)
    cfg = tiny_config.with_updates({"steps": 0, "epochs": 0, "train_minutes": 0.1, "metric_every": 3,
                                    "metric_n": 100})
    events = run_to_end(Trainer(cfg, run_dir=tmp_path / "run"))
    fin = events[-1]
    assert (fin.reason, fin.step, fin.extra["train_seconds"]) == ("completed", 7, 6.0)
    # every 3 steps, and the end of the run (a candidate for the best mark)
    assert [e.step for e in events if type(e).__name__ == "Metric"] == [3, 6, 7]


# -- sweeps ---------------------------------------------------------------------------------------------------
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import optuna  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from ganstudio.cli import main as cli_main  # noqa: E402
from ganstudio.config.presets import get_preset  # noqa: E402
from ganstudio.core.errors import ConfigError  # noqa: E402
from ganstudio.engine.control import Control  # noqa: E402
from ganstudio.engine.events import StepMetrics  # noqa: E402
from ganstudio.runs import RunDir  # noqa: E402
from ganstudio.sweeps import SweepFinished, TrialFinished, TrialReport, TrialStarted, make_spec  # noqa: E402
from ganstudio.sweeps.runner import Sweep, make_pruner  # noqa: E402

TINY = {"limit": 128, "batch_size": 16, "sample_every": 4, "jit_compile": "off", "num_samples": 4,
        "checkpoint_every": 0, "precision": "float32", "metric_n": 100, "tensorboard": False}
GRID = ["g_lr=1e-4,2e-4", "d_steps=1,2"]


@pytest.fixture
def base():
    return get_preset("tiny").config().with_updates(TINY)


def test_spec_is_checked_against_the_config_before_anything_runs(base):
    spec = make_spec(base, GRID, [], steps=8, seeds=2)
    assert len(spec.combinations()) == 8 and spec.combinations()[0] == {"g_lr": 1e-4, "d_steps": 1, "seed": 42}
    search = make_spec(base, [], ["g_lr=1e-5..1e-3:log", "d_steps=1..3", "loss=bce_ns,lsgan"], minutes=1, trials=5)
    assert [(p.kind, p.log) for p in search.params] == [("float", True), ("int", False), ("choice", False)]
    assert spec.trial_config({"g_lr": 2e-4, "d_steps": 2, "seed": 43}).train.metric_every == 0
    for grid, search_, kw, msg in [
            (["g_rl=1e-4"], [], {"steps": 8}, "unknown config key 'g_rl'; did you mean g_lr"),
            (["g_lr=1e-4,-1"], [], {"steps": 8}, "g_lr: -1 is out of range"),
            (["d_steps=1,x"], [], {"steps": 8}, "d_steps: 'x' is not a valid int"),
            (["g_lr=1e-4,1e-4"], [], {"steps": 8}, "--grid g_lr: 1e-4 is listed twice"),
            ([], ["g_lr=1e-3..1e-5:log"], {"steps": 8}, "the range 1e-3..1e-5 is empty"),
            ([], ["loss=a..b"], {"steps": 8}, "a range needs a number field"),
            (GRID, ["g_lr=1e-5..1e-3"], {"steps": 8}, "either --grid"),
            (GRID, [], {}, "give each trial a budget"),
            (["steps=1,2"], [], {"steps": 8}, "the budget is the same for every trial")]:
        with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(".", r"\.")):
            make_spec(base, grid, search_, **kw)


def test_pruner_stops_a_trial_clearly_behind_at_the_same_point():
    study = optuna.create_study(direction="minimize", pruner=make_pruner())
    for values in ([10, 9, 8, 7], [12, 11, 10, 9]):
        t = study.ask()
        for k, v in enumerate(values, 1):
            t.report(v, k)
        study.tell(t, values[-1])
    behind, close = study.ask(), study.ask()
    behind.report(30, 1)
    assert not behind.should_prune()          # never at the first quarter: early FD is mostly noise
    behind.report(30, 2)
    assert behind.should_prune()              # worse than 3/4 of the completed trials at point 2
    close.report(10, 1)
    close.report(10, 2)                       # between the two completed trials at point 2: kept
    assert not close.should_prune()


def _drain(sweep: Sweep, stop_at=None) -> list:
    events = []
    for ev in sweep.run():
        events.append(ev)
        if stop_at and stop_at(events):
            sweep.control.stop()
    return events


def test_grid_sweep_interrupted_then_resumed_runs_every_combination_once(base, tmp_path, capsys):
    spec = make_spec(base, GRID, [], steps=6)
    folder = tmp_path / "sweep"
    started = lambda evs: [e for e in evs if isinstance(e, TrialStarted)]  # noqa: E731

    def second_trial_at_step_3(evs):
        return len(started(evs)) == 2 and isinstance(evs[-1], StepMetrics) and evs[-1].step == 3

    first = _drain(Sweep(spec, folder, pruner=optuna.pruners.NopPruner()), second_trial_at_step_3)
    assert first[-1].reason == "stopped"
    assert [e.state for e in first if isinstance(e, TrialFinished)] == ["complete", "interrupted"]
    interrupted = started(first)[1]

    second = _drain(Sweep(spec, folder, control=Control(), pruner=optuna.pruners.NopPruner()))
    assert second[-1].reason == "completed"
    again = started(second)
    assert (again[0].resumed, again[0].run_dir, again[0].params) == (True, interrupted.run_dir, interrupted.params)
    steps_after_resume = [e.step for e in second[second.index(again[0]):] if isinstance(e, StepMetrics)][:3]
    assert steps_after_resume == [4, 5, 6]           # continued from the checkpoint written at the stop
    assert len(again) == 3                           # the resumed one and the two never started

    study = optuna.load_study(study_name="sweep", storage=f"sqlite:///{folder / 'study.db'}")
    assert len(study.trials) == 5                    # 4 grid points + the requeued copy of the interrupted one
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted((t.params["g_lr"], t.params["d_steps"]) for t in done) == \
        [(1e-4, 1), (1e-4, 2), (2e-4, 1), (2e-4, 2)]
    runs = sorted(p for p in folder.iterdir() if p.is_dir())
    assert len(runs) == 4
    for run in runs:                                 # each trained once: steps 1..6, no repeats
        assert [r["step"] for r in RunDir(run).read_metrics()] == list(range(1, 7))
        # quality at the first step past 1.5, 3 and 4.5 steps and at the end; the stop at step 3 came before
        # that point's measurement, so the resumed trial measured it first thing, still at step 3
        assert [r["step"] for r in RunDir(run).read_quality()] == [2, 3, 5, 6]
    reports = [e for e in first + second if isinstance(e, TrialReport)]
    assert {e.point for e in reports} == {1, 2, 3, 4}

    with open(folder / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["steps"]) for r in rows] == [6, 6, 6, 6]
    fds = [float(r["final_fd"]) for r in rows]
    assert fds == sorted(fds) and {r["outcome"] for r in rows} == {"complete"}
    by_run = {r["run"]: r for r in rows}
    for run in runs:
        q = RunDir(run).read_quality()
        best = min(q, key=lambda r: r["fd"])
        assert float(by_run[run.name]["best_fd"]) == pytest.approx(best["fd"])
        assert int(by_run[run.name]["best_fd_step"]) == best["step"]
        # the best mark follows every measurement, the end-of-budget one included (issue 30)
        from ganstudio.engine.checkpoints import best_record
        assert best_record(run / "checkpoints")["step"] == best["step"]
    with Image.open(folder / "montage.png") as im:
        assert im.size[0] == 4 * (224 + 16)

    capsys.readouterr()
    assert cli_main(["sweep", "--report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("| complete |") == 4 and "montage.png" in out


def test_a_pruned_trial_stops_early_and_is_ranked_as_pruned(base, tmp_path):
    spec = make_spec(base, ["g_lr=2e-4"], [], steps=8)
    events = _drain(Sweep(spec, tmp_path / "sweep", pruner=optuna.pruners.ThresholdPruner(upper=1.0)))
    report = next(e for e in events if isinstance(e, TrialReport))
    fin = next(e for e in events if isinstance(e, TrialFinished))
    assert (report.point, report.pruned, fin.state, fin.steps) == (1, True, "pruned", 2)
    assert isinstance(events[-1], SweepFinished) and "| pruned |" in events[-1].summary
    assert (Path(fin.run_dir) / "samples" / "final.png").exists()    # its montage tile shows where it stopped


def test_two_processes_share_one_study_and_run_no_trial_twice(tmp_path):
    folder = tmp_path / "shared"
    cmd = [sys.executable, "-m", "ganstudio", "sweep", "--preset", "tiny", "--steps", "2", "--no-prune",
           "--sweep-dir", str(folder), *(a for g in GRID for a in ("--grid", g)),
           *(a for k, v in TINY.items() for a in ("--set", f"{k}={v}"))]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=280) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    ran = [line.split(": ")[0] for _, err in outs for line in err.splitlines() if line.startswith("trial ")]
    labels = [r.split(") ", 1)[1] for r in ran]
    assert sorted(labels) == sorted(f"g_lr={a} d_steps={b}" for a in ("0.0001", "0.0002") for b in (1, 2))
    runs = [p for p in folder.iterdir() if p.is_dir()]
    assert len(runs) == 4
    for run in runs:
        assert [r["step"] for r in RunDir(run).read_metrics()] == [1, 2]
    info = json.loads((folder / "sweep.json").read_text())
    study = optuna.load_study(study_name=info["study"], storage=f"sqlite:///{folder / 'study.db'}")
    assert sorted(t.state.name for t in study.trials if not t.user_attrs.get("duplicate")) == ["COMPLETE"] * 4


def test_search_samples_each_trial_within_its_ranges(base, tmp_path):
    spec = make_spec(base, [], ["g_lr=1e-5..1e-3:log", "d_steps=1..2"], steps=2, trials=2)
    events = _drain(Sweep(spec, tmp_path / "search"))
    done = [e for e in events if isinstance(e, TrialFinished)]
    assert [e.state for e in done] == ["complete", "complete"]
    assert all(1e-5 <= e.params["g_lr"] <= 1e-3 and e.params["d_steps"] in (1, 2) for e in done)
    assert done[0].params != done[1].params


def test_a_killed_process_trial_is_requeued_to_resume_its_run_folder(base, tmp_path):
    """No training: a trial whose heartbeat stopped (its process was killed) is failed and queued again with its
    values, run folder and reported FD, so the next process resumes it."""
    from ganstudio.sweeps import runner

    sweep = Sweep(make_spec(base, GRID, [], steps=8), tmp_path / "sweep")
    study = sweep.open()
    trial = study.ask()
    params = sweep._suggest(trial)
    trial.set_user_attr("run", "000-lost")
    trial.report(500.0, 1)
    trial.set_user_attr("beat", time.time() - runner.GRACE_S - 1)
    live = study.ask()                       # another process's trial, beating
    sweep._suggest(live)
    live.set_user_attr("beat", time.time())
    sweep._requeue_stale(study)
    states = {t.number: t.state.name for t in study.trials}
    assert states == {0: "FAIL", 1: "RUNNING", 2: "WAITING"}
    copy = study.trials[2]
    assert (copy.params, copy.user_attrs["run"], copy.intermediate_values) == (params, "000-lost", {1: 500.0})
    assert sweep._work_left(study)


def test_bad_storage_and_a_different_sweep_in_the_same_folder_are_one_line_errors(base, tmp_path, capsys):
    assert cli_main(["sweep", "--preset", "tiny", "--grid", "g_lr=1e-4,2e-4", "--steps", "2", "--sweep-dir",
                     str(tmp_path / "a"), "--storage", "sqlite:////no/such/dir/x.db"]) == 2
    assert "--storage sqlite:////no/such/dir/x.db: cannot open the study" in capsys.readouterr().err
    assert not (tmp_path / "a" / "sweep.json").exists()
    Sweep(make_spec(base, GRID, [], steps=2), tmp_path / "b").open()
    with pytest.raises(ConfigError, match="holds a different sweep"):
        Sweep(make_spec(base, GRID, [], steps=3), tmp_path / "b").open()
