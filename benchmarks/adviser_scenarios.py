"""The adviser's scenario suite: real tiny runs, each of which must produce its diagnosis, and no other warning, by
a stated step (the healthy run: no warning at all).

    .venv/bin/python benchmarks/adviser_scenarios.py [NAME ...]

Prints the table (scenario, expected diagnosis, step it fired, other warnings, seconds). The README shows it;
tests/test_adviser_scenarios.py runs the fast ones (the NaN rollback through run_scenario, lr=1 through the CLI).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUIET = {"jit_compile": "off", "tensorboard": False, "checkpoint_minutes": 0, "sample_every": 100,
         "precision": "float32"}


@dataclass(frozen=True)
class Scenario:
    name: str
    expected: str                  # the diagnosis ('' = no warning at all)
    by_step: int                   # it must fire at or before this step
    preset: str
    updates: dict[str, Any]
    why: str
    nan_at: int = 0                # make the step computing this step number return NaN losses
    whole_dataset: bool = False    # close_loop judges FD against all bundled images, not the run's `limit`


SCENARIOS = [
    Scenario("lr=1", "divergence", 10, "tutorial", {"batch_size": 8, "lr": 1.0, "steps": 300, "metric_every": 0},
             "the issue's `train --steps 300 --batch-size 8 --set lr=1`"),
    Scenario("NaN rollback", "nan", 7, "tiny", {"limit": 128, "batch_size": 16, "steps": 12, "checkpoint_every": 4,
                                               "metric_every": 0}, "a NaN at step 7 rolls back to step 4",
             nan_at=7),
    Scenario("d_lr 20x g_lr", "d_dominance", 200, "tiny", {"g_lr": 1e-4, "d_lr": 2e-3, "steps": 600,
                                                          "metric_every": 0},
             "tiny DCGAN on the bundled data, D's learning rate 20x G's"),
    Scenario("64 images, dropout 0", "d_overfitting", 400, "dcgan", {"limit": 64, "batch_size": 32, "dropout": 0.0,
                                                                    "steps": 1200, "metric_every": 0},
             "dcgan on the first 64 bundled images, long", whole_dataset=True),
    Scenario("healthy dcgan", "", 1000, "dcgan", {"steps": 1000, "metric_every": 500, "metric_n": 500},
             "dcgan preset on the bundled data, quality metric every 500 steps"),
]


def run_scenario(sc: Scenario, root: Path) -> dict[str, Any]:
    """Train the scenario; returns the warnings as (kind, step) pairs, rollbacks, the last step and seconds."""
    import numpy as np  # noqa: PLC0415

    from ganstudio.engine import HealthWarning, RolledBack, StepMetrics  # noqa: PLC0415
    from ganstudio.engine.trainer import Trainer  # noqa: PLC0415
    from ganstudio.config.presets import get_preset  # noqa: PLC0415

    cfg = get_preset(sc.preset).config().with_updates({**QUIET, **sc.updates})
    t = Trainer(cfg, run_dir=root / sc.name.replace(" ", "_").replace("=", ""), nan_action="stop")
    fired, rolled, last = [], [], 0
    t0 = time.perf_counter()
    for ev in t.run():
        if isinstance(ev, HealthWarning):
            fired.append((ev.kind, ev.step))
        elif isinstance(ev, RolledBack):
            rolled.append((ev.step, ev.from_step))
        elif isinstance(ev, StepMetrics):
            last = ev.step
            if sc.nan_at and ev.step == sc.nan_at - 1:
                import tensorflow as tf  # noqa: PLC0415

                real = t._step_fn
                t._step_fn = lambda images, labels: (real(images, labels),
                                                     tf.constant([np.nan, 1.0, 0.5, 0.5, 0.0]))[1]
    first = next((s for k, s in fired if k == sc.expected), None)
    others = [(k, s) for k, s in fired if k != sc.expected]
    ok = (first is not None and first <= sc.by_step if sc.expected else not fired) and not others
    return {"fired": fired, "first": first, "others": others, "rolled": rolled, "last": last, "ok": ok,
            "seconds": time.perf_counter() - t0, "run_dir": str(t.run_dir.path)}


def _cli(args: list[str]) -> tuple[int, str]:
    """ganstudio's CLI in this process: (exit code, what it printed on stdout)."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    from ganstudio.cli import main as cli  # noqa: PLC0415

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(args)
    return code, out.getvalue()


