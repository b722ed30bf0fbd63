"""Stop any time, resume exactly, never lose a run."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ganstudio.core.errors import CheckpointError
from ganstudio.engine import Control, StepMetrics
from ganstudio.engine.checkpoints import find_checkpoint, list_checkpoints, set_pinned
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.runs import RunDir


def weights(trainer):
    return [v.numpy() for v in trainer.G.weights + trainer.D.weights]


def test_resume_is_exact(tiny_config, tmp_path):
    cfg = tiny_config.with_updates({"deterministic": True, "dropout": 0.3, "steps": 6, "limit": 64})
    straight = Trainer(cfg, run_dir=tmp_path / "straight")
    ev_straight = run_to_end(straight)

    first = Trainer(cfg.with_updates({"steps": 3}), run_dir=tmp_path / "split")
    run_to_end(first)
    resumed = Trainer(cfg, run_dir=tmp_path / "split", resume=True)
    ev_resumed = run_to_end(resumed)

    diffs = [np.abs(a - b).max() for a, b in zip(weights(straight), weights(resumed), strict=True)]
    assert max(diffs) <= 1e-5, max(diffs)
    losses = lambda evs: [(e.step, e.g_loss, e.d_loss) for e in evs if isinstance(e, StepMetrics)]  # noqa: E731
    assert losses(ev_resumed) == losses(ev_straight)[3:]
    assert ev_resumed[0].step == 3
    rows = RunDir.open(tmp_path / "split").read_metrics()
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    fixed = lambda t: t.fixed_noise.numpy()  # noqa: E731
    assert np.array_equal(fixed(straight), fixed(resumed))


def test_retention_keeps_newest_and_pinned(tiny_config, tmp_path):
    control = Control()
    t = Trainer(tiny_config.with_updates({"steps": 8, "checkpoint_every": 1, "keep_checkpoints": 2}),
                run_dir=tmp_path / "r", control=control)
    gen = t.run()
    for ev in gen:
        if isinstance(ev, StepMetrics) and ev.step == 2:
            break
    set_pinned(find_checkpoint(tmp_path / "r" / "checkpoints"), True)  # the step-1 checkpoint exists now
    list(gen)
    kept = [(c.step, c.pinned) for c in list_checkpoints(tmp_path / "r" / "checkpoints")]
    assert kept == [(1, True), (7, False), (8, False)]


def test_mismatched_or_damaged_checkpoint_is_explained_and_nothing_changes(tiny_config, tmp_path):
    run_to_end(Trainer(tiny_config, run_dir=tmp_path / "r"))
    cfg_before = (tmp_path / "r" / "config.json").read_text()
    metrics_before = (tmp_path / "r" / "metrics.jsonl").read_text()
    wider = tiny_config.with_updates({"width": 16})
    with pytest.raises(CheckpointError, match="written by a different architecture/config or is damaged"):
        run_to_end(Trainer(wider, run_dir=tmp_path / "r", resume=True))
    ckpt = find_checkpoint(tmp_path / "r" / "checkpoints")
    data = next(ckpt.path.glob("ckpt.data-*"))
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="cannot restore"):
        run_to_end(Trainer(tiny_config, run_dir=tmp_path / "r", resume=True))
    assert (tmp_path / "r" / "config.json").read_text() == cfg_before
    assert (tmp_path / "r" / "metrics.jsonl").read_text() == metrics_before
    with pytest.raises(CheckpointError, match="no checkpoint at step 99; available: 0, 3"):
        find_checkpoint(tmp_path / "r" / "checkpoints", 99)


SAVER = textwrap.dedent("""
    import sys, numpy as np
    from ganstudio.config.presets import get_preset
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer
    cfg = get_preset("tiny").config().with_updates({"limit": 64, "batch_size": 16, "jit_compile": "off",
        "checkpoint_every": 1, "keep_checkpoints": 3, "steps": 0, "sample_every": 1000, "tensorboard": False})
    for ev in Trainer(cfg, run_dir=sys.argv[1]).run():
        if isinstance(ev, StepMetrics) and ev.step == 2:
            print("saving", flush=True)
""")


@pytest.mark.slow
def test_kill_during_saves_never_corrupts_the_latest_checkpoint(tmp_path):
    """A subprocess checkpoints every step; SIGKILL it at random moments; the latest must always load."""
    from ganstudio.engine.checkpoints import CheckpointStore

    trials = int(os.environ.get("GANSTUDIO_KILL_TRIALS", "8"))
    rng = random.Random(0)
    ok = 0
    for i in range(trials):
        run = tmp_path / f"run{i}"
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(run)], stdout=subprocess.PIPE, text=True,
                                env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        assert proc.stdout.readline().strip() == "saving"
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        latest = find_checkpoint(run / "checkpoints")
        cfg = RunDir.open(run).config()
        t = Trainer(cfg, run_dir=run, resume=True)
        t._setup()           # restores the latest checkpoint; raises if it were damaged
        assert t.step == latest.step >= 1
        assert isinstance(t.ckpt_store, CheckpointStore)
        ok += 1
    assert ok == trials
    print(f"kill-during-save: {ok}/{trials} trials restored the latest checkpoint")
