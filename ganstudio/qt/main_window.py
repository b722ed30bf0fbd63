"""The studio window: hyperparameters | live plots | sample grid, driven by engine events.

The window owns at most one `TrainingSession` (thread + worker + Control). It never imports TensorFlow: the
worker imports the Trainer inside its thread, so the window shows at once.
"""
from __future__ import annotations

import collections
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QScrollArea, QSpinBox, QSplitter

from ..config import Config
from ..engine.checkpoints import list_checkpoints
from ..engine.events import (CheckpointSaved, ConfigChanged, Finished, Message, Paused, Resumed, SampleGrid,
                             Started, StepMetrics)
from ..errors import GanStudioError
from ..presets import PRESETS, get_preset
from ..runs import RunDir, new_run_path, runs_root
from .export_dialog import ExportDialog, export_entry
from .widgets.hyperparams import HyperparamPanel
from .widgets.loss_plot import LossPlot
from .widgets.sample_grid import GridEntry, SampleGridView
from .worker import TrainingSession, describe_error

STATES = ("idle", "running", "paused", "stopping", "finished", "error")
CLOSE_WAIT_MS = 3000      # join this long inside closeEvent; beyond it the window closes when the thread ends
QUIT_WAIT_MS = 120_000    # at application exit we must join: a running QThread at exit is a qFatal


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class MainWindow(QMainWindow):
    stateChanged = Signal(str)
    sessionFinished = Signal()

    def __init__(self, settings: QSettings | None = None, preset: str | None = None,
                 dataset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("ganstudio")
        self.settings = settings if settings is not None else QSettings("ganstudio", "ganstudio")
        self.session: TrainingSession | None = None
        self.state = "idle"
        self.run_path: Path | None = None          # run folder of the current / opened run
        self.resume_path: Path | None = None       # Start continues this run from its last checkpoint
        self.total_steps = 0
        self.last_metrics: StepMetrics | None = None
        self.last_error = ""
        self.finished_reason = ""
        self.engine_ready = False
        self._rate = collections.deque(maxlen=64)  # (wall, step) for the ETA
        self._status_dirty = False
        self._close_when_done = False
        self.export_dialog: ExportDialog | None = None
        self._warmup = None

        # Injectable interactions: tests replace them so nothing modal ever blocks.
        self.ask_close: Callable[[], str] = self._ask_close_dialog              # 'save' | 'discard' | 'cancel'
        self.show_error: Callable[[str], None] = self._show_error_dialog
        self.choose_run_dir: Callable[[], str] = lambda: QFileDialog.getExistingDirectory(
            self, "Open run folder", str(runs_root()))
        self.choose_export_path: Callable[[str], str] | None = None

        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._restore_settings(preset, dataset)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(200)   # labels at 5 Hz: cheap, and no per-step relayout
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        self._set_state("idle")

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
        self.grid_view = SampleGridView()
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(self.grid_view)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([330, 700, 420])
        self.setCentralWidget(self.splitter)
        self.resize(1480, 860)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setToolTip(f"{tip or text} ({a.shortcut().toString()})" if shortcut is not None else (tip or text))
        a.setStatusTip(tip or text)
        a.triggered.connect(lambda *_: slot())
        return a

    def _build_actions(self) -> None:
        self.act_start = self._action("Start", self.start_training, "Ctrl+R", "Start training (or resume the run)")
        self.act_pause = self._action("Pause", self.toggle_pause, Qt.Key_Space, "Pause / resume after this step")
        self.act_step = self._action("Step", lambda: self.step_training(1), "F10", "Run exactly one step, then pause")
        self.act_step_n = self._action("Step N", lambda: self.step_training(self.step_n.value()), "Shift+F10",
                                       "Run the number of steps in the box, then pause")
        self.act_stop = self._action("Stop", self.stop_training, "Ctrl+.", "Stop after this step (saves a checkpoint)")
        self.act_save = self._action("Save checkpoint", self.save_checkpoint, QKeySequence.Save,
                                     "Save a checkpoint now (works while paused)")
        self.act_export = self._action("Export grid…", self.open_export_dialog, "Ctrl+E", "Export the shown grid as PNG")
        self.act_open = self._action("Open run…", self.open_run_dialog, QKeySequence.Open, "Open a run folder")
        self.act_new = self._action("New run", self.new_run, QKeySequence.New, "Forget the current run; start fresh")
        self.act_quit = self._action("Quit", self.close, QKeySequence.Quit)
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
        for a in (self.act_save, self.act_export):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.act_new, self.act_open):
            tb.addAction(a)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        for a in (self.act_new, self.act_open, self.act_export):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_start, self.act_pause, self.act_step, self.act_step_n, self.act_stop):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_save)
        m = mb.addMenu("&View")
        follow = QAction("Follow latest", self, checkable=True, checked=True)
        follow.toggled.connect(self.plot.follow_box.setChecked)
        self.plot.follow_box.toggled.connect(follow.setChecked)
        smooth = QAction("Smoothed curves", self, checkable=True, checked=True)
        smooth.toggled.connect(self.plot.smooth_box.setChecked)
        self.plot.smooth_box.toggled.connect(smooth.setChecked)
        m.addAction(follow)
        m.addAction(smooth)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.lbl_state = QLabel()
        self.lbl_step = QLabel()
        self.lbl_epoch = QLabel()
        self.lbl_speed = QLabel()
        self.lbl_elapsed = QLabel()
        self.lbl_eta = QLabel()
        fm = self.fontMetrics()
        for w, sample in ((self.lbl_state, "Stopping"), (self.lbl_step, "step 000,000 / 000,000"),
                          (self.lbl_epoch, "epoch 000.00"), (self.lbl_speed, "000,000 img/s"),
                          (self.lbl_elapsed, "elapsed 00:00:00"), (self.lbl_eta, "ETA 00:00:00")):
            w.setStyleSheet("padding: 0 6px;")
            w.setMinimumWidth(fm.horizontalAdvance(sample) + 14)   # no jitter or clipping as numbers change
            sb.addPermanentWidget(w)
        sb.showMessage("Loading engine in the background…")

    # ------------------------------------------------------------------------------------------------ state
    def _set_state(self, state: str) -> None:
        assert state in STATES, state
        self.state = state
        active = state in ("running", "paused", "stopping")
        live = state in ("running", "paused")
        self.act_start.setEnabled(not active)
        self.act_start.setText("Resume run" if (not active and self.resume_path) else "Start")
        self.act_pause.setEnabled(live)
        self.act_pause.setText("Resume" if state == "paused" else "Pause")
        self.act_step.setEnabled(live)
        self.act_step_n.setEnabled(live)
        self.step_n.setEnabled(live)
        self.act_stop.setEnabled(live)
        self.act_save.setEnabled(live)
        self.act_open.setEnabled(not active)
        self.act_new.setEnabled(not active)
        self.act_export.setEnabled(self.grid_view.current() is not None)
        self.lbl_state.setText(state.capitalize())
        self._status_dirty = True
        self.stateChanged.emit(state)

    # ------------------------------------------------------------------------------------------------ commands
    def start_training(self, run_dir: str | Path | None = None) -> bool:
        """Start a new run (or continue `resume_path`). Returns False, with the reason shown, if it cannot."""
        if self.session is not None:
            return False
        cfg = self.panel.validate()
        if cfg is None:
            self._error(f"Cannot start: {self.panel.error_text}")
            return False
        resume = self.resume_path is not None and run_dir is None
        if resume:
            path = self.resume_path
            ckpts = list_checkpoints(path / "checkpoints")
            # The trainer drops metrics rows after the checkpoint; show the same history.
            self.plot.set_history(RunDir(path).read_metrics(ckpts[-1].step if ckpts else 0))
        else:
            path = Path(run_dir) if run_dir else new_run_path(cfg.preset)
            self.plot.clear()
            self.grid_view.clear()
        self.run_path = path
        self.last_metrics = None
        self.last_error = ""
        self.finished_reason = ""
        self._rate.clear()
        self.session = TrainingSession(cfg, path, resume=resume, parent=self)
        self.session.event.connect(self._on_event)
        self.session.errored.connect(self._on_errored)
        self.session.finished.connect(self._on_session_finished)
        self.session.start()
        self.panel.set_active(True)
        self._set_state("running")
        self.statusBar().showMessage(f"Starting {'resumed ' if resume else ''}run in {path} …")
        self.setWindowTitle(f"ganstudio — {path.name}")
        return True

    def toggle_pause(self) -> None:
        if self.session is None:
            return
        if self.state == "running":
            self.session.control.pause()
            self._set_state("paused")
        elif self.state == "paused":
            self.session.control.resume()
            self._set_state("running")

    def step_training(self, n: int = 1) -> None:
        """Pause (if running) and allow exactly n more steps."""
        if self.session is None or self.state not in ("running", "paused"):
            return
        self.session.control.step(n)
        self._set_state("paused")

    def stop_training(self) -> None:
        if self.session is None or self.state == "stopping":
            return
        self.session.stop()
        self._set_state("stopping")
        self.statusBar().showMessage("Stopping after the current step (saving a checkpoint)…")

    def save_checkpoint(self) -> None:
        if self.session is not None and self.state in ("running", "paused"):
            self.session.control.request("checkpoint")

    def new_run(self) -> None:
        if self.session is not None:
            return
        self.resume_path = None
        self.run_path = None
        self.total_steps = 0
        self.last_metrics = None
        self.plot.clear()
        self.grid_view.clear()
        self.panel.set_active(False)
        self.setWindowTitle("ganstudio")
        self._set_state("idle")

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
            samples = run.sample_steps()
            ckpts = list_checkpoints(run.checkpoints)
        except GanStudioError as e:
            self._error(str(e))
            return False
        except OSError as e:
            self._error(f"{path}: cannot read run ({e})")
            return False
        self.panel.set_config(cfg)
        self.plot.set_history(rows)
        self.grid_view.set_entries([GridEntry(step, path=str(p)) for step, p in samples])
        self.run_path = run.path
        self.resume_path = run.path if ckpts else None
        self.total_steps = 0
        self.setWindowTitle(f"ganstudio — {run.path.name}")
        self._set_state("idle")
        where = f"Start resumes from the checkpoint at step {ckpts[-1].step:,}" if ckpts else \
            "it has no checkpoint, so Start begins a new run with this config"
        self.statusBar().showMessage(f"Opened {run.path} ({len(rows):,} metric rows); {where}")
        return True

    # ------------------------------------------------------------------------------------------------ export
    def _default_export_path(self) -> Path:
        entry = self.grid_view.current()
        step = entry.step if entry else 0
        folder = (self.run_path / "samples") if self.run_path else Path.cwd()
        return folder / f"export_step_{step:06d}.png"

    def open_export_dialog(self) -> ExportDialog | None:
        entry = self.grid_view.current()
        if entry is None:
            return None
        dlg = ExportDialog(entry, self._default_export_path(), self, choose_path=self.choose_export_path)
        dlg.accepted.connect(lambda: self.export_grid(*dlg.options()))
        dlg.finished.connect(dlg.deleteLater)
        self.export_dialog = dlg
        dlg.open()   # window-modal but non-blocking: the event loop (and training) keep running
        return dlg

    def export_grid(self, path: str | Path | None = None, rows: int = 0, scale: int = 1) -> Path | None:
        entry = self.grid_view.current()
        if entry is None:
            self._error("Nothing to export yet: no sample grid has been shown")
            return None
        target = Path(path) if path else self._default_export_path()
        try:
            out = export_entry(entry, target, rows=rows, scale=scale)
        except (OSError, GanStudioError) as e:
            self._error(f"Cannot export to {target}: {e}")
            return None
        self.statusBar().showMessage(f"Exported step {entry.step:,} grid to {out}", 8000)
        return out

    # ------------------------------------------------------------------------------------------------ events
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
            self.total_steps = ev.total_steps
            self.steps_per_epoch = ev.steps_per_epoch
            self.run_path = Path(ev.run_dir)
            self.engine_ready = True
            self.statusBar().showMessage(f"Training {ev.dataset} on {ev.device}; G {ev.g_params:,} / "
                                         f"D {ev.d_params:,} parameters", 10000)
        elif isinstance(ev, ConfigChanged):
            self.panel.apply_changes(ev.changes)
            text = ", ".join(f"{k} {o:g}→{n:g}" if isinstance(n, float) else f"{k} {o}→{n}"
                             for k, (o, n) in ev.changes.items())
            self.statusBar().showMessage(f"Step {ev.step:,}: {text}", 8000)
        elif isinstance(ev, CheckpointSaved):
            self.statusBar().showMessage(f"Checkpoint at step {ev.step:,}: {ev.path}", 8000)
        elif isinstance(ev, Paused):
            if self.state == "running":
                self._set_state("paused")
        elif isinstance(ev, Resumed):
            if self.state == "paused":
                self._set_state("running")
        elif isinstance(ev, Message):
            if ev.level == "error":
                self._error(ev.text)
            else:
                self.statusBar().showMessage(ev.text, 8000)
        elif isinstance(ev, Finished):
            self.finished_reason = ev.reason
            self.statusBar().showMessage(f"Run {ev.reason} at step {ev.step:,}; {ev.run_dir}")

    @Slot(object)
    def _on_errored(self, exc: object) -> None:
        self.last_error = describe_error(exc)  # type: ignore[arg-type]
        self._error(self.last_error)

    @Slot()
    def _on_session_finished(self) -> None:
        self.session = None  # only now: the QThread has really finished
        self.panel.set_active(False)
        if self.last_error or self.finished_reason == "error":
            self._set_state("error")
        else:
            self._set_state("finished")
        # A stopped run can be continued with Start; a completed one stays viewable.
        self.resume_path = self.run_path if self.finished_reason == "stopped" and self.run_path else None
        self._set_state(self.state)
        self.sessionFinished.emit()
        if self._close_when_done:
            self.close()

    @Slot(str, object)
    def _send_live_edit(self, name: str, value: object) -> None:
        if self.session is not None and self.state in ("running", "paused"):
            self.session.control.edit(**{name: value})

    def _error(self, text: str) -> None:
        self.last_error = text
        self.statusBar().showMessage(text, 15000)
        self.show_error(text)

    def _show_error_dialog(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Critical, "ganstudio", text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # non-blocking: the window stays usable and tests never hang

    # ------------------------------------------------------------------------------------------------ status
    def _refresh_status(self) -> None:
        if not self._status_dirty:
            return
        self._status_dirty = False
        m = self.last_metrics
        if m is None:
            for w in (self.lbl_step, self.lbl_epoch, self.lbl_speed, self.lbl_elapsed, self.lbl_eta):
                w.setText("")
            return
        total = f" / {self.total_steps:,}" if self.total_steps else ""
        self.lbl_step.setText(f"step {m.step:,}{total}")
        self.lbl_epoch.setText(f"epoch {m.epoch:.2f}")
        self.lbl_speed.setText(f"{m.images_per_sec:,.0f} img/s")
        self.lbl_elapsed.setText(f"elapsed {fmt_duration(m.wall)}")
        self.lbl_eta.setText(f"ETA {fmt_duration(self.eta_seconds())}" if self.total_steps else "")

    def eta_seconds(self) -> float | None:
        if not self.total_steps or len(self._rate) < 2 or self.last_metrics is None:
            return None
        (w0, s0), (w1, s1) = self._rate[0], self._rate[-1]
        if w1 <= w0 or s1 <= s0:
            return None
        return max(0, self.total_steps - self.last_metrics.step) * (w1 - w0) / (s1 - s0)

    # ------------------------------------------------------------------------------------------------ engine warm-up
    def warm_up_engine(self) -> None:
        """Import TensorFlow in the background after the window is shown, so Start responds quickly."""
        from .app import WarmUpThread  # noqa: PLC0415

        if self._warmup is not None:
            return
        self._warmup = WarmUpThread()
        self._warmup.done.connect(self._on_warm)
        self._warmup.start()

    @Slot(object)
    def _on_warm(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.statusBar().showMessage(f"Engine failed to load: {describe_error(result)}")
        else:
            self.engine_ready = True
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
        if self._warmup is not None:
            if self._warmup.wait(wait_ms):
                self._warmup = None
            else:
                ok = False
        return ok

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
                self.session.stop(save=choice == "save")   # Discard: no final checkpoint or grid
                self._set_state("stopping")
            if not self.session.shutdown(CLOSE_WAIT_MS):
                # Still inside a step or TF setup: close as soon as the thread ends, never kill it.
                self._close_when_done = True
                self.statusBar().showMessage("Waiting for the trainer to finish its step…")
                event.ignore()
                return
        if self._warmup is not None and not self._warmup.wait(QUIT_WAIT_MS):
            event.ignore()
            return
        self._warmup = None
        self._save_settings()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------------------------ settings
    def _restore_settings(self, preset: str | None, dataset: str | None) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        st = s.value("window/state")
        if st is not None:
            self.restoreState(st)
        sp = s.value("window/splitter")
        if sp is not None:
            self.splitter.restoreState(sp)
        name = preset or s.value("last/preset", "", str) or "tutorial"
        try:
            cfg = get_preset(name).config()
        except GanStudioError as e:
            QTimer.singleShot(0, lambda: self._error(str(e)))
            cfg = PRESETS["tutorial"].config()
        data = dataset or s.value("last/dataset", "", str)
        if data:
            try:
                cfg = cfg.with_updates({"dataset": data})
            except GanStudioError as e:
                QTimer.singleShot(0, lambda: self._error(str(e)))
        self.panel.set_config(cfg)

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("last/preset", self.panel.preset_combo.currentData() or "tutorial")
        s.setValue("last/dataset", self.panel.value("dataset"))
        s.sync()

    def current_config(self) -> Config:
        return self.panel.current_config()


__all__ = ["MainWindow", "STATES", "fmt_duration"]
