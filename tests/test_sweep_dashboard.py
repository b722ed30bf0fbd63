"""A sweep's study opens in optuna-dashboard as it is: its WSGI app (what `optuna-dashboard URL` serves) on the
study's storage URL, read through its JSON API, shows every trial with its final FD as the value, the FD at each
quarter of the budget as intermediate values, and its run folder, host and steps as user attributes."""
import csv
import socket

import pytest

from ganstudio.config.presets import get_preset
from ganstudio.runs import RunDir
from ganstudio.sweeps import TrialFinished, make_spec
from ganstudio.sweeps.runner import Sweep

pytest.importorskip("optuna_dashboard", reason="the [dashboard] extra (pip install 'ganstudio[dashboard]') is not "
                                               "installed")

TINY = {"limit": 128, "batch_size": 16, "sample_every": 4, "jit_compile": "off", "num_samples": 4,
        "checkpoint_every": 0, "precision": "float32", "metric_n": 100, "tensorboard": False}


def dashboard_client(storage_url):
    import optuna_dashboard
    from werkzeug.test import Client

    return Client(optuna_dashboard.wsgi(storage_url))


def read_study(client, name):
    """The study called `name` as the dashboard's front end loads it: /api/studies, then /api/studies/<id>."""
    listing = client.get("/api/studies")
    assert listing.status_code == 200, listing.get_data(as_text=True)
    study_id = next(s["study_id"] for s in listing.get_json()["study_summaries"] if s["study_name"] == name)
    detail = client.get(f"/api/studies/{study_id}")
    assert detail.status_code == 200, detail.get_data(as_text=True)
    return detail.get_json()


def check_trials(study, folder):
    """Every trial the dashboard shows against the sweep's summary.csv and the run folders' quality.jsonl."""
    with open(folder / "summary.csv", newline="") as f:
        rows = {int(r["trial"]): r for r in csv.DictReader(f)}
    shown = {t["number"]: t for t in study["trials"] if t["state"] == "Complete"}
    assert sorted(shown) == sorted(rows)
    for number, t in shown.items():
        attrs = {a["key"]: a["value"] for a in t["user_attrs"]}
        run = folder / attrs["run"]
        assert attrs["run_dir"] == str(run.resolve()) and attrs["host"] == socket.gethostname()
        assert int(attrs["steps"]) == int(rows[number]["steps"])
        assert t["values"] == [pytest.approx(float(rows[number]["final_fd"]))]
        quality = RunDir(run).read_quality()
        assert len(quality) == 4
        assert [(v["step"], v["value"]) for v in t["intermediate_values"]] == \
            [(k, pytest.approx(q["fd"])) for k, q in enumerate(quality, 1)]       # one per quarter of the budget
        assert {p["name"]: float(p["param_external_value"]) for p in t["params"]} == \
            {"g_lr": float(rows[number]["g_lr"])}
    assert study["has_intermediate_values"] is True


def test_a_sweep_study_opens_in_optuna_dashboard(tmp_path):
    base = get_preset("tiny").config().with_updates(TINY)
    folder = tmp_path / "sweep"
    sweep = Sweep(make_spec(base, ["g_lr=1e-4,2e-4"], [], steps=4), folder)
    finished = [e for e in sweep.run() if isinstance(e, TrialFinished)]
    assert [e.state for e in finished] == ["complete", "complete"]

    url = f"sqlite:///{folder / 'study.db'}"            # the README's `optuna-dashboard sqlite:///.../study.db`
    study = read_study(dashboard_client(url), folder.name)
    assert study["directions"] == ["minimize"]
    check_trials(study, folder)
