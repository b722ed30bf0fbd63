"""ganstudio report: one self-contained HTML page built from the run folder alone (no TensorFlow needed)."""
import base64
import io
import json
import re

import numpy as np
from PIL import Image

from ganstudio.cli import main
from ganstudio.config.presets import get_preset
from ganstudio.engine.events import StepMetrics
from ganstudio.metrics.advice import HealthWarning, Remedy
from ganstudio.outputs.report import build_report
from ganstudio.runs import RunDir


def make_run(path):
    cfg = get_preset("tiny").config().with_updates({"g_lr": 2e-4, "d_lr": 4e-3, "steps": 60})
    run = RunDir.create(path, cfg)
    run.append_session({"step": 0, "time": 0.0, "device": "CPU, XLA off, float32", "dataset": "bundled: 6,000 "
                        "images 28x28x1", "g_params": 1234, "d_params": 567})
    rng = np.random.default_rng(0)
    for s in range(1, 61):     # `wall` restarts at the resume after step 40: 40 s + 20 s of training
        wall = s if s <= 40 else s - 40
        run.append_metrics(StepMetrics(s, s / 10, float(wall), 1 + rng.random(), 1.2, 0.7, 0.3, 32.0, 0.4).to_row())
    for s, fd in ((20, 50.0), (40, 31.5), (60, 36.0)):
        run.append_quality({"step": s, "fd": fd, "kid": 0.01, "diversity": 3.0})
    run.log_edit(30, {"d_lr": (4e-3, 2e-4)})
    run.write_config(cfg.with_updates({"d_lr": 2e-4}))        # what the trainer does with a live edit
    w = HealthWarning("d_dominance", 25, "D separates real from generated images (D(real) 0.996, D(fake) 0.004)",
                      "D learns faster than G", {"d_real": 0.996, "d_fake": 0.004},
                      (Remedy("Set d_lr to g_lr (0.0002)", {"d_lr": 2e-4}),))
    run.append_health(w.to_row())
    for s in (0, 20, 40, 60):
        run.save_sample(s, rng.integers(0, 255, (4, 28, 28, 1), dtype=np.uint8))
    run.close()
    return run


def test_report_holds_every_section_and_only_embedded_images(tmp_path):
    run = make_run(tmp_path / "run")
    html = build_report(run.path)
    assert not re.search(r"""(src|href)=['"]?(?!data:)[a-z]+:""", html) and "<link" not in html   # self-contained
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(pngs) == 2 + 4 + 1          # curves, throughput, 4 grids, the best step's grid
    curves = Image.open(io.BytesIO(base64.b64decode(pngs[0])))
    assert curves.size[0] == 1060 and curves.size[1] > 600
    assert "CPU, XLA off, float32" in html and "bundled: 6,000 images" in html and "G 1,234 / D 567" in html
    # d_lr started at 0.004 and was edited back to the preset's 0.0002; steps differs from the preset throughout
    assert "<code>optim.d_lr</code></td><td>0.004</td><td>0.0002</td><td class=muted>0.0002</td>" in html
    assert "<code>train.steps</code></td><td>60</td><td>60 (unchanged)</td><td class=muted>0</td>" in html
    assert "<code>optim.g_lr</code>" not in html.split("Full config")[0]           # unchanged: not listed
    assert "<td>30</td><td><code>d_lr</code></td><td>0.004 → 0.0002</td>" in html  # the live edit
    assert "Step 25: Discriminator dominates" in html and "D learns faster than G" in html
    assert f"ganstudio resume {run.path} --set d_lr=0.0002" in html
    assert "<b>31.5</b> at step <b>40</b>" in html                                   # best FD and its step
    assert "<b>0:01:00</b><span>wall time (incl. start-up)</span>" in html          # 40 s + 20 s
    assert "<b>32</b><span>images / s (training time)</span>" in html   # over step time, as the curve shows
    assert "<b>60</b><span>steps</span>" in html and "<b>1</b><span>adviser warnings</span>" in html


