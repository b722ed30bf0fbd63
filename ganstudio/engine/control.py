"""Thread-safe commands from a front end (GUI thread, signal handler) to a running Trainer.

The Trainer calls `next_action()` between steps; it blocks while paused, so pause/step/stop take effect at step
boundaries and never touch TensorFlow objects from another thread.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Any


class Control:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._paused = False
        self._stop = False
        self._save_on_stop = True
        self._budget = 0          # steps allowed while paused (Step / step N)
        self._edits: deque[dict[str, Any]] = deque()
        self._requests: deque[tuple[str, dict[str, Any]]] = deque()

    # -- front end side -------------------------------------------------------------------------------------
    def pause(self) -> None:
        with self._cv:
            self._paused = True
            self._budget = 0
            self._cv.notify_all()

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._budget = 0
            self._cv.notify_all()

    def step(self, n: int = 1) -> None:
        """Pause (if running) and allow exactly n more steps."""
        with self._cv:
            self._paused = True
            self._budget += max(0, int(n))
            self._cv.notify_all()

    def stop(self, save: bool = True) -> None:
        """Stop at the next step boundary; save=False skips the final checkpoint and grid (Discard)."""
        with self._cv:
            self._stop = True
            self._save_on_stop = self._save_on_stop and save
            self._cv.notify_all()

    def edit(self, **updates: Any) -> None:
        """Queue live config edits ({field: value}); the trainer validates and applies them before its next step."""
        with self._cv:
            self._edits.append(dict(updates))
            self._cv.notify_all()

    def request(self, what: str, **kwargs: Any) -> None:
        """Ask for work done on the training thread even while paused: 'sample', 'checkpoint', 'metric',
        'generate' (noise=, labels=, ema=, tag=; answered by a Generated event)."""
        with self._cv:
            self._requests.append((what, kwargs))
            self._cv.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def save_on_stop(self) -> bool:
        return self._save_on_stop

    # -- trainer side ---------------------------------------------------------------------------------------
    def next_action(self, timeout: float | None = None) -> str:
        """Block until there is something to do: 'stop', 'request', 'edit' or 'step' ('idle' on timeout)."""
        with self._cv:
            while True:
                if self._stop:
                    return "stop"
                if self._requests:
                    return "request"
                if self._edits:
                    return "edit"
                if not self._paused:
                    return "step"
                if self._budget > 0:
                    self._budget -= 1
                    return "step"
                if not self._cv.wait(timeout):
                    return "idle"

    def take_edits(self) -> dict[str, Any]:
        with self._cv:
            merged: dict[str, Any] = {}
            while self._edits:
                merged.update(self._edits.popleft())
            return merged

    def take_request(self) -> tuple[str, dict[str, Any]] | None:
        with self._cv:
            return self._requests.popleft() if self._requests else None
