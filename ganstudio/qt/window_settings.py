"""What the window remembers between sessions (QSettings): geometry, dock and splitter state, the last preset
and dataset; a bad remembered value shows its error once the window is up and falls back to a default."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter

from ..config import Config
from ..config.presets import PRESETS, get_preset
from ..core.errors import GanStudioError


def restore_layout(s: QSettings, window: QMainWindow, splitter: QSplitter) -> None:
    geo = s.value("window/geometry")
    if geo is not None:
        window.restoreGeometry(geo)
    st = s.value("window/state")
    if st is not None:
        window.restoreState(st)
    sp = s.value("window/splitter")
    if sp is not None:
        splitter.restoreState(sp)


def initial_config(s: QSettings, preset: str | None, dataset: str | None,
                   report_error: Callable[[str], None]) -> Config:
    """The form's first config: the given (else the last) preset and dataset; errors are reported once the event
    loop runs, and fall back to the tutorial preset / the preset's dataset."""
    name = preset or s.value("last/preset", "", str) or "tutorial"
    try:
        cfg = get_preset(name).config()
    except GanStudioError as e:
        msg = str(e)   # `e` is unbound after the except block; the deferred lambda must not capture it
        QTimer.singleShot(0, lambda: report_error(msg))
        cfg = PRESETS["tutorial"].config()
    data = dataset or s.value("last/dataset", "", str)
    if data:
        try:
            cfg = cfg.with_updates({"dataset": data})
        except GanStudioError as e:
            msg = str(e)
            QTimer.singleShot(0, lambda: report_error(msg))
    return cfg


def save_settings(s: QSettings, window: QMainWindow, splitter: QSplitter, preset: str, dataset: str) -> None:
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", splitter.saveState())
    s.setValue("last/preset", preset or "tutorial")
    s.setValue("last/dataset", dataset)
    s.sync()
