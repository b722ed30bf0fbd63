"""Which run the window shows: New run, Open run (its config, metrics, grids and checkpoints into the views),
a run picked in the Runs tab, and Load of an older checkpoint (asking first, since Start then moves the newer
ones aside). The run itself (which folder, what Start resumes) is the studio model's."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from ..engine.checkpoints import list_checkpoints
from ..core.errors import GanStudioError
from ..runs import RunDir
from ..studio import StudioModel
from .event_views import RunViews


def confirm_branch_dialog(parent: QWidget, run: Path, step: int, newer: list[int]) -> bool:
    steps = ", ".join(f"{s:,}" for s in newer)
    answer = QMessageBox.question(
        parent, "Continue from an older checkpoint",
        f"Continue {run.name} from step {step:,}?\n\nThe newer checkpoints ({steps}) will be moved aside to "
        f"{run.name}/abandoned/step-{newer[-1]}-from-{step}/ when training starts, with their metrics and sample "
        f"grids: kept, but never resumed. Cancel keeps everything as it is.",
        QMessageBox.Ok | QMessageBox.Cancel, QMessageBox.Cancel)
    return answer == QMessageBox.Ok


class RunFolder:
    """`confirm_branch(run, step, newer steps)` asks before Load of an older checkpoint; `set_title(text)` names
    the window; `show_training()` brings the Training tab forward."""

    def __init__(self, model: StudioModel, views: RunViews, form, *, set_title: Callable[[str], None],
                 show_message: Callable[[str, int], None], confirm_branch: Callable[[Path, int, list[int]], bool],
                 show_training: Callable[[], None]) -> None:
        self.model = model
        self.views = views
        self.form = form
        self.set_title = set_title
        self.show_message = show_message
        self.confirm_branch = confirm_branch
        self.show_training = show_training

    def new_run(self) -> None:
        if self.model.session is not None:
            return
        self.model.stop_watching()
        self.views.ckpt_panel.set_run(None)
        self.views.reset()
        self.form.set_active(False)
        self.set_title("ganstudio")
        self.model.new_run()

    def open_run(self, path: str | Path) -> bool:
        """Load a run folder: its config into the form, its metrics and grids into the views."""
        if self.model.session is not None:
            return False
        try:
            run = RunDir.open(path)
            cfg = run.config()
            rows = run.read_metrics()
            quality = run.read_quality()
            samples = run.sample_steps()
            ckpts = list_checkpoints(run.checkpoints)
        except GanStudioError as e:
            self.model.report_error(str(e))
            return False
        except OSError as e:
            self.model.report_error(f"{path}: cannot read run ({e})")
            return False
        self.model.stop_watching()
        self.form.set_config(cfg)
        self.views.show_run(run, rows, quality, samples, cfg.model.image_size)
        self.views.ckpt_panel.set_run(run.path)
        self.set_title(f"ganstudio — {run.path.name}")
        self.model.opened(run.path, has_checkpoints=bool(ckpts))
        where = f"Start resumes from the checkpoint at step {ckpts[-1].step:,}" if ckpts else \
            "it has no checkpoint, so Start begins a new run with this config"
        self.show_message(f"Opened {run.path} ({len(rows):,} metric rows); {where}", 0)
        return True

    def load_checkpoint(self, step: int) -> bool:
        """Open the current run so that Start resumes from the checkpoint at `step` (not necessarily the last).

        It does not start by itself. Newer checkpoints must never be resumed later by mistake: the user is asked
        first, and Start moves them aside (kept, with their metrics and grids) into abandoned/; Cancel changes
        nothing."""
        path = self.model.run_path
        if self.model.session is not None or path is None:
            return False
        newer = self.model.newer_checkpoints(step)
        if newer and not self.confirm_branch(path, step, newer):
            return False
        if not self.open_run(path):
            return False
        self.views.show_until(path, step)
        self.model.branch_from(step)
        self.show_message(f"Start resumes {path.name} from the checkpoint at step {step:,}"
                          + (f"; checkpoints {', '.join(map(str, newer))} will be moved aside" if newer else ""), 0)
        return True

    def open_from_runs(self, path: str) -> None:
        if self.model.session is not None:
            self.model.report_error("Stop training before opening another run")
            return
        if self.open_run(path):
            self.show_training()
