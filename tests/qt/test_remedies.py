"""Issue 13: the adviser's remedies are buttons in the health banner. Clicking one applies it to the real trainer:
a logged live edit, a rollback to the best checkpoint, or a stop-and-resume with a field that cannot change live."""
import json

import pytest

from ganstudio.engine.checkpoints import best_record
from ganstudio.engine.events import ConfigChanged, HealthWarning, Paused, RolledBack
from ganstudio.metrics.advice import Remedy

TIMEOUT = 120_000


def is_(kind):
    return lambda ev: isinstance(ev, kind)


def test_remedy_buttons_reach_the_trainer(make_main_window, tiny_form_values, qtbot, tmp_path):
    win = make_main_window(preset="tiny")
    for k, v in {**tiny_form_values, "metric_every": 2, "metric_n": 100, "checkpoint_every": 2}.items():
        win.panel.set_value(k, v)
    assert win.start_training(tmp_path / "run")
    session = win.session
    qtbot.waitUntil(lambda: win.quality_plot.count >= 2, timeout=TIMEOUT)   # a best checkpoint exists
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(Paused), timeout=TIMEOUT):
        win.act_pause.trigger()
    trainer = session.trainer
    g_lr, d_lr = trainer.config.optim.g_lr, trainer.config.optim.d_lr
    win.on_engine_event(HealthWarning("plateau", win.last_metrics.step, "FD has not improved", "converged", {}, (
        Remedy("Halve both learning rates", {"g_lr": g_lr / 2, "d_lr": d_lr / 2}),
        Remedy("Roll back to the best checkpoint", {}, "rollback_best"),
        Remedy("Enable DiffAugment (translation, cutout)", {"diffaugment": "translation,cutout"}, "resume"))))
    halve, rollback, augment = win.health_banner.remedy_buttons
    assert [b.text() for b in (halve, rollback, augment)] == ["Halve both learning rates",
                                                              "Roll back to the best checkpoint",
                                                              "Enable DiffAugment (translation, cutout)"]
    assert "ganstudio resume" in augment.toolTip()

    # a live edit: the trainer's config changes, the form follows, edits.jsonl logs it
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(ConfigChanged), timeout=TIMEOUT) as blocker:
        halve.click()
    assert blocker.args[0].changes == {"g_lr": (g_lr, g_lr / 2), "d_lr": (d_lr, d_lr / 2)}
    assert trainer.config.optim.g_lr == g_lr / 2 and win.panel.value("d_lr") == pytest.approx(d_lr / 2)
    edits = [json.loads(line) for line in (tmp_path / "run" / "edits.jsonl").read_text().splitlines()]
    assert edits[-1]["changes"]["g_lr"]["new"] == g_lr / 2

    # rollback_best: the trainer restores the checkpoint with the lowest FD and stays paused
    best = best_record(tmp_path / "run" / "checkpoints")
    with qtbot.waitSignal(session.engineEvent, check_params_cb=is_(RolledBack), timeout=TIMEOUT) as blocker:
        rollback.click()
    assert blocker.args[0].step == best["step"] == trainer.step
    assert trainer.config.optim.g_lr == g_lr / 2          # the edit survives the restore
    assert win.state == "paused"

    # 'resume': diffaugment cannot change live, so the run stops and resumes from its checkpoint with it
    stopped_at = trainer.step
    augment.click()
    qtbot.waitUntil(lambda: win.session is not None and win.session is not session, timeout=TIMEOUT)
    resumed = win.session
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step > stopped_at, timeout=TIMEOUT)
    steps = list(win.plot.column("step"))
    assert stopped_at + 1 in steps and len(steps) == len(set(steps))        # continued from the checkpoint
    assert resumed.trainer.config.data.diffaugment == "translation,cutout"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["diffaugment"] == "translation,cutout"
    assert win.errors == []


def test_run_report_is_written_off_the_gui_thread_and_opened(make_main_window, qtbot, tmp_path, monkeypatch):
    from ganstudio.qt import report_action
    from tests.test_report import make_run

    opened = []
    monkeypatch.setattr(report_action, "open_in_browser", opened.append)
    win = make_main_window(preset="tiny")
    win.act_report.trigger()                       # no run yet: explained, nothing written
    assert win.errors and "Open or train a run first" in win.errors[-1]
    run = make_run(tmp_path / "run")
    assert win.open_run(run.path)
    assert "best FD 31.5 @ step 40" in win.lbl_quality.text()      # when to stop, from the opened run's history
    win.act_report.trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=TIMEOUT)
    assert opened == [run.report_file] and "Step 25: Discriminator dominates" in run.report_file.read_text()
    assert "Report written" in win.statusBar().currentMessage()
