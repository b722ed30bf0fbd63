"""Crash-safe file writes: write a temp file in the same folder, fsync, then os.replace.

The file gets the mode any other new file would: 0666 less the process umask (tempfile.mkstemp alone creates 0600,
which would make a shared run folder unreadable to the rest of the team); the temp file is chmod-ed before the rename,
so the final name never exists with the wrong mode.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import WriteError


def _umask_once() -> int:
    """The umask at import, for systems without /proc (os.umask can only be read by setting it)."""
    old = os.umask(0o022)
    os.umask(old)
    return old


_UMASK_AT_IMPORT = _umask_once()


def current_umask() -> int:
    """The process umask now: read from /proc/self/status (Linux 4.7+; no window in which another thread would
    create files with a temporary umask), else the one at import."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK_AT_IMPORT


def file_mode() -> int:
    """The mode of a new regular file: 0666 & ~umask (what open() would give)."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode of a new folder: 0777 & ~umask (what mkdir would give; tempfile.mkdtemp gives 0700)."""
    return 0o777 & ~current_umask()


def new_temp_file(path: str | Path) -> tuple[int, str]:
    """(fd, name) of a hidden temp file next to `path`, already carrying file_mode(); OSError as mkstemp raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
    except OSError:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    try:
        fd, tmp = new_temp_file(path)
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
