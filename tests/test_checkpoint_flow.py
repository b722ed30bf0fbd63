"""Checkpoints in the trainer and the CLI: continuing from an older checkpoint moves the newer ones aside (never
resumed later), the best checkpoint is kept and selectable, and a 'restore' request rolls back on the training
thread."""
import dataclasses
import json

from ganstudio.cli import main
from ganstudio.engine import BestCheckpoint, Control, Message, Metric, Paused, RolledBack, SampleGrid, StepMetrics
from ganstudio.engine.checkpoints import find_checkpoint, list_checkpoints
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.runs import RunDir


def steps(folder):
    return [c.step for c in list_checkpoints(folder)]


def metric_steps(run):
    return [r["step"] for r in RunDir(run).read_metrics()]


def test_continuing_from_an_older_checkpoint_never_leaves_newer_ones_to_resume(tiny_config, tmp_path, capsys):
    """Issue 15.1 as reported: checkpoints 10/20/30/40; continue from 20 up to 25; the next resume continues
    from 25, and the metrics do not jump to 41. (Stop in the window: tests/qt/test_run_tools.py.)"""
    run = tmp_path / "r"
    cfg = tiny_config.with_updates({"steps": 40, "checkpoint_every": 10, "sample_every": 10})
    run_to_end(Trainer(cfg, run_dir=run))
    assert steps(run / "checkpoints") == [0, 10, 20, 30, 40] and metric_steps(run) == list(range(1, 41))

    assert main(["resume", str(run), "--checkpoint", "20", "--steps", "25", "--no-progress"]) == 0
    out = capsys.readouterr()
    branch = run / "abandoned" / "step-40-from-20"
    assert [line for line in (out.out + out.err).splitlines() if "moved aside" in line] == [
        f"warning: continuing from step 20: the newer checkpoints 30, 40 moved aside to {branch} (kept, never "
        f"resumed)"]                                                     # one line
    assert steps(run / "checkpoints") == [0, 10, 20, 25]
    assert steps(branch / "checkpoints") == [30, 40]                     # kept, not deleted
    assert [r["step"] for r in RunDir(branch).read_metrics()] == list(range(21, 41))
    assert sorted(p.name for p in (branch / "samples").iterdir()) == ["final.png", "step_000030.png",
                                                                      "step_000040.png"]
    assert [s for s, _ in RunDir(run).sample_steps()] == [0, 10, 20]

    # the next plain resume continues from 25 and the metrics never jump to 41
    events = run_to_end(Trainer(cfg.with_updates({"steps": 30}), run_dir=run, resume=True))
    assert events[0].step == 25 and not [e for e in events if isinstance(e, Message)]
    assert metric_steps(run) == list(range(1, 31))
    assert steps(run / "checkpoints") == [0, 10, 20, 25, 30]


