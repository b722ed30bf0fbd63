"""Faults the engine must survive without Qt (issue 15): escaping run-folder names, memory bombs in datasets and
run folders, run folders holding JSON that is not an object. Each test fails on the code before its fix."""
from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganstudio.config import Config
from ganstudio.core.errors import ConfigError, DataError
from tests.helpers import disk_full


# -- 5. the run folder name ---------------------------------------------------------------------------------------
def test_preset_name_cannot_name_a_folder_outside_the_runs_root(tmp_path):
    from ganstudio.runs import new_run_path

    with pytest.raises(ConfigError, match=r"preset: '\.\./\.\./\.\./x' is not a valid name"):
        Config.from_dict({"preset": "../../../x"})
    with pytest.raises(ConfigError, match="preset"):
        Config(preset="a/b")
    root = tmp_path / "runs"
    for bad in ("../../../x", "/etc/x", "a/../../b", "..", "\\\\server\\x"):
        path = new_run_path(bad, root)
        assert path.parent == root and "/" not in path.name and "\\" not in path.name, path
    assert new_run_path("wgan-gp", root).name.endswith("-wgan-gp")


# -- 7. memory bombs ----------------------------------------------------------------------------------------------
def _idx_header(shape: tuple[int, ...]) -> bytes:
    return b"\x00\x00\x08" + bytes([len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)


def _peak_bytes(fn) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    try:
        fn()
        err = None
    except Exception as e:  # noqa: BLE001 - returned for the caller's assertions
        err = e
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, err


def test_idx_gz_that_inflates_past_its_header_is_refused_without_reading_it(tmp_path):
    from ganstudio.data import read_idx

    path = tmp_path / "bomb-images-idx3-ubyte.gz"
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:     # header: 2 images of 28x28; then 64 MiB of zeros
        f.write(_idx_header((2, 28, 28)))
        for _ in range(64):
            f.write(zeros)
    assert path.stat().st_size < 1 << 20
    peak, err = _peak_bytes(lambda: read_idx(path))
    assert isinstance(err, DataError) and "IDX file is padded" in str(err) and str(path) in str(err)
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MiB allocated for a file whose header promises 1.5 KiB"


def test_idx_header_claiming_more_than_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    import ganstudio.data as data

    monkeypatch.setattr(data.arrays, "memory_budget", lambda: 1 << 20)
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(_idx_header((60000, 28, 28)) + bytes(100))
    peak, err = _peak_bytes(lambda: data.read_idx(path))
    assert isinstance(err, DataError) and "needs 0.0 GiB, more than the 0.0 GiB" in str(err)
    assert peak < 1 << 20


def test_npz_with_a_forged_header_is_refused_before_numpy_allocates(tmp_path):
    from ganstudio.data import load_dataset

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False,
                                                "shape": (10**7, 1000, 1000)})      # 10 TB claimed
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", buf.getvalue() + bytes(28 * 28 * 4))
    peak, err = _peak_bytes(lambda: load_dataset(str(path)))
    assert isinstance(err, DataError), err
    assert "forged.npz[x]: its header claims shape (10000000, 1000, 1000)" in str(err)
    assert "holds 3,136 bytes" in str(err)
    assert peak < 1 << 20


def test_npz_larger_than_the_memory_budget_is_refused(tmp_path, monkeypatch):
    import ganstudio.data as data

    np.savez(tmp_path / "d.npz", x=np.zeros((64, 28, 28), np.uint8))
    monkeypatch.setattr(data.arrays, "memory_budget", lambda: 1000)
    with pytest.raises(DataError, match="d.npz: needs .* GiB, more than"):
        data.load_dataset(str(tmp_path / "d.npz"))
    monkeypatch.undo()
    assert len(data.load_dataset(str(tmp_path / "d.npz"))) == 64


def test_folder_with_too_many_files_is_refused_while_scanning(tmp_path, monkeypatch):
    import ganstudio.data.folder as folder

    root = tmp_path / "many"
    root.mkdir()
    for i in range(300):
        (root / f"{i}.png").touch()
    monkeypatch.setattr(folder, "MAX_FILES", 100)
    with pytest.raises(DataError, match="more than 100 image files; point at a smaller folder"):
        folder.scan(root)


def test_folder_whose_decoded_size_exceeds_memory_is_refused_before_the_cache_is_written(tmp_path, monkeypatch):
    import ganstudio.data as data
    from ganstudio.data import load_dataset

    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), i * 40, np.uint8)).save(root / f"{i}.png")
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data.arrays, "memory_budget", lambda: 4 * 28 * 28 - 1)
    with pytest.raises(DataError, match="imgs: needs .*lower the resolution"):
        load_dataset(str(root))
    assert not (tmp_path / "cache").exists()


