"""The single source of every hyperparameter.

A `Config` is a frozen tree of small frozen dataclasses (one per GUI group). Each field carries metadata:
help text, range or choices, and whether it may change while training (`live`). The CLI's `--set`, the GUI
form, the run folder's config.json and the checkpoint all derive from these fields: adding a hyperparameter
means adding one field here and using it in the engine.

Field names are unique across groups, so `--set g_lr=2e-4` and `--set optim.g_lr=2e-4` both work.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import ConfigError


def hp(default: Any, help: str, *, min: float | None = None, max: float | None = None,
       min_exclusive: bool = False, choices: tuple | None = None, live: bool = False,
       step: float | None = None, log: bool = False) -> Any:
    """A hyperparameter field. `log` hints the GUI to step multiplicatively (learning rates)."""
    meta = dict(help=help, min=min, max=max, min_exclusive=min_exclusive, choices=choices, live=live,
                step=step, log=log)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelConfig:
    arch: str = hp("tutorial", "Network family: 'tutorial' is the TF DCGAN tutorial layer for layer; "
                   "'dcgan' is the Radford et al. variant generic over resolution and channels.",
                   choices=("tutorial", "dcgan"))
    noise_dim: int = hp(100, "Length of the latent noise vector z.", min=1, max=1024)
    image_size: int = hp(28, "Generated image height and width in pixels (follows the dataset).", choices=(28, 32, 64))
    channels: int = hp(1, "Image channels: 1 grayscale, 3 RGB (follows the dataset).", choices=(1, 3))
    width: int = hp(64, "Base number of filters; the tutorial uses 64 (D) and 64..256 (G).", min=8, max=512)
    dropout: float = hp(0.3, "Dropout rate after each discriminator conv block.", min=0.0, max=0.9)
    leaky_slope: float = hp(0.3, "Negative slope of LeakyReLU (Keras default 0.3, as in the tutorial).",
                            min=0.0, max=1.0)
    g_norm: str = hp("batch", "Normalization in the dcgan generator.", choices=("batch", "layer", "none"))
    d_norm: str = hp("batch", "Normalization in the dcgan discriminator ('none' or 'layer' for WGAN-GP: batch norm "
                     "breaks the per-sample gradient penalty).", choices=("batch", "layer", "none"))
    spectral_norm: bool = hp(False, "Spectral normalization on every discriminator layer (Miyato et al.).")
    conditional: bool = hp(False, "Class-conditional G and D (label embedding in G, projection discriminator); "
                           "needs a labelled dataset. The sample grid shows one row per class.")
    num_classes: int = hp(10, "Number of classes for conditional models (follows the dataset's labels).", min=1,
                          max=1000)


@dataclass(frozen=True)
class OptimConfig:
    g_lr: float = hp(1e-4, "Generator Adam learning rate.", min=0.0, max=1.0, min_exclusive=True, live=True, log=True)
    d_lr: float = hp(1e-4, "Discriminator Adam learning rate.", min=0.0, max=1.0, min_exclusive=True, live=True,
                     log=True)
    beta1: float = hp(0.9, "Adam beta_1 (momentum) for both optimizers.", min=0.0, max=0.9999, live=True)
    beta2: float = hp(0.999, "Adam beta_2 for both optimizers.", min=0.0, max=0.99999, live=True)
    epsilon: float = hp(1e-7, "Adam epsilon (Keras default, as in the tutorial).", min=0.0, max=1.0,
                        min_exclusive=True, log=True)
    loss: str = hp("bce_ns", "GAN loss: 'bce_ns' non-saturating cross-entropy (tutorial), 'minimax' (original "
                   "GAN), 'lsgan' least squares, 'wgan_gp' Wasserstein + gradient penalty, 'hinge'.",
                   choices=("bce_ns", "minimax", "lsgan", "wgan_gp", "hinge"))
    gp_weight: float = hp(10.0, "WGAN-GP gradient penalty weight (lambda).", min=0.0, max=1000.0)
    r1_gamma: float = hp(0.0, "R1 penalty weight on real images' D gradients (0 = off).", min=0.0, max=1000.0)
    label_smoothing: float = hp(0.0, "One-sided label smoothing: real targets become 1 - s (cross-entropy losses).",
                                min=0.0, max=0.5)
    d_steps: int = hp(1, "Discriminator updates per generator update (n_critic; WGAN-GP uses 5).", min=1, max=20)
    ema_decay: float = hp(0.0, "Exponential moving average of the generator's weights for samples and exports "
                          "(e.g. 0.999; 0 = off).", min=0.0, max=0.99999)
    ema_rampup: float = hp(0.0, "Karras et al.'s EMA ramp-up: the average's half-life (set by ema_decay: "
                           "batch x ln 0.5 / ln ema_decay images) is capped at this fraction of the images seen so far, "
                           "so early weights fade fast (they use 0.05 with a 10k-image half-life; 0 = off).",
                           min=0.0, max=1.0)


@dataclass(frozen=True)
class DataConfig:
    dataset: str = hp("bundled", "Dataset: 'bundled' (offline Fashion-MNIST subset), 'mnist', 'fashion_mnist', "
                      "'cifar10', a folder of images (class subfolders become labels), or an .npz/.npy/IDX file.")
    batch_size: int = hp(256, "Images per training step.", min=1, max=65536)
    resolution: int = hp(0, "Resize folder images to this size; 0 = the model's image_size.", choices=(0, 28, 32, 64))
    color: str = hp("auto", "Folder images as 'grayscale' or 'rgb'; 'auto' picks rgb if the images have colour.",
                    choices=("auto", "grayscale", "rgb"))
    resize: str = hp("crop", "Non-square folder images: 'crop' the centre square or 'pad' to a square.",
                     choices=("crop", "pad"))
    bad_images: str = hp("skip", "Unreadable/corrupt/too-small images in a folder: 'skip' with a warning and a "
                         "count, or 'fail' naming the first one.", choices=("skip", "fail"))
    npz_key: str = hp("", "Array to use in an .npz holding several (default: x_train, x, images, or the only one).")
    diffaugment: str = hp("", "Differentiable augmentation of real and fake images before D, for small datasets: "
                          "comma-separated of translation, cutout, color (e.g. 'translation,cutout').")
    ada_target: float = hp(0.0, "Adaptive augmentation (StyleGAN2-ADA): each diffaugment op (all three if none is "
                           "set) is applied per image with probability p, which rises while r_t = E[sign(D(real))] "
                           "is above this target (D memorising the data) and falls below it. 0 = off; the paper "
                           "uses 0.6.", min=0.0, max=1.0, live=True)
    ada_kimg: float = hp(100.0, "ADA speed: thousands of images for p to move from 0 to 1 at full speed. The paper "
                         "uses 500 for runs of tens of millions of images; a 5-minute CPU run sees ~0.5 million.",
                         min=0.1, max=100_000.0, live=True, log=True)
    ada_p: float = hp(0.0, "ADA's augmentation probability p at the start; editing it while training sets p at the "
                      "next step (ADA keeps tuning from there). p itself is checkpointed and logged as ada_p.",
                      min=0.0, max=1.0, live=True)
    limit: int = hp(0, "Use only the first N images (0 = all); handy for quick experiments.", min=0,
                    max=100_000_000)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = hp(0, "Stop after this many steps in total (0 = use epochs).", min=0, max=100_000_000)
    epochs: int = hp(50, "Stop after this many epochs when steps is 0 (the tutorial trains 50).", min=0,
                     max=1_000_000)
    train_minutes: float = hp(0.0, "Also stop after this many minutes of training time (0 = no limit). Only time "
                              "inside training steps counts, not start-up, tracing, samples, checkpoints or the "
                              "quality metric, so fast and slow configs get an equal budget (sweeps).", min=0.0,
                              max=1_000_000.0)
    seed: int = hp(42, "Seed for weights, noise, dropout and data order.", min=0, max=2**31 - 1)
    deterministic: bool = hp(False, "Enable TensorFlow op determinism: bit-identical runs, somewhat slower.")
    jit_compile: str = hp("auto", "XLA-compile the train step: 'auto' picks per device, 'on', 'off'.",
                          choices=("auto", "on", "off"))
    steps_per_call: int = hp(0, "Training steps per compiled call (a loop inside one tf.function, like Keras' "
                             "steps_per_execution); 0 = auto: 8 on GPUs, where Python overhead matters, 1 on CPUs. "
                             "Pause and Step still act on single steps.", min=0, max=1000)
    strategy: str = hp("auto", "tf.distribute strategy: 'auto' (multi-worker if TF_CONFIG names a cluster, mirrored on "
                       "several GPUs, else default), 'default', 'mirrored' (all local GPUs), 'multiworker', 'tpu' "
                       "(a TPU VM's own TPU, or the one TPU_NAME names). The global batch is split over replicas.",
                       choices=("auto", "default", "mirrored", "multiworker", "tpu"))
    precision: str = hp("auto", "Compute dtype: 'auto' picks mixed_bfloat16 on CPUs with native bf16 (AVX512-BF16/AMX) "
                        "where it measures >= 1.1x float32's speed (a few seconds, once per CPU and TensorFlow "
                        "version), mixed_float16 on GPUs, float32 elsewhere; variables stay float32.",
                        choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"))
    checkpoint_every: int = hp(1000, "Save a checkpoint every N steps (0 = only on stop).", min=0,
                               max=100_000_000, live=True)
    checkpoint_minutes: float = hp(10.0, "Also save a checkpoint every N minutes of training (0 = off).", min=0.0,
                                   max=10_000.0, live=True)
    keep_checkpoints: int = hp(5, "Keep the newest N checkpoints (pinned ones are always kept).", min=1, max=10_000,
                               live=True)
    tensorboard: bool = hp(True, "Write TensorBoard events (scalars + sample grids) to RUN_DIR/tensorboard.")
    metric_every: int = hp(500, "Compute the quality metric (Fréchet distance and KID on a small classifier's "
                            "features) every N steps (0 = off). Costs about 2 s per 1000 images on 2 CPU cores.",
                            min=0, max=100_000_000, live=True)
    metric_n: int = hp(1000, "Generated images per quality-metric evaluation.", min=100, max=50_000)
    health_window: int = hp(200, "Steps the training adviser averages over for borderline evidence (D dominance, "
                            "failure, overfitting); overwhelming evidence fires within max(10, window / 10) steps.",
                            min=10, max=100_000)
    nan_policy: str = hp("rollback", "On NaN/Inf losses: 'rollback' to the last checkpoint and pause (the studio) or "
                         "stop (CLI), or just 'stop'.", choices=("rollback", "stop"))
    log_every: int = hp(1, "Write a metrics row every N steps.", min=1, max=100_000, live=True)


@dataclass(frozen=True)
class SampleConfig:
    sample_every: int = hp(100, "Render the fixed-noise sample grid every N steps.", min=1, max=1_000_000, live=True)
    num_samples: int = hp(16, "Images from fixed noise in the grid (the tutorial's 16 = 4x4).", min=1, max=1024)


GROUPS: dict[str, type] = {
    "model": ModelConfig,
    "optim": OptimConfig,
    "data": DataConfig,
    "train": TrainConfig,
    "sample": SampleConfig,
}
GROUP_TITLES = {"model": "Model", "optim": "Optimizer", "data": "Data", "train": "Training", "sample": "Sampling"}
# Convenience keys that set several fields at once.
ALIASES: dict[str, tuple[str, ...]] = {"lr": ("g_lr", "d_lr")}


@dataclass(frozen=True)
class FieldInfo:
    group: str
    name: str
    type: type
    default: Any
    help: str
    min: float | None
    max: float | None
    min_exclusive: bool
    choices: tuple | None
    live: bool
    step: float | None
    log: bool

    @property
    def key(self) -> str:
        return f"{self.group}.{self.name}"

    def range_text(self) -> str:
        """'one of a, b' (declared choices), 'true or false' (bool), 'in [lo, hi]' / '>= lo' / '<= hi' (numbers with
        bounds); '' for free text and unbounded numbers, which have no range to show."""
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.type is bool:
            return "true or false"
        if self.type not in (int, float) or (self.min is None and self.max is None):
            return ""
        if self.max is None:
            return f"{'>' if self.min_exclusive else '>='} {self.min:g}"
        if self.min is None:
            return f"<= {self.max:g}"
        return f"in {'(' if self.min_exclusive else '['}{self.min:g}, {self.max:g}]"

    def parse(self, value: Any) -> Any:
        """Coerce a CLI/GUI/JSON value to this field's type, or raise ConfigError."""
        t = self.type
        try:
            if isinstance(value, str):
                s = value.strip()
                if t is bool:
                    low = s.lower()
                    if low in ("1", "true", "yes", "on"):
                        return True
                    if low in ("0", "false", "no", "off"):
                        return False
                    raise ValueError
                if t is int:
                    f = float(s)
                    if not f.is_integer():
                        raise ValueError
                    return int(f)
                return t(s)
            if t is bool:
                if isinstance(value, bool):
                    return value
                raise ValueError
            if t is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                return int(value)
            if t is float:
                if isinstance(value, bool):
                    raise ValueError
                return float(value)
            if t is str:
                if not isinstance(value, str):
                    raise ValueError
                return value
        except (TypeError, ValueError, OverflowError):
            pass
        expected = " ".join(filter(None, (t.__name__, self.range_text())))
        raise ConfigError(f"{self.name}: {value!r} is not a valid {t.__name__}; expected a {expected} ({self.help})",
                          self.name)

    def check(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{self.name}: {value!r} is not allowed; use {self.range_text()}", self.name)
        if self.type in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{self.name}: {value} is not a finite number; use a value {self.range_text()}",
                                  self.name)
            too_low = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
            too_high = self.max is not None and value > self.max
            if too_low or too_high:
                raise ConfigError(f"{self.name}: {value:g} is out of range; it must be {self.range_text()}", self.name)


