"""Atomic, pinnable checkpoints on top of tf.train.Checkpoint.

Layout: <run>/checkpoints/step_000500/{ckpt.index, ckpt.data-*, meta.json}. A save writes into a hidden
temp folder and renames it into place only when complete, so a process killed mid-save leaves the previous
checkpoints untouched and loadable (leftover temp folders are ignored and swept on the next save).
Retention keeps the newest `keep` plus every pinned one (a PINNED marker file).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..fileio import atomic_write_text

DIR_RE = re.compile(r"^step_(\d+)$")
PREFIX = "ckpt"


@dataclass(frozen=True)
class CheckpointInfo:
    step: int
    path: Path
    pinned: bool
    time: float

    @property
    def prefix(self) -> str:
        return str(self.path / PREFIX)


def list_checkpoints(folder: str | Path) -> list[CheckpointInfo]:
    """Complete checkpoints (meta.json present), oldest first."""
    folder = Path(folder)
    out = []
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        m = DIR_RE.match(p.name)
        if not (m and p.is_dir() and (p / "meta.json").exists()):
            continue
        try:
            meta = json.loads((p / "meta.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        out.append(CheckpointInfo(int(m.group(1)), p, (p / "PINNED").exists(), float(meta.get("time", 0))))
    return sorted(out, key=lambda c: c.step)


def find_checkpoint(folder: str | Path, step: int | None = None) -> CheckpointInfo:
    ckpts = list_checkpoints(folder)
    if not ckpts:
        raise CheckpointError(f"{folder}: no checkpoint yet; train longer or save one (Ctrl+S in the studio)")
    if step is None:
        return ckpts[-1]
    for c in ckpts:
        if c.step == step:
            return c
    raise CheckpointError(f"{folder}: no checkpoint at step {step}; available: "
                          f"{', '.join(str(c.step) for c in ckpts)}")


def set_pinned(info: CheckpointInfo, pinned: bool) -> None:
    marker = info.path / "PINNED"
    if pinned:
        marker.touch()
    elif marker.exists():
        marker.unlink()


def delete_checkpoint(info: CheckpointInfo) -> None:
    shutil.rmtree(info.path)


class CheckpointStore:
    def __init__(self, checkpoint, folder: str | Path, keep: int = 5) -> None:
        self.ckpt = checkpoint          # a tf.train.Checkpoint
        self.folder = Path(folder)
        self.keep = keep

    def save(self, step: int, meta: dict[str, Any]) -> CheckpointInfo:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"step_{step:06d}"
        tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=self.folder))
        try:
            self.ckpt.write(str(tmp / PREFIX))
            atomic_write_text(tmp / "meta.json", json.dumps({"step": step, "time": time.time(), **meta}, indent=1))
            pinned = (final / "PINNED").exists()
            if final.exists():          # re-saving the same step (e.g. on Stop right after a periodic save)
                shutil.rmtree(final)
            os.replace(tmp, final)
            if pinned:
                (final / "PINNED").touch()
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CheckpointError(f"{self.folder}: checkpoint save failed ({e.strerror or e}); the previous "
                                  f"checkpoints are intact") from None
        self._retain()
        return CheckpointInfo(step, final, (final / "PINNED").exists(), time.time())

    def _retain(self) -> None:
        for leftover in self.folder.glob(".saving-*"):   # from a process killed mid-save
            shutil.rmtree(leftover, ignore_errors=True)
        unpinned = [c for c in list_checkpoints(self.folder) if not c.pinned]
        for c in unpinned[:-self.keep] if self.keep > 0 else []:
            shutil.rmtree(c.path, ignore_errors=True)

    def restore(self, info: CheckpointInfo) -> None:
        try:
            self.ckpt.read(info.prefix).assert_existing_objects_matched()
        except Exception as e:  # noqa: BLE001 - TF raises many types for a mismatched or damaged checkpoint
            first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            raise CheckpointError(f"{info.path}: cannot restore: {first}; the checkpoint was written by a different "
                                  f"architecture/config or is damaged (nothing was changed)") from None
