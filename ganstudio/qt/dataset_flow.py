"""The Dataset tab's flow: decode the form's (or a dropped) dataset in a background Task after typing pauses,
one decode at a time (the newest request wins), show it in the DatasetPanel, and fit the network to it; a dropped
path is a run folder (opened) or a dataset."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer
from superqt.utils import qdebounced

from ..runs import RunDir
from ..studio import StudioModel
from .widgets.sample_grid import GridEntry
from .worker import Task, TaskSet, describe_error

DATASET_DEBOUNCE_MS = 400  # typing a path in the dataset field decodes it once, after a pause


class DatasetFlow(QObject):
    """`open_run(path)` opens a dropped run folder; `loaded((spec, Dataset or exception))` reports each decode."""

    def __init__(self, model: StudioModel, form, dataset_panel, tabs, tasks: TaskSet, *,
                 show_message: Callable[[str, int], None], open_run: Callable[[Path], bool],
                 loaded: Callable[[object], None], parent: QObject) -> None:
        super().__init__(parent)
        self.model = model
        self.form = form
        self.dataset_panel = dataset_panel
        self.tabs = tabs
        self.tasks = tasks
        self.show_message = show_message
        self.open_run = open_run
        self.loaded = loaded
        self.request: tuple[str, bool] | None = None   # queued (spec, from_drop) while one decode runs
        self.stale = True
        self.debounced = qdebounced(self.load_dataset_preview, timeout=DATASET_DEBOUNCE_MS)
        form.widgets["dataset"].textChanged.connect(self._dataset_field_changed)
        tabs.currentChanged.connect(self._tab_changed)
        dataset_panel.reloadRequested.connect(lambda: self.load_dataset_preview(force=True))

    def cancel(self) -> None:
        """No decode starts from now on (the window closes)."""
        self.debounced.cancel()
        self.request = None

    def _dataset_field_changed(self, text: str) -> None:
        if self.dataset_panel.dataset is not None and text.strip() == self.dataset_panel.spec:
            return
        self.stale = True
        if self.tabs.currentWidget() is self.dataset_panel:
            self.debounced()        # one decode after typing pauses

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.dataset_panel and self.stale:
            self.load_dataset_preview()

    def _dataset_options(self) -> dict:
        v = self.form.value
        return {"size": v("resolution") or v("image_size"), "color": v("color"), "resize": v("resize"),
                "bad_images": v("bad_images"), "npz_key": v("npz_key")}

    def load_dataset_preview(self, spec: str | None = None, *, from_drop: bool = False,
                             force: bool = False) -> bool:
        """Decode a dataset in a background task for the Dataset tab. `from_drop`: on success it also becomes
        the form's dataset; on failure the error dialog shows and the form keeps its previous dataset."""
        spec = (spec if spec is not None else self.form.value("dataset")).strip()
        if not spec:
            return False
        if self.tasks.busy("dataset"):
            self.request = (spec, from_drop)      # the newest request wins; run it when this one ends
            return True
        if spec == "cifar10" and not (force or from_drop):
            # CIFAR-10 is only reachable through keras.datasets, i.e. a TensorFlow import: only on request.
            self.dataset_panel.show_error(spec, "cifar10 is read through Keras (loads TensorFlow); press Reload "
                                                "to preview it")
            self.stale = False
            return False
        self.stale = False
        opts = self._dataset_options()

        def job(progress):
            from ..data import load_dataset  # noqa: PLC0415 - numpy/PIL only

            return load_dataset(spec, 0, progress=progress, **opts)

        task = Task(job, name="dataset", parent=self.parent())
        task.progress.connect(lambda done, total: self._dataset_progress(spec, done, total))
        task.done.connect(lambda ds: self._dataset_done(spec, ds, from_drop))
        task.failed.connect(lambda exc: self._dataset_failed(spec, exc, from_drop))
        task.finished.connect(self._next_dataset_request)
        self.dataset_panel.show_loading(spec)
        self.tasks.start(task)
        return True

    def _dataset_progress(self, spec: str, done: int, total: int) -> None:
        self.dataset_panel.show_loading(spec, done, total)
        self.show_message(f"Decoding {spec}: {done:,}/{total:,} images", 0)

    def _dataset_done(self, spec: str, ds, from_drop: bool) -> None:
        if from_drop:
            self.form.set_value("dataset", spec)   # the panel already shows it: the field change is a no-op
            self.form.validate()
        self.dataset_panel.set_dataset(spec, ds)
        self.form.set_dataset_size(len(ds))
        self.show_message(ds.summary() + (f"; {len(ds.warnings)} warning(s)" if ds.warnings else ""), 10000)
        self._fit_network_to(ds)
        self.loaded((spec, ds))

    def _fit_network_to(self, ds) -> None:
        """A dropped or typed dataset the form's network cannot take switches the form to one that can, with a
        visible note (the same rule as the CLI without --preset: engine.setup.adapt_arch_to_data)."""
        from ..engine.setup import adapt_arch_to_data  # noqa: PLC0415 - numpy only, loaded on the first dataset

        cfg = self.form.validate() if self.model.session is None and not self.model.watching else None
        note = ""
        if cfg is not None and cfg.data.dataset == self.dataset_panel.spec:
            cfg, note = adapt_arch_to_data(cfg, ds.shape)
            if note:
                for key in ("arch", "image_size", "channels"):
                    self.form.set_value(key, cfg.get(key))
                self.form.validate()
                note = f"Network switched to fit this dataset: {note}."
                self.show_message(note, 15000)
        self.dataset_panel.show_model_note(note)

    def _dataset_failed(self, spec: str, exc, from_drop: bool) -> None:
        text = describe_error(exc)
        if from_drop:
            self.model.report_error(text)            # the user asked for it: a dialog; the form keeps its dataset
        else:
            self.dataset_panel.show_error(spec, text)   # the form field follows typing: no dialog per keystroke
            self.show_message(text, 10000)
        self.loaded((spec, exc))

    def _next_dataset_request(self) -> None:
        req, self.request = self.request, None
        if req is not None:
            QTimer.singleShot(0, lambda: self.load_dataset_preview(req[0], from_drop=req[1]))

    def grid_changed(self, entry: GridEntry | None) -> None:
        """The sample grid shown in the Training tab, next to the real images in the Dataset tab."""
        if entry is None:
            self.dataset_panel.set_generated(None)
            return
        try:
            self.dataset_panel.set_generated(entry.grid(), entry.step)
        except OSError:
            pass

    def drop_path(self, path: str | Path) -> bool:
        path = Path(path)
        if RunDir.is_run(path):
            return self.open_run(path)       # a run folder, not a dataset
        if self.model.session is not None or self.model.watching:
            self.model.report_error("Cannot change the dataset while a run is training or being watched")
            return False
        self.tabs.setCurrentWidget(self.dataset_panel)
        return self.load_dataset_preview(str(path), from_drop=True)
