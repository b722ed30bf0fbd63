"""Which run the window shows: New run, Open run (its config, metrics, grids and checkpoints into the views),
a run picked in the Runs tab, and Load of an older checkpoint (asking first, since Start then moves the newer
ones aside)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from ..engine.checkpoints import list_checkpoints
from ..errors import GanStudioError
from ..runs import RunDir
from .widgets.sample_grid import GridEntry
from .window_state import State


class RunFolderMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    def new_run(self) -> None:
        if self.session is not None:
            return
        self.stop_watching()
        self.resume_path = None
        self.resume_step = None
        self.run_path = None
        self.ckpt_panel.set_run(None)
        self._reset_views()
        self.panel.set_active(False)
        self.setWindowTitle("ganstudio")
        self._set_state(State.IDLE)

    def open_run_dialog(self) -> None:
        path = self.choose_run_dir()
        if path:
            self.open_run(path)

    def open_run(self, path: str | Path) -> bool:
        """Load a run folder: its config into the form, its metrics and grids into the views."""
        if self.session is not None:
            return False
        try:
            run = RunDir.open(path)
            cfg = run.config()
            rows = run.read_metrics()
            quality = run.read_quality()
            samples = run.sample_steps()
            ckpts = list_checkpoints(run.checkpoints)
        except GanStudioError as e:
            self._error(str(e))
            return False
        except OSError as e:
            self._error(f"{path}: cannot read run ({e})")
            return False
        self.stop_watching()
        self.panel.set_config(cfg)
        self.plot.set_history(rows)
        self.quality_plot.set_history(quality)
        self.health_banner.reset()
        self._show_quality()
        self.grid_view.sample_size = cfg.model.image_size
        self.grid_view.set_entries([GridEntry(step, path=str(p)) for step, p in samples])
        self.run_path = run.path
        self.resume_path = run.path if ckpts else None
        self.resume_step = None
        self.last_metrics = None
        self.ckpt_panel.set_run(run.path)
        self.total_steps = 0
        self.setWindowTitle(f"ganstudio — {run.path.name}")
        self._set_state(State.IDLE)
        where = f"Start resumes from the checkpoint at step {ckpts[-1].step:,}" if ckpts else \
            "it has no checkpoint, so Start begins a new run with this config"
        self.statusBar().showMessage(f"Opened {run.path} ({len(rows):,} metric rows); {where}")
        return True

    def load_checkpoint(self, step: int) -> bool:
        """Open the current run so that Start resumes from the checkpoint at `step` (not necessarily the last).

        It does not start by itself. Newer checkpoints must never be resumed later by mistake: the user is asked
        first, and Start moves them aside (kept, with their metrics and grids) into abandoned/; Cancel changes
        nothing."""
        path = self.run_path
        if self.session is not None or path is None:
            return False
        newer = [c.step for c in list_checkpoints(RunDir(path).checkpoints) if c.step > step]
        if newer and not self.confirm_branch(path, step, newer):
            return False
        if not self.open_run(path):
            return False
        self.resume_path = path
        self.resume_step = step
        self.plot.set_history(RunDir(path).read_metrics(step))
        self.quality_plot.truncate(step)
        self.grid_view.set_entries([GridEntry(s, path=str(p)) for s, p in RunDir(path).sample_steps() if s <= step])
        self.ckpt_panel.select_step(step)
        self._set_state(State.IDLE)
        self.statusBar().showMessage(f"Start resumes {path.name} from the checkpoint at step {step:,}"
                                     + (f"; checkpoints {', '.join(map(str, newer))} will be moved aside" if newer
                                        else ""))
        return True

    def _confirm_branch_dialog(self, run: Path, step: int, newer: list[int]) -> bool:
        steps = ", ".join(f"{s:,}" for s in newer)
        answer = QMessageBox.question(
            self, "Continue from an older checkpoint",
            f"Continue {run.name} from step {step:,}?\n\nThe newer checkpoints ({steps}) will be moved aside to "
            f"{run.name}/abandoned/step-{newer[-1]}-from-{step}/ when training starts, with their metrics and sample "
            f"grids: kept, but never resumed. Cancel keeps everything as it is.",
            QMessageBox.Ok | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Ok

    def _open_from_runs(self, path: str) -> None:
        if self.session is not None:
            self._error("Stop training before opening another run")
            return
        if self.open_run(path):
            self.tabs.setCurrentIndex(0)
