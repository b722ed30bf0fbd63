"""Crash-safe file writes: write a temp file in the same folder, fsync, then os.replace."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import RunDirError


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _friendly(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise _friendly(path, e) from None


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _friendly(path: Path, e: OSError) -> RunDirError:
    if e.errno == errno.ENOSPC:
        return RunDirError(f"{path}: disk full while writing; free some space (nothing was overwritten)")
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RunDirError(f"{path.parent}: not writable ({e.strerror}); choose another run folder with --run-dir")
    return RunDirError(f"{path}: cannot write ({e.strerror or e})")
