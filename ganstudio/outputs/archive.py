"""Portable checkpoint archives: one run's checkpoint as a single .tar.gz that continues exactly elsewhere.

    ganstudio export RUN --format checkpoint [--checkpoint best|latest|STEP]   ->  RUN/<run>_step000500.tar.gz
    ganstudio import ARCHIVE [--run-dir DIR]                                  ->  a new run folder; then `resume`

The archive holds manifest.json, the run's config.json, its logs up to the checkpoint's step (metrics, quality,
edits, health warnings, sessions: the report's device and history), the checkpoint folder itself, whose
tf.train.Checkpoint already carries both models (and the EMA generator), both optimizers, the noise RNG, the dropout
seeds, the fixed noise and the step, and the best marker (checkpoints/best.json) when that checkpoint is the best one
or, as after a rollback, the best of the checkpoints the imported run has: the exported one, if its quality was
measured. So `--checkpoint best` works after an import whenever it can. Paths inside are relative to the run folder,
so it unpacks on any machine; the data position is a function of (seed, step), so `resume` needs nothing else (a
dataset given as a path must exist there too). No TensorFlow is imported here.

Import never trusts the archive. It must be gzip; it may hold at most MAX_MEMBERS members and unpack to at most
unpack_allowance(its size) bytes, checked against each tar header before its data is written and again on the
decompressed stream itself (a gzip bomb or a lying header stops there). Only regular files and folders, no absolute
paths, no '..', no member twice; manifest.json, the checkpoint's meta.json, best.json and config.json are checked
field by field. Everything unpacks into a hidden temp folder next to the target (config.json written last, so that
the Runs tab never lists it as a run), renamed into place only when complete; on any failure nothing is left behind
(not even a runs root the import created). Every refusal is one RunDirError line (the CLI: exit 2).
"""
from __future__ import annotations

import errno
import gzip
import io
import json
import math
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from .. import __version__
from ..core.errors import GanStudioError, RunDirError
from ..core.fileio import dir_mode, new_temp_file
from ..engine.checkpoints import BEST, best_record, find_checkpoint, missing_parts, step_dir
from ..runs.folder import RunDir, _read_jsonl, runs_root

FORMAT = "ganstudio-checkpoint/1"
MANIFEST = "manifest.json"
SUFFIX = ".tar.gz"
GZIP_MAGIC = b"\x1f\x8b"

# Import limits. A real archive has about ten members (manifest, config, five logs, best.json, the checkpoint's
# index, data shard(s) and meta.json) and unpacks to about 1.1x its size (float weights barely compress; the logs
# 3-8x). The default dcgan at 64x64 RGB makes a ~240 MB archive, the largest network the config allows (width 512)
# one of ~14 GB.
MAX_MEMBERS = 1000                  # 100x a real archive
MAX_RATIO = 50                      # unpacked bytes per archive byte (gzip reaches ~1000 on zeros)
MIN_ALLOWANCE = 64 * 2**20          # however small the archive, it may unpack to 64 MiB
MAX_UNPACKED_BYTES = 32 * 2**30     # and never to more than 32 GiB
MAX_JSON_BYTES = 2**20              # manifest.json, config.json, meta.json, best.json: parsed in memory
CHUNK = 2**20

LOGS = ("metrics_file", "quality_file", "edits_file", "health_file", "sessions_file")   # RunDir attributes


def unpack_allowance(archive_bytes: int) -> int:
    """How many bytes an archive of this size may unpack to."""
    return min(MAX_UNPACKED_BYTES, max(MIN_ALLOWANCE, MAX_RATIO * archive_bytes))


def default_archive_path(run: RunDir, step: int) -> Path:
    return run.path / f"{run.path.name}_step{step:06d}{SUFFIX}"


