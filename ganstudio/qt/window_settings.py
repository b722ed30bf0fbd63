"""What the window remembers between sessions (QSettings): geometry, dock and splitter state, the last preset
and dataset; a bad remembered value shows its error once the window is up and falls back to a default."""
from __future__ import annotations

from PySide6.QtCore import QTimer

from ..errors import GanStudioError
from ..presets import PRESETS, get_preset


class WindowSettingsMixin:
    """A MainWindow mixin (see the module docstring); it uses the window's widgets and state."""

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
            msg = str(e)   # `e` is unbound after the except block; the deferred lambda must not capture it
            QTimer.singleShot(0, lambda: self._error(msg))
            cfg = PRESETS["tutorial"].config()
        data = dataset or s.value("last/dataset", "", str)
        if data:
            try:
                cfg = cfg.with_updates({"dataset": data})
            except GanStudioError as e:
                msg = str(e)
                QTimer.singleShot(0, lambda: self._error(msg))
        self.panel.set_config(cfg)

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("last/preset", self.panel.preset_combo.currentData() or "tutorial")
        s.setValue("last/dataset", self.panel.value("dataset"))
        s.sync()
