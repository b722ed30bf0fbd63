"""Sweeps: compare configurations at an equal training budget and search hyperparameters, on Optuna.

Qt-free; the studio's Sweep tab drives the same generator on its training thread. runner.py (imports Optuna)
runs trials, prunes, survives interruption and shares a study between processes; spec.py parses --grid and
--search; report.py writes the results; folder.py owns the sweep folder's layout.
"""
from .events import SweepFinished, TrialFinished, TrialReport, TrialStarted
from .folder import SweepDir
from .spec import REPORTS, SweepSpec, label, make_spec

__all__ = ["REPORTS", "SweepDir", "SweepFinished", "SweepSpec", "TrialFinished", "TrialReport", "TrialStarted",
           "label", "make_spec"]
