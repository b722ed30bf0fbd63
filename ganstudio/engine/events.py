"""Plain events the Trainer yields. Only Python scalars, strings and fresh numpy arrays: they cross threads
(Qt signals declared as `object`) and processes (the metrics log) unchanged."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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

    def to_row(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


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


Event = Started | StepMetrics | SampleGrid | ConfigChanged | CheckpointSaved | Paused | Resumed | Message | Finished
