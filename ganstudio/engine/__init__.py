from .control import Control
from .dispatch import dispatch
from .events import (EVENT_TYPES, METRICS_FIELDS, QUALITY_FIELDS, BestCheckpoint, CheckpointSaved, CheckpointsChanged,
                     ConfigChanged, Event, Finished, Generated, Health, HealthWarning, Message, Metric, Paused, Resumed,
                     RolledBack, SampleGrid, Started, StepMetrics, WriteFailed)

__all__ = ["Control", "dispatch", "Event", "EVENT_TYPES", "QUALITY_FIELDS", "METRICS_FIELDS",
           "Started", "StepMetrics", "SampleGrid", "ConfigChanged", "CheckpointSaved", "Paused", "Resumed", "Message",
           "Finished", "Metric", "HealthWarning", "RolledBack", "BestCheckpoint", "Generated", "WriteFailed",
           "CheckpointsChanged",
           "Health"]   # deprecated alias of HealthWarning
