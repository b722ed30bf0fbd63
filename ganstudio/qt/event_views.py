"""The views of one run (loss and quality plots, sample grid, banners, Checkpoints dock, Latent tab) and how each
engine event updates them: one handler table (engine.dispatch), one handler per event type. The model's part of
an event (state, status numbers) is the StudioModel's own table; the window passes each event to both."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..engine.dispatch import dispatch
from ..engine.events import (BestCheckpoint, CheckpointSaved, CheckpointsChanged, ConfigChanged, Finished, Generated,
                             HealthWarning, Message, Metric, RolledBack, SampleGrid, Started, StepMetrics, WriteFailed)
from ..metrics.advice import best_quality, best_text
from ..runs import RunDir
from ..studio import StudioModel
from .gcguard import gui_thread_gc
from .widgets.sample_grid import GridEntry


class RunViews:
    """Draws the model's run. `show_message(text, ms)` is the status bar's; `show_quality(text)` the quality
    label's; `grid_shown()` is called when the first grid of a run can be exported."""

    def __init__(self, model: StudioModel, *, plot, quality_plot, plot_splitter, grid_view, health_banner,
                 error_banner, ckpt_panel, latent, form, show_message: Callable[[str, int], None],
                 show_quality: Callable[[str], None], grid_shown: Callable[[], None]) -> None:
        self.model = model
        self.plot = plot
        self.quality_plot = quality_plot
        self.plot_splitter = plot_splitter
        self.grid_view = grid_view
        self.health_banner = health_banner
        self.error_banner = error_banner
        self.ckpt_panel = ckpt_panel
        self.latent = latent
        self.form = form
        self.show_message = show_message
        self.show_quality_text = show_quality
        self.grid_shown = grid_shown
        self.quality_plot.collapsedChanged.connect(self._quality_collapsed)
        self._handlers: dict[type, Callable[[Any], None]] = {
            StepMetrics: lambda ev: self.plot.append(ev.to_row()),
            SampleGrid: self._sample_grid,
            Started: self._started,
            ConfigChanged: self._config_changed,
            WriteFailed: self._write_failed,
            CheckpointsChanged: self._checkpoints_changed,
            CheckpointSaved: self._checkpoint_saved,
            BestCheckpoint: self._best_checkpoint,
            Metric: self._metric,
            HealthWarning: self.health_banner.add_warning,
            RolledBack: self._rolled_back,
            Message: self._message,
            Finished: lambda ev: self.show_message(f"Run {ev.reason} at step {ev.step:,}; {ev.run_dir}", 0),
            Generated: self.latent.on_generated,
        }

    def on_event(self, ev: object) -> bool:
        return dispatch(ev, self._handlers)

    # ------------------------------------------------------------------------------------------------ handlers
    def _sample_grid(self, ev: SampleGrid) -> None:
        self.grid_view.add_images(ev.step, ev.images)
        self.grid_shown()

    def _started(self, ev: Started) -> None:
        gui_thread_gc().settle()
        self.ckpt_panel.set_run(Path(ev.run_dir))   # a resume from an older step moved the newer checkpoints aside
        self.show_message(f"Training {ev.dataset} on {ev.device}; G {ev.g_params:,} / D {ev.d_params:,} parameters",
                          10000)

    def _config_changed(self, ev: ConfigChanged) -> None:
        self.form.apply_changes(ev.changes)
        text = ", ".join(f"{k} {o:g}→{n:g}" if isinstance(n, float) else f"{k} {o}→{n}"
                         for k, (o, n) in ev.changes.items())
        self.show_message(f"Step {ev.step:,}: {text}", 8000)

    def _write_failed(self, ev: WriteFailed) -> None:
        self.error_banner.show_error(ev.message)
        self.show_message(ev.message, 15000)

    def _checkpoints_changed(self, ev: CheckpointsChanged) -> None:
        self.show_message(ev.text, 8000)
        self.ckpt_panel.refresh()

    def _checkpoint_saved(self, ev: CheckpointSaved) -> None:
        self.show_message(f"Checkpoint at step {ev.step:,}: {ev.path}", 8000)
        self.ckpt_panel.set_run(self.model.run_path)

    def _best_checkpoint(self, ev: BestCheckpoint) -> None:
        self.show_message(f"Step {ev.step:,} is the best checkpoint so far (FD {ev.fd:.3g})", 8000)
        self.ckpt_panel.refresh()

    def _metric(self, ev: Metric) -> None:
        self.quality_plot.append({"step": ev.step, "fd": ev.fd, "kid": ev.kid, "diversity": ev.diversity,
                                  "memorization": ev.memorization}, source=ev.source, accuracy=ev.accuracy)
        self.show_quality()
        self.show_message(f"Step {ev.step:,}: FD {ev.fd:.3g}, KID {ev.kid:.3g} on {ev.n:,} samples "
                          f"({ev.seconds:.1f} s; {self.quality_plot.classifier_text()})", 10000)

    def _rolled_back(self, ev: RolledBack) -> None:
        if ev.reason in ("nan", "divergence"):   # a 'restore' request was the user's own choice, not a failure
            self.health_banner.add_rollback(ev.step, ev.from_step)
        self.rollback(ev.step)
        self.ckpt_panel.refresh()   # newer checkpoints moved aside

    def _message(self, ev: Message) -> None:
        if ev.level == "error":
            self.model.report_error(ev.text)
        else:
            self.show_message(ev.text, 8000)

    # ------------------------------------------------------------------------------------------------ whole views
    def reset(self) -> None:
        """Empty every view of a run (plots, grids, banner, status numbers) before showing another."""
        self.plot.clear()
        self.quality_plot.clear()
        self.health_banner.reset()
        self.grid_view.clear()
        self.model.reset_progress()

    def show_run(self, run: RunDir, rows: list, quality: list, samples: list, image_size: int) -> None:
        """An opened run folder's history."""
        self.plot.set_history(rows)
        self.quality_plot.set_history(quality)
        self.health_banner.reset()
        self.show_quality()
        self.grid_view.sample_size = image_size
        self.grid_view.set_entries([GridEntry(step, path=str(p)) for step, p in samples])

    def show_until(self, path: Path, step: int) -> None:
        """Only the history up to `step` of the run in `path` (Load of an older checkpoint)."""
        self.plot.set_history(RunDir(path).read_metrics(step))
        self.quality_plot.truncate(step)
        self.grid_view.set_entries([GridEntry(s, path=str(p)) for s, p in RunDir(path).sample_steps() if s <= step])
        self.ckpt_panel.select_step(step)

    def show_resume_history(self, path: Path, step: int) -> None:
        """A resume from the checkpoint of `step`: the trainer drops metrics rows after it; show the same history."""
        self.plot.set_history(RunDir(path).read_metrics(step))
        self.quality_plot.set_history([r for r in RunDir(path).read_quality() if r.get("step", 0) <= step])

    def rollback(self, step: int) -> None:
        """The trainer restored the checkpoint of `step`: drop later plot rows, quality rows and grids."""
        self.plot.truncate(step)
        self.quality_plot.truncate(step)
        self.show_quality()
        entries = [e for e in self.grid_view.entries if e.step <= step]
        if len(entries) != len(self.grid_view.entries):
            self.grid_view.set_entries(entries)
        self.model.rewind_metrics(step, self.plot.last_row())

    def show_quality(self) -> None:
        s = self.quality_plot.summary()
        best = best_text(best_quality(self.quality_plot.rows))   # 'when to stop' at a glance
        self.show_quality_text(" · ".join(t for t in (s.split(" · ")[0] if s else "", best) if t))

    def _quality_collapsed(self, collapsed: bool) -> None:
        if not collapsed:   # the first measurement: give the FD / KID plots their quarter back
            total = sum(self.plot_splitter.sizes())
            self.plot_splitter.setSizes([total * 3 // 4, total - total * 3 // 4])
