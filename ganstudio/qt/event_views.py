"""How each engine event updates the window's views (plots, grid, banners, dock, status bar), and a rollback
trims them to the restored step."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot

from ..engine.events import (CheckpointSaved, ConfigChanged, Finished, Health, Message, Metric, Paused, Resumed,
                             RolledBack, SampleGrid, Started, StepMetrics)
from ..engine.events import BestCheckpoint, Generated
from ..engine.events import CheckpointsChanged, WriteFailed
from .gcguard import gui_thread_gc
from ..metrics.advice import best_quality, best_text
from .window_state import State
from .watch_mode import metrics_from_row


class EventViewsMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    @Slot(object)
    def _on_event(self, ev: object) -> None:
        if isinstance(ev, StepMetrics):
            self.last_metrics = ev
            self.plot.append(ev.to_row())
            self._rate.append((ev.wall, ev.step))
            self._status_dirty = True
        elif isinstance(ev, SampleGrid):
            self.grid_view.add_images(ev.step, ev.images)
            self.act_export.setEnabled(True)
        elif isinstance(ev, Started):
            gui_thread_gc().settle()
            self.total_steps = ev.total_steps
            self.steps_per_epoch = ev.steps_per_epoch
            self.run_path = Path(ev.run_dir)
            self.engine_ready = True
            self.device_info = ev.device
            self.ckpt_panel.set_run(self.run_path)   # a resume from an older step moved the newer checkpoints aside
            self.statusBar().showMessage(f"Training {ev.dataset} on {ev.device}; G {ev.g_params:,} / "
                                         f"D {ev.d_params:,} parameters", 10000)
        elif isinstance(ev, ConfigChanged):
            self.panel.apply_changes(ev.changes)
            text = ", ".join(f"{k} {o:g}→{n:g}" if isinstance(n, float) else f"{k} {o}→{n}"
                             for k, (o, n) in ev.changes.items())
            self.statusBar().showMessage(f"Step {ev.step:,}: {text}", 8000)
        elif isinstance(ev, WriteFailed):
            self.error_banner.show_error(ev.message)
            self.statusBar().showMessage(ev.message, 15000)
        elif isinstance(ev, CheckpointsChanged):
            self.statusBar().showMessage(ev.text, 8000)
            self.ckpt_panel.refresh()
        elif isinstance(ev, CheckpointSaved):
            self.statusBar().showMessage(f"Checkpoint at step {ev.step:,}: {ev.path}", 8000)
            self.ckpt_panel.set_run(self.run_path)
        elif isinstance(ev, BestCheckpoint):
            self.statusBar().showMessage(f"Step {ev.step:,} is the best checkpoint so far (FD {ev.fd:.3g})", 8000)
            self.ckpt_panel.refresh()
        elif isinstance(ev, Metric):
            self.quality_plot.append({"step": ev.step, "fd": ev.fd, "kid": ev.kid, "diversity": ev.diversity,
                                      "memorization": ev.memorization},
                                     source=ev.source, accuracy=ev.accuracy)
            self._show_quality()
            self.statusBar().showMessage(f"Step {ev.step:,}: FD {ev.fd:.3g}, KID {ev.kid:.3g} on {ev.n:,} samples "
                                         f"({ev.seconds:.1f} s; {self.quality_plot.classifier_text()})", 10000)
        elif isinstance(ev, Health):
            self.health_banner.add_warning(ev)
        elif isinstance(ev, RolledBack):
            if ev.reason in ("nan", "divergence"):   # a 'restore' request was the user's own choice, not a failure
                self.health_banner.add_rollback(ev.step, ev.from_step)
            self.rollback_views(ev.step)
            self.ckpt_panel.refresh()   # newer checkpoints moved aside
            # The trainer pauses itself after a rollback. It announces that with a Paused event only if it had not
            # already announced an earlier pause (a step right after Resume skips the Resumed event), so do not
            # wait for one.
            if self.state is State.RUNNING:
                self._set_state(State.PAUSED)
        elif isinstance(ev, Paused):
            if self.state is State.RUNNING:
                self._set_state(State.PAUSED)
        elif isinstance(ev, Resumed):
            if self.state is State.PAUSED:
                self._set_state(State.RUNNING)
        elif isinstance(ev, Message):
            if ev.level == "error":
                self._error(ev.text)
            else:
                self.statusBar().showMessage(ev.text, 8000)
        elif isinstance(ev, Finished):
            self.finished_reason = ev.reason
            self.statusBar().showMessage(f"Run {ev.reason} at step {ev.step:,}; {ev.run_dir}")
        elif isinstance(ev, Generated):
            self.latent.on_generated(ev)

    def rollback_views(self, step: int) -> None:
        """The trainer restored the checkpoint of `step`: drop later plot rows, quality rows and grids."""
        self.plot.truncate(step)
        self.quality_plot.truncate(step)
        self._show_quality()
        entries = [e for e in self.grid_view.entries if e.step <= step]
        if len(entries) != len(self.grid_view.entries):
            self.grid_view.set_entries(entries)
        self._rate.clear()
        if self.last_metrics is not None and self.last_metrics.step > step:
            row = self.plot.last_row()
            self.last_metrics = metrics_from_row(row) if row else None
            self._status_dirty = True

    def _quality_collapsed(self, collapsed: bool) -> None:
        if not collapsed:   # the first measurement: give the FD / KID plots their quarter back
            total = sum(self.plot_splitter.sizes())
            self.plot_splitter.setSizes([total * 3 // 4, total - total * 3 // 4])

    def _show_quality(self) -> None:
        s = self.quality_plot.summary()
        best = best_text(best_quality(self.quality_plot.rows))   # 'when to stop' at a glance
        self.lbl_quality.setText(" · ".join(t for t in (s.split(" · ")[0] if s else "", best) if t))
