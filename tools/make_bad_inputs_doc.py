"""Regenerate docs/bad-inputs.md from the real messages: runs tests/test_bad_inputs.py and tabulates each row.

    .venv/bin/python tools/make_bad_inputs_doc.py
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = "--preset tiny --set jit_compile=off --set num_samples=4 --no-progress "  # shared by most rows; noise here
HEADER = """# Bad inputs: a clear answer to each

Every row is a test in `tests/test_bad_inputs.py`: the CLI exits with code 2, prints exactly one line
`ganstudio: error: ...` naming the file or field and the fix, prints no traceback, changes no file that
existed before and leaves no temp file behind. The studio shows the same message in a dialog and stays
usable. Paths below are the test's temporary folders.

Handled without an error (tested in `tests/test_folder.py`): a corrupt, zero-byte, non-image or 1x1 file
among good images is skipped with a warning that counts and names them (`bad_images=skip`, the default);
images of mixed sizes and modes (L, RGB, RGBA, P, 16-bit) are converted; symlink loops are visited once.

| # | case | area | command | message |
|---|---|---|---|---|
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "rows.jsonl"
        env = dict(os.environ, GANSTUDIO_CATALOGUE_OUT=str(out), QT_QPA_PLATFORM="offscreen")
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:warnings", str(ROOT / "tests/test_bad_inputs.py"),
                        "-k", "not matches_the_docs"], check=True, env=env, cwd=ROOT)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    lines = [HEADER]
    for i, r in enumerate(rows, 1):
        argv = " ".join(a if " " not in a else repr(a) for a in r["argv"])
        argv = re.sub(r"/tmp/\S+?/w/", "", argv).replace(TINY, "")
        msg = re.sub(r"/tmp/\S+?/w/", "", r["message"].removeprefix("ganstudio: error: "))
        cell = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines.append(f"| {i} | `{r['id']}` | {r['area']} | `ganstudio {cell(argv)}` | {cell(msg)} |\n")
    (ROOT / "docs" / "bad-inputs.md").write_text("".join(lines))
    print(f"wrote docs/bad-inputs.md with {len(rows)} rows")


if __name__ == "__main__":
    main()
