import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ganstudio.cli import build_parser, main

TINY = ["--preset", "tiny", "--set", "limit=128", "--batch-size", "16", "--set", "jit_compile=off",
        "--set", "num_samples=4", "--no-progress"]


@pytest.mark.parametrize("argv,expect", [
    (["train", "--set", "lr=-1"], "g_lr: -1 is out of range; it must be in (0, 1]"),
    (["train", "--set", "g_rl=1"], "unknown config key 'g_rl'; did you mean g_lr"),
    (["train", "--set", "batch_size=abc"], "batch_size: 'abc' is not a valid int"),
    (["train", "--set", "nokey"], "expected KEY=VALUE"),
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--batch-size", "0"], "batch_size: 0 is out of range"),
    (["train", "--dataset", "/does/not/exist.npz", "--steps", "1"], "no such file or folder"),
    (["resume", "/does/not/exist"], "no such run folder"),
])
def test_user_errors_exit_2_with_one_line(capsys, argv, expect):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err and err.startswith("ganstudio: error:")


def test_presets_and_help(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("tutorial") and "dcgan" in out
    parser = build_parser()
    for cmd in ("train", "resume", "presets", "gui", "sample", "export", "watch"):
        with pytest.raises(SystemExit) as e:
            parser.parse_args([cmd, "--help"])
        assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--preset", "--dataset", "--steps", "--epochs", "--batch-size", "--run-dir", "--set", "--seed",
                 "--sample-every", "--strategy"):
        assert flag in text
    from ganstudio.config.options import config_from_args
    assert config_from_args(parser.parse_args(["train", "--strategy", "multiworker"])).train.strategy == "multiworker"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--strategy", "nccl"])   # argparse names the valid choices
    assert main(["train", "--help-config"]) == 0
    assert "g_lr" in capsys.readouterr().out


def test_train_then_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "4", "--sample-every", "2", "--run-dir", str(run)]) == 0
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["final.png", "step_000000.png", "step_000002.png",
                                                                   "step_000004.png"]
    assert main(["resume", str(run), "--steps", "6", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 6
    assert main(["train", *TINY, "--steps", "1", "--run-dir", str(run)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_and_leaves_a_valid_run(tmp_path):
    run = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen([sys.executable, "-m", "ganstudio", "train", *TINY, "--steps", "100000",
                             "--run-dir", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    metrics = run / "metrics.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert "stopped at step" in err and "Traceback" not in err
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 3
    assert (run / "samples" / "final.png").stat().st_size > 0
    assert (run / "checkpoints" / f"step_{steps[-1]:06d}" / "meta.json").exists()


def test_eval_never_prints_a_negative_kid(monkeypatch, tmp_path, capsys):
    """KID is unbiased: a generator close to the data can score a little below 0. The line shows 0 then."""
    import ganstudio.outputs.export as export

    monkeypatch.setattr(export, "evaluate", lambda run_dir, step=None, n=1000: {
        "step": 7, "fd": 3.25, "kid": -0.0031, "diversity": 1.5, "memorization": 1.0, "n": n, "source": "bundled",
        "accuracy": 0.9})
    assert main(["eval", str(tmp_path), "-n", "100"]) == 0
    out = capsys.readouterr().out
    assert "KID 0.0000 " in out and "-0.0" not in out and out.startswith("step 7: FD 3.250")


STARTUP = [b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
           b"I0000 00:00:1796523037.436546    8109 port.cc:153] oneDNN custom operations are on. You may see slightly "
           b"different numerical results due to floating-point round-off errors from different computation orders.\n",
           b"I0000 00:00:1796523037.436876    8109 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU "
           b"will not be used.\n",
           b"W1206 02:12:29.465899    8109 gpu_device.cc:2] Cannot dlopen some GPU libraries.\n",
           b"E0000 00:00:1796523040.123138    8109 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
           b"Failed call to cuInit: UNKNOWN ERROR (303)\n"]
REAL = [b"E0000 00:00:1796523040.2    8109 saver.cc:9] a real C++ error\n", b"Traceback (most recent call last):\n",
        b"F0000 00:00:1796523040.3    8109 check.cc:1] Check failed: x\n"]


def test_tensorflow_startup_log_lines_are_filtered_and_the_rest_passes(capfd):
    from ganstudio.core.tfsetup import filtered_stderr, startup_noise_filter

    with filtered_stderr(startup_noise_filter(2, default=True)):     # our default level
        os.write(2, b"".join(STARTUP + REAL))
    assert capfd.readouterr().err.encode() == b"".join(REAL)
    with filtered_stderr(startup_noise_filter(2, default=False)):    # the user's TF_CPP_MIN_LOG_LEVEL=2
        os.write(2, b"".join(STARTUP + REAL))
    assert capfd.readouterr().err.encode() == STARTUP[-1] + b"".join(REAL)
    with filtered_stderr(startup_noise_filter(0, default=False)):    # TF_CPP_MIN_LOG_LEVEL=0: everything
        os.write(2, b"".join(STARTUP + REAL))
    assert capfd.readouterr().err.encode() == b"".join(STARTUP + REAL)


def test_commands_hide_tensorflow_startup_noise_unless_verbose(trained_run):
    """A command that loads TensorFlow and then fails prints exactly its one-line error: no oneDNN notice, no
    'failed call to cuInit' (TF 2.21 prints them even at TF_CPP_MIN_LOG_LEVEL=2). --verbose leaves TF's logging
    settings alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GANSTUDIO_VERBOSE")}
    argv = ["sample", str(trained_run), "--checkpoint", "7"]        # the error comes after TensorFlow has loaded
    quiet = subprocess.run([sys.executable, "-m", "ganstudio", *argv], capture_output=True, text=True, env=env,
                           timeout=300)
    assert quiet.returncode == 2
    lines = quiet.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ganstudio: error: {trained_run}/checkpoints: no checkpoint at "
                                                   f"step 7; available: "), quiet.stderr[-3000:]
    show = "import os, sys; from ganstudio.cli import main; rc = main(sys.argv[1:]); " \
           "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), os.environ.get('GANSTUDIO_VERBOSE'), rc)"
    loud = subprocess.run([sys.executable, "-c", show, *argv, "--verbose"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert loud.stdout.splitlines()[-1] == "None 1 2", loud.stderr[-3000:]     # TF's level untouched
    assert "no checkpoint at step 7" in loud.stderr
