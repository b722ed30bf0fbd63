"""tf.distribute: MirroredStrategy over 2 logical CPUs computes what one device computes; a 2-worker
MultiWorkerMirroredStrategy run on 127.0.0.1 writes one run folder (the chief's)."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

MIRRORED = textwrap.dedent("""
    import json, os, sys
    os.environ["GANSTUDIO_CPU_DEVICES"] = "2"
    from ganstudio.config.presets import get_preset
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer, run_to_end
    out = {}
    def run(strategy, steps, name, resume=False):
        cfg = get_preset("tiny").config().with_updates({"limit": 64, "batch_size": 16, "steps": steps,
            "jit_compile": "off", "strategy": strategy, "tensorboard": False, "deterministic": True,
            "precision": "float32"})
        t = Trainer(cfg, run_dir=os.path.join(sys.argv[1], name), resume=resume)
        ev = run_to_end(t)
        out[name] = {"replicas": t.replicas, "device": ev[0].device,
                     "losses": [[e.g_loss, e.d_loss, e.d_real, e.d_fake, e.r_real] for e in ev if isinstance(e, StepMetrics)]}
    run("default", 2, "default")
    run("mirrored", 2, "mirrored")
    run("default", 3, "straight")
    one_device = out["default"]
    run("mirrored", 3, "default", resume=True)      # the one-device checkpoint continues on two replicas
    out["resumed"], out["default"] = out["default"], one_device
    print(json.dumps(out))
""")


def test_mirrored_two_cpus_matches_one_device(tmp_path):
    r = subprocess.run([sys.executable, "-c", MIRRORED, str(tmp_path)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["default"]["replicas"] == 1 and out["mirrored"]["replicas"] == 2
    assert "MirroredStrategy x2" in out["mirrored"]["device"]
    first_one, first_two = out["default"]["losses"][0], out["mirrored"]["losses"][0]
    assert first_two == pytest.approx(first_one, abs=1e-4)
    # after one synchronised update the second step still agrees (gradients were all-reduced, BN synchronised)
    assert out["mirrored"]["losses"][1] == pytest.approx(out["default"]["losses"][1], abs=1e-3)
    # checkpoints restore across strategies: a 2-step one-device run resumed on two replicas computes step 3 as
    # the straight one-device run does
    assert out["resumed"]["replicas"] == 2 and len(out["resumed"]["losses"]) == 1
    assert out["resumed"]["losses"][0] == pytest.approx(out["straight"]["losses"][2], abs=1e-3)
    assert out["resumed"]["losses"][0] != pytest.approx(out["straight"]["losses"][0], abs=1e-3)   # not step 1 again


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multiworker_two_processes_write_one_run_folder(tmp_path):
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    run = tmp_path / "run"
    procs = []
    for i in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "ganstudio", "train", "--preset", "tiny", "--set", "limit=64", "--batch-size", "16",
             "--set", "jit_compile=off", "--set", "strategy=multiworker", "--steps", "3", "--sample-every", "2",
             "--no-progress", "--run-dir", str(run)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert json.loads((run / "config.json").read_text())["train"]["strategy"] == "multiworker"
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["final.png", "step_000000.png", "step_000002.png"]
    # a new run's step-0 state, the end, and the best mark the end-of-run measurement set
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.json", "step_000000", "step_000003"]
    assert "CollectiveAllReduceStrategy x2" in outs[0][1]   # MultiWorkerMirroredStrategy's class name


NO_TPU = textwrap.dedent("""
    import sys
    from ganstudio.cli import main
    run = sys.argv[1]
    args = ["--preset", "tiny", "--set", "limit=64", "--batch-size", "16", "--steps", "1", "--no-progress"]
    print("TPU_EXIT", main(["train", *args, "--strategy", "tpu", "--run-dir", run + "/tpu"]), flush=True)
    # the failed TPU lookup leaves the process able to train (the studio keeps running after such an error)
    print("CPU_EXIT", main(["train", *args, "--strategy", "default", "--run-dir", run + "/cpu"]), flush=True)
""")


def test_tpu_strategy_without_a_tpu_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-c", NO_TPU, str(tmp_path)], capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2").items() if k != "TPU_NAME"})
    assert "TPU_EXIT 2" in r.stdout and "CPU_EXIT 0" in r.stdout, r.stdout + r.stderr[-3000:]
    assert "ganstudio: error: strategy: 'tpu' found no TPU ('local':" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "tpu").exists()   # nothing half-written
    assert (tmp_path / "cpu" / "samples" / "final.png").exists()
