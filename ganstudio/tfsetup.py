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
