"""Portable checkpoint archives: one run's checkpoint as a single .tar.gz that continues exactly elsewhere.

    ganstudio export RUN --format checkpoint [--checkpoint best|latest|STEP]   ->  RUN/<run>_step000500.tar.gz
    ganstudio import ARCHIVE [--run-dir DIR]                                  ->  a new run folder; then `resume`

The archive holds manifest.json, the run's config.json, its logs up to the checkpoint's step (metrics, quality,
edits) and the checkpoint folder itself, whose tf.train.Checkpoint already carries both models (and the EMA
generator), both optimizers, the noise RNG, the dropout seeds, the fixed noise and the step. Paths inside are
relative to the run folder, so it unpacks on any machine; the data position is a function of (seed, step), so
`resume` needs nothing else (a dataset given as a path must exist there too). No TensorFlow is imported here.

Import never trusts the archive: only regular files and folders, no absolute paths, no '..', extracted with
tarfile's 'data' filter into a temp folder that is renamed into place only when complete.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from . import __version__
from .engine.checkpoints import find_checkpoint, list_checkpoints
from .errors import RunDirError
from .runs import RunDir, _read_jsonl, runs_root

FORMAT = "ganstudio-checkpoint/1"
MANIFEST = "manifest.json"
SUFFIX = ".tar.gz"


def default_archive_path(run: RunDir, step: int) -> Path:
    return run.path / f"{run.path.name}_step{step:06d}{SUFFIX}"


def export_checkpoint(run_dir: str | Path, out: str | Path | None = None, which: int | str | None = None,
                      force: bool = False) -> Path:
    """Write the archive of checkpoint `which` (best | latest | a step; None = latest) atomically."""
    run = RunDir.open(run_dir)
    info = find_checkpoint(run.checkpoints, which)
    out = Path(out) if out else default_archive_path(run, info.step)
    if out.exists() and not force:
        raise RunDirError(f"{out} already exists; choose another --out or pass --force to replace it")
    if not out.parent.is_dir():
        raise RunDirError(f"{out.parent}: folder does not exist; create it or choose another --out")
    manifest = {"format": FORMAT, "ganstudio": __version__, "run": run.path.name, "step": info.step}
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
            _add_bytes(tar, _rel(run, run.config_file), run.config_file.read_bytes())
            for log in (run.metrics_file, run.quality_file, run.edits_file):   # "so far": up to the step
                if log.exists():
                    rows = _read_jsonl(log, info.step)
                    _add_bytes(tar, _rel(run, log), "".join(json.dumps(r) + "\n" for r in rows).encode())
            for p in sorted(info.path.iterdir()):
                if p.is_file() and p.name != "PINNED":
                    tar.add(p, arcname=_rel(run, p), recursive=False)
        os.replace(tmp, out)
    except OSError as e:
        raise RunDirError(f"{out}: cannot write the archive ({e.strerror or e}); nothing was written") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def import_checkpoint(archive: str | Path, run_dir: str | Path | None = None) -> Path:
    """Unpack an archive into a new run folder (default: the runs root / the original run's name) that
    `ganstudio resume` continues. Returns the folder."""
    archive = Path(archive)
    if not archive.is_file():
        raise RunDirError(f"{archive}: no such archive")
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            manifest = _check_members(archive, tar, members)
            target = Path(run_dir) if run_dir else _free_name(runs_root() / manifest["run"])
            if target.exists() and any(target.iterdir()):
                raise RunDirError(f"{target} already exists and is not empty; choose another --run-dir")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.importing-", dir=target.parent))
            try:
                tar.extractall(tmp, members=[m for m in members if m.name != MANIFEST], filter="data")
                if target.exists():
                    target.rmdir()
                os.replace(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise RunDirError(f"{archive}: not a readable ganstudio checkpoint archive ({e})") from None
    run = RunDir.open(target)
    run.checkpoints.mkdir(exist_ok=True)
    run.samples.mkdir(exist_ok=True)
    if not list_checkpoints(run.checkpoints):
        raise RunDirError(f"{archive}: the checkpoint inside is incomplete; export it again")
    return run.path


def _check_members(archive: Path, tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> dict:
    for m in members:
        p = PurePosixPath(m.name)
        if p.is_absolute() or ".." in p.parts or m.name.startswith("/"):
            raise RunDirError(f"{archive}: member {m.name!r} points outside the run folder; refusing to import it")
        if not (m.isfile() or m.isdir()):
            raise RunDirError(f"{archive}: member {m.name!r} is not a plain file or folder; refusing to import it")
    names = {m.name for m in members}
    if MANIFEST not in names or "config.json" not in names:
        raise RunDirError(f"{archive}: not a ganstudio checkpoint archive (no {MANIFEST} or config.json); make one "
                          f"with `ganstudio export RUN --format checkpoint`")
    try:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
    except (ValueError, AttributeError) as e:
        raise RunDirError(f"{archive}: {MANIFEST} is unreadable ({e})") from None
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt != FORMAT:
        raise RunDirError(f"{archive}: unknown archive format {fmt!r}; this ganstudio reads {FORMAT}")
    name = str(manifest.get("run", ""))
    if not name or "/" in name or name.startswith("."):
        raise RunDirError(f"{archive}: {MANIFEST} names no usable run; pass --run-dir")
    return manifest


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _rel(run: RunDir, path: Path) -> str:
    return path.relative_to(run.path).as_posix()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


__all__ = ["export_checkpoint", "import_checkpoint", "FORMAT"]
