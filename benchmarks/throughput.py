"""Engine vs the TensorFlow DCGAN tutorial's own training loop, side by side in one process, against the
machine's float32 and bfloat16 roofline.

    .venv/bin/python benchmarks/throughput.py [--steps 20] [--rounds 2]

Both train the tutorial models on the bundled Fashion-MNIST subset at batch 256 (the `dcgan` variants: that
preset at its batch 128). Rounds alternate (tutorial, engine XLA off, engine XLA on, ..., then a 2048x2048
matmul and a 5x5 conv in float32 and bfloat16) so that machine drift hits all equally; the first steps
(tracing/compilation) are excluded. Prints images/s per variant and the ratio to the tutorial loop, the matmul's
and the conv's GFLOP/s, and the "bf16 gain captured": the step's bf16/fp32 speed-up divided by the matmul's
(and by the conv's, and by the preset's own convolutions and dense layers run alone: what its kernels offer), i.e.
the share of the hardware's bf16 speed-up that the train step keeps. Every figure is
also given per CPU-second of this process (img/CPU-s, GFLOP/CPU-s): on a machine shared with other jobs those
ratios are far steadier than wall-clock ones, which count the time the other jobs hold the cores.
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


def tutorial_loop(steps: int) -> tuple[float, float]:
    """The tutorial's own loop: its models, losses, optimizers and @tf.function step (ganstudio/tutorial_reference)
    over its tf.data pipeline (shuffle + batch of the float images)."""
    import keras
    import tensorflow as tf

    from ganstudio.data import load_dataset
    from ganstudio.models.tutorial_reference import BATCH_SIZE, make_tutorial

    keras.config.set_dtype_policy("float32")   # the tutorial's; a bf16 engine variant before leaves its policy set

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
                t_start, c_start = time.perf_counter(), time.process_time()
            if done == steps + WARMUP:
                break
    generator.layers[0].kernel.numpy()
    return BATCH_SIZE * steps / (time.perf_counter() - t_start), BATCH_SIZE * steps / (time.process_time() - c_start)


PRECISIONS: dict[str, str] = {}   # variant -> the precision the engine ran in (what 'auto' resolved to)


def engine_loop(steps: int, name: str, preset: str = "tutorial", **overrides) -> tuple[float, float]:
    from ganstudio.engine import Started, StepMetrics
    from ganstudio.engine.trainer import Trainer
    from ganstudio.config.presets import get_preset

    cfg = get_preset(preset).config().with_updates(
        {"steps": steps + WARMUP, "checkpoint_every": 0, "checkpoint_minutes": 0, "metric_every": 0,
         "tensorboard": False, **overrides})
    walls, cpu = {}, {}
    with tempfile.TemporaryDirectory() as d:
        for ev in Trainer(cfg, run_dir=os.path.join(d, "run")).run():
            if isinstance(ev, Started):
                PRECISIONS[name] = ev.device.rsplit(", ", 1)[-1]
            if isinstance(ev, StepMetrics):   # yielded right after its step's results came back
                walls[ev.step], cpu[ev.step] = ev.wall, time.process_time()
    images = cfg.data.batch_size * steps
    return images / (walls[steps + WARMUP] - walls[WARMUP]), images / (cpu[steps + WARMUP] - cpu[WARMUP])


MATMUL_N = 2048
CONV = (256, 14, 14, 64, 128, 5)   # batch, height, width, in, out, kernel: the tutorial D's second conv, stride 2


def roofline(op: str, dtype: str, reps: int = 10) -> tuple[float, float]:
    """(GFLOP/s, GFLOP/CPU-s) of one 2048x2048 matmul or one 5x5 stride-2 conv in float32 or bfloat16 (medians of
    reps calls)."""
    import tensorflow as tf

    dt = tf.as_dtype(dtype)
    rnd = tf.random.stateless_normal
    if op == "matmul":
        a, b = (tf.cast(rnd([MATMUL_N, MATMUL_N], [i, 0]), dt) for i in (1, 2))
        flops = 2 * MATMUL_N ** 3
        f = tf.function(lambda: tf.matmul(a, b)[0, 0])   # a scalar comes back: the copy-out is not timed
    else:
        n, h, w, cin, cout, k = CONV
        x, kernel = tf.cast(rnd([n, h, w, cin], [3, 0]), dt), tf.cast(rnd([k, k, cin, cout], [4, 0]), dt)
        flops = 2 * n * (h // 2) * (w // 2) * cout * k * k * cin
        f = tf.function(lambda: tf.nn.conv2d(x, kernel, 2, "SAME")[0, 0, 0, 0])
    return gflops(f, flops, reps)


def gflops(f, flops: int, reps: int) -> tuple[float, float]:
    """(GFLOP/s, GFLOP/CPU-s): the medians over reps calls of f (traced by a first call, not timed)."""
    f().numpy()
    times, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        f().numpy()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return flops / statistics.median(times) / 1e9, flops / statistics.median(cpu) / 1e9


KERNEL_FLOPS: dict[str, tuple[int, int]] = {}   # preset -> (FLOPs of its kernels per step, batch size)


def model_kernels(preset: str, dtype: str, reps: int = 5) -> tuple[float, float]:
    """(GFLOP/s, GFLOP/CPU-s) of the preset's own convolutions and dense layers alone, at the step's shapes and
    batch: each G layer once and each D layer twice (D sees a real and a fake batch), each as its forward pass plus
    both gradients (input and kernel), with none of the step's batch norm, activations, dropout, losses or optimizer.
    Its bf16/fp32 ratio is what these oneDNN kernels offer: the most the step could gain without other kernels."""
    import keras
    import tensorflow as tf

    from ganstudio.models.dcgan import build_discriminator, build_generator
    from ganstudio.config.presets import get_preset

    cfg = get_preset(preset).config()
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)
    policy = "float32" if dtype == "float32" else "mixed_bfloat16"
    keras.config.set_dtype_policy("float32")
    shapes = [(layer, repeat) for model, repeat in ((build_generator(cfg.model), 1), (build_discriminator(cfg.model), 2))
              for layer in model.layers if isinstance(layer, kinds)]
    work, flops = [], 0
    rnd = tf.random.stateless_normal
    for i, (layer, repeat) in enumerate(shapes):
        fresh = type(layer).from_config({**layer.get_config(), "dtype": policy})
        in_shape = (cfg.data.batch_size, *layer.input.shape[1:])
        x = tf.cast(rnd(in_shape, [i, 1]), fresh.compute_dtype)
        y = fresh(x)
        dy = tf.cast(rnd(y.shape, [i, 2]), fresh.compute_dtype)
        k = layer.kernel.shape
        # multiply-adds: every kernel weight meets every output pixel (every input pixel for a transposed conv)
        pixels = {keras.layers.Dense: [cfg.data.batch_size], keras.layers.Conv2DTranspose: x.shape[:-1]}.get(
            type(layer), y.shape[:-1])
        macs = int(tf.reduce_prod(pixels)) * int(tf.reduce_prod(k))
        flops += repeat * 3 * 2 * macs   # forward, input gradient, kernel gradient: one matmul-sized pass each
        work.append((fresh, x, dy, repeat))
    KERNEL_FLOPS[preset] = flops, cfg.data.batch_size

    @tf.function
    def passes():
        total = tf.constant(0.0)
        for fresh, x, dy, repeat in work:
            for _ in range(repeat):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = fresh(x)
                dx, dk = tape.gradient(y, [x, fresh.kernel], output_gradients=dy)
                total += tf.cast(dx[0, 0] if dx.shape.rank == 2 else dx[0, 0, 0, 0], tf.float32) + \
                    tf.cast(tf.reshape(dk, [-1])[0], tf.float32)
        return total

    rates = gflops(passes, flops, reps)
    keras.config.set_dtype_policy("float32")
    return rates


VARIANTS = {
    "tutorial loop": lambda n: tutorial_loop(n),
    "engine auto": lambda n: engine_loop(n, "engine auto"),
    "engine fp32": lambda n: engine_loop(n, "engine fp32", jit_compile="off", precision="float32"),
    "engine XLA on": lambda n: engine_loop(n, "engine XLA on", jit_compile="on", precision="float32"),
    "engine 4 steps/call": lambda n: engine_loop(n, "engine 4 steps/call", jit_compile="off", precision="float32",
                                                 steps_per_call=4),
    "engine bf16": lambda n: engine_loop(n, "engine bf16", jit_compile="off", precision="mixed_bfloat16"),
    "dcgan fp32": lambda n: engine_loop(n, "dcgan fp32", "dcgan", jit_compile="off", precision="float32"),
    "dcgan bf16": lambda n: engine_loop(n, "dcgan bf16", "dcgan", jit_compile="off", precision="mixed_bfloat16"),
}


def stock_layers(fn, *extra: str):
    """fn with the models' bf16 layers as they were before the bf16 work (Keras' batch norm, dropout and LeakyReLU;
    extra: 'g-output-float32' for the dcgan output layer; benchmarks/ab_step.py's reverse candidates), for a
    before/after in one run."""
    def run(n: int):
        from ab_step import CANDIDATES, both

        with both(*(CANDIDATES[c]() for c in ("stock-bn", "stock-dropout", "stock-leaky-relu", *extra))):
            return fn(n)
    return run


VARIANTS["engine bf16 stock"] = stock_layers(
    lambda n: engine_loop(n, "engine bf16 stock", jit_compile="off", precision="mixed_bfloat16"))
VARIANTS["dcgan bf16 stock"] = stock_layers(
    lambda n: engine_loop(n, "dcgan bf16 stock", "dcgan", jit_compile="off", precision="mixed_bfloat16"),
    "g-output-float32")
ROOFLINE = {f"{op} {dt}": (op, dt) for op in ("matmul", "conv", "tutorial kernels", "dcgan kernels")
            for dt in ("float32", "bfloat16")}


def bf16_speedup(med: dict[str, float], fp32: str, bf16: str) -> float | None:
    """The step's bf16/fp32 speed-up from the measured variants ('engine auto' stands in for 'engine bf16' where
    it ran in mixed_bfloat16), or None when one side was skipped."""
    if bf16 not in med and bf16 == "engine bf16" and PRECISIONS.get("engine auto") == "mixed_bfloat16":
        bf16 = "engine auto"
    return med[bf16] / med[fp32] if fp32 in med and bf16 in med else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated variants to leave out, e.g. 'engine bf16' "
                    "(bf16 is emulated, hence very slow, on CPUs without AVX512-BF16/AMX)")
    args = ap.parse_args()
    variants = {k: v for k, v in VARIANTS.items() if k not in args.skip.split(",")}
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    flops: dict[str, list[tuple[float, float]]] = {k: [] for k in ROOFLINE}
    for r in range(args.rounds):
        for name, fn in variants.items():
            results[name].append(fn(args.steps))
            print(f"round {r + 1}: {name:<22} {results[name][-1][0]:8.1f} img/s {results[name][-1][1]:8.1f} img/CPU-s",
                  flush=True)
        for name, (op, dt) in ROOFLINE.items():
            flops[name].append(model_kernels(op.split()[0], dt) if op.endswith("kernels") else roofline(op, dt))
            print(f"round {r + 1}: {name:<22} {flops[name][-1][0]:8.1f} GFLOP/s {flops[name][-1][1]:8.1f} GFLOP/CPU-s",
                  flush=True)
    for basis, i in (("wall clock", 0), ("CPU time", 1)):
        med = {k: statistics.median(v[i] for v in vals) for k, vals in results.items()}
        roof = {k: statistics.median(v[i] for v in vals) for k, vals in flops.items()}
        unit = "img/s" if i == 0 else "img/CPU-s"
        base = med["tutorial loop"]
        print(f"\n{basis}:\n{'variant':<22}{unit + ' (median)':>20}{'ratio':>8}")
        for name, m in med.items():
            print(f"{name:<22}{m:>20.1f}{m / base:>8.3f}")
        print(f"{'roofline':<22}{'GFLOP float32':>20}{'bfloat16':>10}{'bf16/fp32':>11}")
        gain = {}
        for op in ("matmul", "conv", "tutorial kernels", "dcgan kernels"):
            gain[op] = roof[f"{op} bfloat16"] / roof[f"{op} float32"]
            print(f"{op:<22}{roof[f'{op} float32']:>20.1f}{roof[f'{op} bfloat16']:>10.1f}{gain[op]:>10.2f}x")
        print(f"{'step':<22}{'bf16/fp32':>20}{'captured vs matmul':>20}{'vs conv':>9}{'vs its kernels':>16}")
        for label, fp32, bf16 in (("tutorial", "engine fp32", "engine bf16"), ("dcgan", "dcgan fp32", "dcgan bf16"),
                                  ("tutorial, stock layers", "engine fp32", "engine bf16 stock"),
                                  ("dcgan, stock layers", "dcgan fp32", "dcgan bf16 stock")):
            sp = bf16_speedup(med, fp32, bf16)
            if sp is not None:   # "bf16 gain captured": the share of the hardware's bf16 speed-up the step keeps
                own = gain[f"{label.split(',')[0]} kernels"]   # the share of what the step's own kernels offer
                print(f"{label:<22}{sp:>19.2f}x{sp / gain['matmul']:>20.2f}{sp / gain['conv']:>9.2f}{sp / own:>16.2f}")
        if i == 0:   # how much of a step its convolutions and dense layers take; the rest is the "glue"
            print(f"{'kernels share of step':<22}{'float32':>20}{'bfloat16':>10}")
            for preset, fp32, bf16 in (("tutorial", "engine fp32", "engine bf16"), ("dcgan", "dcgan fp32", "dcgan bf16")):
                if preset not in KERNEL_FLOPS or bf16_speedup(med, fp32, bf16) is None:
                    continue
                flop, batch = KERNEL_FLOPS[preset]
                bf16 = bf16 if bf16 in med else "engine auto"
                share = [flop / 1e9 / roof[f"{preset} kernels {dt}"] / (batch / med[v])
                         for dt, v in (("float32", fp32), ("bfloat16", bf16))]
                print(f"{preset:<22}{share[0]:>20.0%}{share[1]:>10.0%}")

if __name__ == "__main__":
    main()
