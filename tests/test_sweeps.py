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
    monkeypatch.setattr(trainer_mod, "time", types.SimpleNamespace(perf_counter=lambda: clock[0],
                                                                    monotonic=time.monotonic))
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
    assert [e.step for e in events if type(e).__name__ == "Metric"] == [3, 6]
