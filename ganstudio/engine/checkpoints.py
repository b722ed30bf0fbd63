"""Atomic, pinnable checkpoints on top of tf.train.Checkpoint, with the best one kept.

Layout: <run>/checkpoints/step_000500/{ckpt.index, ckpt.data-*, meta.json}. A save writes into a hidden
temp folder, fsyncs every file and the folder, and renames it into place only when complete, so a process killed
mid-save leaves the previous checkpoints untouched and loadable. A folder counts as a checkpoint only when it is
complete (meta.json parses, the index and every data shard are there); others are skipped. Re-saving a step moves
the old copy aside until the new one is in place. Leftovers of a killed save are swept when training starts.
Retention keeps the newest `keep` plus every pinned one (a PINNED marker file) and the best one (best.json: the
step with the lowest Fréchet distance, replaced atomically only by a better one).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import CheckpointError
from ..core.fileio import atomic_write_text, dir_mode

DIR_RE = re.compile(r"^step_(\d+)$")
SHARD_RE = re.compile(r"^ckpt\.data-(\d+)-of-(\d+)$")
OLD_RE = re.compile(r"^\.old-(step_\d+)-")     # the previous copy of a step being re-saved
PREFIX = "ckpt"
BEST = "best.json"
INCOMPLETE = ".incomplete"                      # suffix given to an incomplete folder once it has been reported


@dataclass(frozen=True)
class CheckpointInfo:
    step: int
    path: Path
    pinned: bool
    time: float
    best: bool = False

    @property
    def prefix(self) -> str:
        return str(self.path / PREFIX)


def step_dir(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step_{step:06d}"


def missing_parts(path: Path) -> str:
    """'' when the checkpoint folder is complete, else what is wrong with it (for a one-line report)."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except FileNotFoundError:
        return "meta.json is missing"
    except (OSError, ValueError):
        return "meta.json is empty or unreadable"
    if not isinstance(meta, dict):
        return "meta.json is not an object"
    index = path / f"{PREFIX}.index"
    if not index.is_file() or index.stat().st_size == 0:
        return f"{PREFIX}.index is missing or empty"
    shards = [m for m in map(SHARD_RE.match, os.listdir(path)) if m]
    totals = {int(m.group(2)) for m in shards}
    if len(totals) != 1 or {int(m.group(1)) for m in shards} != set(range(totals.pop())):
        return "data files are missing"
    return ""


def best_record(folder: str | Path) -> dict[str, Any] | None:
    """{'step', 'fd'} of the best checkpoint, or None (never measured, or unreadable)."""
    try:
        rec = json.loads((Path(folder) / BEST).read_text())
        return {"step": int(rec["step"]), "fd": float(rec["fd"])}
    except (OSError, ValueError, TypeError, KeyError):
        return None


def scan_checkpoints(folder: str | Path) -> tuple[list[CheckpointInfo], list[tuple[Path, str]]]:
    """(complete checkpoints oldest first, [(incomplete step folder, what is wrong)])."""
    folder = Path(folder)
    done, broken = [], []
    if not folder.is_dir():
        return done, broken
    best = best_record(folder)
    for p in folder.iterdir():
        m = DIR_RE.match(p.name)
        if not (m and p.is_dir()):
            continue
        why = missing_parts(p)
        if why:
            broken.append((p, why))
            continue
        step = int(m.group(1))
        meta = json.loads((p / "meta.json").read_text())
        done.append(CheckpointInfo(step, p, (p / "PINNED").exists(), float(meta.get("time", 0)),
                                   best is not None and best["step"] == step))
    return sorted(done, key=lambda c: c.step), sorted(broken)


def list_checkpoints(folder: str | Path) -> list[CheckpointInfo]:
    """Complete checkpoints, oldest first."""
    return scan_checkpoints(folder)[0]


