"""Checkpoints of the current run: step, time, pinned or best; Load (resume from it), Pin/Unpin, Delete."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QMessageBox, QPushButton, QTreeWidget, QTreeWidgetItem, QWidget

from ...engine.checkpoints import CheckpointInfo, best_record, delete_checkpoint, list_checkpoints, set_pinned
from ...runs import RunDir
from . import hbox, vbox


class CheckpointPanel(QWidget):
    loadRequested = Signal(int)      # step: resume the run from this checkpoint
    changed = Signal()               # pinned/deleted on disk
    errorOccurred = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_path: Path | None = None
        self.infos: list[CheckpointInfo] = []
        self.busy = False            # a trainer owns the folder: no Load, and Pin/Delete only through `route`
        # While this window trains the run: hands ('pin' | 'unpin' | 'delete', step) to the training thread, which
        # does it between steps, so it never races a save or retention. None: no live trainer of ours.
        self.route: Callable[[str, int], None] | None = None
        # Injectable for tests: return True to delete.
        self.confirm_delete: Callable[[CheckpointInfo], bool] = self._confirm_dialog

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Step", "Saved", "Kept"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.setToolTip("Pinned checkpoints (📌) and the best one (★, lowest Fréchet distance so far) are "
                             "never removed by retention (keep_checkpoints)")
        self.placeholder = QLabel("No run open")
        self.placeholder.setStyleSheet("color: palette(mid);")
        self.placeholder.setWordWrap(True)   # "No checkpoints yet in <long run name>" must not widen the dock
        self.btn_load = QPushButton("Load")
        self.btn_load.setToolTip("Open this run so that Start resumes from the selected checkpoint")
        self.btn_pin = QPushButton("Pin")
        self.btn_delete = QPushButton("Delete")
        vbox(self, self.placeholder, (self.tree, 1), hbox(self.btn_load, self.btn_pin, self.btn_delete), margin=4)
        self.btn_load.clicked.connect(self._load)
        self.btn_pin.clicked.connect(self._toggle_pin)
        self.btn_delete.clicked.connect(self._delete)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self._load())
        self._update_buttons()

    # -- data -------------------------------------------------------------------------------------------------
    def set_run(self, path: str | Path | None) -> None:
        self.run_path = Path(path) if path else None
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        keep = selected.step if selected else None
        folder = RunDir(self.run_path).checkpoints if self.run_path else None
        self.infos = list_checkpoints(folder) if folder else []
        best = best_record(folder) if folder else None
        self.tree.clear()
        for info in reversed(self.infos):          # newest first
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.time)) if info.time else "?"
            kept = " ".join(["📌"] * info.pinned + ["★ best"] * info.best)
            item = QTreeWidgetItem([f"{info.step:,}", when, kept])
            item.setData(0, Qt.UserRole, info.step)
            item.setTextAlignment(0, Qt.AlignRight | Qt.AlignVCenter)
            if info.best and best is not None:
                item.setToolTip(2, f"The best checkpoint: lowest Fréchet distance so far (FD {best['fd']:.3g})")
            self.tree.addTopLevelItem(item)
            if info.step == keep:
                item.setSelected(True)
                self.tree.setCurrentItem(item)
        if self.run_path is None:
            self.placeholder.setText("No run open")
        else:
            self.placeholder.setText(f"{len(self.infos)} checkpoint{'s' * (len(self.infos) != 1)} in "
                                     f"{self.run_path.name}" if self.infos else f"No checkpoints yet in "
                                     f"{self.run_path.name}")
        self._update_buttons()

    def set_busy(self, busy: bool, route: Callable[[str, int], None] | None = None) -> None:
        self.busy = busy
        self.route = route if busy else None
        self._update_buttons()

    def selected(self) -> CheckpointInfo | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        step = items[0].data(0, Qt.UserRole)
        return next((c for c in self.infos if c.step == step), None)

    def select_step(self, step: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.UserRole) == step:
                self.tree.setCurrentItem(item)
                item.setSelected(True)

    # -- actions ----------------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        info = self.selected()
        self.btn_load.setEnabled(info is not None and not self.busy)
        writable = not self.busy or self.route is not None
        self.btn_pin.setEnabled(info is not None and writable)
        self.btn_delete.setEnabled(info is not None and writable)
        self.btn_pin.setText("Unpin" if info is not None and info.pinned else "Pin")

    def _load(self) -> None:
        info = self.selected()
        if info is not None and not self.busy:
            self.loadRequested.emit(info.step)

    def _toggle_pin(self) -> None:
        info = self.selected()
        if info is None:
            return
        if self.busy:
            if self.route is not None:
                self.route("unpin" if info.pinned else "pin", info.step)
            return
        try:
            set_pinned(info, not info.pinned)
        except OSError as e:
            self.errorOccurred.emit(f"{info.path}: cannot change the pin ({e.strerror or e})")
        self.refresh()
        self.changed.emit()

    def _delete(self) -> None:
        info = self.selected()
        if info is None or (self.busy and self.route is None) or not self.confirm_delete(info):
            return
        if self.busy:                # re-checked: the dialog ran the event loop, the run may have ended
            if self.route is not None:
                self.route("delete", info.step)
            return
        try:
            delete_checkpoint(info)
        except OSError as e:
            self.errorOccurred.emit(f"{info.path}: cannot delete ({e.strerror or e})")
        self.refresh()
        self.changed.emit()

    def _confirm_dialog(self, info: CheckpointInfo) -> bool:
        extra = (" It is pinned." if info.pinned else "") + (" It is the best checkpoint." if info.best else "")
        last = " It is the only checkpoint: the run can no longer be resumed." if len(self.infos) == 1 else ""
        answer = QMessageBox.question(self, "Delete checkpoint",
                                      f"Delete the checkpoint at step {info.step:,}?{extra}{last}",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes
