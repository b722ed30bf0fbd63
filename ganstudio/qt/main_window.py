"""The studio window: hyperparameters | live plots | sample grid, driven by engine events.

Tabs: Training (form, plots, grid), Dataset, Runs, Latent and Sweep; a Checkpoints dock on the right. The window
owns at most one `TrainingSession` (thread + worker + Control) plus short background `Task`s (exports, dataset
decoding). It never imports TensorFlow: the worker and the export tasks import it inside their threads, so the
window shows at once and watch mode never loads it.

This file builds the window and drives the session (start, pause, step, stop, close). Other concerns are mixins in
modules of their own: actions.py (actions, toolbar, menus), status.py (status bar), event_views.py (engine events
-> views), run_folder.py (new, open, load a checkpoint), run_exports.py, dataset_flow.py, watch_mode.py,
window_settings.py; window_state.py holds the State enum.
"""
from __future__ import annotations

import collections
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QMainWindow, QMessageBox, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from ..config import Config
from ..engine.checkpoints import list_checkpoints
from ..engine.events import StepMetrics
from ..runs import RunDir, new_run_path, runs_root
from .gcguard import gui_thread_gc
from .widgets.checkpoints import CheckpointPanel
from .widgets.error_banner import ErrorBanner
from .widgets.dataset_panel import DatasetPanel
from .remedies import apply_remedy
from .widgets.health_banner import HealthBanner
from .widgets.hyperparams import HyperparamPanel
from .widgets.latent_explorer import LatentExplorer
from .widgets.loss_plot import LossPlot
from .widgets.quality_plot import QualityPlot
from .widgets.runs_panel import RunsPanel
from .widgets.sweep_panel import install_sweep_tab
from .widgets.sample_grid import SampleGridView
from .window_state import State
from .worker import Task, TaskSet, TrainingSession, describe_error
from .actions import ActionsMixin
from .dataset_flow import DatasetFlowMixin
from .event_views import EventViewsMixin
from .run_exports import RunExportsMixin
from .run_folder import RunFolderMixin
from .status import StatusMixin, fmt_duration
from .watch_mode import WatchModeMixin
from .window_settings import WindowSettingsMixin

DEFAULT_SIZE = (1480, 860)   # first launch, where the screen has room; benchmarks measure this size
CLOSE_WAIT_MS = 1000      # join this long inside closeEvent (a close may block the window 3 s at most, with room
                          # for the rest of it on a busy machine); beyond it the window closes when the thread ends
QUIT_WAIT_MS = 120_000    # at application exit we must join: a running QThread at exit is a qFatal


def load_engine(_progress: Callable[[int, int], None]) -> str:
    from ..core.tfsetup import device_summary  # noqa: PLC0415 - imports TensorFlow, in the warm-up thread

    return device_summary()


