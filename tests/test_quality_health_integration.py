"""The trainer's quality metric, health events and NaN rollback, end to end on tiny runs."""
import json

import numpy as np

from ganstudio.cli import main
from ganstudio.engine import Control, Metric, Paused, RolledBack, StepMetrics
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.metrics.advice import best_quality, best_text
from ganstudio.runs import RunDir


def test_metric_events_and_log(tiny_config, tmp_path, capsys):
    cfg = tiny_config.with_updates({"steps": 4, "metric_every": 2, "metric_n": 100, "checkpoint_every": 4})
    events = run_to_end(Trainer(cfg, run_dir=tmp_path / "r"))
    metrics = [e for e in events if isinstance(e, Metric)]
    assert [m.step for m in metrics] == [2, 4]
    assert metrics[0].source == "bundled" and metrics[0].accuracy > 0.8
    assert all(m.fd > 0 and np.isfinite(m.kid) and m.n == 100 for m in metrics)
    assert [r["step"] for r in RunDir(tmp_path / "r").read_quality()] == [2, 4]
    assert main(["eval", str(tmp_path / "r"), "-n", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("step 4: FD ") and "classifier: bundled" in out
    # when to stop: the CLI's metric line ends with the best FD so far and its step, over the resumed run too
    assert main(["resume", str(tmp_path / "r"), "--steps", "6", "--no-progress"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("step 6: FD "))
    assert line.endswith(best_text(best_quality(RunDir(tmp_path / "r").read_quality()))) and "best FD" in line


def test_nan_rolls_back_to_the_last_checkpoint_and_pauses(tiny_config, tmp_path):
    import tensorflow as tf

    control = Control()
    t = Trainer(tiny_config.with_updates({"steps": 0, "checkpoint_every": 2}), run_dir=tmp_path / "r", control=control)
    gen = t.run()
    for ev in gen:
        if isinstance(ev, StepMetrics) and ev.step == 3:
            break
    saved = [v.numpy().copy() for v in t.G.weights]    # the weights after step 3
    real_step = t._step_fn
    t._step_fn = lambda images, labels: (real_step(images, labels), tf.constant([np.nan, 1.0, 0.5, 0.5, 0.0]))[1]
    rolled = next(e for e in gen if isinstance(e, RolledBack))
    assert (rolled.step, rolled.from_step) == (2, 4)
    assert t.step == 2 and not np.allclose(saved[0], t.G.weights[0].numpy())  # step-3 weights replaced
    assert isinstance(next(e for e in gen if isinstance(e, Paused)), Paused)
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    t._step_fn = real_step
    control.step(1)
    assert next(e for e in gen if isinstance(e, StepMetrics)).step == 3
    control.stop()
    assert list(gen)[-1].reason == "stopped"
