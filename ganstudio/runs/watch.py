"""Follow a run folder that another process is writing (watch mode), and summarise finished runs.

Qt-free and TensorFlow-free: the GUI polls a `RunFollower` from a timer, and a CLI could print from it too.
The trainer appends metrics.jsonl line by line and writes sample PNGs atomically (temp + rename), so tailing
by byte offset is enough; the only partial state a reader can see is a torn last line.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import RunDirError
from .folder import SAMPLE_RE, RunDir, is_row, numeric

TAIL_BYTES = 8192   # enough for the last metrics row of any run


class RunFollower:
    """Incremental reader of one run folder.

    `poll()` returns only what is new since the previous call. When metrics.jsonl shrank or was replaced
    (a resume truncates it with an atomic rename), the file is re-read from the start and `reset` is True for
    that poll: the rows returned then are the whole history, not an increment.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run = RunDir(run_dir)
        self.path = self.run.path
        self._offset = 0
        self._partial = b""           # a torn last line, kept until its newline arrives
        self._file_id: tuple[int, int] | None = None
        self._seen_grids: set[str] = set()
        self.reset = False            # True when the last poll restarted metrics from the beginning
        self.rows_read = 0
        self._quality_sig: tuple[int, int] | None = None   # quality.jsonl's (size, mtime) at the last read

    def exists(self) -> bool:
        return self.run.config_file.exists()

    def poll(self) -> tuple[list[dict[str, Any]], list[tuple[int, Path]]]:
        self.reset = False
        return self._new_rows(), self._new_grids()

    def poll_quality(self) -> list[dict[str, Any]] | None:
        """The whole quality history when quality.jsonl changed since the last call (it is small, and a rollback
        rewrites it), else None: nothing to redraw."""
        try:
            st = self.run.quality_file.stat()
            sig = (st.st_size, st.st_mtime_ns)
        except OSError:
            sig = None
        if sig == self._quality_sig:
            return None
        self._quality_sig = sig
        return self.run.read_quality() if sig is not None else []

    def _new_rows(self) -> list[dict[str, Any]]:
        f = self.run.metrics_file
        try:
            st = f.stat()
        except OSError:          # not written yet (or the run folder does not exist yet)
            return []
        fid = (st.st_dev, st.st_ino)
        if st.st_size < self._offset or (self._file_id is not None and fid != self._file_id):
            self._offset, self._partial, self.reset = 0, b"", True
            self._seen_grids.clear()   # a resumed run may re-render grids at the same steps
        self._file_id = fid
        if st.st_size == self._offset:
            return []
        try:
            with open(f, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read(st.st_size - self._offset)
        except OSError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()      # b"" when data ended with a newline
        rows = []
        for line in lines:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue                 # a corrupt line in the middle: skip it, as RunDir.read_metrics does
            if is_row(row):
                rows.append(numeric(row))
        self.rows_read += len(rows)
        return rows

    def _new_grids(self) -> list[tuple[int, Path]]:
        if not self.run.samples.is_dir():
            return []
        new = []
        for step, p in self.run.sample_steps():
            if p.name not in self._seen_grids:
                self._seen_grids.add(p.name)
                new.append((step, p))
        return new


@dataclass(frozen=True)
class RunSummary:
    """What the runs list shows for one run folder, read cheaply (the metrics file's tail only)."""
    path: Path
    name: str
    preset: str
    dataset: str
    step: int
    g_loss: float | None
    d_loss: float | None
    latest_grid: Path | None
    mtime: float


def last_metrics_row(metrics_file: Path) -> dict[str, Any] | None:
    try:
        with open(metrics_file, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            lines = fh.read().split(b"\n")
    except OSError:
        return None
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue             # the torn last line of a live run, or the cut first line of the tail
        if is_row(row):
            return row
    return None


def summarize_run(path: str | Path) -> RunSummary | None:
    """None if `path` is not a run folder. The config is read as JSON, not validated: an old or hand-edited
    run still lists. A config.json that is JSON but not an object raises RunDirError (the caller skips the run)."""
    run = RunDir(path)
    try:
        cfg = json.loads(run.config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cfg, dict):
        raise RunDirError(f"{run.config_file}: holds a JSON {type(cfg).__name__}, not an object; skipped (fix or "
                          f"delete that run folder)")
    row = last_metrics_row(run.metrics_file) or {}
    grids = [p for p in (run.samples.iterdir() if run.samples.is_dir() else []) if SAMPLE_RE.search(p.name)]
    latest = max(grids, key=lambda p: int(SAMPLE_RE.search(p.name).group(1))) if grids else None
    if latest is None and run.final_sample.exists():
        latest = run.final_sample
    try:
        mtime = max(run.config_file.stat().st_mtime,
                    run.metrics_file.stat().st_mtime if run.metrics_file.exists() else 0)
    except OSError:
        mtime = 0.0

    def num(key: str) -> float | None:
        v = row.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    data = cfg.get("data")
    return RunSummary(run.path, run.path.name, str(cfg.get("preset", "?")),
                      str(data.get("dataset", "?") if isinstance(data, dict) else "?"), int(row.get("step", 0) or 0),
                      num("g_loss"), num("d_loss"), latest, mtime)


def scan_runs(root: str | Path, skipped: list[str] | None = None) -> list[RunSummary]:
    """Run folders directly under `root`, newest first. Runs that cannot be listed add a message to `skipped`."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        try:
            s = summarize_run(p) if p.is_dir() else None
        except RunDirError as e:
            if skipped is not None:
                skipped.append(str(e))
            continue
        if s is not None:
            out.append(s)
    return sorted(out, key=lambda s: (s.mtime, s.name), reverse=True)


__all__ = ["RunFollower", "RunSummary", "scan_runs", "summarize_run", "last_metrics_row"]
