"""Training from the window: Start (a new run, the model's resume, or a sweep's trials) makes the one
TrainingSession and wires its signals to the views and the studio model; a remedy's click is carried out through
the model's policy; the engine warm-up imports TensorFlow in the background. The commands on a running session
(pause, step, stop, requests, live edits) are the model's own."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Slot

from ..metrics.advice import Remedy
from ..studio import StudioModel
from .event_views import RunViews
from .gcguard import gui_thread_gc
from .worker import Task, TaskSet, TrainingSession, describe_error


def load_engine(_progress: Callable[[int, int], None]) -> str:
    from ..core.tfsetup import device_summary  # noqa: PLC0415 - imports TensorFlow, in the warm-up thread

    return device_summary()


class Training(QObject):
    """`set_title(text)` names the window; `export_best()` exports the best checkpoint's generator (a remedy)."""

    def __init__(self, model: StudioModel, form, views: RunViews, latent, tasks: TaskSet, *,
                 set_title: Callable[[str], None], show_message: Callable[[str, int], None],
                 export_best: Callable[[], object], parent: QObject) -> None:
        super().__init__(parent)
        self.model = model
        self.form = form
        self.views = views
        self.latent = latent
        self.tasks = tasks
        self.set_title = set_title
        self.show_message = show_message
        self.export_best = export_best
        self.warmup: Task | None = None

    def start(self, run_dir: str | Path | None = None, source=None) -> bool:
        """Start a new run (or continue the run the model resumes). Returns False, with the reason shown, if it
        cannot. `source(control)`, a sweep's event generator, replaces the single Trainer (the Sweep tab)."""
        model = self.model
        if model.session is not None:
            return False
        cfg = self.form.validate()
        if cfg is None:
            model.report_error(f"Cannot start: {self.form.error_text}")
            return False
        if self.latent.busy:
            model.report_error("The latent explorer is generating; start training when it has finished")
            return False
        for prefix, what in (("export", "an export"), ("dataset", "the dataset preview's decode")):
            if self.tasks.busy(prefix):   # it may write the same files (dataset cache, run folder) as the trainer
                model.report_error(f"Cannot start while {what} is running; press Start again when it has finished")
                return False
        plan = model.start_plan(cfg.preset, run_dir, source)
        if plan.resume:
            self.views.show_resume_history(plan.path, plan.history_step)
        else:
            self.views.reset()
        self.views.health_banner.reset()
        self.latent.forget_model()    # the trainer builds its own models; never keep a second one around
        session = TrainingSession(cfg, plan.path, resume=plan.resume, resume_step=plan.resume_step,
                                  parent=self.parent(), source=source)
        session.engineEvent.connect(self.on_event)
        session.errored.connect(self._on_errored)
        session.finished.connect(model.end_session)
        session.start()
        self.form.set_active(True)
        self.views.ckpt_panel.set_run(plan.path)
        model.begin(session, plan, sweeping=source is not None)
        self.set_title(f"ganstudio — {plan.path.name}")
        return True

    @Slot(object)
    def on_event(self, ev: object) -> None:
        """An engine event: the views draw their part, then the model takes its own (state, status numbers)."""
        self.views.on_event(ev)
        self.model.handle_event(ev)

    @Slot(object)
    def _on_errored(self, exc: object) -> None:
        self.model.report_error(describe_error(exc))  # type: ignore[arg-type]

    def apply_remedy(self, remedy: Remedy) -> str:
        """One click on an adviser's remedy (the policy: studio.remedy); returns what was done."""
        return self.model.apply_remedy(remedy, set_form=self.form.set_value, start=self.start,
                                       export_best=self.export_best).text

    # ------------------------------------------------------------------------------------------------ warm-up
    def warm_up(self) -> None:
        """Import TensorFlow in the background after the window is shown, so Start responds quickly."""
        if self.warmup is not None:
            return
        # A Task (a QThread) rather than a daemon thread: it is joined on exit, so the interpreter never tears down
        # while TF's extension modules are half-imported; its thread runs at background priority, so TF's pools do.
        self.warmup = Task(load_engine, "warmup")
        self.warmup.done.connect(self._on_warm)
        self.warmup.failed.connect(self._on_warm)
        gui_thread_gc().start(self.warmup)

    @Slot(object)
    def _on_warm(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.show_message(f"Engine failed to load: {describe_error(result)}", 0)
        else:
            self.model.engine_ready = True
            self.model.device_info = self.model.device_info or str(result)
            self.show_message(f"Engine ready ({result})", 0)

    def join_warmup(self, wait_ms: int) -> bool:
        """False if the warm-up is still running after `wait_ms`."""
        if self.warmup is None:
            return True
        ok = self.warmup.wait(wait_ms)
        if ok:
            self.warmup = None
        return ok

    # ------------------------------------------------------------------------------------------------ exit
    def shutdown(self, wait_ms: int) -> bool:
        """Stop the session and join its thread. False on a timeout."""
        session = self.model.session
        if session is None:
            return True
        session.stop()
        ok = session.shutdown(wait_ms)
        if not ok:
            print(f"ganstudio: the training thread did not stop within {wait_ms / 1000:.0f} s")
        return ok
