import faulthandler
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.pg_server import postgres_server  # noqa: E402,F401 - a throwaway PostgreSQL server, session-scoped


DEADLOCK_S = 420   # > pytest-timeout's 300 s, which needs the GIL and cannot fire in a GIL/Qt-mutex deadlock


@pytest.fixture(autouse=True)
def _deadlock_watchdog():
    """A C-level watchdog: if a test is stuck past DEADLOCK_S, dump every thread's stack and exit, so CI fails
    fast with the evidence instead of hanging until its wall-clock limit."""
    faulthandler.dump_traceback_later(DEADLOCK_S, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _runs_root(tmp_path, monkeypatch):
    """Never write runs into the repo: the default runs root points into the test's tmp dir."""
    monkeypatch.setenv("GANSTUDIO_RUNS", str(tmp_path / "runs"))


@pytest.fixture
def tiny_config():
    """A DCGAN small enough that a few steps take well under a second on 2 CPU cores. float32 pinned: `auto` picks
    mixed_bfloat16 on CPUs with native bf16, and tests comparing numbers across code paths need one precision."""
    from ganstudio.config.presets import get_preset

    return get_preset("tiny").config().with_updates(
        {"limit": 128, "batch_size": 16, "steps": 3, "sample_every": 2, "jit_compile": "off", "num_samples": 4,
         "checkpoint_every": 0, "metric_every": 0, "precision": "float32"})


@pytest.fixture
def tiny_images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(64, 28, 28, 1), dtype=np.uint8)


@pytest.fixture(scope="session")
def trained_run_template(tmp_path_factory):
    """One tiny run trained once per session (3 steps, a grid and a checkpoint at each, float32: exports compute
    in float32, so grids compare exactly). Tests use `trained_run`, a copy, so nothing one writes leaks."""
    from ganstudio.config.presets import get_preset
    from ganstudio.engine.trainer import Trainer, run_to_end

    cfg = get_preset("tiny").config().with_updates(
        {"limit": 64, "batch_size": 16, "steps": 3, "sample_every": 1, "jit_compile": "off", "num_samples": 4,
         "checkpoint_every": 1, "checkpoint_minutes": 0.0, "tensorboard": False, "metric_every": 0,
         "precision": "float32"})
    path = tmp_path_factory.mktemp("trained") / "run"
    run_to_end(Trainer(cfg, run_dir=path))
    return path


@pytest.fixture(scope="module")
def trained_run(trained_run_template, tmp_path_factory):
    """This module's own copy of the session's trained run."""
    import shutil

    return shutil.copytree(trained_run_template, tmp_path_factory.mktemp("run") / "run")
