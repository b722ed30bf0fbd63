"""The Dataset tab's flow: decode the form's (or a dropped) dataset in a background Task after typing pauses,
one decode at a time (the newest request wins), show it in the DatasetPanel, and fit the network to it; drag
and drop of a dataset or a run folder onto the window."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from superqt.utils import qdebounced

from ..runs import RunDir
from .widgets.sample_grid import GridEntry
from .worker import Task, describe_error

DATASET_DEBOUNCE_MS = 400  # typing a path in the dataset field decodes it once, after a pause


class DatasetFlowMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

    def _init_dataset_flow(self) -> None:
        self._ds_request: tuple[str, bool] | None = None   # queued (spec, from_drop) while one decode runs
        self._ds_stale = True
        self._ds_debounced = qdebounced(self.load_dataset_preview, timeout=DATASET_DEBOUNCE_MS)

    def _dataset_field_changed(self, text: str) -> None:
        if self.dataset_panel.dataset is not None and text.strip() == self.dataset_panel.spec:
            return
        self._ds_stale = True
        if self.tabs.currentWidget() is self.dataset_panel:
            self._ds_debounced()        # one decode after typing pauses

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.dataset_panel and self._ds_stale:
            self.load_dataset_preview()

    def _dataset_options(self) -> dict:
        v = self.panel.value
        return {"size": v("resolution") or v("image_size"), "color": v("color"), "resize": v("resize"),
                "bad_images": v("bad_images"), "npz_key": v("npz_key")}

    def load_dataset_preview(self, spec: str | None = None, *, from_drop: bool = False,
                             force: bool = False) -> bool:
        """Decode a dataset in a background task for the Dataset tab. `from_drop`: on success it also becomes
        the form's dataset; on failure the error dialog shows and the form keeps its previous dataset."""
        spec = (spec if spec is not None else self.panel.value("dataset")).strip()
        if not spec:
            return False
        if self.tasks.busy("dataset"):
            self._ds_request = (spec, from_drop)      # the newest request wins; run it when this one ends
            return True
        if spec == "cifar10" and not (force or from_drop):
            # CIFAR-10 is only reachable through keras.datasets, i.e. a TensorFlow import: only on request.
            self.dataset_panel.show_error(spec, "cifar10 is read through Keras (loads TensorFlow); press Reload "
                                                "to preview it")
            self._ds_stale = False
            return False
        self._ds_stale = False
        opts = self._dataset_options()

        def job(progress):
            from ..data import load_dataset  # noqa: PLC0415 - numpy/PIL only

            return load_dataset(spec, 0, progress=progress, **opts)

        task = Task(job, name="dataset", parent=self)
        task.progress.connect(lambda done, total: self._dataset_progress(spec, done, total))
        task.done.connect(lambda ds: self._dataset_done(spec, ds, from_drop))
        task.failed.connect(lambda exc: self._dataset_failed(spec, exc, from_drop))
        task.finished.connect(self._next_dataset_request)
        self.dataset_panel.show_loading(spec)
        self.tasks.start(task)
        return True

    def _dataset_progress(self, spec: str, done: int, total: int) -> None:
        self.dataset_panel.show_loading(spec, done, total)
        self.statusBar().showMessage(f"Decoding {spec}: {done:,}/{total:,} images")

    def _dataset_done(self, spec: str, ds, from_drop: bool) -> None:
        if from_drop:
            self.panel.set_value("dataset", spec)   # the panel already shows it: the field change is a no-op
            self.panel.validate()
        self.dataset_panel.set_dataset(spec, ds)
        self.panel.set_dataset_size(len(ds))
        self.statusBar().showMessage(ds.summary() + (f"; {len(ds.warnings)} warning(s)" if ds.warnings else ""),
                                     10000)
        self._fit_network_to(ds)
        self.datasetLoaded.emit((spec, ds))

    def _fit_network_to(self, ds) -> None:
        """A dropped or typed dataset the form's network cannot take switches the form to one that can, with a
        visible note (the same rule as the CLI without --preset: engine.trainer.adapt_arch_to_data)."""
        from ..engine.trainer import adapt_arch_to_data  # noqa: PLC0415 - TensorFlow is imported lazily there

        cfg = self.panel.validate() if self.session is None and not self.watching else None
        note = ""
        if cfg is not None and cfg.data.dataset == self.dataset_panel.spec:
            cfg, note = adapt_arch_to_data(cfg, ds.shape)
            if note:
                for key in ("arch", "image_size", "channels"):
                    self.panel.set_value(key, cfg.get(key))
                self.panel.validate()
                note = f"Network switched to fit this dataset: {note}."
                self.statusBar().showMessage(note, 15000)
        self.dataset_panel.show_model_note(note)

    def _dataset_failed(self, spec: str, exc, from_drop: bool) -> None:
        text = describe_error(exc)
        if from_drop:
            self._error(text)            # the user asked for it: a dialog; the form keeps its dataset
        else:
            self.dataset_panel.show_error(spec, text)   # the form field follows typing: no dialog per keystroke
            self.statusBar().showMessage(text, 10000)
        self.datasetLoaded.emit((spec, exc))

    def _next_dataset_request(self) -> None:
        req, self._ds_request = self._ds_request, None
        if req is not None:
            QTimer.singleShot(0, lambda: self.load_dataset_preview(req[0], from_drop=req[1]))

    def _grid_changed(self, entry: GridEntry | None) -> None:
        if entry is None:
            self.dataset_panel.set_generated(None)
            return
        try:
            self.dataset_panel.set_generated(entry.grid(), entry.step)
        except OSError:
            pass

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

    def drop_path(self, path: str | Path) -> bool:
        path = Path(path)
        if RunDir.is_run(path):
            return self.open_run(path)       # a run folder, not a dataset
        if self.session is not None or self.watching:
            self._error("Cannot change the dataset while a run is training or being watched")
            return False
        self.tabs.setCurrentWidget(self.dataset_panel)
        return self.load_dataset_preview(str(path), from_drop=True)
