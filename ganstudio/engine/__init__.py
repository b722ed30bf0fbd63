from .control import Control
from .events import (BestCheckpoint, CheckpointSaved, ConfigChanged, Event, Finished, Health, Message, Metric, Paused,
                     Resumed, RolledBack, SampleGrid, Started, StepMetrics)

__all__ = ["Control", "Event", "Started", "StepMetrics", "SampleGrid", "ConfigChanged", "CheckpointSaved",
           "Paused", "Resumed", "Message", "Finished", "Metric", "Health", "RolledBack",
           "BestCheckpoint"]
