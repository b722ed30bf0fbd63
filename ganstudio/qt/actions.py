"""The window's actions, toolbar and menus (File, Run, View; Help and Open Recent come from desktop.py)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSpinBox

from .report_action import make_report


class ActionsMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

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
        self.act_watch = self._action("Watch run…", self.watch_run_dialog, "Ctrl+Shift+W",
                                      "Follow a run another process is training (read-only)")
        self._build_export_actions()
        self.act_quit = self._action("Quit", self.close, QKeySequence.Quit)
        self.act_quality = self._action("Compute quality now", self.compute_quality, "Ctrl+M",
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
        self._build_export_menu(m)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_start, self.act_pause, self.act_step, self.act_step_n, self.act_stop):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_save)
        m.addAction(self.act_quality)
        self.act_report = self._action("Report…", lambda: make_report(self),
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
