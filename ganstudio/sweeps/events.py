"""Plain events a Sweep yields around its trials' own engine events (Qt-free, like engine.events)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrialStarted:
    number: int               # the Optuna trial number
    params: dict[str, Any]    # the swept values
    label: str                # "g_lr=0.0002 d_steps=2"
    run_dir: str
    resumed: bool             # continues an interrupted trial's run folder from its checkpoint
    index: int                # trials started or finished in the study before this one
    total: int                # trials in the sweep


@dataclass(frozen=True)
class TrialReport:
    """Quality measured at one of the equal-budget points and reported to Optuna (step = point 1..REPORTS)."""
    number: int
    point: int
    progress: float           # training seconds (a --minutes budget) or steps at the measurement
    step: int
    fd: float
    kid: float
    pruned: bool = False


@dataclass(frozen=True)
class TrialFinished:
    number: int
    label: str
    state: str                # complete | pruned | interrupted | failed
    run_dir: str
    steps: int
    train_seconds: float
    final_fd: float | None
    best_fd: float | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepFinished:
    folder: str
    reason: str               # completed | stopped
    summary: str              # the Markdown table
    montage: str              # its path ("" when no trial has a grid yet)
