"""Where the train step spends its time: TensorFlow's profiler over the engine's step, op types by self time.

    .venv/bin/python benchmarks/profile_step.py [--preset tutorial] [--precision mixed_bfloat16] [--steps 20]

Builds the engine's step for the preset (XLA off, as `auto` runs on CPUs), warms it up, profiles `--steps` calls
on one fixed batch and prints the op types by total self time (summed over TensorFlow's threads, so the total
exceeds the wall time on several cores). Comparing float32 with mixed_bfloat16 shows which ops do not gain from
bf16 (elementwise ops, casts, layout conversions) and where the step loses the hardware's bf16 speed-up.
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def engine_step(preset: str, precision: str, run_dir: str, **overrides):
    """(step function, batch, labels) of the engine's train step for the preset; traced and warmed up."""
    from ganstudio.engine.trainer import Trainer
    from ganstudio.config.presets import get_preset

    cfg = get_preset(preset).config().with_updates(
        {"steps": 1, "checkpoint_every": 0, "checkpoint_minutes": 0, "metric_every": 0, "tensorboard": False,
         "jit_compile": "off", "precision": precision, **overrides})
    t = Trainer(cfg, run_dir=run_dir)
    t._setup()
    step = t._make_step_fn()
    batch, labels = next(t._dataset_from(0))
    for _ in range(3):
        step(batch, labels).numpy()
    return step, batch, labels, cfg.data.batch_size


def op_self_times(xplane_files: list[str], key: str = "type") -> dict[str, float]:
    """Total self time in ms per op type (key='type') or per op (key='operation'), from the profiler's
    framework_op_stats tool."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    data, _ = plugin.xspace_to_tools_data(xplane_files, "framework_op_stats", {})
    table = json.loads(data)[0]
    cols = [c["id"] for c in table["cols"]]
    by_type: collections.Counter = collections.Counter()
    for row in table["rows"]:
        r = dict(zip(cols, [cell.get("v") if cell else None for cell in row["c"]]))
        by_type[r[key] if key == "type" else f"{r['type']}  {r[key]}"] += r["total_self_time"] / 1000
    return dict(by_type)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tutorial")
    ap.add_argument("--precision", default="mixed_bfloat16", choices=("float32", "mixed_bfloat16"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--by-op", action="store_true", help="one row per op (its name tells the layer), not per type")
    args = ap.parse_args()
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as d:
        step, batch, labels, bs = engine_step(args.preset, args.precision, os.path.join(d, "run"))
        logdir = os.path.join(d, "prof")
        tf.profiler.experimental.start(logdir)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            out = step(batch, labels)
        out.numpy()
        wall = time.perf_counter() - t0
        tf.profiler.experimental.stop()
        times = op_self_times(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True),
                              "operation" if args.by_op else "type")
    total = sum(times.values())
    print(f"{args.preset}, {args.precision}, batch {bs}: {args.steps} steps in {wall:.2f} s under the profiler "
          f"({bs * args.steps / wall:.1f} img/s); op self time {total / 1000:.2f} s")
    for name, ms in sorted(times.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"{ms:>10.1f} ms{100 * ms / total:>7.1f} %  {name}")


if __name__ == "__main__":
    main()
