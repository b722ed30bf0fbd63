"""Applying the adviser's remedies (metrics.advice.Remedy) in the studio: one click on a banner button.

Live edits go to the trainer through Control.edit (logged to edits.jsonl; a ConfigChanged event updates the
form). Edits of fields that cannot change while training, and the 'resume' action, stop the run and resume it
from its last checkpoint with the form changed. 'rollback_best' sends the edits, then asks the trainer to restore
the best checkpoint (it continues from there, paused); 'export_best' exports the best checkpoint's generator once
the run has stopped; 'stop' stops.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..config import LIVE_FIELDS
from ..metrics.advice import Remedy

if TYPE_CHECKING:
    from .main_window import MainWindow


def _fmt(edits: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in edits.items())


def _live(win: "MainWindow") -> bool:
    return win.session is not None and win.state in ("running", "paused")


def _when_stopped(win: "MainWindow", then: Callable[[], None]) -> None:
    """Run `then` now if no run is active, else stop the run (saving a checkpoint) and run it once the training
    thread has finished."""
    if win.session is None:
        then()
        return
    session = win.session

    def done() -> None:
        session.finished.disconnect(done)
        then()

    session.finished.connect(done)   # after the window's own slot, which clears win.session
    win.stop_training()


def apply_remedy(win: "MainWindow", remedy: Remedy) -> str:
    """Apply `remedy`; returns what was done, also shown in the status bar."""
    edits = dict(remedy.edits)
    restart = remedy.action == "resume" or any(k not in LIVE_FIELDS for k in edits)
    if remedy.action == "stop":
        text = "Stopping after the current step (saving a checkpoint)"
        win.stop_training()
    elif remedy.action == "export_best":
        text = "Exporting the best checkpoint's generator" + (" once the run has stopped" if _live(win) else "")
        _when_stopped(win, lambda: win.export_run("keras", step="best"))
    elif restart and _live(win):
        text = f"Stopping, then resuming from the last checkpoint with {_fmt(edits)}"

        def resume() -> None:
            for k, v in edits.items():
                win.panel.set_value(k, v)
            win.start_training()     # Start continues the stopped run (resume_path) with the form's config

        _when_stopped(win, resume)
    elif _live(win):
        if edits:
            win.session.control.edit(**edits)   # a ConfigChanged event comes back and updates the form
        text = f"Applied {_fmt(edits)}" if edits else ""
        if remedy.action == "rollback_best":
            win.session.control.request("restore", which="best")
            text = (text + "; " if text else "") + "rolling back to the best checkpoint (then paused)"
        elif win.state == "paused":
            text += "; press Resume to continue"
    else:
        for k, v in edits.items():
            win.panel.set_value(k, v)
        text = f"Set {_fmt(edits)} in the form" if edits else "Start a run first"
    win.statusBar().showMessage(text, 10000)
    return text
