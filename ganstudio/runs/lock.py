"""One writer per run folder: `train`, `resume` and the studio's trainer hold <run>/writer.lock while they write.

An advisory flock on the file: the kernel drops it when the holder exits or dies (even by SIGKILL), so the lock of
a dead process is simply taken over, and readers (watch, export, sample, eval, the Runs tab) never take it. The
file records who holds it (pid, host, command, since) for the message a second writer gets. fcntl rather than a
library: the holder's record lives in the locked file itself, which filelock would truncate on every attempt.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from ..core.errors import RunDirError
from ..core.fileio import write_error


class RunLock:
    def __init__(self, path: str | Path, run: str | Path) -> None:
        self.path = Path(path)
        self.run = Path(run)
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Take the lock or raise RunDirError naming the holder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise write_error(self.path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise RunDirError(self._busy_message(holder)) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)     # while still held: nobody reads a record of a holder that has gone
        except OSError:
            pass
        os.close(fd)                # closing drops the flock

    def __del__(self) -> None:   # an owner dropped without release() must not keep the folder locked
        self.release()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _busy_message(self, holder: dict) -> str:
        who = ""
        if holder:
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("since", 0))))
            who = (f" (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, `{holder.get('command', '?')}`, "
                   f"since {since})")
        return (f"{self.run}: another process is writing this run{who}; wait for it to finish or stop it, or follow "
                f"it read-only with `ganstudio watch {self.run}`")


def _read(fd: int) -> dict:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