def _infos() -> list[FieldInfo]:
    out = []
    for group, cls in GROUPS.items():
        hints = {"int": int, "float": float, "str": str, "bool": bool}
        for f in dataclasses.fields(cls):
            m = f.metadata
            out.append(FieldInfo(group=group, name=f.name, type=hints[f.type] if isinstance(f.type, str) else f.type,
                                 default=f.default, help=m["help"], min=m["min"], max=m["max"],
                                 min_exclusive=m["min_exclusive"], choices=m["choices"], live=m["live"],
                                 step=m["step"], log=m["log"]))
    return out


FIELDS: list[FieldInfo] = _infos()
FIELD_BY_NAME: dict[str, FieldInfo] = {f.name: f for f in FIELDS}
assert len(FIELD_BY_NAME) == len(FIELDS), "config field names must be unique across groups"
LIVE_FIELDS = frozenset(f.name for f in FIELDS if f.live)


def resolve_key(key: str) -> list[FieldInfo]:
    """'g_lr', 'optim.g_lr' or an alias like 'lr' -> the fields it sets. Unknown keys list close matches."""
    k = key.strip()
    if k in ALIASES:
        return [FIELD_BY_NAME[n] for n in ALIASES[k]]
    name = k.split(".", 1)[1] if "." in k else k
    info = FIELD_BY_NAME.get(name)
    if info is not None and ("." not in k or k.split(".", 1)[0] == info.group):
        return [info]
    candidates = list(FIELD_BY_NAME) + [f.key for f in FIELDS] + list(ALIASES)
    close = difflib.get_close_matches(k, candidates, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `ganstudio train --help-config` for the list"
    raise ConfigError(f"unknown config key {key!r}{hint}")


PRESET_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


@dataclass(frozen=True)
class Config:
    preset: str = "tutorial"
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)

    def __post_init__(self) -> None:
        if not PRESET_NAME_RE.fullmatch(self.preset):   # it names the run folder: no path separators or dots first
            raise ConfigError(f"preset: {self.preset[:80]!r} is not a valid name; use up to 64 letters, digits, "
                              f"'-', '_' or '.', not starting with '.' (it names the run folder)")
        for info in FIELDS:
            info.check(getattr(getattr(self, info.group), info.name))
        bad_aug = set(filter(None, (a.strip() for a in self.data.diffaugment.split(",")))) - \
            {"translation", "cutout", "color"}
        if bad_aug:
            raise ConfigError(f"diffaugment: unknown {', '.join(sorted(bad_aug))}; use a comma-separated list of "
                              f"translation, cutout, color", "diffaugment")
        if self.model.arch == "tutorial":
            extras = [n for n, on in (("conditional", self.model.conditional), ("spectral_norm", self.model.spectral_norm),
                                      ("g_norm", self.model.g_norm != "batch"), ("d_norm", self.model.d_norm != "batch"))
                      if on]
            if extras:
                raise ConfigError(f"{extras[0]}: the 'tutorial' network keeps the tutorial's exact layers; use "
                                  f"arch=dcgan (or --preset dcgan) for {', '.join(extras)}", extras[0])
        if self.model.arch == "tutorial" and (self.model.image_size, self.model.channels) != (28, 1):
            raise ConfigError(f"arch: the 'tutorial' network is fixed at 28x28x1, but the config asks for "
                              f"{self.model.image_size}x{self.model.image_size}x{self.model.channels}; "
                              f"use arch=dcgan for other shapes", "arch")

    # -- access ---------------------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        info = resolve_key(name)[0]
        return getattr(getattr(self, info.group), info.name)

    def items(self) -> Iterator[tuple[FieldInfo, Any]]:
        for info in FIELDS:
            yield info, getattr(getattr(self, info.group), info.name)

    def with_updates(self, updates: dict[str, Any]) -> "Config":
        """A new Config with `updates` ({key: value}, values typed or strings) applied and validated."""
        per_group: dict[str, dict[str, Any]] = {}
        for key, value in updates.items():
            for info in resolve_key(key):
                per_group.setdefault(info.group, {})[info.name] = info.parse(value)
        changes = {g: dataclasses.replace(getattr(self, g), **kv) for g, kv in per_group.items()}
        return dataclasses.replace(self, **changes)

    def diff(self, other: "Config") -> dict[str, tuple[Any, Any]]:
        return {i.name: (a, b) for (i, a), (_, b) in zip(self.items(), other.items()) if a != b}

    # -- serialisation --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "config") -> "Config":
        if not isinstance(d, dict):
            raise ConfigError(f"{source}: expected a JSON object with groups {', '.join(GROUPS)}")
        updates: dict[str, Any] = {}
        for group, body in d.items():
            if group == "preset":
                continue
            if group not in GROUPS:
                close = difflib.get_close_matches(group, list(GROUPS), n=2)
                raise ConfigError(f"{source}: unknown section {group!r}"
                                  + (f"; did you mean {', '.join(close)}?" if close else ""))
            if not isinstance(body, dict):
                raise ConfigError(f"{source}: section {group!r} must be an object")
            for name, value in body.items():
                updates[f"{group}.{name}"] = value
        try:
            return cls(preset=str(d.get("preset", "custom"))).with_updates(updates)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        p = Path(path)
        try:
            text = p.read_text()
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found") from None
        except OSError as e:
            raise ConfigError(f"{p}: cannot read config ({e.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{p}: invalid JSON at line {e.lineno}, column {e.colno} ({e.msg}); "
                              f"fix the file or delete it to start from a preset") from None
        return cls.from_dict(data, source=str(p))


def describe_fields() -> str:
    """Text table of every config key, for `--help-config`."""
    lines = []
    for group, title in GROUP_TITLES.items():
        lines.append(f"{title} ({group}.*):")
        for f in FIELDS:
            if f.group == group:
                live = " [live]" if f.live else ""
                lines.append(f"  {f.name:<17} {f.type.__name__:<5} default {f.default!r:<10} {f.range_text()}{live}"
                             .rstrip())
                lines.append(f"  {'':17} {f.help}")
    lines.append("Aliases: " + ", ".join(f"{a} -> {', '.join(v)}" for a, v in ALIASES.items()))
    return "\n".join(lines)
