"""Issue 16.8: the wheel installs and runs outside the repository.

Builds the wheel (`pip wheel . --no-deps`, hatchling from the test extra, so no network), installs it with
--no-deps into a fresh venv in a temp folder, lends that venv this environment's dependencies (a .pth line:
TensorFlow is not installed twice), and from a folder outside the repo runs `ganstudio --version`,
`ganstudio train --steps 2` on the bundled data, and the studio offscreen with its icon and data found inside
the installed package. About 30 s on 2 cores.
"""
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import ganstudio

REPO = Path(__file__).resolve().parents[1]


def run(cmd, cwd, env, timeout=300):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd}\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return p.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repo(tmp_path):
    pytest.importorskip("hatchling")
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="2", GANSTUDIO_RUNS=str(tmp_path / "runs"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w",
         str(dist)], work, env)
    wheel = next(dist.glob("ganstudio-*.whl"))
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work, env)
    py = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)], work, env)
    site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work, env).strip())
    (site / "_deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    assert run([str(venv / "bin" / "ganstudio"), "--version"], work, env).strip() == \
        f"ganstudio {ganstudio.__version__}"
    run([str(venv / "bin" / "ganstudio"), "train", "--steps", "2", "--no-progress", "--run-dir",
         str(tmp_path / "runs" / "wheel")], work, env, timeout=600)
    rows = (tmp_path / "runs" / "wheel" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 2 and (tmp_path / "runs" / "wheel" / "samples" / "final.png").is_file()
    probe = ("import ganstudio, pathlib; from ganstudio.core.resources import resource_path;"
             "from ganstudio.qt.app import create_window; app, win = create_window([]); win.show();"
             "app.processEvents();"
             "print(pathlib.Path(ganstudio.__file__).parent); print(resource_path('ganstudio.svg'));"
             "print(resource_path('fashion_mnist_subset.npz')); print(app.windowIcon().isNull(), win.isVisible());"
             "win.close()")
    pkg, icon, data, flags = run([str(py), "-c", probe], work, env).strip().splitlines()[-4:]
    assert Path(pkg).is_relative_to(venv) and not Path(pkg).is_relative_to(REPO)
    assert Path(icon) == Path(pkg) / "_resources" / "ganstudio.svg" and Path(data).parent == Path(icon).parent
    assert flags == "False True"
