"""Does bfloat16 pay on this CPU? A short micro-benchmark of a GAN layer's training work in float32 and bfloat16,
measured once per CPU model and TensorFlow version and cached, so `precision=auto` decides from measurement.

Native bf16 alone does not settle it: on an AVX512-BF16 CPU without AMX (AMD Zen4) the tutorial step gained
1.2 to 1.35x, on one with AMX (Intel Xeon) about 1.9x, and a CPU or TensorFlow build whose kernels do not use
the bf16 instructions may gain nothing.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from ..core.errors import WriteError
from ..core.fileio import atomic_write_text
from ..core.tfsetup import import_tf

MIN_GAIN = 1.1   # below this, float32's exactness is worth more than the speed


def cache_path() -> Path:
    """$GANSTUDIO_CACHE/bf16_gain.json, else ($XDG_CACHE_HOME or ~/.cache)/ganstudio/bf16_gain.json."""
    if os.environ.get("GANSTUDIO_CACHE"):
        return Path(os.environ["GANSTUDIO_CACHE"]) / "bf16_gain.json"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganstudio" / "bf16_gain.json"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(rounds: int = 5, calls: int = 2) -> float:
    """float32 time / mixed_bfloat16 time of one training pass (forward + backward) through a discriminator block
    built as the models build it: 5x5 stride-2 conv 64 -> 128 channels on 14x14, batch norm, LeakyReLU, dropout, at
    batch 64. The convs gain most from bf16 and the elementwise ops least, so the block weighs both as the step
    does (a lone matmul or conv overstates the step's gain about twofold). Alternating rounds, medians; about 2 s
    on 2 cores."""
    import keras  # noqa: PLC0415

    from ..models.bf16_layers import batch_norm, dropout, leaky_relu  # noqa: PLC0415

    tf = import_tf()
    x = tf.random.stateless_normal([64, 14, 14, 64], [1, 2])

    def block(policy):
        # Fixed seeds and names: the probe runs after the trainer seeds Keras and must not move the global seed
        # generator, Python's RNG or the layer-name counters (the run's initial weights would differ on a first run).
        L, tag = keras.layers, f"bf16probe_{policy}"
        model = keras.Sequential([
            keras.Input((14, 14, 64), name=f"{tag}_in"),
            L.Conv2D(128, 5, 2, "same", kernel_initializer=keras.initializers.GlorotUniform(seed=1), dtype=policy,
                     name=f"{tag}_conv"),
            # the models' own choice of layers for the policy
            batch_norm(dtype=policy, name=f"{tag}_bn"),
            leaky_relu(0.3, dtype=policy, name=f"{tag}_leaky"),
            dropout(0.3, seed=1, dtype=policy, name=f"{tag}_dropout")], name=tag)

        @tf.function
        def f():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.cast(model(x, training=True), tf.float32))
            return tape.gradient(loss, model.trainable_variables)[0][0, 0, 0, 0]

        f().numpy()   # trace and warm up outside the clock
        return f

    fns = {p: block(p) for p in ("float32", "mixed_bfloat16")}
    times: dict = {p: [] for p in fns}
    for _ in range(rounds):
        for p, f in fns.items():
            t = time.perf_counter()
            for _ in range(calls):
                f().numpy()
            times[p].append(time.perf_counter() - t)
    return statistics.median(times["float32"]) / statistics.median(times["mixed_bfloat16"])


def bf16_gain(measure_fn=measure) -> float:
    """This CPU's bf16/fp32 speed-up, from the cache or measured now and cached (keyed by CPU model and
    TensorFlow version: a new TensorFlow can bring other kernels)."""
    tf = import_tf()
    key = f"{cpu_model()} | TensorFlow {tf.__version__}"
    path = cache_path()
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    cached = cached if isinstance(cached, dict) else {}
    if isinstance(cached.get(key), (int, float)):
        return float(cached[key])
    gain = float(measure_fn())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({**cached, key: round(gain, 3)}, indent=1))
    except (OSError, WriteError):
        pass   # an unwritable cache costs a second per run, never the run
    return gain
