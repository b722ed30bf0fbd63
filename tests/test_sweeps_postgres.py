"""Sweeps on a real PostgreSQL server (tests/pg_server.py starts a throwaway one, or these skip saying why): two
`ganstudio sweep` processes share one study, one is killed mid-trial and its trial is taken over and resumed,
`--report` rebuilds the table from the server alone, and the URL's password is never printed or written."""
from __future__ import annotations

import csv
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

import optuna
import pytest

from ganstudio.cli import main as cli_main
from ganstudio.engine.checkpoints import list_checkpoints
from ganstudio.runs import RunDir
from ganstudio.sweeps.storage import connect_url, masked

GRID = ["g_lr=1e-4,2e-4", "d_steps=1,2"]
POINTS = sorted((a, b) for a in (1e-4, 2e-4) for b in (1, 2))
STEPS = 40
SETS = {"limit": 128, "batch_size": 16, "sample_every": 10, "jit_compile": "off", "num_samples": 4,
        "checkpoint_every": 4, "precision": "float32", "metric_n": 100, "tensorboard": False}
TRIAL_LINE = re.compile(r"^trial \d+/\d+ \(#(\d+)\) (.*?)( \(resuming\))?: (.+)$")
WAIT_S = 240


def test_storage_urls_are_masked_and_connect_through_psycopg():
    assert masked("postgresql://me:secret@db.lan:5432/sweeps") == "postgresql://me:***@db.lan:5432/sweeps"
    assert masked("postgresql+psycopg://me@h/db?sslmode=require&password=secret") == \
        "postgresql+psycopg://me@h/db?sslmode=require&password=***"
    assert masked("sqlite:////tmp/a b/study.db") == "sqlite:////tmp/a b/study.db"
    assert connect_url("postgresql://me:secret@h:5/db") == "postgresql+psycopg://me:secret@h:5/db"
    assert connect_url("postgres://me:secret@h/db") == "postgresql+psycopg://me:secret@h/db"
    # read back from sweep.json: the masked password is left out, so libpq takes PGPASSWORD or ~/.pgpass
    assert connect_url("postgresql://me:***@h/db") == "postgresql+psycopg://me@h/db"
    assert connect_url("sqlite:////tmp/x/study.db") == "sqlite:////tmp/x/study.db"


