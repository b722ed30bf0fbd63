"""Issue 30.1-2 in the studio: diverging losses pause the run at the first warning, rolled back to the healthy state
from before the divergence (no checkpoint of the diverged model kept); the first remedy, as clicked, then Resume,
trains on with sane losses and the diagnosis does not come back."""
import json
import math

from ganstudio.engine.events import ConfigChanged

TIMEOUT = 120_000


def test_divergence_pauses_and_the_clicked_remedy_recovers(make_main_window, tiny_form_values, qtbot, tmp_path):
    win = make_main_window(preset="tiny")
    for k, v in {**tiny_form_values, "g_lr": 1.0, "d_lr": 1.0, "metric_every": 0}.items():
        win.panel.set_value(k, v)
    run = tmp_path / "run"
    assert win.start_training(run)
    session = win.session
    qtbot.waitUntil(lambda: win.health_banner.rolled_back is not None and win.state == "paused", timeout=TIMEOUT)
    to_step, from_step = win.health_banner.rolled_back
    assert to_step == 0 < from_step
    assert win.health_banner.warnings[-1].kind == "divergence"
    assert [p.name for p in sorted((run / "checkpoints").glob("step_*"))] == ["step_000000"]
    first = win.health_banner.remedy_buttons[0]
    assert "learning rates" in first.text()
    with qtbot.waitSignal(session.engineEvent, check_params_cb=lambda ev: isinstance(ev, ConfigChanged),
                          timeout=TIMEOUT):
        first.click()
    g_lr = session.trainer.config.optim.g_lr
    assert g_lr < 1.0
    win.act_pause.trigger()                                   # Resume
    target = from_step + 20
    qtbot.waitUntil(lambda: win.last_metrics is not None and win.last_metrics.step >= target, timeout=TIMEOUT)
    win.stop_training()
    qtbot.waitUntil(lambda: win.session is None, timeout=TIMEOUT)
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows]
    assert steps == list(range(1, len(steps) + 1)) and steps[-1] >= target      # from step 0, no duplicates
    tail = rows[-10:]
    assert all(math.isfinite(r["g_loss"]) and abs(r["g_loss"]) < 20 and abs(r["d_loss"]) < 20 for r in tail)
    kinds = [json.loads(x)["kind"] for x in (run / "health.jsonl").read_text().splitlines()]
    assert kinds.count("divergence") == 1 and "nan" not in kinds
    edits = [json.loads(x) for x in (run / "edits.jsonl").read_text().splitlines()]
    assert edits[0]["step"] == 0 and edits[0]["changes"]["g_lr"]["new"] == g_lr
