"""Helpers shared by the test modules of tests/ and tests/qt/, written once here."""
from __future__ import annotations

import ast
import errno
import subprocess
import sys
from typing import Iterable


def disk_full(monkeypatch) -> dict[str, bool]:
    """Every metrics row a run appends fails as on a full disk (ENOSPC, as the WriteError the run folder raises)
    while the returned switch's "on" is true: set it to False when the user frees space."""
    from ganstudio.core.fileio import write_error
    from ganstudio.runs import RunDir

    full = {"on": True}
    real_append = RunDir.append_metrics

    def append(self, row):
        if full["on"]:
            raise write_error(self.metrics_file, OSError(errno.ENOSPC, "No space left on device"))
        return real_append(self, row)

    monkeypatch.setattr(RunDir, "append_metrics", append)
    return full


def modules_loaded(imports: Iterable[str], packages: Iterable[str], timeout: float = 240) -> list[str]:
    """Which of the top-level `packages` a fresh interpreter has loaded after importing the modules `imports`."""
    code = (f"import sys\nfor m in {list(imports)!r}: __import__(m)\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(packages)!r}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    return ast.literal_eval(r.stdout.strip().splitlines()[-1])