def parse_which(which: int | str | None) -> int | str:
    """--checkpoint best|latest|STEP (None = latest) -> 'best', 'latest' or a step number."""
    if which is None:
        return "latest"
    if isinstance(which, int):
        return which
    text = which.strip().lower()
    if text in ("best", "latest"):
        return text
    if text.isdigit():
        return int(text)
    raise CheckpointError(f"--checkpoint {which!r}: use best, latest or a step number (e.g. --checkpoint 500)")


def find_checkpoint(folder: str | Path, which: int | str | None = None) -> CheckpointInfo:
    """The checkpoint `which` (best | latest | a step; None = latest) names, or a CheckpointError saying why not."""
    which = parse_which(which)
    ckpts, broken = scan_checkpoints(folder)
    if not ckpts:
        why = f" ({broken[-1][0].name} is incomplete: {broken[-1][1]})" if broken else ""
        raise CheckpointError(f"{folder}: no checkpoint yet{why}; train longer or save one (Ctrl+S in the studio)")
    available = ", ".join(str(c.step) for c in ckpts)
    if which == "latest":
        return ckpts[-1]
    if which == "best":
        best = next((c for c in ckpts if c.best), None)
        if best is None:
            raise CheckpointError(f"{folder}: no best checkpoint yet (it is kept when the quality metric runs, every "
                                  f"metric_every steps); use --checkpoint latest or a step: {available}")
        return best
    for c in ckpts:
        if c.step == which:
            return c
    raise CheckpointError(f"{folder}: no checkpoint at step {which}; available: {available}")


def set_pinned(info: CheckpointInfo, pinned: bool) -> None:
    marker = info.path / "PINNED"
    if pinned:
        marker.touch()
    elif marker.exists():
        marker.unlink()


