"""The studio model's settings Store (studio.recent.Store) backed by the window's QSettings: recent runs
(File ▸ Open Recent) and the runs root persist there."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings


class SettingsStore:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def get(self, key: str, default: Any) -> Any:
        return self.settings.value(key, default, type(default))

    def set(self, key: str, value: Any) -> None:
        self.settings.setValue(key, value)
        self.settings.sync()
