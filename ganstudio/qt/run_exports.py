"""Exports from the window: the shown grid (PNG dialog), and from the run folder the generator (.keras,
SavedModel, ONNX, LiteRT), a GIF of training and new sample grids, each in a background Task; which checkpoint
they use (the dock's selection, else File ▸ Export's best or latest) and when their menu entries are enabled."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from ..engine.checkpoints import list_checkpoints
from ..core.errors import GanStudioError
from ..outputs.export import EXPORT_FORMATS
from ..runs import RunDir
from ..studio import StudioModel
from .actions import make_action
from .export_dialog import ExportDialog, SampleDialog, export_entry
from .worker import Task, TaskSet, describe_error

# run-folder exports, from the one list the CLI reads too (export.EXPORT_FORMATS; default targets:
# RunDir.export_path): fmt -> (menu text, dialog title, file filter). The checkpoint archive has its own entry.
RUN_EXPORTS = {f.name: (f.menu, f.title, f.filter) for f in EXPORT_FORMATS.values() if f.menu}


def ask_replace_dialog(parent: QWidget, path: Path) -> bool:
    answer = QMessageBox.question(parent, "ganstudio", f"{path} already exists. Replace it?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


class RunExports(QObject):
    """The injectable interactions are the window's, looked up at each use (tests replace them):
    `choose_save_path(title, start, filter)`, `export_chooser()` (the export dialogs' path chooser or None),
    `ask_replace(path)`; `finished(path or exception)` reports each export's end."""

    def __init__(self, model: StudioModel, grid_view, ckpt_panel, tasks: TaskSet, parent: QWidget, *,
                 show_message: Callable[[str, int], None], choose_save_path: Callable[[str, str, str], str],
                 export_chooser: Callable[[], Callable[[str], str] | None], ask_replace: Callable[[Path], bool],
                 finished: Callable[[object], None]) -> None:
        super().__init__(parent)
        self.model = model
        self.grid_view = grid_view
        self.ckpt_panel = ckpt_panel
        self.tasks = tasks
        self.parent_widget = parent
        self.show_message = show_message
        self.choose_save_path = choose_save_path
        self.export_chooser = export_chooser
        self.ask_replace = ask_replace
        self.finished = finished
        self.act_export = make_action(parent, "Export grid…", self.open_export_dialog, "Ctrl+E",
                                      "Export the shown grid as PNG")
        self.run_export_actions: dict[str, QAction] = {
            fmt: make_action(parent, text, lambda f=fmt: self.export_run_dialog(f),
                             tip=f"{title} from the checkpoint selected in the dock, else the best (or latest)"
                             if fmt != "gif" else
                             "Animate the run's sample grids")
            for fmt, (text, title, _) in RUN_EXPORTS.items()}
        self.act_sample = make_action(parent, "Sample grid…", self.open_sample_dialog,
                                      tip="Generate a new grid from a checkpoint (n, seed, rows, scale)")
        tasks.changed.connect(self.update_actions)
        model.state_changed.connect(lambda _state: self.update_actions())

    def build_menu(self, m: QMenu) -> QMenu:
        """File ▸ Export: the grid, the run exports, and which checkpoint they use when none is selected."""
        self.export_menu = m.addMenu("&Export")
        self.export_menu.addAction(self.act_export)
        self.export_menu.addSeparator()
        for a in (*self.run_export_actions.values(), self.act_sample):
            self.export_menu.addAction(a)
        # Which checkpoint generator exports and sample grids use when none is selected in the Checkpoints dock.
        parent = self.parent_widget
        self.export_from = QActionGroup(parent)
        self.act_export_best = QAction("From the best checkpoint", parent)
        self.act_export_best.setStatusTip("The checkpoint with the lowest Fréchet distance (the latest until the "
                                          "quality metric has run), unless one is selected in the Checkpoints dock")
        self.act_export_latest = QAction("From the latest checkpoint", parent)
        self.export_menu.addSeparator()
        for a in (self.act_export_best, self.act_export_latest):
            a.setCheckable(True)
            self.export_from.addAction(a)
            self.export_menu.addAction(a)
        self.act_export_best.setChecked(True)
        return self.export_menu

    def _default_export_path(self) -> Path:
        entry = self.grid_view.current()
        step = entry.step if entry else 0
        run_path = self.model.run_path
        path = RunDir(run_path or Path.cwd()).grid_export_path(step)
        return path if run_path else Path.cwd() / path.name

    def open_export_dialog(self) -> ExportDialog | None:
        entry = self.grid_view.current()
        if entry is None:
            return None
        dlg = ExportDialog(entry, self._default_export_path(), self.parent_widget, choose_path=self.export_chooser())
        dlg.accepted.connect(lambda: self.export_grid(*dlg.options()))
        dlg.finished.connect(dlg.deleteLater)
        dlg.open()   # window-modal but non-blocking: the event loop (and training) keep running
        return dlg

    def export_grid(self, path: str | Path | None = None, rows: int = 0, scale: int = 1) -> Path | None:
        entry = self.grid_view.current()
        if entry is None:
            self.model.report_error("Nothing to export yet: no sample grid has been shown")
            return None
        target = Path(path) if path else self._default_export_path()
        try:
            out = export_entry(entry, target, rows=rows, scale=scale)
        except (OSError, GanStudioError) as e:
            self.model.report_error(f"Cannot export to {target}: {e}")
            return None
        self.show_message(f"Exported step {entry.step:,} grid to {out}", 8000)
        return out

    def update_actions(self) -> None:
        has_run = self.model.run_path is not None
        exporting = self.tasks.busy("export")
        # The generator is rebuilt in the export thread; Keras cannot build models while the trainer runs
        # (tensorflow#35813) and load_generator resets the process-global dtype policy, so wait for the session.
        model_ok = has_run and self.model.session is None and not exporting
        for fmt, a in self.run_export_actions.items():
            a.setEnabled(model_ok if EXPORT_FORMATS[fmt].model else has_run and not exporting)
        self.act_sample.setEnabled(model_ok)

    def selected_checkpoint_step(self) -> int | None:
        info = self.ckpt_panel.selected()
        return info.step if info is not None else None

    def export_step(self) -> int | None:
        """The checkpoint generator exports and sample grids use: the one selected in the Checkpoints dock, else the
        best or the latest as File ▸ Export says (best by default; the latest while there is no best yet)."""
        step = self.selected_checkpoint_step()
        if step is not None or self.model.run_path is None:
            return step
        ckpts = list_checkpoints(RunDir(self.model.run_path).checkpoints)
        best = [c.step for c in ckpts if c.best] if self.act_export_best.isChecked() else []
        return (best or [c.step for c in ckpts] or [None])[-1]

    def default_export_target(self, fmt: str, n: int = 64) -> Path:
        run = RunDir(self.model.run_path or Path.cwd())
        return run.sample_export_path(self.export_step() or 0, n) if fmt == "sample" else run.export_path(fmt)

    def export_run_dialog(self, fmt: str) -> Task | None:
        if self.model.run_path is None:
            self.model.report_error("Open or train a run first: exports read the run folder")
            return None
        _, title, filt = RUN_EXPORTS[fmt]
        path = self.choose_save_path(title, str(self.default_export_target(fmt)), filt)
        if not path:
            return None
        suffix = EXPORT_FORMATS[fmt].suffix
        if suffix and not (path.lower() if fmt == "gif" else path).endswith(suffix):   # model files: exact
            path += suffix
        return self.export_run(fmt, path, step=self.export_step() if EXPORT_FORMATS[fmt].model else None)

    def open_sample_dialog(self) -> SampleDialog | None:
        if self.model.run_path is None:
            self.model.report_error("Open or train a run first: sampling needs a checkpoint")
            return None
        step = self.export_step()
        dlg = SampleDialog(step, lambda n: self.default_export_target("sample", n),
                           self.parent_widget, choose_path=self.export_chooser())
        dlg.accepted.connect(lambda: self.export_run("sample", step=step, **dlg.options()))
        dlg.finished.connect(dlg.deleteLater)
        dlg.open()
        return dlg

    def export_run(self, fmt: str, out: str | Path | None = None, *, step: int | None = None, force: bool = False,
                   **options) -> Task | None:
        """Run `ganstudio.outputs.export.export` (fmt: a key of EXPORT_FORMATS) or `.sample` (fmt 'sample') in a
        background thread: they import TensorFlow and can take seconds. Calls finished(path or exception)."""
        if self.model.run_path is None:
            self.model.report_error("Open or train a run first: exports read the run folder")
            return None
        if self.tasks.busy("export"):
            self.model.report_error("An export is already running; wait for it to finish")
            return None
        builds_model = fmt == "sample" or EXPORT_FORMATS[fmt].model    # gif and checkpoint build none
        if builds_model and self.model.session is not None:
            self.model.report_error("Stop training before exporting the generator (TensorFlow cannot build a "
                                    "second model while the trainer runs)")
            return None
        target = Path(out) if out else self.default_export_target(fmt, options.get("n", 64))
        if target.exists() and not force:
            if not self.ask_replace(target):
                self.show_message(f"Export cancelled: {target} exists", 6000)
                return None
            force = True
        run = self.model.run_path

        def job(_progress):
            from ..outputs import export as ex  # noqa: PLC0415 - TensorFlow loads here, in the task thread

            if fmt == "sample":
                return ex.sample(run, out=target, step=step, force=force, **options)[0]
            return ex.export(run, fmt, out=target, step=step, force=force, **options)

        task = Task(job, name=f"export-{fmt}", parent=self.parent_widget)
        task.done.connect(self._export_done)
        task.failed.connect(self._export_failed)
        self.tasks.start(task)
        self.show_message(f"Exporting {fmt} to {target} …", 0)
        return task

    @Slot(object)
    def _export_done(self, path: object) -> None:
        self.show_message(f"Exported {path}", 10000)
        self.finished(path)

    @Slot(object)
    def _export_failed(self, exc: object) -> None:
        self.model.report_error(f"Export failed: {describe_error(exc)}")  # type: ignore[arg-type]
        self.finished(exc)
