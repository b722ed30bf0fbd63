"""The memorization ratio end to end: Metric event, quality.jsonl, `ganstudio eval` (issue 18 point 2)."""
import math

from ganstudio.cli import main
from ganstudio.engine import Metric
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.runs import RunDir


def test_ratio_in_metric_events_quality_log_and_eval(tiny_config, tmp_path, capsys):
    cfg = tiny_config.with_updates({"steps": 2, "metric_every": 2, "metric_n": 100, "checkpoint_every": 2})
    metrics = [e for e in run_to_end(Trainer(cfg, run_dir=tmp_path / "r")) if isinstance(e, Metric)]
    assert len(metrics) == 1
    # two steps in, the samples are grey blurs: not copies of training images (FD, not this ratio, says they are bad)
    assert math.isfinite(metrics[0].memorization) and metrics[0].memorization > 0.8, metrics[0].memorization
    rows = RunDir(tmp_path / "r").read_quality()
    assert [r["memorization"] for r in rows] == [metrics[0].memorization]
    assert main(["eval", str(tmp_path / "r"), "-n", "100"]) == 0
    out = capsys.readouterr().out
    value = float(out.split("memorization ")[1].split()[0])
    assert abs(value - metrics[0].memorization) < 0.01    # the same images, the same split: the same number
