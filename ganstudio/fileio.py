"""Crash-safe file writes: write a temp file in the same folder, fsync, then os.replace."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import WriteError


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise write_error(path, e) from None
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
        raise write_error(path, e) from None


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_error(path: str | Path, e: OSError) -> WriteError:
    """The one-line message for a failed write of `path`, naming the fix; every run-folder writer uses it."""
    path = Path(path)
    if e.errno == errno.ENOSPC:
        return WriteError(f"{path}: disk full while writing; free some space (nothing was overwritten)")
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WriteError(f"{path.parent}: not writable ({e.strerror}); fix its permissions or choose another run "
                          f"folder with --run-dir")
    return WriteError(f"{path}: cannot write ({e.strerror or e})")