def test_report_history_branches_metric_state_and_absolute_commands(tmp_path, monkeypatch):
    """Issue 30.3: start values undo resume --set too; a rollback's earlier warnings and edits are an abandoned
    branch; 'not reached yet' is not 'off'; commands name the run by its absolute path."""
    cfg = get_preset("tiny").config().with_updates({"g_lr": 0.05, "steps": 40, "metric_every": 500})
    run = RunDir.create(tmp_path / "run", cfg)
    run.append_session({"step": 0, "time": 1.0, "device": "CPU, XLA off, float32"})
    for s in range(1, 41):
        run.append_metrics(StepMetrics(s, s / 10, float(s), 1.0, 1.2, 0.7, 0.3, 64.0, 0.4).to_row())
    w = HealthWarning("divergence", 30, "G's loss jumped", "lr", {}, (Remedy("Halve", {"g_lr": 0.025}),))
    run.append_health({**w.to_row(), "time": 2.0})
    edit = lambda step, t, source, **changes: run.edits_file.open("a").write(json.dumps(   # noqa: E731
        {"step": step, "time": t, "source": source, "changes": {k: {"old": o, "new": n} for k, (o, n) in
                                                               changes.items()}}) + "\n")
    edit(28, 3.0, "live", d_lr=(2e-4, 1e-4))                                  # before the rollback below
    run.append_session({"step": 20, "time": 4.0, "kind": "rollback", "from_step": 30, "reason": "divergence"})
    edit(40, 5.0, "resume", g_lr=(0.05, 0.025))           # resume logs its --set during setup, then the session
    run.append_session({"step": 40, "time": 6.0, "device": "CPU, XLA off, float32"})
    run.write_config(cfg.with_updates({"g_lr": 0.025, "d_lr": 1e-4}))
    run.close()
    monkeypatch.chdir(tmp_path)
    html = build_report("run")                                       # a relative path, as typed
    assert "<code>optim.g_lr</code></td><td>0.05</td><td>0.025</td>" in html          # started at 0.05
    assert "<td>40</td><td><code>g_lr</code></td><td>0.05 → 0.025</td><td>resume --set</td>" in html
    assert "d_lr</code></td><td>0.0002 → 0.0001</td><td>live edit (abandoned branch)</td>" in html
    current, gone = html.split("<h2>Adviser warnings</h2>")[1].split("<h2>")[0].split("On abandoned branches")
    assert "None on the current branch" in current and "Step 30: Training diverged" in gone
    assert "<b>0</b><span>adviser warnings</span>" in html
    assert "rolled back from step 30 (divergence)" in html
    assert "not reached yet (first at step 500; the run is at step 40)" in html and "metric_every = 0" not in html
    assert f"ganstudio resume {tmp_path / 'run'} --set g_lr=0.025" in html               # absolute
    off = RunDir.create(tmp_path / "off", cfg.with_updates({"metric_every": 0}))
    assert "the metric is off (metric_every = 0)" in build_report(off.path)


def test_report_cli_writes_the_file_and_explains_a_bad_folder(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    assert main(["report", str(run.path)]) == 0
    assert run.report_file.read_text().startswith("<!doctype html>")
    assert capsys.readouterr().out.strip() == str(run.report_file)
    out = tmp_path / "r.html"
    assert main(["report", str(run.path), "--out", str(out)]) == 0 and out.exists()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_report_of_a_run_without_steps_or_quality(tmp_path):
    run = RunDir.create(tmp_path / "empty", get_preset("tiny").config())
    html = build_report(run.path)
    assert "No steps logged yet" in html and "None: the adviser saw no sign of trouble" in html
    assert "not recorded" in html and "data:image/png" not in html


def test_smoothing_is_a_centred_mean_that_skips_nan_and_thins_long_runs():
    from ganstudio.outputs.report import MAX_POINTS, _decimate, _smooth

    np.testing.assert_allclose(_smooth(np.array([1.0, 2, 3, np.nan, 5, 6]), 3), [1.5, 2, 2.5, 4, 5.5, 5.5])
    x = np.arange(100_000.0)
    y = np.zeros_like(x)
    y[12_345] = 1e9                                        # one spike in 100,000 steps
    xd, yd = _decimate(x, y)
    assert len(xd) <= MAX_POINTS and yd.max() == 1e9 and 12_345 in xd   # min/max decimation keeps it


def test_report_throughput_is_over_training_time_not_wall_time(tiny_config, tmp_path):
    """Issue 30.3: 'images / s (mean) 98' beside a curve at ~1,500 -- the card divided by wall time with start-up.
    It now uses the trainer's own clock inside training steps, kept with each checkpoint."""
    import json

    from ganstudio.engine.checkpoints import list_checkpoints
    from ganstudio.engine.trainer import Trainer, run_to_end

    run = tmp_path / "r"
    run_to_end(Trainer(tiny_config.with_updates({"steps": 4}), run_dir=run))
    last = list_checkpoints(run / "checkpoints")[-1]
    seconds = json.loads((last.path / "meta.json").read_text())["train_seconds"]
    assert last.step == 4 and seconds > 0
    html = build_report(run)
    assert f"<b>{4 * tiny_config.data.batch_size / seconds:,.0f}</b><span>images / s (training time)" in html
