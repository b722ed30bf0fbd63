"""The remedy policy: what one click on an adviser's remedy (metrics.advice.Remedy) does, given what the studio
is doing. Qt-free; StudioModel.apply_remedy carries the plan out.

- 'stop' stops the run (saving a checkpoint);
- 'export_best' exports the best checkpoint's generator, once the run has stopped;
- edits of fields that cannot change while training, and the 'resume' action, stop the run and resume it from its
  last checkpoint with the form changed (restart);
- other edits go live to the trainer (logged to edits.jsonl; a ConfigChanged event updates the form), and
  'rollback_best' then asks the trainer to restore the best checkpoint (it continues from there, paused);
- with no live run, the edits only go into the form.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config import LIVE_FIELDS
from ..metrics.advice import Remedy


def fmt_edits(edits: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in edits.items())


@dataclass(frozen=True)
class RemedyPlan:
    kind: str                 # 'stop' | 'export_best' | 'restart' | 'live' | 'form'
    text: str                 # what is done, in words (the status bar shows it)
    edits: dict = field(default_factory=dict)
    rollback: bool = False    # 'live': restore the best checkpoint after the edits


def plan_remedy(remedy: Remedy, live: bool, paused: bool = False) -> RemedyPlan:
    """`live`: a trainer is running or paused in this studio; `paused`: it is paused."""
    edits = dict(remedy.edits)
    restart = remedy.action == "resume" or any(k not in LIVE_FIELDS for k in edits)
    if remedy.action == "stop":
        return RemedyPlan("stop", "Stopping after the current step (saving a checkpoint)")
    if remedy.action == "export_best":
        return RemedyPlan("export_best", "Exporting the best checkpoint's generator"
                          + (" once the run has stopped" if live else ""))
    if restart and live:
        return RemedyPlan("restart", f"Stopping, then resuming from the last checkpoint with {fmt_edits(edits)}",
                          edits)
    if live:
        text = f"Applied {fmt_edits(edits)}" if edits else ""
        rollback = remedy.action == "rollback_best"
        if rollback:
            text = (text + "; " if text else "") + "rolling back to the best checkpoint (then paused)"
        elif paused:
            text += "; press Resume to continue"
        return RemedyPlan("live", text, edits, rollback)
    return RemedyPlan("form", f"Set {fmt_edits(edits)} in the form" if edits else "Start a run first", edits)