# -- export -----------------------------------------------------------------------------------------------------
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
    manifest = {"format": FORMAT, "ganstudio": __version__, "run": run.path.name, "step": info.step,
                "time": time.time()}
    tmp = None
    try:
        fd, tmp = new_temp_file(out)      # the archive gets 0666 & ~umask, like any other new file
        os.close(fd)
        with tarfile.open(tmp, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, _json(manifest))
            _add_bytes(tar, _rel(run, run.config_file), run.config_file.read_bytes())
            for log in (getattr(run, name) for name in LOGS):     # "so far": up to the step
                if log.exists():
                    rows = _read_jsonl(log, info.step)
                    _add_bytes(tar, _rel(run, log), "".join(json.dumps(r) + "\n" for r in rows).encode())
            best = _best_for(run, info.step)
            if best is not None:
                _add_bytes(tar, _rel(run, run.checkpoints / BEST), _json(best))
            for p in sorted(info.path.iterdir()):
                if p.is_file() and p.name != "PINNED":
                    tar.add(p, arcname=_rel(run, p), recursive=False)
        os.replace(tmp, out)
    except OSError as e:
        raise RunDirError(f"{out}: cannot write the archive ({e.strerror or e}); nothing was written") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _best_for(run: RunDir, step: int) -> dict[str, Any] | None:
    """The best marker the imported run gets: the run's own when `step` is its best checkpoint; else, like
    CheckpointStore.choose_best after a rollback, `step` itself if its quality was measured (the archive's only
    checkpoint is then the best the imported run has); else none."""
    rec = best_record(run.checkpoints)
    if rec is not None and rec["step"] == step and math.isfinite(rec["fd"]):
        return {"step": step, "fd": rec["fd"], "time": _best_time(run) or time.time()}
    fds = [r["fd"] for r in _read_jsonl(run.quality_file, step) if r.get("step") == step
           and isinstance(r.get("fd"), (int, float)) and not isinstance(r["fd"], bool) and math.isfinite(r["fd"])]
    return {"step": step, "fd": float(fds[-1]), "time": time.time()} if fds else None


def _best_time(run: RunDir) -> float | None:
    try:
        t = json.loads((run.checkpoints / BEST).read_text()).get("time")
    except (OSError, ValueError, AttributeError):
        return None
    return float(t) if _is_number(t) else None


def _json(obj: Any) -> bytes:
    return json.dumps(obj, indent=1).encode()


def _rel(run: RunDir, path: Path) -> str:
    return path.relative_to(run.path).as_posix()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


# -- import -----------------------------------------------------------------------------------------------------
class _Limited(io.RawIOBase):
    """The decompressed stream, refusing to deliver more than `limit` bytes: whatever the tar headers claim, a
    bomb stops here."""

    def __init__(self, raw: BinaryIO, limit: int, archive: Path) -> None:
        self.raw, self.limit, self.archive, self.count = raw, limit, archive, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = CHUNK
        data = self.raw.read(min(size, self.limit + 1 - self.count))
        self.count += len(data)
        if self.count > self.limit:
            raise _too_big(self.archive, self.limit)
        return data

    def readinto(self, b) -> int:      # noqa: ANN001 - a writable buffer
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


def _too_big(archive: Path, limit: int) -> RunDirError:
    return RunDirError(f"{archive}: unpacks to more than {limit / 2**20:,.0f} MiB (the limit for an archive of its "
                       f"size); refusing to import it")


def import_checkpoint(archive: str | Path, run_dir: str | Path | None = None) -> Path:
    """Unpack an archive into a new run folder (default: the runs root / the original run's name) that
    `ganstudio resume` continues. Returns the folder. Any bad archive: one RunDirError line, nothing left behind."""
    archive = Path(archive)
    try:
        if not archive.is_file():
            raise RunDirError(f"{archive}: no such archive")
        with open(archive, "rb") as f:
            magic = f.read(2)
        size = archive.stat().st_size
    except OSError as e:
        raise RunDirError(f"{archive}: cannot read the archive ({e.strerror or e})") from None
    if magic != GZIP_MAGIC:
        raise RunDirError(f"{archive}: not a gzip file, so not a ganstudio checkpoint archive; make one with "
                          f"`ganstudio export RUN --format checkpoint`")
    target = Path(run_dir) if run_dir else None
    if target is not None and (target.is_symlink() or target.exists()) and \
            not (target.is_dir() and not any(target.iterdir())):
        raise RunDirError(f"{target} already exists and is not empty; choose another --run-dir")
    parent = target.parent if target is not None else runs_root()
    created = _make_dirs(parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".importing-", dir=parent))
        manifest = _unpack(archive, tmp, unpack_allowance(size))
        (tmp / "samples").mkdir(exist_ok=True)
        os.chmod(tmp, dir_mode())         # mkdtemp made it 0700; a run folder is as shared as any other folder
        placed = _place(tmp, target, parent / manifest["run"])
        tmp = None
        return placed
    except OSError as e:
        raise RunDirError(f"{archive}: cannot import into {parent} ({e.strerror or e}); nothing was kept") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            for d in reversed(created):
                try:
                    d.rmdir()
                except OSError:
                    break


