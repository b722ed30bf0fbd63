"""Exports from the window: the shown grid (PNG dialog), and from the run folder the generator (.keras,
SavedModel, ONNX, LiteRT), a GIF of training and new sample grids, each in a background Task; which checkpoint
they use (the dock's selection, else File ▸ Export's best or latest) and when their menu entries are enabled."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMessageBox

from ..engine.checkpoints import list_checkpoints
from ..errors import GanStudioError
from ..export import EXPORT_FORMATS
from ..runs import RunDir
from .export_dialog import ExportDialog, SampleDialog, export_entry
from .worker import Task, describe_error

# run-folder exports, from the one list the CLI reads too (export.EXPORT_FORMATS; default targets:
# RunDir.export_path): fmt -> (menu text, dialog title, file filter). The checkpoint archive has its own entry.
RUN_EXPORTS = {f.name: (f.menu, f.title, f.filter) for f in EXPORT_FORMATS.values() if f.menu}


class RunExportsMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    def _build_export_actions(self) -> None:
        self.run_export_actions: dict[str, QAction] = {
            fmt: self._action(text, lambda f=fmt: self.export_run_dialog(f),
                              tip=f"{title} from the checkpoint selected in the dock, else the best (or latest)"
                              if fmt != "gif" else
                              "Animate the run's sample grids")
            for fmt, (text, title, _) in RUN_EXPORTS.items()}
        self.act_sample = self._action("Sample grid…", self.open_sample_dialog,
                                       tip="Generate a new grid from a checkpoint (n, seed, rows, scale)")

    def _build_export_menu(self, m: QMenu) -> None:
        """File ▸ Export: the grid, the run exports, and which checkpoint they use when none is selected."""
        self.export_menu = m.addMenu("&Export")
        self.export_menu.addAction(self.act_export)
        self.export_menu.addSeparator()
        for a in (*self.run_export_actions.values(), self.act_sample):
            self.export_menu.addAction(a)
        # Which checkpoint generator exports and sample grids use when none is selected in the Checkpoints dock.
        self.export_from = QActionGroup(self)
        self.act_export_best = QAction("From the best checkpoint", self)
        self.act_export_best.setStatusTip("The checkpoint with the lowest Fréchet distance (the latest until the "
                                          "quality metric has run), unless one is selected in the Checkpoints dock")
        self.act_export_latest = QAction("From the latest checkpoint", self)
        self.export_menu.addSeparator()
        for a in (self.act_export_best, self.act_export_latest):
            a.setCheckable(True)
            self.export_from.addAction(a)
            self.export_menu.addAction(a)
        self.act_export_best.setChecked(True)

    def _default_export_path(self) -> Path:
        entry = self.grid_view.current()
        step = entry.step if entry else 0
        path = RunDir(self.run_path or Path.cwd()).grid_export_path(step)
        return path if self.run_path else Path.cwd() / path.name

    def open_export_dialog(self) -> ExportDialog | None:
        entry = self.grid_view.current()
        if entry is None:
            return None
        dlg = ExportDialog(entry, self._default_export_path(), self, choose_path=self.choose_export_path)
        dlg.accepted.connect(lambda: self.export_grid(*dlg.options()))
        dlg.finished.connect(dlg.deleteLater)
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

    def _update_export_actions(self) -> None:
        has_run = self.run_path is not None
        exporting = self.tasks.busy("export")
        # The generator is rebuilt in the export thread; Keras cannot build models while the trainer runs
        # (tensorflow#35813) and load_generator resets the process-global dtype policy, so wait for the session.
        model_ok = has_run and self.session is None and not exporting
        for fmt, a in self.run_export_actions.items():
            a.setEnabled(model_ok if EXPORT_FORMATS[fmt].model else has_run and not exporting)
        self.act_sample.setEnabled(model_ok)

    def _selected_checkpoint_step(self) -> int | None:
        info = self.ckpt_panel.selected()
        return info.step if info is not None else None

    def export_step(self) -> int | None:
        """The checkpoint generator exports and sample grids use: the one selected in the Checkpoints dock, else the
        best or the latest as File ▸ Export says (best by default; the latest while there is no best yet)."""
        step = self._selected_checkpoint_step()
        if step is not None or self.run_path is None:
            return step
        ckpts = list_checkpoints(RunDir(self.run_path).checkpoints)
        best = [c.step for c in ckpts if c.best] if self.act_export_best.isChecked() else []
        return (best or [c.step for c in ckpts] or [None])[-1]

    def default_export_target(self, fmt: str, n: int = 64) -> Path:
        run = RunDir(self.run_path or Path.cwd())
        return run.sample_export_path(self.export_step() or 0, n) if fmt == "sample" else run.export_path(fmt)

    def export_run_dialog(self, fmt: str) -> Task | None:
        if self.run_path is None:
            self._error("Open or train a run first: exports read the run folder")
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
        if self.run_path is None:
            self._error("Open or train a run first: sampling needs a checkpoint")
            return None
        step = self.export_step()
        dlg = SampleDialog(step, lambda n: self.default_export_target("sample", n),
                           self, choose_path=self.choose_export_path)
        dlg.accepted.connect(lambda: self.export_run("sample", step=step, **dlg.options()))
        dlg.finished.connect(dlg.deleteLater)
        dlg.open()
        return dlg

    def export_run(self, fmt: str, out: str | Path | None = None, *, step: int | None = None, force: bool = False,
                   **options) -> Task | None:
        """Run `ganstudio.export.export` (fmt: a key of EXPORT_FORMATS) or `.sample` (fmt 'sample') in a background
        thread: they import TensorFlow and can take seconds. Emits exportFinished(path or exception)."""
        if self.run_path is None:
            self._error("Open or train a run first: exports read the run folder")
            return None
        if self.tasks.busy("export"):
            self._error("An export is already running; wait for it to finish")
            return None
        builds_model = fmt == "sample" or EXPORT_FORMATS[fmt].model    # gif and checkpoint build none
        if builds_model and self.session is not None:
            self._error("Stop training before exporting the generator (TensorFlow cannot build a second model "
                        "while the trainer runs)")
            return None
        target = Path(out) if out else self.default_export_target(fmt, options.get("n", 64))
        if target.exists() and not force:
            if not self.ask_replace(target):
                self.statusBar().showMessage(f"Export cancelled: {target} exists", 6000)
                return None
            force = True
        run = self.run_path

        def job(_progress):
            from .. import export as ex  # noqa: PLC0415 - TensorFlow loads here, in the task thread

            if fmt == "sample":
                return ex.sample(run, out=target, step=step, force=force, **options)[0]
            return ex.export(run, fmt, out=target, step=step, force=force, **options)

        task = Task(job, name=f"export-{fmt}", parent=self)
        task.done.connect(self._export_done)
        task.failed.connect(self._export_failed)
        self.tasks.start(task)
        self.statusBar().showMessage(f"Exporting {fmt} to {target} …")
        return task

    @Slot(object)
    def _export_done(self, path: object) -> None:
        self.statusBar().showMessage(f"Exported {path}", 10000)
        self.exportFinished.emit(path)

    @Slot(object)
    def _export_failed(self, exc: object) -> None:
        self._error(f"Export failed: {describe_error(exc)}")  # type: ignore[arg-type]
        self.exportFinished.emit(exc)

    def _ask_replace_dialog(self, path: Path) -> bool:
        answer = QMessageBox.question(self, "ganstudio", f"{path} already exists. Replace it?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes
