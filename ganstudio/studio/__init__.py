"""The studio's model, without Qt: the run state machine, the session, what the commands mean, the remedy policy,
recent runs and the runs root (model.StudioModel). The Qt layer (ganstudio/qt) observes and drives it."""
from .model import StartPlan, StudioModel, metrics_from_row
from .recent import MemoryStore, RecentRuns, RunsRoot
from .remedy import RemedyPlan, plan_remedy
from .signal import Signal
from .state import State

__all__ = ["MemoryStore", "RecentRuns", "RemedyPlan", "RunsRoot", "Signal", "StartPlan", "State", "StudioModel",
           "metrics_from_row", "plan_remedy"]
