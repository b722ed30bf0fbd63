"""The garbage collector stays on the GUI thread while our threads run (a collection on the trainer thread that
frees widgets deadlocks Qt against the GIL; see ganstudio/qt/gcguard.py)."""
import gc
import weakref

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMenu

from ganstudio.qt.gcguard import GuiThreadGC


class Probe(QThread):
    def __init__(self):
        super().__init__()
        self.enabled_inside = None

    def run(self):
        self.enabled_inside = gc.isenabled()
        self.msleep(50)


def test_collection_is_off_while_a_thread_runs_and_back_after(qtbot):
    guard = GuiThreadGC()
    assert gc.isenabled()
    a, b = Probe(), Probe()
    for t in (a, b):
        guard.start(t)
    assert guard.holders == 2 and not gc.isenabled() and guard.timer.isActive()
    with qtbot.waitSignals([a.finished, b.finished], timeout=10_000):
        pass
    qtbot.waitUntil(lambda: guard.holders == 0, timeout=5_000)   # the queued drops ran on this thread
    assert a.enabled_inside is False and b.enabled_inside is False
    assert gc.isenabled() and not guard.timer.isActive()


def test_hold_collects_pending_widget_cycles_on_the_gui_thread(qtbot):
    guard = GuiThreadGC()
    menu = QMenu()
    menu.cycle = menu                      # a widget only a reference cycle keeps alive
    ref = weakref.ref(menu)
    gc.disable()
    try:
        del menu
        assert ref() is not None
        guard.hold()
        assert ref() is None               # freed here, not later on some worker thread
    finally:
        guard.drop()
        gc.enable()
    assert gc.isenabled()


def test_timer_collects_while_held(qtbot):
    guard = GuiThreadGC()
    guard._threshold = (1, 10, 10)         # make a young collection due right away
    guard.hold()
    try:
        junk = [[] for _ in range(10)]
        for x in junk:
            x.append(x)
        del junk
        before = gc.get_count()[0]
        guard.collect_due()
        assert gc.get_count()[0] < before
    finally:
        guard.drop()
    assert gc.isenabled()


def test_settle_freezes_until_the_last_thread_ends(qtbot):
    guard = GuiThreadGC()
    guard.settle()                          # no thread: nothing to freeze
    assert gc.get_freeze_count() == 0
    guard.hold()
    guard.settle()
    assert gc.get_freeze_count() > 0
    guard.drop()
    assert gc.get_freeze_count() == 0 and gc.isenabled()