def test_run_folder_png_goes_through_the_decompression_bomb_guard(tmp_path, monkeypatch):
    from ganstudio.core.imaging import load_png

    path = tmp_path / "step_000001.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(path)
    assert load_png(path).shape == (100, 100, 1)
    # 1.5x the limit: PIL itself only warns up to 2x, and the studio would decode it
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100 * 2 // 3)
    with pytest.raises(OSError, match="100x100 px is over the decompression-bomb limit"):
        load_png(path)


# -- 8. run folders holding JSON that is not an object ------------------------------------------------------------
def test_runs_list_and_logs_skip_json_that_is_not_an_object(tmp_path):
    from ganstudio.runs import RunDir
    from ganstudio.runs.watch import RunFollower, scan_runs

    good, bad = tmp_path / "good", tmp_path / "bad"
    for run in (good, bad):
        (run / "samples").mkdir(parents=True)
    (good / "config.json").write_text(Config().to_json())
    (bad / "config.json").write_text("[1, 2, 3]")
    rows = ['[1, 2]', '"text"', '{"step": "seven", "g_loss": 1}', '{"step": NaN}', 'null',
            '{"step": 3, "g_loss": 0.5, "d_loss": 0.7}']
    (good / "metrics.jsonl").write_text("\n".join(rows) + "\n")
    skipped: list[str] = []
    summaries = scan_runs(tmp_path, skipped)
    assert [s.name for s in summaries] == ["good"]
    assert summaries[0].step == 3 and summaries[0].g_loss == 0.5
    assert len(skipped) == 1 and "bad/config.json: holds a JSON list, not an object; skipped" in skipped[0]
    assert [r["step"] for r in RunDir(good).read_metrics()] == [3]
    assert [r["step"] for r in RunDir(good).read_metrics(max_step=5)] == [3]
    follower = RunFollower(good)
    assert [r["step"] for r in follower.poll()[0]] == [3]
    with pytest.raises(ConfigError, match="expected a JSON object"):
        RunDir(bad).config()
    json.loads((bad / "config.json").read_text())   # the bad run was left as it was


# -- 4. one writer per run folder ---------------------------------------------------------------------------------
HOLD = """
import sys
from ganstudio.runs import RunDir
lock = RunDir(sys.argv[1]).lock()
print("held", flush=True)
sys.stdin.read()           # hold until the test closes stdin or kills us
"""


def _holder(run: Path):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_naming_the_holder_and_a_dead_holder_is_taken_over(tmp_path):
    import os
    import signal
    import socket

    from ganstudio.core.errors import RunDirError
    from ganstudio.runs import RunDir

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(Config().to_json())
    proc = _holder(run)
    try:
        with pytest.raises(RunDirError) as info:
            RunDir(run).lock()
        msg = str(info.value)
        assert f"another process is writing this run (pid {proc.pid} on {socket.gethostname()}, " in msg
        assert f"`-c {run}`, since 20" in msg and msg.endswith(f"`ganstudio watch {run}`")
        # `ganstudio resume` refused this way: tests/test_bad_inputs.py, run-locked-by-another-writer
    finally:
        os.kill(proc.pid, signal.SIGKILL)    # a holder that dies without cleaning up
        proc.wait()
    lock = RunDir(run).lock()                # the kernel dropped its lock: taken over at once
    assert json.loads((run / "writer.lock").read_text())["pid"] == os.getpid()
    lock.release()
    assert (run / "writer.lock").read_text() == ""
    RunDir(run).lock().release()             # released means free again


def test_readers_do_not_take_the_lock(tmp_path):
    from ganstudio.runs import RunDir
    from ganstudio.runs.watch import RunFollower, scan_runs

    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(Config().to_json())
    (run / "metrics.jsonl").write_text('{"step": 1, "g_loss": 1.0}\n')
    lock = RunDir(run).lock()
    try:
        assert [s.name for s in scan_runs(tmp_path)] == ["run"]
        assert [r["step"] for r in RunFollower(run).poll()[0]] == [1]
        assert RunDir.open(run).config().preset == "tutorial"
    finally:
        lock.release()


