from .control import Control
from .dispatch import dispatch
from .events import (EVENT_TYPES, METRICS_FIELDS, QUALITY_FIELDS, BestCheckpoint, CheckpointSaved, CheckpointsChanged,
                     ConfigChanged, Event, Finished, Generated, HealthWarning, Message, Metric, Paused, Resumed,
                     RolledBack, SampleGrid, Started, StepMetrics, WriteFailed)

__all__ = ["Control", "dispatch", "Event", "EVENT_TYPES", "QUALITY_FIELDS", "METRICS_FIELDS",
           "Started", "StepMetrics", "SampleGrid", "ConfigChanged", "CheckpointSaved", "Paused", "Resumed", "Message",
           "Finished", "Metric", "HealthWarning", "RolledBack", "BestCheckpoint", "Generated", "WriteFailed",
           "CheckpointsChanged"]


def __getattr__(name: str):
    if name == "Health":   # deprecated second name of HealthWarning (see events.py)
        from . import events  # noqa: PLC0415

        return events.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