def _make_dirs(path: Path) -> list[Path]:
    """mkdir -p, returning the folders it created (outermost first), so that a failed import removes them."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    created = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    except OSError as e:
        for d in reversed(created):
            d.rmdir()
        raise RunDirError(f"{path}: cannot create the folder ({e.strerror or e}); choose another with "
                          f"--run-dir") from None
    return created


def _place(tmp: Path, target: Path | None, default: Path) -> Path:
    """Rename the complete folder into place: onto `target` (absent or an empty folder), or the first free one of
    default, default-2, default-3, ..."""
    if target is not None:
        try:
            os.rename(tmp, target)
        except OSError as e:
            if e.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise RunDirError(f"{target} already exists and is not empty; choose another --run-dir") from None
            raise
        return target
    for n in range(1, 10_000):
        candidate = default if n == 1 else default.with_name(f"{default.name}-{n}")
        if candidate.exists() or candidate.is_symlink():
            continue
        try:
            os.rename(tmp, candidate)
            return candidate
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):   # another import took the name just now
                raise
    raise RunDirError(f"{default}: no free name for the imported run; pass --run-dir")


def _unpack(archive: Path, dest: Path, allowance: int) -> dict[str, Any]:
    """Stream the archive into `dest`, checking every member; returns the checked manifest."""
    try:
        with gzip.open(archive, "rb") as gz:
            stream = _Limited(gz, allowance, archive)
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                manifest_bytes, config_bytes = _extract_members(archive, tar, dest, allowance)
            while stream.read(CHUNK):     # to the end: the gzip CRC and length are checked, trailing garbage too
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as e:   # other OSErrors: writing
        why = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunDirError(f"{archive}: not a readable ganstudio checkpoint archive (truncated or damaged: "
                          f"{why}); export it again") from None
    if manifest_bytes is None or config_bytes is None:
        raise RunDirError(f"{archive}: not a ganstudio checkpoint archive (no {MANIFEST} or config.json); make one "
                          f"with `ganstudio export RUN --format checkpoint`")
    manifest = _check_manifest(archive, manifest_bytes)
    _check_run(archive, dest, manifest["step"], config_bytes)
    with open(dest / "config.json", "xb") as out:    # last: until now the temp folder is no run (Runs tab, watch)
        out.write(config_bytes)
    return manifest


def _extract_members(archive: Path, tar: tarfile.TarFile, dest: Path, allowance: int
                     ) -> tuple[bytes | None, bytes | None]:
    """Unpack every member but manifest.json and config.json, which it returns (None: absent)."""
    manifest, config, seen, declared = None, None, set(), 0
    for count, m in enumerate(tar, 1):
        if count > MAX_MEMBERS:
            raise RunDirError(f"{archive}: more than {MAX_MEMBERS} members (a checkpoint archive has about ten); "
                              f"refusing to import it")
        parts = _safe_parts(archive, m)
        if not parts:                      # "." (tar -C run .)
            continue
        rel = "/".join(parts)
        if rel in seen:
            raise RunDirError(f"{archive}: member {rel!r} appears twice; refusing to import it")
        seen.add(rel)
        if m.isdir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
            continue
        declared += m.size
        if m.size > allowance or declared > allowance:   # the headers' word, before any data is written
            raise _too_big(archive, allowance)
        if m.size > MAX_JSON_BYTES and (rel in (MANIFEST, "config.json", f"checkpoints/{BEST}")
                                        or rel.endswith("/meta.json")):
            raise RunDirError(f"{archive}: {rel} is {m.size:,} bytes, too large for what it should hold; refusing "
                              f"to import it")
        src = tar.extractfile(m)
        if rel == MANIFEST:
            manifest = src.read()
            continue
        if rel == "config.json":
            config = src.read()
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        with open(dest / rel, "xb") as out:        # mode 0666 & ~umask
            shutil.copyfileobj(src, out, CHUNK)
    return manifest, config


def _safe_parts(archive: Path, m: tarfile.TarInfo) -> list[str]:
    """The member's path components, or a RunDirError for anything that could land outside the run folder or is
    not a plain file or folder."""
    name = m.name
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or name.startswith("/") or "\\" in name:
        raise RunDirError(f"{archive}: member {name!r} points outside the run folder; refusing to import it")
    if not (m.isdir() or (m.isreg() and not m.issparse())):
        raise RunDirError(f"{archive}: member {name!r} is not a plain file or folder; refusing to import it")
    if "\0" in name or any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in p.parts):
        raise RunDirError(f"{archive}: member {name!r} has an unusable name; refusing to import it")
    return [part for part in p.parts if part != "."]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _load_json(archive: Path, rel: str, data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise RunDirError(f"{archive}: {rel} is not valid JSON ({str(e).splitlines()[0]}); export it again") from None
    if not isinstance(obj, dict):
        raise RunDirError(f"{archive}: {rel} is not a JSON object; export it again")
    return obj


def _bad(archive: Path, rel: str, field: str, value: Any, want: str) -> RunDirError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return RunDirError(f"{archive}: {rel}: {field} is {shown}, not {want}; refusing to import it")


def _check_manifest(archive: Path, data: bytes) -> dict[str, Any]:
    manifest = _load_json(archive, MANIFEST, data)
    fmt = manifest.get("format")
    if fmt != FORMAT:
        if not isinstance(fmt, str):
            raise _bad(archive, MANIFEST, "format", fmt, f"the string {FORMAT!r}")
        raise RunDirError(f"{archive}: unknown archive format {fmt[:60]!r}; this ganstudio reads {FORMAT}")
    if not _is_count(manifest.get("step")):
        raise _bad(archive, MANIFEST, "step", manifest.get("step"), "a whole number >= 0")
    name = manifest.get("run")
    if not (isinstance(name, str) and _safe_name(name)):
        raise _bad(archive, MANIFEST, "run", name, "a folder name (no '/', '\\', NUL or leading '.')")
    if "time" in manifest and not _is_number(manifest["time"]):
        raise _bad(archive, MANIFEST, "time", manifest["time"], "a time in seconds")
    if "ganstudio" in manifest and not isinstance(manifest["ganstudio"], str):
        raise _bad(archive, MANIFEST, "ganstudio", manifest["ganstudio"], "a version string")
    return manifest


def _safe_name(name: str) -> bool:
    """A single, visible path component that every filesystem here takes."""
    return (0 < len(name.encode("utf-8", "surrogateescape")) <= 200 and not name.startswith(".")
            and not any(c in name for c in "/\\\0") and name.isprintable())


def _check_run(archive: Path, dest: Path, step: int, config_bytes: bytes) -> None:
    """The unpacked folder holds one complete checkpoint, at the manifest's step, whose files the engine reads
    without a surprise."""
    from ..config import Config  # noqa: PLC0415

    ckpt = step_dir(dest / "checkpoints", step)
    rel = f"checkpoints/{ckpt.name}"
    if not ckpt.is_dir():
        raise RunDirError(f"{archive}: holds no checkpoint of step {step} ({rel}); export it again")
    others = sorted(p.name for p in (dest / "checkpoints").iterdir() if p.name not in (ckpt.name, BEST))
    if others:
        raise RunDirError(f"{archive}: checkpoints/ holds {others[0]!r} besides the checkpoint of step {step}; "
                          f"refusing to import it")
    meta = ckpt / "meta.json"
    if meta.is_file():
        _check_meta(archive, f"{rel}/meta.json", meta.read_bytes(), step)
    why = missing_parts(ckpt)
    if why:
        raise RunDirError(f"{archive}: the checkpoint inside is incomplete ({why}); export it again")
    best = dest / "checkpoints" / BEST
    if best.exists():
        rec = _load_json(archive, f"checkpoints/{BEST}", best.read_bytes())
        if rec.get("step") != step or not _is_count(rec.get("step")):
            raise _bad(archive, f"checkpoints/{BEST}", "step", rec.get("step"), f"{step} (the archive's checkpoint)")
        if not _is_number(rec.get("fd")):
            raise _bad(archive, f"checkpoints/{BEST}", "fd", rec.get("fd"), "a finite number")
        if "time" in rec and not _is_number(rec["time"]):
            raise _bad(archive, f"checkpoints/{BEST}", "time", rec["time"], "a time in seconds")
    config = _load_json(archive, "config.json", config_bytes)
    try:
        Config.from_dict(config, source=f"{archive}: config.json")
    except GanStudioError as e:
        raise RunDirError(str(e).splitlines()[0] if str(e) else f"{archive}: config.json is unusable") from None
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        why = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunDirError(f"{archive}: config.json is unusable ({why}); export it again") from None


def _check_meta(archive: Path, rel: str, data: bytes, step: int) -> None:
    meta = _load_json(archive, rel, data)
    if meta.get("step") != step or not _is_count(meta.get("step")):
        raise _bad(archive, rel, "step", meta.get("step"), f"{step} (the manifest's step)")
    for key in ("time", "train_seconds"):
        if key in meta and not (_is_number(meta[key]) and meta[key] >= 0):
            raise _bad(archive, rel, key, meta[key], "a number of seconds")
    for key in ("g_params", "d_params"):
        if key in meta and not _is_count(meta[key]):
            raise _bad(archive, rel, key, meta[key], "a whole number >= 0")
    if "config" in meta and not isinstance(meta["config"], dict):
        raise _bad(archive, rel, "config", meta["config"], "an object")


__all__ = ["export_checkpoint", "import_checkpoint", "unpack_allowance", "FORMAT", "MAX_MEMBERS", "MAX_RATIO",
           "MIN_ALLOWANCE", "MAX_UNPACKED_BYTES"]