# -- 3. full disk / read-only while writing ----------------------------------------------------------------------
def _fail_checkpoint_write(monkeypatch, steps: set[int]):
    """TensorFlow's own write error (SaveV2 on a full disk) for the checkpoints of `steps`."""
    import tensorflow as tf

    real = tf.train.Checkpoint.write

    def write(self, prefix, *a, **kw):
        if int(self.step.numpy()) in steps:    # the trainer's checkpoint tracks its step variable as `step`
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device [Op:SaveV2]")
        return real(self, prefix, *a, **kw)

    monkeypatch.setattr(tf.train.Checkpoint, "write", write)


def test_studio_trainer_pauses_on_failed_writes_and_continues_once_fixed(tiny_config, tmp_path, monkeypatch):
    from ganstudio.engine.checkpoints import list_checkpoints
    from ganstudio.engine.events import Finished, Paused, WriteFailed
    from ganstudio.engine.trainer import Trainer
    from ganstudio.runs import RunDir

    full = disk_full(monkeypatch)
    _fail_checkpoint_write(monkeypatch, {3})
    trainer = Trainer(tiny_config.with_updates({"steps": 4, "checkpoint_every": 1}), run_dir=tmp_path / "run")
    events = []
    for ev in trainer.run():
        events.append(ev)
        if isinstance(ev, Paused):       # the user frees space and presses Resume
            full["on"] = False
            trainer.control.resume()
    failed = [e for e in events if isinstance(e, WriteFailed)]
    assert [e.step for e in failed] == [1, 3], failed
    assert "run/metrics.jsonl: disk full while writing; free some space" in failed[0].message
    assert "Training is paused at step 1: fix it, then press Resume" in failed[0].message
    assert "run/checkpoints/step_000003: disk full while writing" in failed[1].message
    assert sum(isinstance(e, Paused) for e in events) == 2
    run = tmp_path / "run"
    assert events[-1] == Finished(4, "completed", str(run), str(run / "samples" / "final.png"), events[-1].extra)
    assert [c.step for c in list_checkpoints(tmp_path / "run" / "checkpoints")] == [0, 1, 2, 4]
    assert not list((tmp_path / "run" / "checkpoints").glob(".saving-*"))
    assert [r["step"] for r in RunDir(tmp_path / "run").read_metrics()] == [2, 3, 4]   # step 1's row was lost


def test_cli_checkpoint_on_a_full_disk_exits_2_and_the_previous_one_resumes(tmp_path, monkeypatch, capsys):
    from ganstudio.cli import main
    from ganstudio.engine.checkpoints import list_checkpoints
    from ganstudio.runs import RunDir

    run = tmp_path / "run"
    _fail_checkpoint_write(monkeypatch, {2})
    argv = ["--preset", "tiny", "--set", "jit_compile=off", "--set", "num_samples=4", "--set", "limit=64",
            "--batch-size", "16", "--set", "checkpoint_every=1", "--set", "precision=float32", "--no-progress"]
    assert main(["train", *argv, "--steps", "3", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"ganstudio: error: {run}/checkpoints/step_000002: disk full while writing; free some space" in err
    assert "Traceback" not in err
    assert [c.step for c in list_checkpoints(run / "checkpoints")] == [0, 1]
    assert not list((run / "checkpoints").glob(".saving-*"))
    monkeypatch.undo()                   # space freed
    assert main(["resume", str(run), "--steps", "3", "--no-progress"]) == 0
    assert [r["step"] for r in RunDir(run).read_metrics()] == [1, 2, 3]


# -- 9. settings too large for memory ------------------------------------------------------------------------------
def test_out_of_memory_in_the_step_names_the_field(tiny_config, tmp_path, monkeypatch):
    import tensorflow as tf

    from ganstudio.engine.trainer import Trainer, run_to_end

    def make(self, steps_per_call=1):
        def oom(images, labels):
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[16,64,14,14]")
        return oom

    monkeypatch.setattr(Trainer, "_make_step_fn", make)
    with pytest.raises(ConfigError, match=r"^batch_size: 16 images per step do not fit in the CPU's memory; lower it "
                                          r"\(e.g. --batch-size 8\)$"):
        run_to_end(Trainer(tiny_config, run_dir=tmp_path / "a"))
    cfg = tiny_config.with_updates({"steps_per_call": 4, "steps": 8})
    with pytest.raises(ConfigError, match=r"^steps_per_call: 4 steps of batch_size 16 in one call do not fit"):
        run_to_end(Trainer(cfg, run_dir=tmp_path / "b"))
    from ganstudio.runs import RunDir

    RunDir(tmp_path / "b").lock().release()     # the failed run let go of its folder
