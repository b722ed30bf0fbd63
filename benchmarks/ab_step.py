"""A/B of train-step speed changes, side by side in one process: each candidate against the engine as it is.

    .venv/bin/python benchmarks/ab_step.py CANDIDATE [--preset tutorial] [--precision mixed_bfloat16]
                                           [--steps 3] [--rounds 10]

Both variants are built (models, optimizers, traced step) in the same process, then timed in alternating rounds
of `--steps` calls on one fixed batch, so machine drift and the other processes' load hit both alike; prints each
round and the median per-round ratio candidate / baseline, in wall time and in CPU time. A change that was kept
is in the engine, so its candidate is the old way (e.g. stock-bn) and a win shows as a ratio below 1. Measured
figures for every candidate, kept or not, are in the README (Performance). A candidate patches Keras layers or
TensorFlow options only while its models are built and its step is traced; env:KEY=VALUE candidates run both
sides in child processes. `list` prints the candidates.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from ganstudio.models import bf16_layers  # noqa: E402
from profile_step import engine_step  # noqa: E402


@contextlib.contextmanager
def patched(module, name, value):
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


@contextlib.contextmanager
def grappler(**options):
    old = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options(options)
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({**{k: True for k in options}, **old})


class MaskDropout(keras.layers.Dropout):
    """Dropout as one multiply by a precomputed keep/scale mask (forward and backward) instead of Mul + SelectV2,
    with the uniform draw in float32 (bits=False) or as raw uint32 bits compared to rate * 2^32 (bits=True)."""

    bits = False

    def call(self, inputs, training=False):
        if not (training and 0 < self.rate < 1) or self.noise_shape is not None:
            return super().call(inputs, training)
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        if self.bits:
            u = tf.random.stateless_uniform(tf.shape(inputs), seed, minval=None, maxval=None, dtype=tf.uint32)
            keep = u >= tf.constant(int(self.rate * 2 ** 32), tf.uint32)
        else:
            keep = tf.random.stateless_uniform(tf.shape(inputs), seed) >= self.rate
        mask = tf.cast(tf.where(keep, 1.0 / (1.0 - self.rate), 0.0), inputs.dtype)
        return inputs * mask


class BitsDropout(MaskDropout):
    bits = True


class Float32OutputConv2DTranspose(keras.layers.Conv2DTranspose):
    """The dcgan generator's output layer as it was before: float32 under a mixed policy (a bf16 -> float32 cast
    before it, a float32 conv, a float32 -> bf16 cast into D). Only output layers have activation='tanh'."""

    def __init__(self, *args, **kwargs):
        if kwargs.get("activation") == "tanh":
            kwargs["dtype"] = "float32"
        super().__init__(*args, **kwargs)


CANDIDATES = {
    # kept changes (ganstudio/models/bf16_layers.py), A/B'd the other way round: the engine as it was before them
    "stock-bn": lambda: patched(bf16_layers, "FusedBatchNormalization", keras.layers.BatchNormalization),
    "stock-dropout": lambda: patched(bf16_layers, "Bf16Dropout", keras.layers.Dropout),
    "stock-leaky-relu": lambda: patched(bf16_layers, "Bf16LeakyReLU", keras.layers.LeakyReLU),
    "g-output-float32": lambda: patched(keras.layers, "Conv2DTranspose", Float32OutputConv2DTranspose),  # dcgan
    # tried and not kept
    "dropout-mask-f32": lambda: patched(bf16_layers, "Bf16Dropout", MaskDropout),
    "dropout-mask-bits": lambda: patched(bf16_layers, "Bf16Dropout", BitsDropout),
    "remapper-off": lambda: grappler(remapping=False),
}
CANDIDATES["stock-dropout+stock-leaky-relu"] = lambda: both(CANDIDATES["stock-dropout"](),
                                                           CANDIDATES["stock-leaky-relu"]())


@contextlib.contextmanager
def both(*contexts):
    with contextlib.ExitStack() as stack:
        for c in contexts:
            stack.enter_context(c)
        yield


def timer(step, batch, labels, bs):
    def run(n: int) -> tuple[float, float]:
        """(img/s, img per CPU-second) over n steps; CPU time is less hit by other processes' load."""
        t, c = time.perf_counter(), time.process_time()
        for _ in range(n):
            out = step(batch, labels)
        out.numpy()
        return bs * n / (time.perf_counter() - t), bs * n / (time.process_time() - c)
    return run