class MainWindow(ActionsMixin, StatusMixin, EventViewsMixin, RunFolderMixin, RunExportsMixin, DatasetFlowMixin,
                 WatchModeMixin, WindowSettingsMixin, QMainWindow):
    stateChanged = Signal(str)
    sessionFinished = Signal()
    exportFinished = Signal(object)      # the written Path, or the exception
    datasetLoaded = Signal(object)       # (spec, Dataset) or (spec, exception)
    watchPolled = Signal()

    def __init__(self, settings: QSettings | None = None, preset: str | None = None,
                 dataset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ganstudio")
        self.settings = settings if settings is not None else QSettings("ganstudio", "ganstudio")
        self.session: TrainingSession | None = None
        self.sweeping = False                      # the session runs a sweep's trials (the Sweep tab)
        self.state = State.IDLE
        self.run_path: Path | None = None          # run folder of the current / opened run
        self.resume_path: Path | None = None       # Start continues this run from its last checkpoint
        self.total_steps = 0
        self.last_metrics: StepMetrics | None = None
        self.last_error = ""
        self.finished_reason = ""
        self.engine_ready = False
        self.device_info = ""     # what the engine runs on (Help ▸ About): the warm-up's device, then Started's
        self._rate = collections.deque(maxlen=64)  # (wall, step) for the ETA
        self._status_dirty = False
        self._close_when_done = False
        self._warmup = None
        self.resume_step: int | None = None        # Load in the Checkpoints dock picks an older checkpoint
        self.tasks = TaskSet(self)                 # exports + dataset decoding; joined on close
        self.tasks.changed.connect(lambda: self._update_export_actions())
        self.tasks.changed.connect(self._close_if_done)
        self._init_watch_mode()
        self._init_dataset_flow()

        # Injectable interactions: tests replace them so nothing modal ever blocks.
        self.ask_close: Callable[[], str] = self._ask_close_dialog              # 'save' | 'discard' | 'cancel'
        self.show_error: Callable[[str], None] = self._show_error_dialog
        self.choose_run_dir: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Open run folder", str(runs_root()))
        self.choose_export_path: Callable[[str], str] | None = None
        # (title, default path, filter) -> chosen path or "" to cancel
        self.choose_save_path: Callable[[str, str, str], str] = lambda title, start, filt: \
            QFileDialog.getSaveFileName(self, title, start, filt)[0]
        self.ask_replace: Callable[[Path], bool] = self._ask_replace_dialog
        # (run, step, newer steps) -> True to continue from `step`, moving the newer checkpoints aside
        self.confirm_branch: Callable[[Path, int, list[int]], bool] = self._confirm_branch_dialog
        self.choose_watch_dir: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Watch run folder", str(runs_root()))

        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._restore_settings(preset, dataset)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(200)   # labels at 5 Hz: cheap, and no per-step relayout
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        self.panel.widgets["dataset"].textChanged.connect(self._dataset_field_changed)
        self.setAcceptDrops(True)
        self._set_state(State.IDLE)
        from .desktop import install_desktop  # noqa: PLC0415 - Help, Open Recent, theme, archives, runs root

        self.desktop = install_desktop(self)

    # ------------------------------------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.panel = HyperparamPanel()
        self.panel.liveEdit.connect(self._send_live_edit)
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + 24)
        self.plot = LossPlot()
        self.quality_plot = QualityPlot()
        self.health_banner = HealthBanner()
        self.health_banner.remedyRequested.connect(lambda remedy: apply_remedy(self, remedy))
        self.plot_splitter = QSplitter(Qt.Vertical)     # losses above, quality (FD / KID) below
        self.plot_splitter.addWidget(self.plot)
        self.plot_splitter.addWidget(self.quality_plot)
        self.plot_splitter.setStretchFactor(0, 3)
        self.plot_splitter.setStretchFactor(1, 1)
        self.plot_splitter.setSizes([560, 220])
        self.quality_plot.collapsedChanged.connect(self._quality_collapsed)
        self.plot_area = QWidget()
        plot_lay = QVBoxLayout(self.plot_area)
        plot_lay.setContentsMargins(0, 0, 0, 0)
        plot_lay.setSpacing(4)
        plot_lay.addWidget(self.health_banner)
        self.error_banner = ErrorBanner()     # a failed write paused the run: what to fix, then Resume
        self.error_banner.resumeRequested.connect(lambda: self.state is State.PAUSED and self.toggle_pause())
        plot_lay.addWidget(self.error_banner)
        plot_lay.addWidget(self.plot_splitter, 1)
        self.grid_view = SampleGridView()
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.plot_area)
        self.splitter.addWidget(self.grid_view)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([330, 700, 420])

        self.dataset_panel = DatasetPanel()
        self.dataset_panel.reloadRequested.connect(lambda: self.load_dataset_preview(force=True))
        self.runs_panel = RunsPanel()
        self.runs_panel.openRequested.connect(self._open_from_runs)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.splitter, "Training")
        self.tabs.addTab(self.dataset_panel, "Dataset")
        self.tabs.addTab(self.runs_panel, "Runs")
        self.latent = LatentExplorer(self.tasks)
        self.latent.choose_save_path = lambda title, start, filt: self.choose_save_path(title, start, filt)
        self.latent.checkpoint_step = lambda: self._selected_checkpoint_step()
        self.latent.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.latent.exported.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 10000))
        self.tabs.addTab(self.latent, "Latent")
        self.sweep_panel = install_sweep_tab(self)   # trials run through start_training(source=...)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setCentralWidget(self.tabs)
        self.grid_view.currentChanged.connect(self._grid_changed)

        self.ckpt_panel = CheckpointPanel()
        self.ckpt_panel.loadRequested.connect(self.load_checkpoint)
        self.ckpt_panel.errorOccurred.connect(self._error)
        self.ckpt_dock = QDockWidget("Checkpoints", self)
        self.ckpt_dock.setObjectName("checkpoints_dock")
        self.ckpt_dock.setWidget(self.ckpt_panel)
        self.ckpt_dock.setFeatures(QDockWidget.DockWidgetClosable | QDockWidget.DockWidgetMovable
                                   | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.RightDockWidgetArea, self.ckpt_dock)
        # First launch (no saved geometry): roomy, but never larger than the screen (1366x768 laptops).
        avail, (w, h) = self.screen().availableGeometry(), DEFAULT_SIZE
        self.resize(min(w, int(avail.width() * 0.95)), min(h, int(avail.height() * 0.92)))
        self.resizeDocks([self.ckpt_dock], [250], Qt.Horizontal)

    # ------------------------------------------------------------------------------------------------ state
    def _set_state(self, state: State) -> None:
        self.state = state = State(state)
        active, live, watching = state.active, state.live, state is State.WATCHING
        self.act_start.setEnabled(not active and not watching)
        if not active and self.resume_path and self.resume_step is not None:
            self.act_start.setText(f"Resume from step {self.resume_step:,}")
        else:
            self.act_start.setText("Resume run" if (not active and self.resume_path) else "Start")
        self.act_pause.setEnabled(live)
        self.act_pause.setText("Resume" if state is State.PAUSED else "Pause")
        self.act_step.setEnabled(live)
        self.act_step_n.setEnabled(live)
        self.step_n.setEnabled(live)
        self.act_stop.setEnabled(live)
        self.act_save.setEnabled(live)
        self.act_quality.setEnabled(live)
        self.act_open.setEnabled(not active)
        self.act_new.setEnabled(not active)
        self.act_watch.setEnabled(not active)
        self.act_export.setEnabled(self.grid_view.current() is not None)
        self.ckpt_panel.set_busy(active or watching, self._route_checkpoint_change if live else None)
        if state is State.RUNNING:
            self.error_banner.clear()
        self._update_export_actions()
        self.lbl_state.setText(state.capitalize())
        self._status_dirty = True
        self._update_latent_source()
        self.stateChanged.emit(str(state))

    # ------------------------------------------------------------------------------------------------ commands
    def _reset_views(self) -> None:
        """Empty every view of a run (plots, grids, banner, status numbers) before showing another."""
        self.plot.clear()
        self.quality_plot.clear()
        self.health_banner.reset()
        self.grid_view.clear()
        self.last_metrics = None
        self.total_steps = 0
        self._rate.clear()
        self._status_dirty = True

    def start_training(self, run_dir: str | Path | None = None, source=None) -> bool:
        """Start a new run (or continue `resume_path`). Returns False, with the reason shown, if it cannot.
        `source(control)`, a sweep's event generator, replaces the single Trainer (widgets/sweep_panel.py)."""
        if self.session is not None:
            return False
        cfg = self.panel.validate()
        if cfg is None:
            self._error(f"Cannot start: {self.panel.error_text}")
            return False
        if self.latent.busy:
            self._error("The latent explorer is generating; start training when it has finished")
            return False
        for prefix, what in (("export", "an export"), ("dataset", "the dataset preview's decode")):
            if self.tasks.busy(prefix):   # it may write the same files (dataset cache, run folder) as the trainer
                self._error(f"Cannot start while {what} is running; press Start again when it has finished")
                return False
        resume = self.resume_path is not None and run_dir is None and source is None
        self.sweeping = source is not None
        if resume:
            path = self.resume_path
            ckpts = list_checkpoints(RunDir(path).checkpoints)
            step = self.resume_step if self.resume_step is not None else (ckpts[-1].step if ckpts else 0)
            # The trainer drops metrics rows after the checkpoint; show the same history.
            self.plot.set_history(RunDir(path).read_metrics(step))
            self.quality_plot.set_history([r for r in RunDir(path).read_quality() if r.get("step", 0) <= step])
        else:
            path = Path(run_dir) if run_dir else new_run_path(cfg.preset)
            self._reset_views()
        self.health_banner.reset()
        self.latent.forget_model()    # the trainer builds its own models; never keep a second one around
        self.run_path = path
        self.last_metrics = None
        self.last_error = ""
        self.finished_reason = ""
        self._rate.clear()
        self.session = TrainingSession(cfg, path, resume=resume, resume_step=self.resume_step if resume else None,
                                       parent=self, source=source)
        self.session.engineEvent.connect(self._on_event)
        self.session.errored.connect(self._on_errored)
        self.session.finished.connect(self._on_session_finished)
        self.session.start()
        self.panel.set_active(True)
        self.ckpt_panel.set_run(path)
        self._set_state(State.RUNNING)
        self.statusBar().showMessage(f"Starting {'resumed ' if resume else ''}run in {path} …")
        self.setWindowTitle(f"ganstudio — {path.name}")
        return True

    def toggle_pause(self) -> None:
        if self.session is None:
            return
        if self.state is State.RUNNING:
            self.session.control.pause()
            self._set_state(State.PAUSED)
        elif self.state is State.PAUSED:
            self.session.control.resume()
            self._set_state(State.RUNNING)

    def step_training(self, n: int = 1) -> None:
        """Pause (if running) and allow exactly n more steps."""
        if self.session is None or not self.state.live:
            return
        self.session.control.step(n)
        self._set_state(State.PAUSED)

    def stop_training(self) -> None:
        if self.session is None or self.state is State.STOPPING:
            return
        self.session.stop()
        self._set_state(State.STOPPING)
        self.statusBar().showMessage("Stopping after the current step (saving a checkpoint)…")

    def _route_checkpoint_change(self, what: str, step: int) -> None:
        """Pin/unpin/delete from the Checkpoints dock while this window trains the run: done by the trainer between
        steps (a CheckpointsChanged event answers), so it never races a save or retention."""
        if self.session is not None and self.state.live:
            self.session.control.request(what, step=step)

    def save_checkpoint(self) -> None:
        if self.session is not None and self.state.live:
            self.session.control.request("checkpoint")

    def compute_quality(self) -> bool:
        """Ask the trainer for FD / KID now (between steps, also while paused); a Metric event answers."""
        if self.session is None or not self.state.live:
            return False
        self.session.control.request("metric")
        self.statusBar().showMessage("Computing the quality metric on the training thread…", 8000)
        return True

    def _update_latent_source(self) -> None:
        live = None
        if self.session is not None and self.state.live:
            # The trainer generates between steps on its own thread: no second model, no need to stop.
            control, reason = self.session.control, ""
            live = lambda **kw: control.request("generate", **kw)  # noqa: E731
        elif self.session is not None or self.state is State.STOPPING:
            reason = "the run is stopping; the explorer reads its last checkpoint once it has stopped."
        elif self.run_path is None:
            reason = "open a run (File ▸ Open run…) or train one first."
        else:
            reason = ""
        self.latent.set_source(self.run_path, reason, live=live, ema=bool(self.panel.value("ema_decay")))

    @Slot(object)
    def _on_errored(self, exc: object) -> None:
        self.last_error = describe_error(exc)  # type: ignore[arg-type]
        self._error(self.last_error)

    @Slot()
    def _on_session_finished(self) -> None:
        self.session = None  # only now: the QThread has really finished
        self.panel.set_active(False)
        if self.last_error or self.finished_reason == "error":
            self._set_state(State.ERROR)
        else:
            self._set_state(State.FINISHED)
        # A stopped run can be continued with Start (a stopped sweep from its tab); a completed one stays viewable.
        self.resume_path = self.run_path if self.finished_reason == "stopped" and self.run_path and \
            not self.sweeping else None
        self.resume_step = None
        self.ckpt_panel.set_run(self.run_path)
        if self.runs_panel.isVisible():
            self.runs_panel.refresh()
        self._set_state(self.state)
        self.sessionFinished.emit()
        if self._close_when_done:
            self.close()

    @Slot(str, object)
    def _send_live_edit(self, name: str, value: object) -> None:
        # a sweep's trials keep their own values: the form is the base of the next sweep, not a live edit
        if self.session is not None and self.state.live and not self.sweeping:
            self.session.control.edit(**{name: value})

    def _error(self, text: str) -> None:
        self.last_error = text
        self.statusBar().showMessage(text, 15000)
        self.show_error(text)

    def _show_error_dialog(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Critical, "ganstudio", text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # non-blocking: the window stays usable and tests never hang

    # ------------------------------------------------------------------------------------------------ engine warm-up
    def warm_up_engine(self) -> None:
        """Import TensorFlow in the background after the window is shown, so Start responds quickly."""
        if self._warmup is not None:
            return
        # A Task (a QThread) rather than a daemon thread: it is joined on exit, so the interpreter never tears down
        # while TF's extension modules are half-imported; its thread runs at background priority, so TF's pools do.
        self._warmup = Task(load_engine, "warmup")
        self._warmup.done.connect(self._on_warm)
        self._warmup.failed.connect(self._on_warm)
        gui_thread_gc().start(self._warmup)

    @Slot(object)
    def _on_warm(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.statusBar().showMessage(f"Engine failed to load: {describe_error(result)}")
        else:
            self.engine_ready = True
            self.device_info = self.device_info or str(result)
            self.statusBar().showMessage(f"Engine ready ({result})", 0)

    # ------------------------------------------------------------------------------------------------ shutdown
    def shutdown(self, wait_ms: int = QUIT_WAIT_MS) -> bool:
        """Stop training and join every thread this window started. Returns False on a timeout."""
        ok = True
        if self.session is not None:
            self.session.stop()
            ok = self.session.shutdown(wait_ms)
            if not ok:
                print(f"ganstudio: the training thread did not stop within {wait_ms / 1000:.0f} s")
        return self._join_background(wait_ms, wait_ms) and ok

    def _join_background(self, warmup_ms: int, tasks_ms: int) -> bool:
        """Stop the timers that start background work, then join the engine warm-up and the background tasks
        (the trainer's thread is its session's). False if one of them is still running after its wait."""
        self._watch_timer.stop()
        self._ds_debounced.cancel()
        self._ds_request = None
        ok = True
        if self._warmup is not None:
            ok = self._warmup.wait(warmup_ms)
            if ok:
                self._warmup = None
        return self.tasks.wait_all(tasks_ms) and ok

    def _close_if_done(self) -> None:
        """A deferred close (see closeEvent) happens once the trainer and every background task have ended."""
        if self._close_when_done and self.session is None and not self.tasks.tasks:
            self.close()

    def _ask_close_dialog(self) -> str:
        box = QMessageBox(QMessageBox.Question, "ganstudio", "Training is running. Stop it and close?",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, self)
        box.setInformativeText("Save writes a checkpoint first so you can resume this run later.")
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(QMessageBox.StandardButton(answer),
                                                                               "cancel")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.session is not None:
            if not self._close_when_done:
                choice = self.ask_close()
                if choice == "cancel":
                    event.ignore()
                    return
                if self.session is not None:   # the run may have finished while the dialog was open
                    self.session.stop(save=choice == "save")   # Discard: no final checkpoint or grid
                    self._set_state(State.STOPPING)
            if self.session is not None and not self.session.shutdown(CLOSE_WAIT_MS):
                # Still inside a step or TF setup: close as soon as the thread ends, never kill it.
                self._close_when_done = True
                self.statusBar().showMessage("Waiting for the trainer to finish its step…")
                event.ignore()
                return
        # an export mid-write: finish it rather than kill it, and close when it has ended, without freezing
        # the window meanwhile
        if not self._join_background(QUIT_WAIT_MS, 0):
            self._close_when_done = True
            self.statusBar().showMessage("Waiting for a background task to finish…")
            event.ignore()
            return
        self._save_settings()
        super().closeEvent(event)

    def current_config(self) -> Config:
        return self.panel.current_config()


__all__ = ["MainWindow", "State", "fmt_duration"]
