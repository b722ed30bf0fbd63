"""What the studio remembers about runs between launches, through a small key-value `Store` (the Qt layer
passes one backed by QSettings; tests a dict): the recent runs (File ▸ Open Recent) and the runs root (where
new runs go; the folder chosen in the Runs tab becomes GANSTUDIO_RUNS for this process unless the user set
GANSTUDIO_RUNS at launch)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, MutableMapping, Protocol

from ..runs import RunDir, runs_root

RECENT_KEY = "recent/runs"
ROOT_KEY = "runs/root"
MAX_RECENT = 10


class Store(Protocol):
    def get(self, key: str, default: Any) -> Any: ...     # a value of default's type
    def set(self, key: str, value: Any) -> None: ...      # written through (persisted now)


class MemoryStore:
    """A Store in a dict (tests; a studio without settings)."""

    def __init__(self, values: dict | None = None) -> None:
        self.values = dict(values or {})

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


class RecentRuns:
    def __init__(self, store: Store, limit: int = MAX_RECENT) -> None:
        self.store = store
        self.limit = limit

    def paths(self) -> list[Path]:
        """Newest first; runs whose folder (or config.json) has gone are pruned from the setting."""
        raw = self.store.get(RECENT_KEY, []) or []
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
        self.store.set(RECENT_KEY, [str(p) for p in paths[:self.limit]])


class RunsRoot:
    """Where new runs go: GANSTUDIO_RUNS if the user set it, else the folder chosen in the studio (kept in the
    store), else runs.runs_root()'s default."""

    def __init__(self, store: Store, environ: MutableMapping[str, str] | None = None) -> None:
        self.store = store
        self.environ = os.environ if environ is None else environ

    def restore(self) -> None:
        """At launch: the saved folder applies unless GANSTUDIO_RUNS was set by the user."""
        saved = self.saved()
        if saved and not self.environ.get("GANSTUDIO_RUNS"):
            self.environ["GANSTUDIO_RUNS"] = saved

    def saved(self) -> str:
        return self.store.get(ROOT_KEY, "") or ""

    def set(self, folder: str | Path) -> Path:
        """Where new runs go from now on (this process, and later launches)."""
        self.environ["GANSTUDIO_RUNS"] = str(folder)
        self.store.set(ROOT_KEY, str(folder))
        return Path(folder)

    def path(self) -> Path:
        env = self.environ.get("GANSTUDIO_RUNS")
        return Path(env) if env else runs_root()

    def reason(self) -> str:
        """Why new runs go to path(), in words."""
        root, saved = self.path(), self.saved()
        if saved and str(root) == saved:
            return "chosen here (Choose folder…)"
        if self.environ.get("GANSTUDIO_RUNS"):
            return "from GANSTUDIO_RUNS"
        if root.is_absolute():
            return "started from the home folder or /, so not ./runs there"
        return f"./runs under {Path.cwd()}"
