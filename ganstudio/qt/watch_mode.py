"""Watch mode: follow a run folder another process trains (read-only, never TensorFlow). A timer polls the
Qt-free runs.watch.RunFollower; `poll_watch` only draws what it returns."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Slot

from ..engine.events import StepMetrics
from ..errors import GanStudioError
from ..runs.watch import RunFollower
from .window_state import State

WATCH_MS = 500            # watch mode polls the run folder at 2 Hz


def metrics_from_row(row: dict) -> StepMetrics:
    """A metrics.jsonl row (StepMetrics.to_row) back as the event, for the status bar in watch mode."""
    nan = float("nan")   # a hand-edited log may hold anything: non-numbers read as NaN
    return StepMetrics(**{k: v if isinstance(v := row.get(k), (int, float)) else nan
                          for k in StepMetrics.__dataclass_fields__})


class WatchModeMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    def _init_watch_mode(self) -> None:
        self.follower: RunFollower | None = None
        self._watch_polls = 0
        self._watch_timer = QTimer(self)
        self._watch_timer.setInterval(WATCH_MS)
        self._watch_timer.timeout.connect(self.poll_watch)

    def watch_run_dialog(self) -> None:
        path = self.choose_watch_dir()
        if path:
            self.watch_run(path)

    def watch_run(self, path: str | Path) -> bool:
        """Follow a run folder another process writes (it may not exist yet). Read-only: training is disabled
        until New run / Open run. Never imports TensorFlow."""
        if self.session is not None:
            self._error("Stop training before watching another run")
            return False
        self.stop_watching()
        path = Path(path)
        self.follower = RunFollower(path)
        self._watch_config_loaded = False
        self._watch_polls = 0
        self._reset_views()
        self.run_path = path
        self.resume_path = None
        self.resume_step = None
        self.panel.setEnabled(False)      # read-only: the form shows the watched run's config
        self.ckpt_panel.set_run(path)
        self.setWindowTitle(f"ganstudio — watching {path.name}")
        self._set_state(State.WATCHING)
        self.poll_watch()
        self._watch_timer.start()
        return True

    def stop_watching(self) -> None:
        if self.follower is None:
            return
        self._watch_timer.stop()
        self.follower = None
        self.panel.setEnabled(True)
        if self.state is State.WATCHING:
            self._set_state(State.IDLE)

    @property
    def watching(self) -> bool:
        return self.follower is not None

    @Slot()
    def poll_watch(self) -> None:
        f = self.follower
        if f is None:
            return
        self._watch_polls += 1
        if not self._watch_config_loaded and f.exists():
            try:
                cfg = f.run.config()
            except (GanStudioError, OSError, ValueError) as e:
                cfg = None               # written atomically, so only an incompatible config lands here
                self.statusBar().showMessage(f"Watching {f.path}: {e}", 5000)
            if cfg is not None:
                self.panel.set_config(cfg)
                self.grid_view.sample_size = cfg.model.image_size
                self.total_steps = cfg.train.steps
                self._watch_config_loaded = True
        try:
            rows, grids = f.poll()
        except OSError as e:
            self.statusBar().showMessage(f"Watching {f.path}: {e}", 5000)
            return
        if f.reset or (rows and self.plot.count == 0):
            self.plot.set_history(rows)  # whole history at once: a long run's log is not appended row by row
            if f.reset:
                self.grid_view.clear()
        else:
            for r in rows:
                self.plot.append(r)
        for r in rows[-64:]:
            if isinstance(r.get("wall"), (int, float)) and "step" in r:
                self._rate.append((r["wall"], r["step"]))
        if rows:
            self.last_metrics = metrics_from_row(rows[-1])
            self._status_dirty = True
        for step, p in grids:
            self.grid_view.add_path(step, p)
        if grids:
            self.act_export.setEnabled(True)
        quality = f.poll_quality()
        if quality is not None:
            self.quality_plot.set_history(quality)
            self._show_quality()
        if grids or self._watch_polls % 4 == 1:      # checkpoints change rarely; list them every 2 s
            self.ckpt_panel.refresh()
        if not f.exists():
            self.statusBar().showMessage(f"Watching {f.path}: waiting for the run to appear…")
        elif rows or grids:
            self.statusBar().showMessage(f"Watching {f.path.name}: {self.plot.count:,} steps logged, "
                                         f"{len(self.grid_view.entries)} grids")
        self.watchPolled.emit()
