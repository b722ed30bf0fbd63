"""Run `Trainer.run()` in a QThread and re-emit each engine event as a Qt signal.

The engine stays Qt-free: the worker hands it plain values (a Config, a path, a Control) and forwards the plain
event dataclasses it yields. Pause/step/stop/live edits go straight to the thread-safe `Control`, which the
trainer polls between steps, so the GUI thread never touches TensorFlow objects.
"""
from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..config import Config
from ..engine.control import Control
from ..core.errors import GanStudioError
from .gcguard import gui_thread_gc


TRAIN_NICE = 10   # default niceness of background threads; GANSTUDIO_TRAIN_NICE overrides (0: leave as is)


def background_priority() -> int:
    """Lower the calling thread's CPU priority (Linux nice, per thread), so the GUI thread wins the cores.

    TensorFlow's thread pools and the engine's helper threads inherit it from the thread that creates them. With
    equal priority the scheduler gives the GUI thread half a core while TF keeps every core busy, and a 20 ms
    repaint takes 40 ms; at nice 10 it takes 20 ms, and training is no slower (benchmarks/gui.py). Returns the
    thread's niceness afterwards (unchanged off Linux, where a pid argument would renice the whole process)."""
    if not sys.platform.startswith("linux"):
        return 0
    tid = threading.get_native_id()
    try:
        want = int(os.environ.get("GANSTUDIO_TRAIN_NICE", TRAIN_NICE))
        now = os.getpriority(os.PRIO_PROCESS, tid)
        if want > now:                      # only ever lower the priority: raising it needs privileges
            os.setpriority(os.PRIO_PROCESS, tid, min(want, 19))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except (OSError, ValueError):
        return 0


def describe_error(exc: BaseException) -> str:
    """User errors read as their message (they name the fix); bugs keep their type name for the report."""
    if isinstance(exc, GanStudioError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class TrainWorker(QObject):
    """Lives in the training thread; `run` iterates the trainer there."""

    engineEvent = Signal(object)   # one engine event (a frozen dataclass; its arrays are never mutated afterwards)
    errored = Signal(object)   # the exception instance
    finished = Signal()

    def __init__(self, config: Config, run_dir: str | Path | None, control: Control, *, resume: bool = False,
                 resume_step: int | None = None, dataset: Any = None,
                 source: Callable[[Control], Any] | None = None) -> None:
        super().__init__()
        self.source = source    # source(control) -> events, instead of one Trainer (a sweep's trials)
        self.config = config
        self.run_dir = run_dir
        self.control = control
        self.resume = resume
        self.resume_step = resume_step
        self.dataset = dataset
        self.trainer = None  # set in the thread; read-only for the GUI (tests inspect the optimizer)

    @Slot()
    def run(self) -> None:
        background_priority()
        try:
            # Imported here, not at module level: the window must show before any TensorFlow/Keras import.
            from ..engine.trainer import Trainer  # noqa: PLC0415

            if self.source is not None:
                events = self.source(self.control)
            else:
                self.trainer = Trainer(self.config, run_dir=self.run_dir, control=self.control,
                                       dataset=self.dataset, resume=self.resume,
                                       resume_step=self.resume_step)
                events = self.trainer.run()
            for ev in events:
                self.engineEvent.emit(ev)
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

    engineEvent = Signal(object)
    errored = Signal(object)
    finished = Signal()

    def __init__(self, config: Config, run_dir: str | Path | None = None, *, resume: bool = False,
                 resume_step: int | None = None, dataset: Any = None, parent: QObject | None = None,
                 source: Callable[[Control], Any] | None = None) -> None:
        super().__init__(parent)
        self.control = Control()
        self.qthread = QThread()
        self.qthread.setObjectName("ganstudio-trainer")
        self.worker = TrainWorker(config, run_dir, self.control, resume=resume, resume_step=resume_step,
                                  dataset=dataset, source=source)
        self.worker.moveToThread(self.qthread)
        # Connect everything before start (superqt's `_start_thread=False` lesson).
        self.qthread.started.connect(self.worker.run)
        self.worker.engineEvent.connect(self.engineEvent)
        self.worker.errored.connect(self.errored)
        self.worker.finished.connect(self.qthread.quit)
        self.qthread.finished.connect(self._on_thread_finished)
        self._running = False

    @property
    def trainer(self):
        return self.worker.trainer

    def start(self) -> None:
        self._running = True
        gui_thread_gc().start(self.qthread)

    def stop(self, save: bool = True) -> None:
        """Ask the trainer to stop at the next step boundary; it saves a final checkpoint and grid unless save=False."""
        self.control.stop(save=save)

    def shutdown(self, wait_ms: int = 60_000) -> bool:
        """Stop and join. Returns False if the thread did not finish in time (it is then left referenced)."""
        if not self._running:
            return True
        self.control.stop()
        self.qthread.quit()
        done = self.qthread.wait(wait_ms)
        if done:
            self._on_thread_finished()
        return bool(done)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._running:
            self._running = False
            self.finished.emit()


class Task(QThread):
    """One short background job (an export, a dataset decode): `fn(progress)` runs in the thread.

    Results and exceptions come back as signals, so nothing raised in the thread is lost (pytest-qt#11) and the
    GUI thread never blocks on TensorFlow imports or image decoding. The owner keeps the object referenced until
    `finished` (QThread's own signal), then drops it; see `TaskSet`.
    """

    done = Signal(object)            # fn's return value
    failed = Signal(object)          # the exception
    progress = Signal(int, int)      # (done, total), from fn's progress callback

    def __init__(self, fn: Callable[[Callable[[int, int], None]], Any], name: str = "task",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.setObjectName(f"ganstudio-{name}")
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        background_priority()
        try:
            self.result = self.fn(lambda done, total: self.progress.emit(int(done), int(total)))
        except Exception as exc:  # noqa: BLE001 - every failure is reported through `failed`
            if not isinstance(exc, GanStudioError):
                traceback.print_exc(file=sys.stderr)
            self.error = exc
            self.failed.emit(exc)
        else:
            self.done.emit(self.result)


class TaskSet(QObject):
    """Keeps background tasks referenced until their thread has stopped, and joins them on shutdown."""

    changed = Signal()   # a task started or was forgotten (after its thread stopped)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks: list[Task] = []

    def start(self, task: Task) -> Task:
        self.tasks.append(task)
        task.finished.connect(lambda t=task: self._forget(t))
        gui_thread_gc().start(task)
        self.changed.emit()
        return task

    def _forget(self, task: Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
            task.deleteLater()
            self.changed.emit()

    def busy(self, prefix: str = "") -> bool:
        return any(t.objectName().startswith(f"ganstudio-{prefix}") for t in self.tasks)

    def wait_all(self, wait_ms: int) -> bool:
        ok = True
        for t in list(self.tasks):
            if t.wait(wait_ms):
                self._forget(t)
            else:
                ok = False
        return ok
