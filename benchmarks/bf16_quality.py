"""Sample quality in mixed_bfloat16 vs float32 after the same number of steps: the in-app quality metric (Fréchet
distance and KID in the bundled classifier's feature space), per seed.

    .venv/bin/python benchmarks/bf16_quality.py [--preset dcgan] [--steps 300] [--seeds 1,2] [--metric-n 2000]

bf16 changes the computation's rounding, so the two precisions follow different trajectories from the same start;
"within noise" means the bf16-fp32 difference is of the size of the seed-to-seed spread.
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


def final_quality(preset: str, precision: str, seed: int, steps: int, metric_n: int, run_dir: str):
    from ganstudio.engine import Metric
    from ganstudio.engine.trainer import Trainer
    from ganstudio.config.presets import get_preset

    cfg = get_preset(preset).config().with_updates(
        {"steps": steps, "seed": seed, "precision": precision, "metric_every": steps, "metric_n": metric_n,
         "checkpoint_every": 0, "checkpoint_minutes": 0, "tensorboard": False})
    metrics = [ev for ev in Trainer(cfg, run_dir=run_dir).run() if isinstance(ev, Metric)]
    return metrics[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="dcgan")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--metric-n", type=int, default=2000)
    ap.add_argument("--precisions", default="float32,mixed_bfloat16",
                    help="e.g. mixed_bfloat16 alone, to remeasure bf16 after a bf16-only change")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    fd: dict[str, list[float]] = {p: [] for p in args.precisions.split(",")}
    with tempfile.TemporaryDirectory() as d:
        for seed in seeds:
            for precision in fd:
                t = time.perf_counter()
                m = final_quality(args.preset, precision, seed, args.steps, args.metric_n,
                                  os.path.join(d, f"{precision}-{seed}"))
                fd[precision].append(m.fd)
                print(f"{args.preset} seed {seed} {precision:<15} step {m.step}: FD {m.fd:7.2f}  KID {m.kid:.4f}  "
                      f"({time.perf_counter() - t:.0f} s)", flush=True)
    for precision, vals in fd.items():
        print(f"{precision:<15} FD mean {statistics.mean(vals):7.2f}  per seed {', '.join(f'{v:.2f}' for v in vals)}")
    if len(fd) == 2:
        diffs = [b - a for a, b in zip(fd["float32"], fd["mixed_bfloat16"], strict=True)]
        spread = [abs(a - b) for a, b in zip(fd["float32"], fd["float32"][1:])]
        print(f"bf16 - fp32 per seed: {', '.join(f'{x:+.2f}' for x in diffs)}"
              + (f"; seed-to-seed spread in fp32: {', '.join(f'{x:.2f}' for x in spread)}" if spread else ""))


if __name__ == "__main__":
    main()
