"""What a run is set up with, decided before its first step: the device's compile and precision settings, the
network fitted to the data, and the training state (models, optimizers, RNG, step counters) with the
tf.train.Checkpoint that saves and restores all of it. The Trainer calls these once in its setup."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config
from ..data import Dataset
from ..core.errors import DataError
from ..config.sampling import fixed_grid_size


def resolve_jit(setting: str, device: str) -> bool:
    """'auto' -> XLA on GPUs only. On the CPUs measured (benchmarks/throughput.py, README) XLA gave 0.92-1.09x
    for the tutorial step on an AVX2 machine and 0.65x on an AVX-512 one, while compiling costs seconds at every
    (re)trace. Never on TPUs: TPUStrategy compiles the step with XLA itself."""
    if device == "TPU":
        return False
    if setting == "auto":
        return device == "GPU"
    return setting == "on"


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(setting: str, device: str, bf16_gain=None) -> str:
    """'auto' -> mixed_float16 on GPUs, mixed_bfloat16 on TPUs (their native format); on CPUs mixed_bfloat16 only
    where it measurably pays: the CPU computes bf16 natively (elsewhere it is emulated, ~10x slower) and a cached
    micro-benchmark (engine/bf16gain.py) gives bf16 at least MIN_GAIN x float32's speed. bf16_gain: the
    measurement (injectable for tests)."""
    if setting != "auto":
        return setting
    if device == "GPU":
        return "mixed_float16"
    if device == "TPU":
        return "mixed_bfloat16"
    from .bf16gain import MIN_GAIN, bf16_gain as measured_gain  # noqa: PLC0415

    return "mixed_bfloat16" if cpu_has_native_bf16() and (bf16_gain or measured_gain)() >= MIN_GAIN else "float32"


def adapt_arch_to_data(config: Config, shape: tuple[int, int, int]) -> tuple[Config, str]:
    """Data picks a fitting network: the 'tutorial' network is fixed at 28x28x1, so for other square 28/32/64 px
    data switch to the dcgan network at the data's size and channels, every other setting unchanged. Only for
    configs the user did not pin (CLI without --preset/--config/--set arch, the studio's dataset drop or field).
    Returns the config and a one-line note ('' when nothing changed)."""
    h, w, c = shape
    if config.model.arch != "tutorial" or (h, w, c) == (28, 28, 1) or h != w or h not in (28, 32, 64):
        return config, ""
    new = config.with_updates({"arch": "dcgan", "image_size": h, "channels": c})
    return new, (f"the data is {h}x{w}x{c} and the 'tutorial' network is fixed at 28x28x1, so this run uses the dcgan "
                 f"network at {h}x{w}x{c}, other settings unchanged (--preset dcgan also takes its tuned settings)")


def fit_config_to_data(config: Config, ds: Dataset) -> Config:
    """The model's input shape follows the dataset where the architecture allows; otherwise explain."""
    h, w, c = ds.shape
    m = config.model
    if m.conditional:
        if ds.labels is None:
            raise DataError(f"dataset {ds.name!r} has no labels but conditional=true; use class subfolders, an .npz "
                            f"with a 'y' array, or set conditional=false")
        n_classes = int(ds.labels.max()) + 1
        if n_classes != m.num_classes:
            config = config.with_updates({"num_classes": n_classes})
    if (m.image_size, m.channels) == (h, c) and h == w:
        return config
    if m.arch == "tutorial":
        raise DataError(f"dataset {ds.name!r} has {h}x{w}x{c} images but the 'tutorial' network is fixed at "
                        f"28x28x1; use --preset dcgan (or --set arch=dcgan), which adapts to 28/32/64 px and 1 or 3 "
                        f"channels")
    if h != w or h not in (28, 32, 64):
        raise DataError(f"dataset {ds.name!r} has {h}x{w} images; the dcgan network supports square 28, 32 or 64 px "
                        f"images; resize the data first")
    return config.with_updates({"image_size": h, "channels": c})


def extend_budget(config: Config, step: int, total_steps: int, train_seconds: float
                  ) -> tuple[Config, int, list[str]]:
    """A resumed run that has used its whole budget trains as much again: (the config with the budget (steps /
    epochs, train_minutes) extended from `step`, the new total steps, a note for each extension). A budget with
    room left is unchanged."""
    updates: dict[str, Any] = {}
    notes = []
    if total_steps and step >= total_steps:
        updates["steps"] = step + total_steps
        notes.append(f"the run had used its budget of {total_steps:,} steps; training {total_steps:,} more, to "
                     f"step {step + total_steps:,} (--steps sets another total)")
        total_steps = step + total_steps
    minutes = config.train.train_minutes
    if minutes and train_seconds >= 60 * minutes:
        updates["train_minutes"] = round(train_seconds / 60 + minutes, 2)
        notes.append(f"the run had used its budget of {minutes:g} training minutes; training {minutes:g} more "
                     f"(--set train_minutes=M sets another total)")
    return (config.with_updates(updates) if updates else config), total_steps, notes


@dataclass
class TrainState:
    """Everything a checkpoint saves: the models (G_ema: the generator's moving average, or None), their
    optimizers, the step's RNG, the fixed noise of the sample grid, the step counter and ADA's p."""
    G: Any
    D: Any
    G_ema: Any
    g_opt: Any
    d_opt: Any
    rng: Any
    fixed_noise: Any
    step_var: Any
    ada_p: Any
    ckpt: Any


def build_state(cfg: Config, precision: str, replicas: int) -> TrainState:
    """Models, optimizers and variables for `cfg`; call under the strategy's scope after seeding Keras (the initial
    weights are the seed's). precision: the resolved dtype policy (mixed_float16 wraps the optimizers in loss
    scaling); replicas > 1: synchronised batch norm."""
    import keras  # noqa: PLC0415

    from ..models import build_discriminator, build_generator  # noqa: PLC0415
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    tf = import_tf()
    sync = replicas > 1
    G = build_generator(cfg.model, sync_bn=sync)
    D = build_discriminator(cfg.model, sync_bn=sync)
    G_ema = None
    if cfg.optim.ema_decay:
        G_ema = build_generator(cfg.model, sync_bn=sync)
        G_ema.set_weights(G.get_weights())
    o = cfg.optim
    g_opt = keras.optimizers.Adam(o.g_lr, beta_1=o.beta1, beta_2=o.beta2, epsilon=o.epsilon)
    d_opt = keras.optimizers.Adam(o.d_lr, beta_1=o.beta1, beta_2=o.beta2, epsilon=o.epsilon)
    if precision == "mixed_float16":  # float16 gradients underflow without loss scaling
        g_opt = keras.optimizers.LossScaleOptimizer(g_opt)
        d_opt = keras.optimizers.LossScaleOptimizer(d_opt)
    g_opt.build(G.trainable_variables)
    d_opt.build(D.trainable_variables)

    seed = cfg.train.seed
    noise = np.random.default_rng(seed).standard_normal((fixed_grid_size(cfg), cfg.model.noise_dim))
    rng = tf.random.Generator.from_seed(seed)
    fixed_noise = tf.Variable(noise.astype(np.float32), trainable=False, name="fixed_noise")
    step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    # adaptive augmentation's p: read by the step at every call, moved by the loop, checkpointed
    ada_p = tf.Variable(cfg.data.ada_p, dtype=tf.float32, trainable=False, name="ada_p")
    # Keras' dropout SeedGenerator states are not reachable through the models' checkpoint dependencies;
    # without them a resumed run draws different dropout masks.
    seed_states = [v.value for m in (G, D) for v in m.non_trainable_variables if "seed_generator_state" in v.path]
    extra = {"generator_ema": G_ema} if G_ema is not None else {}
    ckpt = tf.train.Checkpoint(generator=G, discriminator=D, g_opt=g_opt, d_opt=d_opt, rng=rng,
                               fixed_noise=fixed_noise, step=step_var, dropout_seeds=seed_states, ada_p=ada_p, **extra)
    return TrainState(G, D, G_ema, g_opt, d_opt, rng, fixed_noise, step_var, ada_p, ckpt)
