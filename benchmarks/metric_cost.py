"""What the quality metric costs against training, measured side by side in one run (issue 18: under 2 %).

    .venv/bin/python benchmarks/metric_cost.py [--preset tutorial] [--steps 12] [--rounds 3]

Trains the preset with its default config on the bundled data and alternates rounds of `steps` training steps
with one quality evaluation at the default metric_n, so machine drift hits both alike. The first step (tracing) and
the first evaluation (loading the feature classifier, once per run) are excluded. The metric runs once every
metric_every steps, so its share of training time is metric / (metric_every x step + metric).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tutorial")
    ap.add_argument("--steps", type=int, default=12, help="training steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer
    from ganstudio.config.presets import get_preset

    cfg = get_preset(args.preset).config()
    every, n = cfg.train.metric_every, cfg.train.metric_n
    # Only the loop's own metric, checkpoints and grids are off: the measurement calls the metric itself.
    run_cfg = cfg.with_updates({"steps": 0, "metric_every": 0, "checkpoint_every": 0, "checkpoint_minutes": 0.0,
                                "sample_every": 1_000_000, "tensorboard": False})
    with tempfile.TemporaryDirectory() as d:
        t = Trainer(run_cfg, run_dir=os.path.join(d, "run"))
        step_s: list[float] = []
        metric_s: list[float] = []
        last = None
        for ev in t.run():
            if not isinstance(ev, StepMetrics):
                continue
            now = time.perf_counter()
            if last is not None and ev.step > 1:
                step_s.append(now - last)
            last = now
            if ev.step % args.steps == 0:
                t0 = time.perf_counter()
                t.compute_metric()
                metric_s.append(time.perf_counter() - t0)
                last = time.perf_counter()
                if len(metric_s) == args.rounds + 1:
                    t.control.stop()
        device = t.device, t.precision
    step = statistics.median(step_s)
    metric = statistics.median(metric_s[1:])
    share = metric / (every * step + metric)
    print(f"preset {args.preset} ({device[0]}, {device[1]}), batch {cfg.data.batch_size}; "
          f"{len(step_s)} steps and {len(metric_s) - 1} evaluations after warm-up, alternating")
    print(f"training step (median):             {step:8.3f} s")
    print(f"quality metric, {n} images (median): {metric:8.3f} s   (first, with the classifier load: "
          f"{metric_s[0]:.2f} s)")
    print(f"metric_every = {every}: metric share of training time = {metric:.3f} / ({every} x {step:.3f} + "
          f"{metric:.3f}) = {share:.2%}   goal < 2 %: {'met' if share < 0.02 else 'NOT met'}")


if __name__ == "__main__":
    main()
