"""What the studio is doing. A StrEnum: `state == "paused"` and the window's stateChanged(str) signal read as
plain strings, and an unknown state fails where it is set."""
from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    ERROR = "error"
    WATCHING = "watching"

    @property
    def live(self) -> bool:
        """A trainer is running or paused: it takes commands and live edits."""
        return self in (State.RUNNING, State.PAUSED)

    @property
    def active(self) -> bool:
        """A training session exists (also while it stops)."""
        return self in (State.RUNNING, State.PAUSED, State.STOPPING)
