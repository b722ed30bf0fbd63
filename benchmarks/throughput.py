"""Engine vs the TensorFlow DCGAN tutorial's own training loop, side by side in one process.

    .venv/bin/python benchmarks/throughput.py [--steps 20] [--rounds 2]

Both train the tutorial models on the bundled Fashion-MNIST subset at batch 256. Rounds alternate
(tutorial, engine XLA off, engine XLA on, ...) so that machine drift hits all equally; the first steps
(tracing/compilation) are excluded. Prints images/s per variant and the ratio to the tutorial loop.
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

WARMUP = 4   # a multiple of every steps_per_call variant, so timing starts at a call boundary


def tutorial_loop(steps: int) -> float:
    """The tutorial's own loop: its models, losses, optimizers and @tf.function step (ganstudio/tutorial_reference)
    over its tf.data pipeline (shuffle + batch of the float images)."""
    import tensorflow as tf

    from ganstudio.data import load_dataset
    from ganstudio.tutorial_reference import BATCH_SIZE, make_tutorial

    train_images = load_dataset("bundled").images.astype("float32")
    train_images = (train_images - 127.5) / 127.5
    train_dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000).batch(BATCH_SIZE)
    gan = make_tutorial()
    train_step, generator = gan.train_step, gan.generator

    done, t_start = 0, None
    while done < steps + WARMUP:
        for image_batch in train_dataset:
            if image_batch.shape[0] != BATCH_SIZE:
                continue  # the tutorial's ragged last batch would retrace; both sides use full batches
            train_step(image_batch)
            done += 1
            if done == WARMUP:
                generator.layers[0].kernel.numpy()  # wait for the async step before starting the clock
                t_start = time.perf_counter()
            if done == steps + WARMUP:
                break
    generator.layers[0].kernel.numpy()
    return BATCH_SIZE * steps / (time.perf_counter() - t_start)


def engine_loop(steps: int, **overrides) -> float:
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer
    from ganstudio.presets import get_preset

    cfg = get_preset("tutorial").config().with_updates(
        {"steps": steps + WARMUP, "checkpoint_every": 0, "checkpoint_minutes": 0, "metric_every": 0,
         "tensorboard": False, **overrides})
    walls = {}
    with tempfile.TemporaryDirectory() as d:
        for ev in Trainer(cfg, run_dir=os.path.join(d, "run")).run():
            if isinstance(ev, StepMetrics):
                walls[ev.step] = ev.wall
    return 256 * steps / (walls[steps + WARMUP] - walls[WARMUP])


VARIANTS = {
    "tutorial loop": lambda n: tutorial_loop(n),
    "engine auto": lambda n: engine_loop(n),
    "engine fp32": lambda n: engine_loop(n, jit_compile="off", precision="float32"),
    "engine XLA on": lambda n: engine_loop(n, jit_compile="on", precision="float32"),
    "engine 4 steps/call": lambda n: engine_loop(n, jit_compile="off", precision="float32", steps_per_call=4),
    "engine bf16": lambda n: engine_loop(n, jit_compile="off", precision="mixed_bfloat16"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated variants to leave out, e.g. 'engine bf16' "
                    "(bf16 is emulated, hence very slow, on CPUs without AVX512-BF16/AMX)")
    args = ap.parse_args()
    variants = {k: v for k, v in VARIANTS.items() if k not in args.skip.split(",")}
    results: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.rounds):
        for name, fn in variants.items():
            results[name].append(fn(args.steps))
            print(f"round {r + 1}: {name:<22} {results[name][-1]:8.1f} img/s", flush=True)
    base = statistics.median(results["tutorial loop"])
    print(f"\n{'variant':<22}{'img/s (median)':>16}{'ratio':>8}")
    for name, vals in results.items():
        med = statistics.median(vals)
        print(f"{name:<22}{med:>16.1f}{med / base:>8.3f}")


if __name__ == "__main__":
    main()