def test_best_checkpoint_is_kept_selectable_and_restorable(tiny_config, tmp_path, capsys):
    run = tmp_path / "r"
    control = Control()
    cfg = tiny_config.with_updates({"steps": 0, "metric_every": 1, "metric_n": 100, "checkpoint_every": 1,
                                    "keep_checkpoints": 1, "lr": 2e-3})
    t = Trainer(cfg, run_dir=run, control=control)
    scripted = iter([30.0, 20.0, 25.0, 10.0, 15.0, 12.0, 11.0])     # FD per measurement: new bests at 1, 2, 4
    real_metric = t.compute_metric
    measured = []

    def compute_metric():
        measured.append(measured[0] if measured else real_metric())
        return dataclasses.replace(measured[0], step=t.step, fd=next(scripted))

    t.compute_metric = compute_metric
    gen = t.run()
    events = []
    for ev in gen:
        events.append(ev)
        if isinstance(ev, StepMetrics) and ev.step == 6:
            control.pause()
        if isinstance(ev, Paused):
            break
    assert [e.step for e in events if isinstance(e, Metric)] == [1, 2, 3, 4, 5, 6]
    assert [(e.step, e.fd) for e in events if isinstance(e, BestCheckpoint)] == [(1, 30.0), (2, 20.0), (4, 10.0)]
    best = 4
    assert find_checkpoint(run / "checkpoints", "best").step == best
    assert steps(run / "checkpoints") == [4, 6]                         # retention keeps 1 + the best
    assert json.loads((run / "checkpoints" / "best.json").read_text())["fd"] == 10.0

    # the adviser's "roll back to the best checkpoint", on the training thread
    control.request("restore", which="best")
    restored = []
    for ev in gen:
        restored.append(ev)
        if isinstance(ev, Message) and ev.text.startswith("restored"):
            break
    rolled = next(e for e in restored if isinstance(e, RolledBack))
    assert (rolled.step, rolled.from_step, rolled.reason) == (best, 6, "restore")
    assert t.step == best and control.paused
    assert [s for s, _ in t.health.quality] == [1, 2, 3, 4]              # the adviser forgets the abandoned FDs
    assert any(isinstance(e, SampleGrid) and e.step == best for e in restored)
    assert [e.text for e in restored if isinstance(e, Message)][0].startswith(
        "continuing from step 4: the newer checkpoint 6 moved aside")
    assert steps(run / "abandoned" / "step-6-from-4" / "checkpoints") == [6]
    assert restored[-1].text == f"restored the checkpoint of step {best} (the best); paused: Resume continues from it"
    assert metric_steps(run) == list(range(1, best + 1))
    assert [r["step"] for r in RunDir(run).read_quality()] == list(range(1, best + 1))
    control.request("restore", which=99)
    assert next(e for e in gen if isinstance(e, Message)).text.endswith(f"no checkpoint at step 99; available: {best}")
    control.step(1)
    assert next(e for e in gen if isinstance(e, StepMetrics)).step == best + 1   # trains on from the best
    control.stop()
    list(gen)
    assert find_checkpoint(run / "checkpoints", "best").step == best   # 11.0 at step 5 is not better

    # --checkpoint best in sample and eval (one parser helper)
    out = tmp_path / "best.png"
    assert main(["sample", str(run), "-n", "4", "--checkpoint", "best", "--out", str(out)]) == 0 and out.exists()
    capsys.readouterr()
    assert main(["eval", str(run), "-n", "100", "--checkpoint", "best"]) == 0
    assert capsys.readouterr().out.startswith(f"step {best}: FD ")
    assert main(["sample", str(run), "--checkpoint", "newest"]) == 2
    assert "--checkpoint 'newest': use best, latest or a step number" in capsys.readouterr().err


def test_resume_skips_an_incomplete_checkpoint_and_reports_it_once(tiny_config, tmp_path):
    run = tmp_path / "r"
    cfg = tiny_config.with_updates({"steps": 4, "checkpoint_every": 2})
    run_to_end(Trainer(cfg, run_dir=run))
    data = next((run / "checkpoints" / "step_000004").glob("ckpt.data-*"))
    data.unlink()                                                        # meta.json there, data missing
    (run / "checkpoints" / ".saving-x").mkdir()                          # a save killed midway
    events = run_to_end(Trainer(cfg.with_updates({"steps": 3}), run_dir=run, resume=True))
    assert events[0].step == 2
    notes = [e.text for e in events if isinstance(e, Message)]
    assert notes == [f"{run / 'checkpoints' / 'step_000004'}: incomplete checkpoint (data files are missing); "
                     f"skipped, kept as step_000004.incomplete"]
    assert not (run / "checkpoints" / ".saving-x").exists()
    # renamed, so never listed or reported again (tests/test_checkpoints.py); the run went on from step 2
    assert (run / "checkpoints" / "step_000004.incomplete" / "meta.json").exists()
    assert steps(run / "checkpoints") == [0, 2, 3] and metric_steps(run) == [1, 2, 3]


def test_the_end_of_run_measurement_can_move_the_best_mark(tiny_config, tmp_path, monkeypatch):
    """Issue 30.3: a sweep trial marked best at an earlier step while its end-of-budget FD was lower. Every
    measurement, the end of the run's included, is a candidate."""
    from ganstudio.engine.checkpoints import best_record
    from ganstudio.engine.events import Metric

    monkeypatch.setattr(Trainer, "compute_metric",
                        lambda self: Metric(self.step, 100.0 - self.step, 0.0, 1.0, 100, 0.0, "test", None, 1.0))
    run = tmp_path / "r"
    events = run_to_end(Trainer(tiny_config.with_updates({"steps": 5, "metric_every": 2}), run_dir=run))
    assert [e.step for e in events if isinstance(e, Metric)] == [2, 4, 5]
    assert best_record(run / "checkpoints")["step"] == 5 and best_record(run / "checkpoints")["fd"] == 95.0
    # and a sweep's trainer measures the end even with the periodic metric off
    events = run_to_end(Trainer(tiny_config.with_updates({"steps": 3, "metric_every": 0}), run_dir=tmp_path / "s",
                                metric_at_end=True))
    assert [e.step for e in events if isinstance(e, Metric)] == [3]
    assert best_record(tmp_path / "s" / "checkpoints")["step"] == 3
