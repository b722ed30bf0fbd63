"""Import TensorFlow once, quietly, with GPU memory growth set before any op runs (it cannot be set later).

Quietly: TensorFlow's C++ start-up lines (the oneDNN notice, "Could not find cuda drivers", "failed call to cuInit:
INTERNAL: CUDA error" on a machine without a usable GPU) read like failures but are not. TF_CPP_MIN_LOG_LEVEL alone
does not hide them: TF 2.21 logs them through absl before absl's logging is initialised, which ignores the level. So
import_tf sets TF_CPP_MIN_LOG_LEVEL=2 unless the user set it, and while TensorFlow loads and probes for GPUs it
sends file descriptor 2 to a temporary file and passes on every line but the start-up log lines below that level
(and, at the default level, the cuInit line: the device line the commands print says "CPU"). Python exceptions,
warnings and our one-line errors pass through. `ganstudio --verbose` or GANSTUDIO_VERBOSE=1 leaves all of it alone.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading

_lock = threading.Lock()
_tf = None

VERBOSE_ENV = "GANSTUDIO_VERBOSE"
LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "2"
_ABSL_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_NATIVE_LOG = re.compile(rb"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")   # absl / glog line prefix
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def set_verbose(on: bool = True) -> None:
    """`ganstudio --verbose`: keep TensorFlow's start-up logging (also for the processes this one starts)."""
    if on:
        os.environ[VERBOSE_ENV] = "1"


def startup_noise_filter(level: int, default: bool):
    """A predicate for stderr lines: True for the C++ log lines TF_CPP_MIN_LOG_LEVEL=`level` means to hide (I for 1,
    also W for 2, also E for 3; F never) and absl's banner before them; with `default` (the level is ours, not the
    user's) also the failed cuInit probe of a machine without a usable CUDA driver."""
    def drop(line: bytes) -> bool:
        if level >= 1 and line.rstrip(b"\r\n") == _ABSL_BANNER:
            return True
        m = _NATIVE_LOG.match(line)
        if not m:
            return False
        return _SEVERITY[m.group(1)] < min(level, 3) or (default and b"] failed call to cuInit: " in line)
    return drop


@contextlib.contextmanager
def filtered_stderr(drop):
    """Send file descriptor 2 (where C++ logs) to a temporary file for the block, then write the lines `drop` keeps
    to the real stderr. A file, not a pipe: nothing can block while the import holds the GIL."""
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                try:
                    sys.stderr.flush()
                except (AttributeError, OSError, ValueError):
                    pass
                os.dup2(saved, 2)
                tmp.seek(0)
                kept = b"".join(line for line in tmp.read().splitlines(keepends=True) if not drop(line))
                while kept:
                    kept = kept[os.write(2, kept):]
    finally:
        os.close(saved)


def _startup_output():
    """The filter for TensorFlow's import (a no-op context when verbose)."""
    if verbose():
        return contextlib.nullcontext()
    user = os.environ.get(LEVEL_ENV)
    if user is None:
        os.environ[LEVEL_ENV] = DEFAULT_LEVEL
    try:
        level = int(os.environ[LEVEL_ENV])
    except ValueError:
        return contextlib.nullcontext()     # whatever TensorFlow makes of it
    return filtered_stderr(startup_noise_filter(level, default=user is None))


def import_tf():
    global _tf
    with _lock:
        if _tf is None:
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            with _startup_output():
                import tensorflow as tf  # noqa: PLC0415 - deliberately lazy: the GUI shows before TF loads

                gpus = tf.config.list_physical_devices("GPU")    # the CUDA probe (cuInit) logs here
            for gpu in gpus:
                try:
                    tf.config.experimental.set_memory_growth(gpu, True)
                except RuntimeError:
                    pass  # already initialised by the host program; its choice stands
            n_cpu = int(os.environ.get("GANSTUDIO_CPU_DEVICES", "1") or 1)
            if n_cpu > 1:  # logical CPU devices: try MirroredStrategy without GPUs (tests, demos)
                cpu = tf.config.list_physical_devices("CPU")[0]
                try:
                    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n_cpu)
                except RuntimeError:
                    pass
            _tf = tf
        return _tf


def device_summary() -> str:
    tf = import_tf()
    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)}" if gpus else "CPU"


def make_strategy(name: str):
    """tf.distribute strategy for 'auto' | 'default' | 'mirrored' | 'multiworker' | 'tpu'.

    auto: MultiWorkerMirroredStrategy when TF_CONFIG names a cluster of more than one task, MirroredStrategy
    with more than one local GPU (or logical CPU), else the default (no-op) strategy. auto never probes for a TPU:
    looking one up by name can wait on a cloud metadata server."""
    import json  # noqa: PLC0415

    tf = import_tf()
    if name == "auto":
        cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
        if sum(len(v) for v in cluster.values()) > 1:
            name = "multiworker"
        elif len(_local_devices()) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy(tf)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=_local_devices())
    return tf.distribute.get_strategy()


def _tpu_strategy(tf):
    """TPUStrategy as TensorFlow's TPU guide sets it up: the TPU VM's own TPU ('local'), or the one TPU_NAME names."""
    from .errors import ConfigError  # noqa: PLC0415

    name = os.environ.get("TPU_NAME") or "local"
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name)
        if name != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise ConfigError(f"strategy: 'tpu' found no TPU ({name!r}: {str(e).splitlines()[0][:160]}); run on a TPU VM "
                          f"or set TPU_NAME to your TPU's name, or use strategy 'auto'") from None
    return tf.distribute.TPUStrategy(resolver)


def is_tpu(strategy) -> bool:
    return type(strategy).__name__.startswith("TPUStrategy")


def _local_devices() -> list[str]:
    tf = import_tf()
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def is_chief(strategy) -> bool:
    """Only the chief writes the run folder; other workers of a multi-worker run must not clobber it."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0
