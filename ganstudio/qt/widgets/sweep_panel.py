"""The Sweep tab: pick config fields and their values (or ranges), a budget, and Start. The trials run one after
another on the window's training thread through the same TrainingSession as a single run (start_training with
a sweep as its event source), so the toolbar's Pause, Step and Stop act on the current trial, and the Training tab
shows it live. Here, a table fills in with each trial, its FD curve overlaid on the others' and its latest grid;
"Use best config" loads the winner into the Training form. The sweep itself is Qt-free (ganstudio.sweeps)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from ...config import ALIASES, FIELDS, Config
from ...engine.dispatch import dispatch
from ...engine.events import SampleGrid, StepMetrics
from ...core.errors import GanStudioError
from ...core.imaging import load_png, make_grid
from ...runs import RunDir
from ...sweeps import SweepFinished, TrialFinished, TrialReport, TrialStarted, make_spec
from ...sweeps.report import final_grid, trial_rows
from ...sweeps.spec import SweepSpec
from . import combo_box, hbox, vbox
from .runs_panel import COLORS, to_qimage

TRIAL_COLUMNS = ("Trial", "Config", "State", "Steps", "Train s", "FD", "Best FD")
THUMB = 40
DEFAULT_ROWS = (("g_lr", "1e-4,2e-4,4e-4"), ("d_steps", "1,2"))


class SweepPanel(QWidget):
    startRequested = Signal(object)       # a Sweep, opened (its folder and study checked)
    useConfigRequested = Signal(object)   # the best trial's Config (base + its values)
    sweepFinished = Signal(object)        # the SweepFinished event

    def __init__(self, base_config: Callable[[], Config | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_config = base_config    # the Training form's config, or None when it is invalid
        self.spec: SweepSpec | None = None
        self.rows: dict[str, int] = {}    # run folder -> table row
        self.results: dict[str, dict[str, Any]] = {}   # run folder -> params, final FD, state
        self.curves: dict[str, tuple[pg.PlotDataItem, list[float], list[float]]] = {}
        self._current = ""                # the running trial's run folder
        self._handlers = {TrialStarted: self._trial_started, StepMetrics: self._step, SampleGrid: self._sample_grid,
                          TrialReport: self._trial_report, TrialFinished: self._trial_finished,
                          SweepFinished: self._sweep_finished}

        # -- what to sweep ----------------------------------------------------------------------------------
        self.fields = QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["Field", "Values or LOW..HIGH[:log]"])
        self.fields.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.fields.verticalHeader().setVisible(False)
        self.fields.setToolTip("Grid: comma-separated values (every combination runs). Search: a range such as "
                               "1e-5..1e-3:log, an int range 1..3, or choices a,b")
        add, remove = QPushButton("Add field"), QPushButton("Remove")
        add.clicked.connect(lambda: self.add_field("g_lr", ""))
        remove.clicked.connect(lambda: self.fields.removeRow(self.fields.currentRow()))
        for name, values in DEFAULT_ROWS:
            self.add_field(name, values)
        self.mode = combo_box(("Grid: every combination", "grid"), ("Search: Optuna TPE", "search"))
        self.trials = QSpinBox()
        self.trials.setRange(1, 10_000)
        self.trials.setValue(20)
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 100)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.budget_kind = combo_box(("minutes of training", "minutes"), ("steps", "steps"))
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.01, 100_000)
        self.budget.setDecimals(2)
        self.budget.setValue(2.0)
        self.budget_kind.currentIndexChanged.connect(self._budget_changed)
        self.prune = QCheckBox("Prune trials clearly behind")
        self.prune.setChecked(True)
        self.prune.setToolTip("Stop a trial whose best FD is worse than 3/4 of the completed trials at the same "
                              "point of the budget (from half-way)")
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("default: runs/sweep-<preset>-<options hash>")
        self.folder.setToolTip("The same options and folder continue an interrupted sweep")
        self.start_btn = QPushButton("Start sweep")
        self.start_btn.clicked.connect(self.start)
        self.best_btn = QPushButton("Use best config")
        self.best_btn.setEnabled(False)
        self.best_btn.setToolTip("Load the trial with the lowest final FD into the Training form")
        self.best_btn.clicked.connect(self.use_best)
        self.status = QLabel("Mark fields and values, set the budget, Start. Pause and Stop are in the toolbar.")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow("Trials (search)", self.trials)
        form.addRow("Seeds (grid)", self.seeds)
        form.addRow("Budget per trial", hbox(self.budget, self.budget_kind))
        form.addRow("", self.prune)
        form.addRow("Sweep folder", self.folder)
        setup = QGroupBox("Sweep the Training form's config")
        self.fields.setMaximumHeight(200)
        vbox(setup, self.fields, hbox(add, remove, 1), form, hbox(self.start_btn, self.best_btn), self.status, 1)

        # -- results ----------------------------------------------------------------------------------------
        self.table = QTableWidget(0, len(TRIAL_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(TRIAL_COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.itemSelectionChanged.connect(self._show_selected_grid)
        self.plot = pg.PlotWidget(title="FD per trial (lower is better)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(10, -10), labelTextSize="8pt")   # bottom left: FD falls to the right
        self.plot.setLabel("bottom", "training time", units="s")
        self.grid = QLabel("the running trial's latest grid")
        self.grid.setAlignment(Qt.AlignCenter)
        self.grid.setMinimumSize(200, 200)
        lower = QSplitter(Qt.Horizontal)
        lower.addWidget(self.plot)
        lower.addWidget(self.grid)
        lower.setSizes([600, 260])
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.table)
        right.addWidget(lower)
        right.setSizes([300, 420])
        outer = QSplitter(Qt.Horizontal)
        outer.addWidget(setup)
        outer.addWidget(right)
        outer.setSizes([380, 1000])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(outer)
        self._mode_changed()

    # -- setup --------------------------------------------------------------------------------------------------
    def add_field(self, name: str, values: str) -> None:
        row = self.fields.rowCount()
        self.fields.insertRow(row)
        combo = QComboBox()
        for f in FIELDS:
            combo.addItem(f.name)
        combo.addItems(list(ALIASES))
        combo.setCurrentText(name)
        self.fields.setCellWidget(row, 0, combo)
        self.fields.setItem(row, 1, QTableWidgetItem(values))

    def set_fields(self, pairs: list[tuple[str, str]]) -> None:
        self.fields.setRowCount(0)
        for name, values in pairs:
            self.add_field(name, values)

    def field_items(self) -> list[str]:
        out = []
        for row in range(self.fields.rowCount()):
            values = (self.fields.item(row, 1).text() if self.fields.item(row, 1) else "").strip()
            if values:
                out.append(f"{self.fields.cellWidget(row, 0).currentText()}={values}")
        return out

    def _mode_changed(self) -> None:
        grid = self.mode.currentData() == "grid"
        self.trials.setEnabled(not grid)
        self.seeds.setEnabled(grid)

    def _budget_changed(self) -> None:
        steps = self.budget_kind.currentData() == "steps"
        self.budget.setDecimals(0 if steps else 2)
        self.budget.setValue(500 if steps else 2.0)

    def make_spec(self) -> SweepSpec:
        base = self.base_config()
        if base is None:
            raise GanStudioError("the Training form has an invalid value; fix it there first")
        items = self.field_items()
        grid = self.mode.currentData() == "grid"
        minutes = self.budget.value() if self.budget_kind.currentData() == "minutes" else 0.0
        steps = int(self.budget.value()) if not minutes else 0
        return make_spec(base, items if grid else [], [] if grid else items, minutes=minutes, steps=steps,
                         trials=self.trials.value(), seeds=self.seeds.value() if grid else 1)

    def start(self) -> bool:
        """Check everything (a bad field or value is one line here, before anything runs), then ask the window."""
        from optuna.pruners import NopPruner  # noqa: PLC0415 - Optuna loads when a sweep starts, not with the window

        from ...sweeps.runner import Sweep  # noqa: PLC0415

        try:
            spec = self.make_spec()
            sweep = Sweep(spec, self.folder.text().strip() or None, pruner=None if self.prune.isChecked() else
                          NopPruner())
            study = sweep.open()
        except GanStudioError as e:
            self.status.setText(f"<span style='color:#ef5350'>{e}</span>")
            return False
        self.spec = spec
        self._reset(sweep, study)
        self.status.setText(f"{spec.total} trials in {sweep.folder.path}")
        self.startRequested.emit(sweep)
        return True

    def set_busy(self, busy: bool) -> None:
        self.start_btn.setEnabled(not busy)

    # -- results ------------------------------------------------------------------------------------------------
    def _reset(self, sweep, study) -> None:
        """An empty table, then the trials a continued sweep already ran (from its study)."""
        spec = sweep.spec
        self.table.setRowCount(0)
        self.plot.clear()
        self.rows, self.results, self.curves, self._current = {}, {}, {}, ""
        self.plot.setLabel("bottom", "training time" if spec.minutes else "step", units="s" if spec.minutes else "")
        points = spec.report_points()
        for t in sorted(trial_rows(study), key=lambda r: r["trial"]):
            key = str(sweep.folder.path / t["run"]) if t["run"] else f"#{t['trial']}"
            self._row(key, t["trial"], t["label"], t["outcome"])
            self._finish(key, t["outcome"], t["steps"], t["train_seconds"], t["final_fd"], t["best_fd"], t["params"])
            frozen = next(x for x in study.get_trials(deepcopy=False) if x.number == t["trial"])
            for k, fd in sorted(frozen.intermediate_values.items()):
                self._point(key, t["label"], points[k - 1], fd)
            grid = final_grid(RunDir(key)) if t["run"] else None
            if grid is not None:
                try:
                    self._set_grid(self.rows[key], to_qimage(load_png(grid)))
                except OSError:
                    pass   # a grid being written by another process: the table still lists the trial
        from optuna.trial import TrialState  # noqa: PLC0415

        for w in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):   # interrupted, to be resumed
            for k, fd in sorted(w.intermediate_values.items()):
                self._point(str(sweep.folder.path / w.user_attrs.get("run", "")), w.user_attrs.get("label", ""),
                            points[k - 1], fd)
        self.best_btn.setEnabled(self.best() is not None)

    def _row(self, key: str, number: int, label: str, state: str) -> int:
        if key in self.rows:
            row = self.rows[key]
        else:
            row = self.rows[key] = self.table.rowCount()
            self.table.insertRow(row)
            for col in range(len(TRIAL_COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(""))
        self._set(row, 0, f"#{number}")
        self._set(row, 1, label)
        self._set(row, 2, state)
        return row

    def _set(self, row: int, col: int, text: str) -> None:
        item = self.table.item(row, col)
        item.setText(text)
        if col >= 3:
            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def _point(self, key: str, label: str, x: float, fd: float) -> None:
        if key not in self.curves:
            color = COLORS[len(self.curves) % len(COLORS)]
            item = self.plot.plot([], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
                                  symbolBrush=color, name=label)
            self.curves[key] = (item, [], [])
        item, xs, ys = self.curves[key]
        xs.append(x)
        ys.append(fd)
        item.setData(np.array(xs), np.array(ys))

    def _finish(self, key: str, state: str, steps, seconds, final_fd, best_fd, params: dict[str, Any]) -> None:
        row = self.rows[key]
        self._set(row, 2, state)
        self._set(row, 3, "—" if steps is None else f"{steps:,}")
        self._set(row, 4, "—" if seconds is None else f"{seconds:.1f}")
        self._set(row, 5, "—" if final_fd is None else f"{final_fd:.2f}")
        self._set(row, 6, "—" if best_fd is None else f"{best_fd:.2f}")
        self.results[key] = {"params": params, "final_fd": final_fd, "state": state}

    def on_event(self, ev: object) -> bool:
        return dispatch(ev, self._handlers)

    def _trial_started(self, ev: TrialStarted) -> None:
        self._current = ev.run_dir
        row = self._row(ev.run_dir, ev.number, ev.label, "resuming" if ev.resumed else "running")
        self.table.selectRow(row)
        self.status.setText(f"Trial {ev.index + 1} of {ev.total}: {ev.label}")

    def _step(self, ev: StepMetrics) -> None:
        if self._current in self.rows:
            self._set(self.rows[self._current], 3, f"{ev.step:,}")

    def _sample_grid(self, ev: SampleGrid) -> None:
        if self._current in self.rows:
            self._set_grid(self.rows[self._current], to_qimage(make_grid(ev.images)))

    def _trial_report(self, ev: TrialReport) -> None:
        key = self._current
        row = self.rows.get(key)
        if row is not None:
            self._set(row, 5, f"{ev.fd:.2f}")
            self._point(key, self.table.item(row, 1).text(), ev.progress, ev.fd)
            if ev.pruned:
                self._set(row, 2, "pruned")

    def _trial_finished(self, ev: TrialFinished) -> None:
        self._row(ev.run_dir, ev.number, ev.label, ev.state)
        self._finish(ev.run_dir, ev.state, ev.steps, ev.train_seconds, ev.final_fd, ev.best_fd, ev.params)
        self.best_btn.setEnabled(self.best() is not None)

    def _sweep_finished(self, ev: SweepFinished) -> None:
        self.status.setText(f"Sweep {ev.reason}: table in {Path(ev.folder) / 'summary.md'}"
                            + ("; Start again continues it" if ev.reason == "stopped" else ""))
        self.sweepFinished.emit(ev)

    def _set_grid(self, row: int, image) -> None:
        item = self.table.item(row, 0)
        item.setIcon(QIcon(QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.FastTransformation)))
        item.setData(Qt.UserRole, image)
        if row in {i.row() for i in self.table.selectedIndexes()}:
            self._show_grid(image)

    def _show_selected_grid(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if rows:
            image = self.table.item(min(rows), 0).data(Qt.UserRole)
            if image is not None:
                self._show_grid(image)

    def _show_grid(self, image) -> None:
        pm = QPixmap.fromImage(image)
        side = max(1, min(self.grid.width(), self.grid.height()))
        self.grid.setPixmap(pm.scaled(side, side, Qt.KeepAspectRatio, Qt.FastTransformation))

    def best(self) -> dict[str, Any] | None:
        done = [r for r in self.results.values() if r["state"] == "complete" and r["final_fd"] is not None]
        return min(done, key=lambda r: r["final_fd"]) if done else None

    def best_config(self) -> Config | None:
        best = self.best()
        return None if best is None or self.spec is None else self.spec.base.with_updates(best["params"])

    def use_best(self) -> None:
        cfg = self.best_config()
        if cfg is not None:
            self.useConfigRequested.emit(cfg)


def install_sweep_tab(tabs: QTabWidget, base_config: Callable[[], Config | None], *,
                      start: Callable[[Path, Callable], Any], clear_views: Callable[[], None],
                      use_config: Callable[[Config], None], show_message: Callable[[str, int], None],
                      state_changed) -> SweepPanel:
    """Add the Sweep tab to `tabs`; its sweeps run through the window's one training session:
    `start(folder, source)` starts it (the session, or None if it cannot); `clear_views()` empties the Training
    tab for each new trial; `use_config(cfg)` loads the best config into the form; `state_changed` is a signal
    with the studio's state (a str): Start sweep waits while a session is active."""
    panel = SweepPanel(base_config)
    tabs.addTab(panel, "Sweep")
    # the Training tab follows the current trial; the panel draws the sweep
    training_tab = {TrialStarted: lambda _ev: clear_views()}

    def on_event(ev: object) -> None:
        dispatch(ev, training_tab)
        panel.on_event(ev)

    def start_sweep(sweep) -> None:
        session = start(sweep.folder.path, sweep.run)
        if session is not None:
            session.engineEvent.connect(on_event)
            show_message(f"Sweep in {sweep.folder.path}: the Training tab shows the current trial", 0)

    def use(cfg: Config) -> None:
        use_config(cfg)
        show_message("The sweep's best config is in the Training form", 8000)

    panel.startRequested.connect(start_sweep)
    panel.useConfigRequested.connect(use)
    state_changed.connect(lambda state: panel.set_busy(state in ("running", "paused", "stopping")))
    return panel
