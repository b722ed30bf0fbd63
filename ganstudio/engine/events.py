"""Plain events the Trainer yields. Only Python scalars, strings and fresh numpy arrays: they cross threads
(Qt signals declared as `object`) and processes (the metrics log) unchanged."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# A training-health warning is the adviser's record (kind, step, message, cause, evidence, remedies): one definition,
# in the Qt-free metrics package, which never imports the engine. Its one name is HealthWarning.
from ..metrics.advice import HealthWarning


def __getattr__(name: str):
    if name == "Health":   # the old second name of HealthWarning: still importable, with a DeprecationWarning
        import warnings  # noqa: PLC0415

        warnings.warn("ganstudio.engine.events.Health is deprecated; use HealthWarning", DeprecationWarning,
                      stacklevel=2)
        return HealthWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Started:
    run_dir: str
    config: dict[str, Any]
    step: int                 # 0 for a new run, the checkpoint's step on resume
    total_steps: int
    steps_per_epoch: int
    dataset: str
    device: str               # e.g. "CPU, XLA on" -- what 'auto' chose
    g_params: int
    d_params: int


@dataclass(frozen=True)
class StepMetrics:
    step: int                 # steps completed so far (1 after the first step)
    epoch: float              # fractional epoch, step / steps_per_epoch
    wall: float               # seconds since the run (or resume) started
    g_loss: float
    d_loss: float
    d_real: float             # mean D(x) as a probability
    d_fake: float             # mean D(G(z)) as a probability
    images_per_sec: float
    r_real: float = math.nan  # mean sign(D logits on real images): StyleGAN2-ADA's overfitting signal r_t
    ada_p: float = 0.0        # adaptive augmentation's probability during this step (0 when ADA is off)

    def to_row(self) -> dict[str, float]:
        """The metrics.jsonl row: every field, in METRICS_FIELDS order."""
        return {k: getattr(self, k) for k in METRICS_FIELDS}


@dataclass(frozen=True)
class SampleGrid:
    step: int
    images: np.ndarray        # uint8 (N, H, W, C) from the fixed noise
    path: str = ""            # the PNG in the run folder, if written


@dataclass(frozen=True)
class ConfigChanged:
    step: int
    changes: dict[str, tuple[Any, Any]]   # name -> (old, new)


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str


@dataclass(frozen=True)
class Metric:
    """Quality of the generator: Fréchet distance and KID to real images in a small classifier's feature space
    (lower is better), and the diversity of generated features (mode-collapse detector). One event is one row of
    the run's quality.jsonl: `to_row()` writes it, `QUALITY_FIELDS` names its columns."""
    step: int
    fd: float
    kid: float
    diversity: float
    n: int
    seconds: float
    source: str               # where the feature classifier came from: bundled | cache | trained | random
    accuracy: float | None    # that classifier's test accuracy
    # mean distance of generated samples to their nearest training image / the same for held-out real images
    # (metrics.fid.QualityMetric): ~1 healthy, well below 1 = copying the training set, NaN if not measured
    memorization: float = math.nan

    def to_row(self) -> dict[str, Any]:
        """The quality.jsonl row: every field, in QUALITY_FIELDS order."""
        return {k: getattr(self, k) for k in QUALITY_FIELDS}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Metric:
        """The event of a quality.jsonl row; columns an older run did not write get their defaults."""
        defaults = {"n": 0, "seconds": 0.0, "source": "", "accuracy": None, "memorization": math.nan,
                    "kid": math.nan, "diversity": math.nan}
        return cls(**{k: row.get(k, defaults.get(k)) for k in QUALITY_FIELDS})


# The columns of a quality row (quality.jsonl), written by the trainer and read by the report, runs and the studio.
QUALITY_FIELDS: tuple[str, ...] = ("step", "fd", "kid", "diversity", "n", "seconds", "source", "accuracy",
                                   "memorization")
# The columns of a metrics row (metrics.jsonl): StepMetrics.to_row().
METRICS_FIELDS: tuple[str, ...] = ("step", "epoch", "wall", "g_loss", "d_loss", "d_real", "d_fake", "images_per_sec",
                                   "r_real", "ada_p")


@dataclass(frozen=True)
class RolledBack:
    """The trainer restored the checkpoint of `step` (discarding from_step - step steps) and paused: after NaN/Inf
    (reason 'nan'), after diverging losses (reason 'divergence') or on a 'restore' request (reason 'restore')."""
    step: int
    from_step: int
    reason: str = "nan"


@dataclass(frozen=True)
class BestCheckpoint:
    """The checkpoint of `step` is now the best (lowest Fréchet distance so far); it is never pruned."""
    step: int
    fd: float
    path: str


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Message:
    text: str
    level: str = "info"       # info | warning | error


@dataclass(frozen=True)
class Finished:
    step: int
    reason: str               # completed | stopped | error
    run_dir: str
    final_grid: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Generated:
    """The answer to a 'generate' request: images of the live generator (its EMA when there is one and the
    request asked for it) for the given noise, or the fixed noise and labels when it gave none."""
    step: int
    images: np.ndarray        # uint8 (N, H, W, C)
    noise: np.ndarray         # float32 (N, noise_dim), as used
    labels: np.ndarray | None  # int32 (N,) for conditional models
    tag: str = ""             # echoed from the request, so a front end matches answers to its questions


@dataclass(frozen=True)
class WriteFailed:
    """A write into the run folder failed (disk full, read-only, permission denied). The studio's trainer paused
    the run: nothing is lost, and Resume continues once the cause is fixed. The last checkpoint is intact."""
    step: int
    message: str


@dataclass(frozen=True)
class CheckpointsChanged:
    """A pin or delete requested from the studio was done on the training thread (never racing retention)."""
    step: int
    text: str


Event = (Started | StepMetrics | SampleGrid | ConfigChanged | CheckpointSaved | Metric | HealthWarning | RolledBack | Paused
         | Resumed | Message | Finished | BestCheckpoint | Generated | WriteFailed | CheckpointsChanged)

# Every event type the Trainer yields, for front ends that check they handle them all.
EVENT_TYPES: tuple[type, ...] = (Started, StepMetrics, SampleGrid, ConfigChanged, CheckpointSaved, Metric, HealthWarning,
                                 RolledBack, Paused, Resumed, Message, Finished, BestCheckpoint, Generated, WriteFailed,
                                 CheckpointsChanged)
