"""Run `Trainer.run()` in a QThread and re-emit each engine event as a Qt signal.

The engine stays Qt-free: the worker hands it plain values (a Config, a path, a Control) and forwards the plain
event dataclasses it yields. Pause/step/stop/live edits go straight to the thread-safe `Control`, which the
trainer polls between steps, so the GUI thread never touches TensorFlow objects.
"""
from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..config import Config
from ..engine.control import Control
from ..errors import GanStudioError


def describe_error(exc: BaseException) -> str:
    """User errors read as their message (they name the fix); bugs keep their type name for the report."""
    if isinstance(exc, GanStudioError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class TrainWorker(QObject):
    """Lives in the training thread; `run` iterates the trainer there."""

    event = Signal(object)     # one engine event (a frozen dataclass; its arrays are never mutated afterwards)
    errored = Signal(object)   # the exception instance
    finished = Signal()

    def __init__(self, config: Config, run_dir: str | Path | None, control: Control, *, resume: bool = False,
                 dataset: Any = None) -> None:
        super().__init__()
        self.config = config
        self.run_dir = run_dir
        self.control = control
        self.resume = resume
        self.dataset = dataset
        self.trainer = None  # set in the thread; read-only for the GUI (tests inspect the optimizer)

    @Slot()
    def run(self) -> None:
        try:
            # Imported here, not at module level: the window must show before any TensorFlow/Keras import.
            from ..engine.trainer import Trainer  # noqa: PLC0415

            self.trainer = Trainer(self.config, run_dir=self.run_dir, control=self.control,
                                   dataset=self.dataset, resume=self.resume)
            for ev in self.trainer.run():
                self.event.emit(ev)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the UI, never kill the thread silently
            if not isinstance(exc, GanStudioError):
                traceback.print_exc(file=sys.stderr)
            self.errored.emit(exc)
        finally:
            self.finished.emit()


class TrainingSession(QObject):
    """Owns one training thread + worker + Control, and keeps them alive until the thread has really finished.

    Signals mirror the worker's; `finished` fires after the QThread itself has stopped, so it is safe to drop the
    session then (never "QThread: Destroyed while thread is still running").
    """

    event = Signal(object)
    errored = Signal(object)
    finished = Signal()

    def __init__(self, config: Config, run_dir: str | Path | None = None, *, resume: bool = False,
                 dataset: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control = Control()
        self.thread = QThread()
        self.thread.setObjectName("ganstudio-trainer")
        self.worker = TrainWorker(config, run_dir, self.control, resume=resume, dataset=dataset)
        self.worker.moveToThread(self.thread)
        # Connect everything before start (superqt's `_start_thread=False` lesson).
        self.thread.started.connect(self.worker.run)
        self.worker.event.connect(self.event)
        self.worker.errored.connect(self.errored)
        self.worker.finished.connect(self.thread.quit)
        self.thread.finished.connect(self._on_thread_finished)
        self._running = False

    @property
    def trainer(self):
        return self.worker.trainer

    def start(self) -> None:
        self._running = True
        self.thread.start()

    def is_running(self) -> bool:
        return self._running

    def stop(self, save: bool = True) -> None:
        """Ask the trainer to stop at the next step boundary; it saves a final checkpoint and grid unless save=False."""
        self.control.stop(save=save)

    def shutdown(self, wait_ms: int = 60_000) -> bool:
        """Stop and join. Returns False if the thread did not finish in time (it is then left referenced)."""
        if not self._running:
            return True
        self.control.stop()
        self.thread.quit()
        done = self.thread.wait(wait_ms)
        if done:
            self._on_thread_finished()
        return bool(done)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._running:
            self._running = False
            self.finished.emit()
