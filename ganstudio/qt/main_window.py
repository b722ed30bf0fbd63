"""The studio window: hyperparameters | live plots | sample grid, driven by engine events.

Tabs: Training (form, plots, grid), Dataset, Runs, Latent and Sweep; a Checkpoints dock on the right. What the
studio is doing lives in the Qt-free studio model (ganstudio.studio.StudioModel: the state machine, the session,
the run shown and what Start resumes, the remedy policy, recent runs, the runs root). This window builds the
widgets, the actions and menus, and composes the views and controllers that observe the model and call it, each
given the model and the widgets it needs: training.Training (Start, the session's signals, remedies, the engine
warm-up), event_views.RunViews (engine events -> views), status.StatusView, run_folder.RunFolder (new, open, load
a checkpoint), watch_mode.WatchMode, run_exports.RunExports, dataset_flow.DatasetFlow and desktop.Desktop. Its
public methods (start_training, open_run, export_run, …) are the studio's commands for the app, tests and
benchmarks. It never imports TensorFlow: the worker and the export tasks import it inside their threads, so the
window shows at once and watch mode never loads it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QMainWindow, QMessageBox, QScrollArea, QSpinBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from ..config import Config
from ..outputs import export
from ..runs import runs_root
from ..studio import State, StudioModel
from .actions import make_action
from .dataset_flow import DatasetFlow
from .event_views import RunViews
from .recent import SettingsStore
from .report_action import make_report
from .run_exports import RunExports, ask_replace_dialog
from .run_folder import RunFolder, confirm_branch_dialog
from .status import StatusView, fmt_duration
from .training import Training, load_engine
from .watch_mode import WatchMode
from .widgets.checkpoints import CheckpointPanel
from .widgets.dataset_panel import DatasetPanel
from .widgets.error_banner import ErrorBanner
from .widgets.health_banner import HealthBanner
from .widgets.hyperparams import HyperparamPanel
from .widgets.latent_explorer import LatentExplorer
from .widgets.loss_plot import LossPlot
from .widgets.quality_plot import QualityPlot
from .widgets.runs_panel import RunsPanel
from .widgets.sample_grid import SampleGridView
from .widgets.sweep_panel import install_sweep_tab
from .window_settings import initial_config, restore_layout, save_settings
from .worker import Task, TaskSet, describe_error

DEFAULT_SIZE = (1480, 860)   # first launch, where the screen has room; benchmarks measure this size
CLOSE_WAIT_MS = 1000      # join this long inside closeEvent (a close may block the window 3 s at most, with room
                          # for the rest of it on a busy machine); beyond it the window closes when the thread ends
QUIT_WAIT_MS = 120_000    # at application exit we must join: a running QThread at exit is a qFatal


def _model_attr(name: str) -> property:
    """The window's view of a StudioModel attribute (read and write), kept for callers of the window."""
    return property(lambda self: getattr(self.model, name), lambda self, value: setattr(self.model, name, value),
                    doc=f"StudioModel.{name}")


