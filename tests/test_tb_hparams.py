"""TensorBoard's HParams dashboard reads the runs: the config of each run (as hparams) and its final and best FD
(quality/fd, quality/best_fd), served by TensorBoard's own backend (its event reader and hparams plugin, the app
`tensorboard --logdir runs` serves) over its JSON API."""
import pytest

from ganstudio.engine.tb_hparams import BEST_FD_TAG, hparams_of
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.runs import RunDir

STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def tensorboard_client(logdir):
    """TensorBoard's WSGI app on `logdir` as `tensorboard --logdir` builds it (Python event reader, loaded once
    before the first request), under werkzeug's test client."""
    from tensorboard import default, program
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_ingester
    from werkzeug.test import Client

    tb = program.TensorBoard(default.get_plugins())
    tb.configure(argv=[None, "--logdir", str(logdir), "--reload_interval", "0", "--reload_task", "blocking",
                       "--load_fast", "false"])
    ingester = data_ingester.LocalDataIngester(tb.flags)
    ingester.start()
    app = application.TensorBoardWSGIApp(tb.flags, tb.plugin_loaders, ingester.data_provider, tb.assets_zip_provider,
                                         ingester.deprecated_multiplexer)
    return Client(app)


def test_hparams_dashboard_compares_runs_by_config_and_fd(tiny_config, tmp_path):
    root = tmp_path / "runs"
    base = tiny_config.with_updates({"steps": 4, "metric_every": 2, "metric_n": 100, "tensorboard": True})
    runs = {}
    for lr in (1e-4, 3e-4):
        cfg = base.with_updates({"g_lr": lr})
        runs[lr] = root / f"lr{lr}"
        assert run_to_end(Trainer(cfg, run_dir=runs[lr]))[-1].reason == "completed"
    # a resume writes the session's hparams again; TensorBoard keeps a run's first (the config it started with, so
    # a run from before this feature gets them at its next resume): still one row per run, its metrics the latest
    resumed = base.with_updates({"g_lr": 1e-4, "steps": 6})
    assert run_to_end(Trainer(resumed, run_dir=runs[1e-4], resume=True))[-1].reason == "completed"

    client = tensorboard_client(root)
    experiment = client.post("/data/plugin/hparams/experiment", json={"experimentName": ""})
    assert experiment.status_code == 200, experiment.get_data(as_text=True)
    infos = {h["name"]: h for h in experiment.get_json()["hparamInfos"]}
    assert set(hparams_of(base)) <= set(infos)            # every config field, by its --set name
    assert infos["g_lr"]["differs"] and not infos["batch_size"]["differs"]
    metrics = {m["name"]["tag"] for m in experiment.get_json()["metricInfos"]}
    assert {"quality/fd", BEST_FD_TAG, "quality/kid"} <= metrics

    groups = client.post("/data/plugin/hparams/session_groups", json={
        "experimentName": "", "allowedStatuses": STATUSES, "colParams": [], "startIndex": 0, "sliceSize": 100})
    assert groups.status_code == 200, groups.get_data(as_text=True)
    rows = {g["name"]: g for g in groups.get_json()["sessionGroups"]}
    assert sorted(rows) == sorted(str(p) for p in runs.values())       # one row per run folder
    for lr, path in runs.items():
        row = rows[str(path)]
        assert row["hparams"]["g_lr"] == pytest.approx(lr) and row["hparams"]["preset"] == "tiny"
        assert row["hparams"]["steps"] == 4                              # as started
        values = {m["name"]["tag"]: m for m in row["metricValues"]}
        quality = RunDir(path).read_quality()
        assert [q["step"] for q in quality] == ([2, 4, 6] if lr == 1e-4 else [2, 4])
        assert values["quality/fd"]["value"] == pytest.approx(quality[-1]["fd"], rel=1e-6)      # the final FD
        assert values["quality/fd"]["trainingStep"] == quality[-1]["step"]
        assert values[BEST_FD_TAG]["value"] == pytest.approx(min(q["fd"] for q in quality), rel=1e-6)
