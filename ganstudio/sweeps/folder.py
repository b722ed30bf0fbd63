"""The sweep folder, the one place its paths are built:

    <sweep>/sweep.json       the spec, the study's name and storage (the Runs tab and --report read it)
    <sweep>/study.db         the Optuna study (SQLite), unless --storage names another database
    <sweep>/summary.md       ranked table: config differences, steps reached, best FD/KID and their step, final FD
    <sweep>/summary.csv      the same table
    <sweep>/montage.png      every trial's final grid, labelled with its differences
    <sweep>/<NNN-label>/     one ordinary run folder per trial (runs.RunDir)
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..core.errors import RunDirError
from ..core.fileio import atomic_write_text
from ..runs import runs_root


class SweepDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.info_file = self.path / "sweep.json"
        self.db = self.path / "study.db"
        self.summary_md = self.path / "summary.md"
        self.summary_csv = self.path / "summary.csv"
        self.montage = self.path / "montage.png"

    @staticmethod
    def default_path(preset: str, fingerprint: str) -> Path:
        """Named after the spec, so the same command finds the same sweep again and continues it."""
        return runs_root() / f"sweep-{preset}-{fingerprint}"

    @staticmethod
    def is_sweep(path: str | Path) -> bool:
        return (Path(path) / "sweep.json").is_file()

    def storage_url(self, override: str | None = None) -> str:
        return override or f"sqlite:///{self.db.resolve()}"

    def trial_path(self, number: int, label: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.,=+-]+", "_", label.replace(" ", ","))[:100]
        return self.path / f"{number:03d}-{safe}"

    def make(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"{self.path}: cannot create the sweep folder ({e.strerror}); choose another with "
                              f"--sweep-dir") from None

    def describe(self, info: dict[str, Any]) -> None:
        if not self.info_file.exists():
            atomic_write_text(self.info_file, json.dumps(info, indent=1) + "\n")

    def read_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.info_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{self.path}: not a sweep folder (sweep.json is missing)") from None
        except (OSError, ValueError) as e:
            raise RunDirError(f"{self.info_file}: unreadable ({e}); the study itself is in study.db") from None
        if not isinstance(info, dict) or "study" not in info:
            raise RunDirError(f"{self.info_file}: not a ganstudio sweep description")
        return info
