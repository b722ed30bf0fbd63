"""Keep Python's cyclic garbage collector on the GUI thread while our worker threads run.

If the collector fires on a worker thread (TensorFlow tracing allocates a lot, so it does), it may free a closed
window or menu that sat in a reference cycle; Qt then destroys widgets off the GUI thread, and shiboken needs the
GIL inside ~QObject while the GUI thread, holding the GIL, waits on the same QObject mutex: a deadlock (seen in
our pytest-qt suite: `gc_collect_main` on the trainer thread vs `QMenu::~QMenu` on the main thread). The cure
is pyqtgraph's `GarbageCollector`, scoped to the threads' lifetime: automatic collection is off while any of
our threads runs and a GUI-thread timer collects instead; it comes back on when the last thread finishes.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QThread, QTimer, Slot


class GuiThreadGC(QObject):
    """Reference-counted: `hold()` before a thread starts, `drop()` (a queued slot) when it has finished."""

    INTERVAL_MS = 100    # small young generations: each collection is a few ms, not a visible stall

    def __init__(self) -> None:
        super().__init__()
        self.holders = 0
        self._was_enabled = True
        self._threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def hold(self) -> None:
        if self.holders == 0:
            self._was_enabled = gc.isenabled()
            gc.collect()        # free pending cycles (closed windows, dialogs) here, before a worker could
            gc.disable()
            self.timer.start()
        self.holders += 1

    @Slot()
    def drop(self) -> None:
        if self.holders == 0:
            return
        self.holders -= 1
        if self.holders == 0:
            self.timer.stop()
            gc.unfreeze()
            if self._was_enabled:
                gc.enable()

    @Slot()
    def collect_due(self) -> None:
        """What the automatic collector would have done by now, generation by generation (cheap when idle)."""
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self._threshold
        if c0 > t0:
            gc.collect(2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0)

    def settle(self) -> None:
        """Everything alive now (TensorFlow, the built models) is long-lived: stop rescanning it until the threads
        end. Without this a full collection scans the whole TF heap on the GUI thread (~0.3 s seen)."""
        if self.holders:
            gc.freeze()

    def start(self, thread: QThread) -> QThread:
        """Start `thread` (from the GUI thread), holding the collector here until it finishes."""
        self.hold()
        thread.finished.connect(self.drop)   # the guard lives on the GUI thread, so this is a queued call
        thread.start()
        return thread


_instance: GuiThreadGC | None = None


def gui_thread_gc() -> GuiThreadGC:
    global _instance
    if _instance is None:
        _instance = GuiThreadGC()
    return _instance
