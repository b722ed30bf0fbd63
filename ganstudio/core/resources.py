"""Locate bundled resources: inside the wheel (ganstudio/_resources) or the repo's top-level resources/."""
from __future__ import annotations

from pathlib import Path

from .errors import GanStudioError

_PACKAGE = Path(__file__).resolve().parents[1]     # ganstudio/ (this file is ganstudio/core/resources.py)
_CANDIDATES = (_PACKAGE / "_resources", _PACKAGE.parent / "resources")


def resource_path(name: str) -> Path:
    for base in _CANDIDATES:
        p = base / name
        if p.exists():
            return p
    raise GanStudioError(f"bundled resource {name!r} is missing from {_CANDIDATES[-1]}; reinstall ganstudio "
                         f"or rebuild it with tools/make_bundled_dataset.py")
