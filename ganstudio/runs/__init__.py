"""The run folder, readable without TensorFlow: its layout and logs (folder.py), the one-writer lock (lock.py)
and following a run another process writes (watch.py). The names below are folder.py's and lock.py's public ones."""
from .folder import EXPORT_NAMES, SAMPLE_RE, RunDir, is_row, new_run_path, numeric, runs_root, user_data_dir
from .lock import RunLock

__all__ = ["EXPORT_NAMES", "SAMPLE_RE", "RunDir", "RunLock", "is_row", "new_run_path", "numeric", "runs_root",
           "user_data_dir"]
