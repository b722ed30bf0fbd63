"""File ▸ Open Recent: the last runs opened, trained or watched, persisted in the window's QSettings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from ..runs import RunDir

KEY = "recent/runs"
MAX_RECENT = 10


class RecentRuns:
    def __init__(self, settings: QSettings, limit: int = MAX_RECENT) -> None:
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[Path]:
        """Newest first; runs whose folder (or config.json) has gone are pruned from the setting."""
        raw = self.settings.value(KEY, [], list) or []
        alive = [Path(p) for p in raw if RunDir.is_run(p)]
        if len(alive) != len(raw):
            self._store(alive)
        return alive

    def add(self, path: str | Path) -> None:
        p = Path(path).resolve()
        if not RunDir.is_run(p):
            return
        self._store([p] + [q for q in self.paths() if q != p])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self.settings.setValue(KEY, [str(p) for p in paths[:self.limit]])
        self.settings.sync()
