"""Watch mode: follow a run folder another process trains (read-only, never TensorFlow). The studio model holds
the Qt-free runs.watch.RunFollower; a timer here polls it and `poll_watch` only draws what it returns."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from ..core.errors import GanStudioError
from ..studio import State, StudioModel
from .event_views import RunViews

WATCH_MS = 500            # watch mode polls the run folder at 2 Hz

__all__ = ["WATCH_MS", "WatchMode"]


class WatchMode(QObject):
    """`grid_shown()` enables the grid export; `polled()` is called after each poll."""

    def __init__(self, model: StudioModel, views: RunViews, form, *, set_title: Callable[[str], None],
                 show_message: Callable[[str, int], None], grid_shown: Callable[[], None],
                 polled: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self.model = model
        self.views = views
        self.form = form
        self.set_title = set_title
        self.show_message = show_message
        self.grid_shown = grid_shown
        self.polled = polled
        self.polls = 0
        self.config_loaded = False
        self.timer = QTimer(self)
        self.timer.setInterval(WATCH_MS)
        self.timer.timeout.connect(self.poll_watch)
        model.watch_stopped.connect(self._stopped)

    def watch_run(self, path: str | Path) -> bool:
        """Follow a run folder another process writes (it may not exist yet). Read-only: training is disabled
        until New run / Open run. Never imports TensorFlow."""
        path = Path(path)
        if self.model.watch(path) is None:
            return False
        self.config_loaded = False
        self.polls = 0
        self.views.reset()
        self.form.setEnabled(False)      # read-only: the form shows the watched run's config
        self.views.ckpt_panel.set_run(path)
        self.set_title(f"ganstudio — watching {path.name}")
        self.model.set_state(State.WATCHING)
        self.poll_watch()
        self.timer.start()
        return True

    def stop_watching(self) -> None:
        self.model.stop_watching()

    def _stopped(self) -> None:
        self.timer.stop()
        self.form.setEnabled(True)

    @Slot()
    def poll_watch(self) -> None:
        f, views = self.model.follower, self.views
        if f is None:
            return
        self.polls += 1
        if not self.config_loaded and f.exists():
            try:
                cfg = f.run.config()
            except (GanStudioError, OSError, ValueError) as e:
                cfg = None               # written atomically, so only an incompatible config lands here
                self.show_message(f"Watching {f.path}: {e}", 5000)
            if cfg is not None:
                self.form.set_config(cfg)
                views.grid_view.sample_size = cfg.model.image_size
                self.model.total_steps = cfg.train.steps
                self.config_loaded = True
        try:
            rows, grids = f.poll()
        except OSError as e:
            self.show_message(f"Watching {f.path}: {e}", 5000)
            return
        if f.reset or (rows and views.plot.count == 0):
            views.plot.set_history(rows)  # whole history at once: a long run's log is not appended row by row
            if f.reset:
                views.grid_view.clear()
        else:
            for r in rows:
                views.plot.append(r)
        self.model.record_rows(rows)
        for step, p in grids:
            views.grid_view.add_path(step, p)
        if grids:
            self.grid_shown()
        quality = f.poll_quality()
        if quality is not None:
            views.quality_plot.set_history(quality)
            views.show_quality()
        if grids or self.polls % 4 == 1:      # checkpoints change rarely; list them every 2 s
            views.ckpt_panel.refresh()
        if not f.exists():
            self.show_message(f"Watching {f.path}: waiting for the run to appear…", 0)
        elif rows or grids:
            self.show_message(f"Watching {f.path.name}: {views.plot.count:,} steps logged, "
                              f"{len(views.grid_view.entries)} grids", 0)
        self.polled()
