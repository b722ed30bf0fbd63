"""Background threads (training, TF warm-up, exports) run at a lower CPU priority than the GUI thread."""
import os
import sys
import threading

import pytest

from ganstudio.qt.worker import TRAIN_NICE, background_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux-only")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_thread(fn):
    out = {}

    def run():
        out["ret"] = fn()
        out["nice"] = _nice()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out


def test_background_threads_yield_the_cores_to_the_gui_thread(monkeypatch):
    monkeypatch.delenv("GANSTUDIO_TRAIN_NICE", raising=False)
    main = _nice()
    want = max(TRAIN_NICE, main)
    out = _in_thread(background_priority)
    assert out["ret"] == out["nice"] == want
    assert _nice() == main                      # only the calling thread, never the process (the GUI thread)

    def starts_a_thread():                      # how TensorFlow's thread pools get it
        background_priority()
        return _in_thread(lambda: None)["nice"]

    assert _in_thread(starts_a_thread)["ret"] == want
    monkeypatch.setenv("GANSTUDIO_TRAIN_NICE", "0")   # the opt-out leaves the thread as it is
    assert _in_thread(background_priority)["nice"] == main
    monkeypatch.setenv("GANSTUDIO_TRAIN_NICE", "not a number")
    assert _in_thread(background_priority)["nice"] == main