def printed_fix(stdout: str, step: int) -> str:
    """The first `fix:` command the CLI printed under its warning of `step`."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"warning at step {step}:"):
            for fix in lines[i + 1:]:
                if not fix.startswith("  "):
                    break
                if fix.startswith("  fix: ") and ": ganstudio " in fix:
                    return "ganstudio " + fix.split(": ganstudio ", 1)[1]
    raise AssertionError(f"no fix printed under the warning of step {step}:\n{stdout}")


def _fired(run: Path, kind: str) -> list[int]:
    import json  # noqa: PLC0415

    path = run / "health.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r["step"] for r in rows if r["kind"] == kind]


def close_loop(sc: Scenario, root: Path, metric_n: int = 1000) -> dict[str, Any]:
    """Issue 30.2: train the scenario with `ganstudio train`, copy the run folder, then continue the original with
    its first printed remedy exactly as printed and the copy with a plain `ganstudio resume` (unchanged, the same
    number of steps: both train the budget again). Returns whether the diagnosis fired again in each continuation
    and each end's FD (`ganstudio eval`, the same evaluator and sample count)."""
    import shlex  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    from ganstudio.outputs.export import evaluate  # noqa: PLC0415

    run, same = root / (sc.name.replace(" ", "_").replace("=", "") + "-loop"), root / "unchanged"
    sets = [x for k, v in {**QUIET, **sc.updates}.items() for x in ("--set", f"{k}={v}")]
    t0 = time.perf_counter()
    code, out = _cli(["train", "--preset", sc.preset, "--run-dir", str(run), "--no-progress", *sets])
    first = _fired(run, sc.expected)
    if not first:
        return {"ok": False, "why": f"{sc.expected} did not fire", "train_code": code}
    fix = printed_fix(out, first[0])
    shutil.rmtree(same, ignore_errors=True)
    shutil.copytree(run, same, ignore=shutil.ignore_patterns("writer.lock"))
    before = len(first)
    exporting = shlex.split(fix)[1] == "export"     # plateau: the remedy keeps the best model instead of training
    fix_code, _ = _cli(shlex.split(fix)[1:] + ([] if exporting else ["--no-progress"]))
    same_code, _ = _cli(["resume", str(same), "--no-progress"])
    fd_fix = evaluate(run, step="best" if exporting else None, n=metric_n, whole_dataset=sc.whole_dataset)
    fd_same = evaluate(same, n=metric_n, whole_dataset=sc.whole_dataset)
    again_fix, again_same = len(_fired(run, sc.expected)) > before, len(_fired(same, sc.expected)) > before
    return {"fix": fix, "fix_code": fix_code, "same_code": same_code, "train_code": code,
            "step_fix": fd_fix["step"], "step_same": fd_same["step"], "fd_fix": fd_fix["fd"], "fd_same": fd_same["fd"],
            "again_fix": again_fix, "again_same": again_same, "seconds": time.perf_counter() - t0,
            "ok": fix_code == 0 and not again_fix and fd_fix["fd"] < fd_same["fd"], "run_dir": str(run)}


# The diagnoses whose remedies change the training. No scenario here makes plateau (tiny still improved at step
# 4,000 with FD every 250) or mode collapse fire, so they have no row.
# The diagnoses whose remedies change the training. No scenario here makes plateau (tiny still improved at step
# 4,000 with FD every 250) or mode collapse fire, so they have no row.
LOOPS = ("lr=1", "d_lr 20x g_lr", "64 images, dropout 0")


def main(names: list[str]) -> int:
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    print("| scenario | expected diagnosis | by step | fired at step | other warnings | holds | seconds |")
    print("|---|---|---|---|---|---|---|")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for sc in chosen:
            r = run_scenario(sc, Path(tmp))
            failed += not r["ok"]
            fired = "-" if r["first"] is None else f"{r['first']:,}"
            others = ", ".join(f"{k} @ {s:,}" for k, s in r["others"]) or "none"
            print(f"| {sc.name}: {sc.why} | {sc.expected or 'no warning'} | {sc.by_step:,} | {fired} | {others} | "
                  f"{'yes' if r['ok'] else 'NO'} | {r['seconds']:.0f} |", flush=True)
        print("\n| scenario | remedy applied (first printed, run as printed) | steps after | FD with it | "
              "FD unchanged | fired again with / without | holds | seconds |")
        print("|---|---|---|---|---|---|---|---|")
        for sc in chosen:
            if sc.name not in LOOPS:
                continue
            r = close_loop(sc, Path(tmp))
            failed += not r["ok"]
            if "fix" not in r:
                print(f"| {sc.name} | {r['why']} | | | | | NO | |", flush=True)
                continue
            fix = r["fix"].replace(r["run_dir"], "RUN")
            print(f"| {sc.name} | `{fix}` | {r['step_fix']:,} / {r['step_same']:,} | {r['fd_fix']:.1f} | "
                  f"{r['fd_same']:.1f} | {'yes' if r['again_fix'] else 'no'} / {'yes' if r['again_same'] else 'no'} "
                  f"| {'yes' if r['ok'] else 'NO'} | {r['seconds']:.0f} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
