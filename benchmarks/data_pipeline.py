"""Is the input pipeline ever the bottleneck? A 20k-image folder of 64x64 PNGs, side by side in one run.

    .venv/bin/python benchmarks/data_pipeline.py [--images 20000] [--steps 30]

1. writes N random-ish 64x64 RGB PNGs in 10 class folders (a temp dir),
2. times the first scan + decode into the memory-mapped cache, then the cached reload,
3. trains the `dcgan` preset at 64x64x3 for S steps fed by the real tf.data pipeline over that folder, and the
   same steps fed one constant, pre-made batch (no input pipeline at all); prints both step times and the ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_folder(root: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    for i in range(n):
        d = root / f"class{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        img = np.kron(np.roll(base, i, axis=0), np.ones((4, 4, 1), np.uint8))  # compressible, like photos
        Image.fromarray(img).save(d / f"{i:06d}.png", compress_level=1)


def step_times(trainer, steps: int, constant_batch: bool) -> list[float]:
    """Per-step wall times for `steps` steps after 3 warm-up steps."""
    trainer._setup()
    step = trainer._make_step_fn()
    data = trainer._dataset_from(0)
    batch = next(data)
    times = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        images, labels = batch if constant_batch else next(data)
        step(images, labels).numpy()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    from ganstudio.data import load_dataset
    from ganstudio.engine.trainer import Trainer
    from ganstudio.config.presets import get_preset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["GANSTUDIO_CACHE"] = str(tmp / "cache")
        t0 = time.perf_counter()
        make_folder(tmp / "imgs", args.images)
        print(f"wrote {args.images:,} PNGs in {time.perf_counter() - t0:.1f} s", flush=True)

        t0 = time.perf_counter()
        ds = load_dataset(str(tmp / "imgs"), size=64)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        ds = load_dataset(str(tmp / "imgs"), size=64)
        cached = time.perf_counter() - t0
        print(f"scan + decode + cache: {first:.1f} s ({args.images / first:,.0f} img/s); cached reload {cached:.2f} s; "
              f"{ds.summary()}", flush=True)

        cfg = get_preset("dcgan").config().with_updates(
            {"dataset": str(tmp / "imgs"), "resolution": 64, "batch_size": args.batch_size, "tensorboard": False})
        real = step_times(Trainer(cfg, run_dir=tmp / "run_real", dataset=ds), args.steps, constant_batch=False)
        const = step_times(Trainer(cfg, run_dir=tmp / "run_const", dataset=ds), args.steps, constant_batch=True)
        r, c = statistics.median(real), statistics.median(const)
        print(f"\nstep time (dcgan 64x64x3, batch {args.batch_size}, median of {args.steps}):")
        print(f"  real tf.data pipeline over the folder cache: {r * 1000:7.1f} ms")
        print(f"  one constant batch (no input pipeline):      {c * 1000:7.1f} ms")
        print(f"  ratio real / constant:                       {r / c:7.3f}")


if __name__ == "__main__":
    main()