def delete_checkpoint(info: CheckpointInfo) -> None:
    shutil.rmtree(info.path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointStore:
    def __init__(self, checkpoint, folder: str | Path, keep: int = 5, optional: tuple[str, ...] = ()) -> None:
        self.ckpt = checkpoint          # a tf.train.Checkpoint
        self.folder = Path(folder)
        self.keep = keep
        # children of the checkpoint added after runs already existed (e.g. ADA's p): a checkpoint written before
        # them restores without them (they keep their initial values) instead of being refused
        self.optional = optional

    def sweep(self) -> None:
        """At start: remove temp folders of saves killed midway, and put back an old copy whose re-save was killed
        between its two renames."""
        if not self.folder.is_dir():
            return
        for p in sorted(self.folder.iterdir()):
            if p.name.startswith(".saving-"):
                shutil.rmtree(p, ignore_errors=True)
            elif m := OLD_RE.match(p.name):
                final = self.folder / m.group(1)
                if not missing_parts(final):          # the new copy made it
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    shutil.rmtree(final, ignore_errors=True)
                    os.replace(p, final)

    def set_aside_incomplete(self) -> list[str]:
        """Rename incomplete checkpoints so that they are reported once and never resumed; one line for each."""
        notes = []
        for path, why in scan_checkpoints(self.folder)[1]:
            aside = path.with_name(path.name + INCOMPLETE)
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(path, aside)
            notes.append(f"{path}: incomplete checkpoint ({why}); skipped, kept as {aside.name}")
        return notes

    def save(self, step: int, meta: dict[str, Any]) -> CheckpointInfo:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = step_dir(self.folder, step)
        tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=self.folder))
        os.chmod(tmp, dir_mode())   # mkdtemp's 0700 would hide the checkpoint from the team sharing the run
        old = None
        try:
            self.ckpt.write(str(tmp / PREFIX))
            atomic_write_text(tmp / "meta.json", json.dumps({"step": step, "time": time.time(), **meta}, indent=1))
            if (final / "PINNED").exists():
                (tmp / "PINNED").touch()
            for p in tmp.iterdir():     # durable before the rename makes them the checkpoint
                _fsync(p)
            _fsync(tmp)
            if final.exists():          # re-saving the same step (e.g. on Stop right after a periodic save)
                old = self.folder / f".old-{final.name}-{os.getpid()}-{time.time_ns()}"
                os.replace(final, old)  # kept until the new copy is in place
            try:
                os.replace(tmp, final)
            except OSError:
                if old is not None:
                    os.replace(old, final)
                    old = None
                raise
            _fsync(self.folder)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CheckpointError(f"{self.folder}: checkpoint save failed ({e.strerror or e}); the previous "
                                  f"checkpoints are intact") from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._retain()
        return CheckpointInfo(step, final, (final / "PINNED").exists(), time.time())

    def _retain(self) -> None:
        best = best_record(self.folder)
        prunable = [c for c in list_checkpoints(self.folder)
                    if not c.pinned and not (best is not None and c.step == best["step"])]
        for c in prunable[:-self.keep] if self.keep > 0 else []:
            shutil.rmtree(c.path, ignore_errors=True)

    def restore(self, info: CheckpointInfo) -> None:
        try:
            self._for(info).read(info.prefix).assert_existing_objects_matched()
        except Exception as e:  # noqa: BLE001 - TF raises many types for a mismatched or damaged checkpoint
            first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            raise CheckpointError(f"{info.path}: cannot restore: {first}; the checkpoint was written by a different "
                                  f"architecture/config or is damaged (nothing was changed)") from None

    def _for(self, info: CheckpointInfo):
        """The checkpoint object to read `info` with: without the optional children that it predates."""
        if not self.optional:
            return self.ckpt
        from ..core.tfsetup import import_tf  # noqa: PLC0415

        tf = import_tf()
        saved = {name.split("/")[0] for name, _ in tf.train.list_variables(info.prefix)}
        missing = [k for k in self.optional if k not in saved]
        if not missing:
            return self.ckpt
        children = {k: v for k, v in self.ckpt._trackable_children().items() if k not in missing}
        return tf.train.Checkpoint(**children)

    # -- the best checkpoint --------------------------------------------------------------------------------
    def has(self, step: int) -> bool:
        return not missing_parts(step_dir(self.folder, step))

    def is_better(self, fd: float) -> bool:
        """Would a checkpoint with this FD replace the best one (or be the first)?"""
        best = best_record(self.folder)
        return math.isfinite(fd) and (best is None or not self.has(best["step"]) or fd < best["fd"])

    def set_best(self, step: int, fd: float) -> None:
        """Mark the (existing) checkpoint of `step` as the best; one atomic write replaces the previous mark, and
        the previous best is pruned like any other checkpoint."""
        atomic_write_text(self.folder / BEST, json.dumps({"step": step, "fd": fd, "time": time.time()}))
        self._retain()

    def choose_best(self, quality_rows: list[dict[str, Any]]) -> None:
        """After a branch or a truncation: the best is the remaining checkpoint with the lowest FD in the quality
        history (none if no checkpoint was measured)."""
        fds = {r["step"]: r["fd"] for r in quality_rows
               if isinstance(r.get("fd"), (int, float)) and math.isfinite(r["fd"])}
        measured = [(fds[c.step], c.step) for c in list_checkpoints(self.folder) if c.step in fds]
        if measured:
            fd, step = min(measured)
            self.set_best(step, fd)
        elif (self.folder / BEST).exists():
            (self.folder / BEST).unlink()

    # -- branches -------------------------------------------------------------------------------------------
    def newer_than(self, step: int) -> list[tuple[int, Path]]:
        """(step, folder) of the checkpoints after `step`, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.folder.iterdir() if (m := DIR_RE.match(p.name)) and p.is_dir()]
        return [(s, p) for s, p in sorted(found) if s > step]

    def move_aside(self, paths: list[Path], dest: Path) -> None:
        """Move checkpoint folders out of the store (kept, never resumed): continuing from an older step."""
        dest.mkdir(parents=True, exist_ok=True)
        for p in paths:
            os.replace(p, dest / p.name)
        _fsync(self.folder)