def child(env: dict[str, str], argv: list[str]):
    """A variant that needs its environment before TensorFlow starts (oneDNN/XLA knobs): a child process that
    builds the step, then times n steps for every n read from its stdin."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve", *argv], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env})
    assert proc.stdout.readline().strip() == "ready"

    def run(n: int) -> tuple[float, float]:
        proc.stdin.write(f"{n}\n")
        proc.stdin.flush()
        wall, cpu = proc.stdout.readline().split()
        return float(wall), float(cpu)
    run.proc = proc
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", help=f"one of {', '.join(CANDIDATES)}, or env:KEY=VALUE[,KEY=VALUE] (an environment "
                    "setting read when TensorFlow starts: both sides then run in child processes), or list")
    ap.add_argument("--preset", default="tutorial")
    ap.add_argument("--precision", default="mixed_bfloat16", choices=("float32", "mixed_bfloat16"))
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, both sides")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.candidate == "list":
        print("\n".join(CANDIDATES))
        return
    overrides = dict(kv.split("=", 1) for kv in args.set)
    cand = args.candidate
    with tempfile.TemporaryDirectory() as d:
        if args.serve:
            run = timer(*engine_step(args.preset, args.precision, os.path.join(d, "run"), **overrides))
            print("ready", flush=True)
            for line in sys.stdin:
                print(*run(int(line)), flush=True)
            return
        if cand.startswith("env:"):
            argv = [cand, "--preset", args.preset, "--precision", args.precision, *(f"--set={kv}" for kv in args.set)]
            built = {"baseline": child({}, argv),
                     cand: child(dict(kv.split("=", 1) for kv in cand[4:].split(",")), argv)}
        else:
            built = {"baseline": timer(*engine_step(args.preset, args.precision, os.path.join(d, "a"), **overrides))}
            with CANDIDATES[cand]():
                built[cand] = timer(*engine_step(args.preset, args.precision, os.path.join(d, "b"), **overrides))
        rates: dict[str, list[float]] = {k: [] for k in built}
        cpu: dict[str, list[float]] = {k: [] for k in built}
        for r in range(args.rounds):
            for name, run in (built.items() if r % 2 == 0 else reversed(built.items())):
                wall_rate, cpu_rate = run(args.steps)
                rates[name].append(wall_rate)
                cpu[name].append(cpu_rate)
                print(f"round {r + 1}: {name:<28}{wall_rate:8.1f} img/s{cpu_rate:8.1f} img/CPU-s", flush=True)
        for run in built.values():
            if hasattr(run, "proc"):
                run.proc.stdin.close()
                run.proc.wait()
    # Each round measures both sides back to back, so the median of the per-round ratios cancels slow drift.
    ratio = statistics.median(a / b for a, b in zip(rates[cand], rates["baseline"], strict=True))
    cpu_ratio = statistics.median(a / b for a, b in zip(cpu[cand], cpu["baseline"], strict=True))
    print(f"\n{args.preset} {args.precision}: baseline {statistics.median(rates['baseline']):.1f} img/s, {cand} "
          f"{statistics.median(rates[cand]):.1f} img/s; median per-round ratio {ratio:.3f} (wall), "
          f"{cpu_ratio:.3f} (CPU time); {args.rounds} rounds of {args.steps} steps")


if __name__ == "__main__":
    main()
