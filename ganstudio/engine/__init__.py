from .control import Control
from .events import (CheckpointSaved, ConfigChanged, Event, Finished, Message, Paused, Resumed, SampleGrid,
                     Started, StepMetrics)

__all__ = ["Control", "Event", "Started", "StepMetrics", "SampleGrid", "ConfigChanged", "CheckpointSaved",
           "Paused", "Resumed", "Message", "Finished"]