class MainWindow(QMainWindow):
    stateChanged = Signal(str)
    sessionFinished = Signal()
    exportFinished = Signal(object)      # the written Path, or the exception
    datasetLoaded = Signal(object)       # (spec, Dataset) or (spec, exception)
    watchPolled = Signal()

    state = property(lambda self: self.model.state, doc="StudioModel.state (set it with model.set_state)")
    session = _model_attr("session")
    sweeping = _model_attr("sweeping")
    run_path = _model_attr("run_path")
    resume_path = _model_attr("resume_path")
    resume_step = _model_attr("resume_step")
    total_steps = _model_attr("total_steps")
    last_metrics = _model_attr("last_metrics")
    last_error = _model_attr("last_error")
    finished_reason = _model_attr("finished_reason")
    engine_ready = _model_attr("engine_ready")
    device_info = _model_attr("device_info")
    follower = _model_attr("follower")
    watching = property(lambda self: self.model.watching)

    def __init__(self, settings: QSettings | None = None, preset: str | None = None,
                 dataset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ganstudio")
        self.settings = settings if settings is not None else QSettings("ganstudio", "ganstudio")
        self.model = StudioModel(SettingsStore(self.settings))
        self._close_when_done = False
        self.tasks = TaskSet(self)                 # exports + dataset decoding; joined on close
        self.tasks.changed.connect(self._close_if_done)

        # Injectable interactions: tests replace them so nothing modal ever blocks.
        self.ask_close: Callable[[], str] = self._ask_close_dialog              # 'save' | 'discard' | 'cancel'
        self.show_error: Callable[[str], None] = self._show_error_dialog
        self.choose_run_dir: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Open run folder", str(runs_root()))
        self.choose_export_path: Callable[[str], str] | None = None
        # (title, default path, filter) -> chosen path or "" to cancel
        self.choose_save_path: Callable[[str, str, str], str] = lambda title, start, filt: \
            QFileDialog.getSaveFileName(self, title, start, filt)[0]
        self.ask_replace: Callable[[Path], bool] = lambda path: ask_replace_dialog(self, path)
        # (run, step, newer steps) -> True to continue from `step`, moving the newer checkpoints aside
        self.confirm_branch: Callable[[Path, int, list[int]], bool] = \
            lambda run, step, newer: confirm_branch_dialog(self, run, step, newer)
        self.choose_watch_dir: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Watch run folder", str(runs_root()))

        self._build_widgets()
        self._build_controllers()
        self._build_actions()
        self.status_view = StatusView(self.statusBar(), self.model)
        for name in ("lbl_state", "lbl_step", "lbl_epoch", "lbl_speed", "lbl_elapsed", "lbl_eta", "lbl_quality"):
            setattr(self, name, getattr(self.status_view, name))
        restore_layout(self.settings, self, self.splitter)
        self.panel.set_config(initial_config(self.settings, preset, dataset, self.report_error))
        self.model.state_changed.connect(self._state_changed)
        self.model.session_ended.connect(self._session_ended)
        self.model.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.model.error.connect(self._show_error)
        self.setAcceptDrops(True)
        self.model.set_state(State.IDLE)
        from .desktop import install_desktop  # noqa: PLC0415 - Help, Open Recent, theme, archives, runs root

        self.desktop = install_desktop(self, self.model, self.exports.selected_checkpoint_step)

    # ------------------------------------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.panel = HyperparamPanel()
        self.panel.liveEdit.connect(self.model.live_edit)
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + 24)
        self.plot = LossPlot()
        self.quality_plot = QualityPlot()
        self.health_banner = HealthBanner()
        self.health_banner.remedyRequested.connect(lambda remedy: self.training.apply_remedy(remedy))
        self.plot_splitter = QSplitter(Qt.Vertical)     # losses above, quality (FD / KID) below
        self.plot_splitter.addWidget(self.plot)
        self.plot_splitter.addWidget(self.quality_plot)
        self.plot_splitter.setStretchFactor(0, 3)
        self.plot_splitter.setStretchFactor(1, 1)
        self.plot_splitter.setSizes([560, 220])
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
        self.runs_panel = RunsPanel()
        self.runs_panel.openRequested.connect(lambda path: self.run_folder.open_from_runs(path))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.splitter, "Training")
        self.tabs.addTab(self.dataset_panel, "Dataset")
        self.tabs.addTab(self.runs_panel, "Runs")
        self.latent = LatentExplorer(self.tasks, make_task=Task, load_generator=export.load_generator,
                                     generate=export.generate, describe_error=describe_error)
        self.latent.choose_save_path = lambda title, start, filt: self.choose_save_path(title, start, filt)
        self.latent.checkpoint_step = lambda: self.exports.selected_checkpoint_step()
        self.latent.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.latent.exported.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 10000))
        self.tabs.addTab(self.latent, "Latent")
        # trials run through start_training(source=...): the toolbar's Pause, Step and Stop act on them
        self.sweep_panel = install_sweep_tab(
            self.tabs, self.panel.validate,
            start=lambda folder, source: self.model.session if self.start_training(folder, source=source) else None,
            clear_views=self._clear_training_views, use_config=self._use_config, show_message=self._show_message,
            state_changed=self.model.state_changed)
        self.setCentralWidget(self.tabs)

        self.ckpt_panel = CheckpointPanel()
        self.ckpt_panel.loadRequested.connect(self.load_checkpoint)
        self.ckpt_panel.errorOccurred.connect(self.report_error)
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

    def _build_controllers(self) -> None:
        model, show = self.model, self._show_message
        self.views = RunViews(model, plot=self.plot, quality_plot=self.quality_plot, plot_splitter=self.plot_splitter,
                              grid_view=self.grid_view, health_banner=self.health_banner,
                              error_banner=self.error_banner, ckpt_panel=self.ckpt_panel, latent=self.latent,
                              form=self.panel, show_message=show,
                              show_quality=lambda text: self.lbl_quality.setText(text),
                              grid_shown=lambda: self.act_export.setEnabled(True))
        self.training = Training(model, self.panel, self.views, self.latent, self.tasks, set_title=self.setWindowTitle,
                                 show_message=show, export_best=lambda: self.export_run("keras", step="best"),
                                 parent=self)
        self.exports = RunExports(model, self.grid_view, self.ckpt_panel, self.tasks, self, show_message=show,
                                  choose_save_path=lambda *a: self.choose_save_path(*a),
                                  export_chooser=lambda: self.choose_export_path,
                                  ask_replace=lambda path: self.ask_replace(path), finished=self.exportFinished.emit)
        self.run_folder = RunFolder(model, self.views, self.panel, set_title=self.setWindowTitle, show_message=show,
                                    confirm_branch=lambda *a: self.confirm_branch(*a),
                                    show_training=lambda: self.tabs.setCurrentIndex(0))
        self.watch = WatchMode(model, self.views, self.panel, set_title=self.setWindowTitle, show_message=show,
                               grid_shown=lambda: self.act_export.setEnabled(True), polled=self.watchPolled.emit,
                               parent=self)
        self.dataset_flow = DatasetFlow(model, self.panel, self.dataset_panel, self.tabs, self.tasks,
                                        show_message=show, open_run=self.open_run, loaded=self.datasetLoaded.emit,
                                        parent=self)
        self.grid_view.currentChanged.connect(self.dataset_flow.grid_changed)
        # the exports' actions and menu, as the window's (tests and the desktop menus use them)
        self.act_export = self.exports.act_export
        self.run_export_actions = self.exports.run_export_actions
        self.act_sample = self.exports.act_sample

    def _build_actions(self) -> None:
        """The actions, the toolbar and the File, Run and View menus (Help and Open Recent come from desktop.py)."""
        def action(*args, **kwargs) -> QAction:
            return make_action(self, *args, **kwargs)

        self.act_start = action("Start", self.start_training, "Ctrl+R", "Start training (or resume the run)")
        self.act_pause = action("Pause", self.toggle_pause, Qt.Key_Space, "Pause / resume after this step")
        self.act_step = action("Step", lambda: self.step_training(1), "F10", "Run exactly one step, then pause")
        self.act_step_n = action("Step N", lambda: self.step_training(self.step_n.value()), "Shift+F10",
                                 "Run the number of steps in the box, then pause")
        self.act_stop = action("Stop", self.stop_training, "Ctrl+.", "Stop after this step (saves a checkpoint)")
        self.act_save = action("Save checkpoint", self.save_checkpoint, QKeySequence.Save,
                               "Save a checkpoint now (works while paused)")
        self.act_open = action("Open run…", self.open_run_dialog, QKeySequence.Open, "Open a run folder")
        self.act_new = action("New run", self.new_run, QKeySequence.New, "Forget the current run; start fresh")
        self.act_watch = action("Watch run…", self.watch_run_dialog, "Ctrl+Shift+W",
                                "Follow a run another process is training (read-only)")
        self.act_quit = action("Quit", self.close, QKeySequence.Quit)
        self.act_quality = action("Compute quality now", self.compute_quality, "Ctrl+M",
                                  "Measure FD / KID now on the training thread (works while paused)")
        self.step_n = QSpinBox()
        self.step_n.setRange(1, 1_000_000)
        self.step_n.setValue(10)
        self.step_n.setToolTip("Steps for 'Step N'")
        self.step_n.setPrefix("N = ")

        tb = self.addToolBar("Training")
        tb.setObjectName("training_toolbar")
        tb.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for a in (self.act_start, self.act_pause, self.act_step):
            tb.addAction(a)
        tb.addWidget(self.step_n)
        for a in (self.act_step_n, self.act_stop):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.act_save, self.act_quality, self.act_export):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.act_new, self.act_open):
            tb.addAction(a)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        for a in (self.act_new, self.act_open, self.act_watch):
            m.addAction(a)
        m.addSeparator()
        self.export_menu = self.exports.build_menu(m)
        self.act_export_best, self.act_export_latest = self.exports.act_export_best, self.exports.act_export_latest
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_start, self.act_pause, self.act_step, self.act_step_n, self.act_stop):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_save)
        m.addAction(self.act_quality)
        self.act_report = action("Report…", lambda: make_report(self.model, self.tasks, self._show_message, self),
                                 tip="Write the run's one-page HTML report (RUN/report.html) and open it")
        m.addAction(self.act_report)
        m = mb.addMenu("&View")
        follow = QAction("Follow latest", self, checkable=True, checked=True)
        follow.toggled.connect(self.plot.follow_box.setChecked)
        self.plot.follow_box.toggled.connect(follow.setChecked)
        smooth = QAction("Smoothed curves", self, checkable=True, checked=True)
        smooth.toggled.connect(self.plot.smooth_box.setChecked)
        self.plot.smooth_box.toggled.connect(smooth.setChecked)
        m.addAction(follow)
        m.addAction(smooth)
        m.addSeparator()
        m.addAction(self.ckpt_dock.toggleViewAction())

    # ------------------------------------------------------------------------------------------------ model -> window
    def _state_changed(self, state: State) -> None:
        active, live, watching = state.active, state.live, state is State.WATCHING
        self.act_start.setEnabled(not active and not watching)
        self.act_start.setText(self.model.start_text())
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
        # pin/unpin/delete from the dock while this window trains the run: done by the trainer between steps
        # (a CheckpointsChanged event answers), so it never races a save or retention
        self.ckpt_panel.set_busy(active or watching,
                                 (lambda what, step: self.model.request(what, step=step)) if live else None)
        if state is State.RUNNING:
            self.error_banner.clear()
        self._update_latent_source()
        self.stateChanged.emit(str(state))

    def _update_latent_source(self) -> None:
        model = self.model
        # while live, the trainer generates between steps on its own thread: no second model, no need to stop
        live = model.generator()
        if live is not None:
            reason = ""
        elif model.session is not None or model.state is State.STOPPING:
            reason = "the run is stopping; the explorer reads its last checkpoint once it has stopped."
        elif model.run_path is None:
            reason = "open a run (File ▸ Open run…) or train one first."
        else:
            reason = ""
        self.latent.set_source(model.run_path, reason, live=live, ema=bool(self.panel.value("ema_decay")))

    def _session_ended(self) -> None:
        self.panel.set_active(False)
        self.ckpt_panel.set_run(self.model.run_path)
        if self.runs_panel.isVisible():
            self.runs_panel.refresh()
        self.sessionFinished.emit()
        if self._close_when_done:
            self.close()

    def _show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def report_error(self, text: str) -> None:
        """Tell the user what failed: the status bar and the error dialog (show_error)."""
        self.model.report_error(text)

    def _show_error(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        self.show_error(text)

    def _show_error_dialog(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Critical, "ganstudio", text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # non-blocking: the window stays usable and tests never hang

    # ------------------------------------------------------------------------------------------------ commands
    def start_training(self, run_dir: str | Path | None = None, source=None) -> bool:
        """Start a new run (or resume the opened / stopped one); False, with the reason shown, if it cannot."""
        return self.training.start(run_dir, source)

    def on_engine_event(self, ev: object) -> None:
        self.training.on_event(ev)

    def toggle_pause(self) -> None:
        self.model.toggle_pause()

    def step_training(self, n: int = 1) -> None:
        """Pause (if running) and allow exactly n more steps."""
        self.model.step(n)

    def stop_training(self) -> None:
        self.model.stop()

    def save_checkpoint(self) -> None:
        self.model.request("checkpoint")

    def compute_quality(self) -> bool:
        """Ask the trainer for FD / KID now (between steps, also while paused); a Metric event answers."""
        return self.model.compute_quality()

    def _clear_training_views(self) -> None:
        self.plot.clear()
        self.quality_plot.clear()
        self.grid_view.clear()

    def _use_config(self, cfg: Config) -> None:
        self.panel.set_config(cfg)
        self.tabs.setCurrentIndex(0)

    # ------------------------------------------------------------------------------------------------ run folders
    def new_run(self) -> None:
        self.run_folder.new_run()

    def open_run_dialog(self) -> None:
        path = self.choose_run_dir()
        if path:
            self.open_run(path)

    def open_run(self, path: str | Path) -> bool:
        return self.run_folder.open_run(path)

    def load_checkpoint(self, step: int) -> bool:
        return self.run_folder.load_checkpoint(step)

    def watch_run_dialog(self) -> None:
        path = self.choose_watch_dir()
        if path:
            self.watch_run(path)

    def watch_run(self, path: str | Path) -> bool:
        return self.watch.watch_run(path)

    def stop_watching(self) -> None:
        self.model.stop_watching()

    def poll_watch(self) -> None:
        self.watch.poll_watch()

    # ------------------------------------------------------------------------------------------------ exports, data
    def export_run(self, fmt: str, out: str | Path | None = None, **kwargs) -> Task | None:
        return self.exports.export_run(fmt, out, **kwargs)

    def export_grid(self, path: str | Path | None = None, rows: int = 0, scale: int = 1) -> Path | None:
        return self.exports.export_grid(path, rows, scale)

    def export_step(self) -> int | None:
        return self.exports.export_step()

    def default_export_target(self, fmt: str, n: int = 64) -> Path:
        return self.exports.default_export_target(fmt, n)

    def open_export_dialog(self):
        return self.exports.open_export_dialog()

    def open_sample_dialog(self):
        return self.exports.open_sample_dialog()

    def load_dataset_preview(self, spec: str | None = None, *, from_drop: bool = False, force: bool = False) -> bool:
        return self.dataset_flow.load_dataset_preview(spec, from_drop=from_drop, force=force)

    def drop_path(self, path: str | Path) -> bool:
        return self.dataset_flow.drop_path(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.drop_path(paths[0])

    def warm_up_engine(self) -> None:
        """Import TensorFlow in the background after the window is shown, so Start responds quickly."""
        self.training.warm_up()

    # ------------------------------------------------------------------------------------------------ shutdown
    def shutdown(self, wait_ms: int = QUIT_WAIT_MS) -> bool:
        """Stop training and join every thread this window started. Returns False on a timeout."""
        ok = self.training.shutdown(wait_ms)
        return self._join_background(wait_ms, wait_ms) and ok

    def _join_background(self, warmup_ms: int, tasks_ms: int) -> bool:
        """Stop the timers that start background work, then join the engine warm-up and the background tasks
        (the trainer's thread is its session's). False if one of them is still running after its wait."""
        self.watch.timer.stop()
        self.dataset_flow.cancel()
        ok = self.training.join_warmup(warmup_ms)
        return self.tasks.wait_all(tasks_ms) and ok

    def _close_if_done(self) -> None:
        """A deferred close (see closeEvent) happens once the trainer and every background task have ended."""
        if self._close_when_done and self.model.session is None and not self.tasks.tasks:
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
        model = self.model
        if model.session is not None:
            if not self._close_when_done:
                choice = self.ask_close()
                if choice == "cancel":
                    event.ignore()
                    return
                if model.session is not None:   # the run may have finished while the dialog was open
                    model.session.stop(save=choice == "save")   # Discard: no final checkpoint or grid
                    model.set_state(State.STOPPING)
            if model.session is not None and not model.session.shutdown(CLOSE_WAIT_MS):
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
        save_settings(self.settings, self, self.splitter, self.panel.preset_combo.currentData(),
                      self.panel.value("dataset"))
        super().closeEvent(event)

    def current_config(self) -> Config:
        return self.panel.current_config()


__all__ = ["MainWindow", "State", "fmt_duration", "load_engine"]
