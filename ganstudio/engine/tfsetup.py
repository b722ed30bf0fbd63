"""Import TensorFlow once, quietly, with GPU memory growth set before any op runs (it cannot be set later)."""
from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_tf = None


def import_tf():
    global _tf
    with _lock:
        if _tf is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            import tensorflow as tf  # noqa: PLC0415 - deliberately lazy: the GUI shows before TF loads

            for gpu in tf.config.list_physical_devices("GPU"):
                try:
                    tf.config.experimental.set_memory_growth(gpu, True)
                except RuntimeError:
                    pass  # already initialised by the host program; its choice stands
            _tf = tf
        return _tf


def device_summary() -> str:
    tf = import_tf()
    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)}" if gpus else "CPU"
