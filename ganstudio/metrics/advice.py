"""The adviser's records (Qt-free, no engine import): a warning is data, and so is each of its remedies.

A `HealthWarning` says what happened (message, with the numbers), why it likely happened (cause), the numbers
themselves (evidence) and what to do (remedies). A `Remedy` is a set of config edits and/or an action; the studio
renders it as a button (live edits go through Control.edit, actions through Control.request or the window) and
the CLI prints `Remedy.command(run)`, the exact command line that applies it to a stopped run.
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable

ACTIONS = ("", "rollback_best", "export_best", "stop", "resume")


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@dataclass(frozen=True)
class Remedy:
    label: str                                      # the button text, e.g. "Halve both learning rates"
    edits: dict[str, Any] = field(default_factory=dict)   # config edits, e.g. {"g_lr": 1e-4, "d_lr": 1e-4}
    action: str = ""   # "" (edits only) | rollback_best | export_best | stop | resume (edits that need a restart)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown remedy action {self.action!r}; one of {ACTIONS}")

    def command(self, run_dir: str = "RUN") -> str:
        """The CLI command that applies this remedy to the (stopped) run in `run_dir`."""
        run = shlex.quote(str(run_dir))
        sets = "".join(f" --set {shlex.quote(f'{k}={_fmt(v)}')}" for k, v in self.edits.items())
        if self.action == "export_best":
            return f"ganstudio export {run} --format keras --checkpoint best"
        if self.action == "stop":
            return "Ctrl-C (stops after the current step and saves a checkpoint)"
        if self.action == "rollback_best":
            return f"ganstudio resume {run} --checkpoint best{sets}"
        return f"ganstudio resume {run}{sets}"

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "edits": dict(self.edits), "action": self.action}


@dataclass(frozen=True)
class HealthWarning:
    kind: str                      # one of KINDS
    step: int
    message: str                   # what happened, with the numbers (never contradicting them)
    cause: str = ""                # the likely cause
    evidence: dict[str, float] = field(default_factory=dict)   # the numbers the message states
    remedies: tuple[Remedy, ...] = ()

    def text(self) -> str:
        """One line for a log or a Message(level='warning') event."""
        return f"step {self.step}: {self.message}" + (f" -- {self.cause}" if self.cause else "")

    def cli_lines(self, run_dir: str = "RUN") -> list[str]:
        """What the CLI prints: the warning, its cause, and each remedy as a command."""
        lines = [f"warning at step {self.step}: {self.message}"]
        if self.cause:
            lines.append(f"  likely cause: {self.cause}")
        lines += [f"  fix: {r.label}: {r.command(run_dir)}" for r in self.remedies]
        return lines

    def to_row(self) -> dict[str, Any]:
        """A health.jsonl row (non-finite evidence becomes null: JSON has no NaN)."""
        ev = {k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in self.evidence.items()}
        return {"step": self.step, "kind": self.kind, "message": self.message, "cause": self.cause, "evidence": ev,
                "remedies": [r.to_dict() for r in self.remedies]}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "HealthWarning":
        rem = tuple(Remedy(str(r.get("label", "")), dict(r.get("edits") or {}),
                           r.get("action", "") if r.get("action", "") in ACTIONS else "")
                    for r in row.get("remedies") or () if isinstance(r, dict))
        ev = {k: (math.nan if v is None else v) for k, v in (row.get("evidence") or {}).items()}
        return cls(str(row.get("kind", "")), int(row.get("step", 0)), str(row.get("message", "")),
                   str(row.get("cause", "")), ev, rem)


def best_quality(rows: Iterable[dict[str, Any]]) -> tuple[float, int] | None:
    """(lowest FD, its step) over quality rows (quality.jsonl or Metric events as dicts); None without any."""
    best = None
    for r in rows:
        fd = r.get("fd")
        if isinstance(fd, (int, float)) and math.isfinite(fd) and (best is None or fd < best[0]):
            best = (float(fd), int(r.get("step", 0)))
    return best


def best_text(best: tuple[float, int] | None) -> str:
    """'best FD 12.3 @ step 4,000' for the status bar and the CLI progress line; '' without a measurement."""
    return "" if best is None else f"best FD {best[0]:.3g} @ step {best[1]:,}"
