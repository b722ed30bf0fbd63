"""The run folder: one per run, shared by CLI and GUI, readable without TensorFlow (watch mode, plots refill).

    <run>/config.json          full resolved Config (reloadable with Config.load)
    <run>/metrics.jsonl        one StepMetrics row per logged step, flushed per line
    <run>/edits.jsonl          live hyperparameter edits with their step
    <run>/quality.jsonl        quality metric rows (step, fd, kid, diversity, n, seconds)
    <run>/health.jsonl         the adviser's warnings (metrics.advice.HealthWarning.to_row) at their step
    <run>/sessions.jsonl       one row per start/resume: step, time, device and precision, dataset, parameters;
                               and one per rollback/restore within a session (kind 'rollback', from_step, reason)
    <run>/report.html          `ganstudio report`'s default output
    <run>/samples/step_000500.png   fixed-noise grids; samples/final.png at the end
    <run>/checkpoints/         TensorFlow checkpoints (see engine.checkpoints)
    <run>/abandoned/step-40-from-20/   checkpoints, rows and grids after step 20, moved aside when the run
                                       continued from step 20 (a newer checkpoint must never be resumed by mistake)
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..core.errors import RunDirError
from ..core.fileio import atomic_write_text, write_error
from ..core.imaging import save_grid
from .lock import RunLock

SAMPLE_RE = re.compile(r"step_(\d+)\.png$")
# default names of the exports written into the run folder (`ganstudio export` and the studio's File menu)
EXPORT_NAMES = {"keras": "generator.keras", "savedmodel": "generator_savedmodel", "onnx": "generator.onnx",
                "litert": "generator.tflite", "gif": "training.gif"}


def user_data_dir() -> Path:
    """ganstudio's folder in the user's data directory: $XDG_DATA_HOME/ganstudio (~/.local/share/ganstudio)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "ganstudio"


def runs_root() -> Path:
    """Where runs go: $GANSTUDIO_RUNS if set (the studio sets it from the folder chosen in its Runs tab); else
    ./runs, except when the working directory is the home folder or / (what a desktop entry or file manager
    starts a program in): then user_data_dir()/runs, so no runs/ folder appears there unannounced."""
    env = os.environ.get("GANSTUDIO_RUNS")
    if env:
        return Path(env)
    try:
        cwd = Path.cwd().resolve()
    except OSError:            # the working directory was deleted
        return user_data_dir() / "runs"
    if cwd == Path.home().resolve() or cwd == Path(cwd.anchor):
        return user_data_dir() / "runs"
    return Path("runs")


def new_run_path(preset: str, root: Path | None = None) -> Path:
    """runs/<timestamp>-<preset>/. Config validates the preset name; sanitizing it here as well keeps any caller
    from naming a folder outside the runs root."""
    root = root or runs_root()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    preset = re.sub(r"[^A-Za-z0-9_.+-]+", "_", preset)[:64] or "run"
    path = root / f"{stamp}-{preset}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{preset}-{n}"
    return path


def _read_jsonl(path: Path, max_step: int | None = None) -> list[dict[str, Any]]:
    """Rows of a .jsonl log up to max_step; a torn last line (a crash mid-write) is ignored."""
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not is_row(row):
                continue
            if max_step is None or row.get("step", 0) <= max_step:
                rows.append(row)
    return rows


def numeric(row: dict[str, Any]) -> dict[str, Any]:
    """A metrics row whose values are all numbers: anything else (a hand-edited log) reads as NaN, so plots and
    status lines never meet a string."""
    return {k: v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for k, v in row.items()}


def is_row(row: Any) -> bool:
    """A log row readers can use: a JSON object whose step, if any, is a number (hand-edited or foreign files
    may hold anything)."""
    step = row.get("step", 0) if isinstance(row, dict) else None
    return isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step)


class RunDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.samples = self.path / "samples"
        self.checkpoints = self.path / "checkpoints"
        self.final_sample = self.samples / "final.png"
        self.config_file = self.path / "config.json"
        self.metrics_file = self.path / "metrics.jsonl"
        self.edits_file = self.path / "edits.jsonl"
        self.quality_file = self.path / "quality.jsonl"
        self.health_file = self.path / "health.jsonl"
        self.sessions_file = self.path / "sessions.jsonl"
        self.report_file = self.path / "report.html"
        self.lock_file = self.path / "writer.lock"
        self._metrics_fh = None
        self._torn = False        # a failed append may have left half a line in metrics.jsonl

    @staticmethod
    def is_run(path: str | Path) -> bool:
        """A run folder (it has its config.json), without opening it."""
        return RunDir(path).config_file.is_file()

    # -- creation -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, config: Config) -> "RunDir":
        """A new run folder. Refuses to reuse a folder that already holds a run (nothing is overwritten)."""
        run = cls(path)
        if run.config_file.exists():
            raise RunDirError(f"{run.path} already holds a run; continue it with `ganstudio resume {run.path}` "
                              f"or choose a new --run-dir")
        try:
            run.samples.mkdir(parents=True, exist_ok=True)
            run.checkpoints.mkdir(exist_ok=True)
        except OSError as e:
            raise RunDirError(f"{run.path}: cannot create run folder ({e.strerror}); choose another with "
                              f"--run-dir") from None
        atomic_write_text(run.config_file, config.to_json())
        return run

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"{run.path}: no such run folder")
        if not run.config_file.exists():
            raise RunDirError(f"{run.path}: not a ganstudio run (config.json is missing)")
        return run

    def config(self) -> Config:
        return Config.load(self.config_file)

    def lock(self) -> RunLock:
        """Take the run's writer lock (see runs.lock); RunDirError names the process holding it."""
        return RunLock(self.lock_file, self.path).acquire()

    def write_config(self, config: Config) -> None:
        atomic_write_text(self.config_file, config.to_json())

    # -- logs -----------------------------------------------------------------------------------------------
    def append_metrics(self, row: dict[str, Any]) -> None:
        try:
            if self._metrics_fh is None:
                self._metrics_fh = open(self.metrics_file, "a", buffering=1, encoding="utf-8")
            # after a failed append, end the torn line first so that the rows after it parse
            self._metrics_fh.write("\n" * self._torn + json.dumps(row) + "\n")
            self._torn = False
        except OSError as e:
            self._torn = True
            fh, self._metrics_fh = self._metrics_fh, None
            try:
                if fh is not None:
                    fh.close()          # flushes the failed line again; it may fail the same way
            except OSError:
                pass
            raise write_error(self.metrics_file, e) from None

    def _append(self, path: Path, row: dict[str, Any]) -> None:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        except OSError as e:
            raise write_error(path, e) from None

    def append_quality(self, row: dict[str, Any]) -> None:
        self._append(self.quality_file, row)

    def read_quality(self, max_step: int | None = None) -> list[dict[str, Any]]:
        return _read_jsonl(self.quality_file, max_step)

    def append_health(self, row: dict[str, Any]) -> None:
        """A warning is history: kept when the run rolls back past its step (the report shows what happened)."""
        self._append(self.health_file, row)

    def read_health(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.health_file)

    def append_session(self, row: dict[str, Any]) -> None:
        """One row per start or resume: step, time, device and precision, dataset summary, parameter counts."""
        self._append(self.sessions_file, row)

    def read_sessions(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.sessions_file)

    def read_edits(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.edits_file)

    def log_edit(self, step: int, changes: dict[str, tuple[Any, Any]], source: str = "live") -> None:
        """source: 'live' (the studio's editor or a remedy button while training) or 'resume' (`resume --set`)."""
        self._append(self.edits_file, {"step": step, "time": time.time(), "source": source,
                                       "changes": {k: {"old": o, "new": n} for k, (o, n) in changes.items()}})

    def close(self) -> None:
        if self._metrics_fh is not None:
            self._metrics_fh.close()
            self._metrics_fh = None

    def read_metrics(self, max_step: int | None = None) -> list[dict[str, Any]]:
        return [numeric(r) for r in _read_jsonl(self.metrics_file, max_step)]

    def rewind(self, step: int, keep_in: Path | None = None) -> None:
        """Continue from the checkpoint of `step` (resume, rollback, restore): the metric and quality rows and the
        sample grids after it are dropped (no duplicates, no jump), or moved into `keep_in`, an abandoned branch."""
        lines = lambda rows: "".join(json.dumps(r) + "\n" for r in rows)  # noqa: E731
        for path in (self.metrics_file, self.quality_file):
            if path.exists():
                rows = _read_jsonl(path)
                if keep_in is not None:
                    keep_in.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(keep_in / path.name, lines(r for r in rows if r.get("step", 0) > step))
                atomic_write_text(path, lines(r for r in rows if r.get("step", 0) <= step))
        later = [p for s, p in self.sample_steps() if s > step]
        if keep_in is not None:
            later += [p for p in (self.final_sample,) if p.exists()]   # the abandoned head's last grid
            (keep_in / "samples").mkdir(parents=True, exist_ok=True)
        for p in later:
            if keep_in is not None:
                os.replace(p, keep_in / "samples" / p.name)
            else:
                p.unlink()

    def abandoned_branch(self, head: int, base: int) -> Path:
        """Where continuing from step `base` moves the newer checkpoints (up to `head`) and their logs: kept, named
        so, never resumed."""
        path = self.path / "abandoned" / f"step-{head}-from-{base}"
        n = 1
        while path.exists():
            n += 1
            path = self.path / "abandoned" / f"step-{head}-from-{base}-{n}"
        return path

    # -- samples --------------------------------------------------------------------------------------------
    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:06d}.png"

    def save_sample(self, step: int, images: np.ndarray, rows: int = 0) -> Path:
        return save_grid(images, self.sample_path(step), rows)

    def save_final(self, images: np.ndarray, rows: int = 0) -> Path:
        return save_grid(images, self.final_sample, rows)

    # -- default export targets ----------------------------------------------------------------------------
    def export_path(self, fmt: str) -> Path:
        """Where `ganstudio export --format fmt` writes without --out (fmt: a key of EXPORT_NAMES)."""
        return self.path / EXPORT_NAMES[fmt]

    def sample_export_path(self, step: int, n: int) -> Path:
        """`ganstudio sample`'s default grid of n samples from the checkpoint of `step`."""
        return self.path / f"sample_step{step:06d}_n{n}.png"

    def grid_export_path(self, step: int) -> Path:
        """The studio's default target for exporting the sample grid of `step`."""
        return self.samples / f"export_step_{step:06d}.png"

    def latent_strip_path(self, step: int, a: int, b: int, fmt: str) -> Path:
        """The latent explorer's default target for an interpolation strip from sample a to b (png | gif)."""
        return self.path / f"latent_step{step:06d}_{a}-{b}.{fmt}"

    def sample_steps(self) -> list[tuple[int, Path]]:
        out = []
        if self.samples.is_dir():
            for p in self.samples.iterdir():
                m = SAMPLE_RE.search(p.name)
                if m:
                    out.append((int(m.group(1)), p))
        return sorted(out)