def test_postgres_without_psycopg_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)      # as if not installed: find_spec answers None
    assert cli_main(["sweep", "--preset", "tiny", "--grid", "g_lr=1e-4,2e-4", "--steps", "2", "--sweep-dir",
                     str(tmp_path / "a"), "--storage", "postgresql://me:topsecret@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ganstudio: error: --storage postgresql://me:***@127.0.0.1:1/db needs psycopg, not installed: "
                   "pip install 'ganstudio[postgres]'"]
    assert not (tmp_path / "a" / "sweep.json").exists()


class SweepProcess:
    """`ganstudio sweep ...` with its output lines collected by threads (events to wait on, not sleeps)."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen([sys.executable, "-m", "ganstudio", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.out: list[str] = []
        self.err: list[str] = []
        self.lines: queue.Queue = queue.Queue()
        self._readers = [threading.Thread(target=self._read, args=(s, into), daemon=True)
                         for s, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            into.append(line.rstrip("\n"))
            self.lines.put(line)

    def trials(self) -> list[tuple[int, str, bool, str]]:
        """(trial number, label, resuming, run folder) of every trial this process started."""
        return [(int(m[1]), m[2], bool(m[3]), m[4]) for m in map(TRIAL_LINE.match, list(self.err)) if m]

    def wait(self, timeout=WAIT_S) -> int:
        rc = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout=10)
        return rc

    def text(self) -> str:
        return "\n".join(self.out + self.err)


def _wait_for(predicate, what, timeout=WAIT_S, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        if procs and all(p.proc.poll() is not None for p in procs):
            raise AssertionError(f"every process exited before {what}: " +
                                 " | ".join(p.text()[-1500:] for p in procs))
        time.sleep(0.05)     # polling a folder: the event is a checkpoint another process writes
    raise AssertionError(f"timed out waiting for {what}")


def _mid_trial(procs):
    """A live process and its current trial's run folder once that trial has a checkpoint past step 0."""
    for p in procs:
        trials = p.trials()
        if p.proc.poll() is None and trials:
            run = trials[-1][3]
            if any(c.step > 0 for c in list_checkpoints(os.path.join(run, "checkpoints"))):
                return p, run
    return None


def test_two_processes_share_a_postgres_study_and_take_over_a_killed_trial(postgres_server, tmp_path):
    from ganstudio.sweeps import runner

    url = postgres_server.url()
    folder = tmp_path / "pg-sweep"                 # the study is named after the folder
    args = ["sweep", "--preset", "tiny", "--steps", str(STEPS), "--no-prune", "--sweep-dir", str(folder),
            "--storage", url, *(a for g in GRID for a in ("--grid", g)),
            *(a for k, v in SETS.items() for a in ("--set", f"{k}={v}"))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    procs = [SweepProcess(args, env) for _ in range(2)]
    done = []
    try:
        victim, victim_run = _wait_for(lambda: _mid_trial(procs), "a trial with a checkpoint", procs=procs)
        victim.proc.kill()                          # SIGKILL mid-trial: no Stop, no tell, its heartbeat stops
        victim.wait()
        survivor = next(p for p in procs if p is not victim)

        # The killed trial is still RUNNING in the study. Its heartbeat ages instead of waiting GRACE_S (2 min):
        # set its last beat GRACE_S ago, as the heartbeat thread would have left it by then.
        storage = runner.make_storage(url)
        study = optuna.load_study(study_name=folder.name, storage=storage)
        running = [t for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                   if t.user_attrs.get("run") == os.path.basename(victim_run)]
        assert len(running) == 1, [(t.number, t.state, t.user_attrs.get("run")) for t in study.trials]
        storage.set_trial_user_attr(running[0]._trial_id, "beat", time.time() - runner.GRACE_S - 1)

        assert survivor.wait() == 0, survivor.text()[-3000:]
        done = [survivor]
        if not any(resuming and run == victim_run for _, _, resuming, run in survivor.trials()):
            # the survivor had finished its last trial before the kill: the same command again takes it over
            again = SweepProcess(args, env)
            assert again.wait() == 0, again.text()[-3000:]
            done.append(again)
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.wait()

    # the killed trial was taken over once and resumed its run folder from its checkpoint
    takeovers = [(n, label) for p in done for n, label, resuming, run in p.trials() if resuming]
    print(f"killed mid-trial: {victim_run}; taken over by {'the other process' if len(done) == 1 else 'a third'}")
    assert len(takeovers) == 1 and takeovers[0][1] in {t[1] for t in victim.trials()}
    study = optuna.load_study(study_name=folder.name, storage=runner.make_storage(url))
    retried = {t.system_attrs["failed_trial"] for t in study.trials if "failed_trial" in t.system_attrs}
    live = [t for t in study.trials if t.number not in retried and not t.user_attrs.get("duplicate")]
    assert [t.state.name for t in live] == ["COMPLETE"] * 4
    assert sorted((t.params["g_lr"], t.params["d_steps"]) for t in live) == POINTS       # each grid point once
    taken = next(t for t in live if t.number == takeovers[0][0])
    assert len(retried) == 1 and taken.user_attrs["run"] == os.path.basename(victim_run)
    runs = sorted(p for p in folder.iterdir() if p.is_dir())
    assert len(runs) == 4 and str(folder / os.path.basename(victim_run)) in map(str, runs)
    for run in runs:                               # each trained once: steps 1..40, nothing repeated after resume
        assert [r["step"] for r in RunDir(run).read_metrics()] == list(range(1, STEPS + 1))

    # the password: never printed, never written; sweep.json keeps the URL masked
    assert json.loads((folder / "sweep.json").read_text())["storage"] == postgres_server.url().replace(
        postgres_server.password, "***")
    for p in procs + done:
        assert postgres_server.password not in p.text()
        assert f"study: {masked(url)}" in p.err
    for f in folder.rglob("*"):
        assert not f.is_file() or postgres_server.password.encode() not in f.read_bytes(), f

    # --report from the server alone: a folder holding nothing but sweep.json
    elsewhere = tmp_path / "elsewhere" / folder.name
    elsewhere.mkdir(parents=True)
    shutil.copy(folder / "sweep.json", elsewhere / "sweep.json")
    values = {t.number: t.value for t in live}
    for extra_args, extra_env in ((["--storage", url], {}), ([], {"PGPASSWORD": postgres_server.password})):
        report = subprocess.run([sys.executable, "-m", "ganstudio", "sweep", "--report", str(elsewhere), *extra_args],
                                capture_output=True, text=True, env={**env, **extra_env}, timeout=WAIT_S)
        assert report.returncode == 0, report.stderr[-2000:]
        assert report.stdout.count("| complete |") == 4 and postgres_server.password not in report.stdout
        with open(elsewhere / "summary.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert {int(r["trial"]): float(r["final_fd"]) for r in rows} == pytest.approx(values)
        assert [int(r["steps"]) for r in rows] == [STEPS] * 4
        (elsewhere / "summary.csv").unlink()
    # the masked URL in sweep.json without PGPASSWORD: one line, no password asked for or shown
    report = subprocess.run([sys.executable, "-m", "ganstudio", "sweep", "--report", str(elsewhere)],
                            capture_output=True, text=True, env=env, timeout=WAIT_S)
    assert report.returncode == 2 and "cannot open the study" in report.stderr
    assert len(report.stderr.strip().splitlines()) == 1 and masked(url) in report.stderr

    # optuna-dashboard reads the same study off the server
    if _has("optuna_dashboard"):
        import optuna_dashboard
        from werkzeug.test import Client

        client = Client(optuna_dashboard.wsgi(connect_url(url)))
        study_id = next(s["study_id"] for s in client.get("/api/studies").get_json()["study_summaries"]
                        if s["study_name"] == folder.name)
        shown = client.get(f"/api/studies/{study_id}").get_json()["trials"]
        assert {t["number"]: t["values"][0] for t in shown if t["state"] == "Complete"} == pytest.approx(values)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_a_wrong_password_is_one_line_without_it(postgres_server, tmp_path, capsys):
    url = postgres_server.url().replace(postgres_server.password, "Wr0ng-pw-xyz")
    assert cli_main(["sweep", "--preset", "tiny", "--grid", "g_lr=1e-4,2e-4", "--steps", "2", "--sweep-dir",
                     str(tmp_path / "w"), "--storage", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot open the study" in err[0] and masked(url) in err[0], err
    assert "Wr0ng-pw-xyz" not in err[0] and "password authentication failed" in err[0]
    assert not (tmp_path / "w" / "sweep.json").exists()
