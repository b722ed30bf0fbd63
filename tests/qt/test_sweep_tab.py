"""The Sweep tab runs a real 2-trial sweep of the tiny preset on the window's training thread."""
import csv
import json

from ganstudio.engine.events import Paused
from ganstudio.runs import runs_root
from ganstudio.sweeps import SweepFinished

TIMEOUT = 180_000   # two trials' TensorFlow set-up on 2 busy cores


def test_two_trial_sweep_from_the_tab_then_use_best_config(make_main_window, tiny_form_values, qtbot):
    win = make_main_window(preset="tiny")
    for k, v in {**tiny_form_values, "metric_n": 100, "precision": "float32"}.items():
        win.panel.set_value(k, v)
    sp = win.sweep_panel
    win.tabs.setCurrentWidget(sp)
    sp.set_fields([("g_lr", "1e-4,3e-4")])
    sp.budget_kind.setCurrentIndex(sp.budget_kind.findData("steps"))
    sp.budget.setValue(4)
    folder = runs_root() / "sweep-tiny"            # in the runs root, so the Runs tab lists it
    sp.folder.setText(str(folder))

    # Pause and Stop on the toolbar act on the current trial; Stop ends the sweep, Start continues it
    with qtbot.waitSignal(sp.sweepFinished, timeout=TIMEOUT) as stopped:
        sp.start_btn.click()
        assert win.state == "running" and not sp.start_btn.isEnabled() and win.act_pause.isEnabled()
        qtbot.waitUntil(lambda: win.last_metrics is not None, timeout=TIMEOUT)
        with qtbot.waitSignal(win.session.engineEvent, check_params_cb=lambda e: isinstance(e, Paused), timeout=TIMEOUT):
            win.act_pause.trigger()
        assert win.state == "paused"
        base_lr = win.panel.value("g_lr")
        win.panel.widgets["g_lr"].setValue(9e-4)   # the form is the next sweep's base: no live edit of the trial
        win.act_pause.trigger()
        win.act_stop.trigger()
    assert stopped.args[0].reason == "stopped"
    assert [sp.table.item(r, 2).text() for r in range(sp.table.rowCount())] == ["interrupted"]
    qtbot.waitUntil(lambda: sp.start_btn.isEnabled(), timeout=TIMEOUT)
    assert not sp.start() and "holds a different sweep" in sp.status.text()   # the form's base changed
    win.panel.widgets["g_lr"].setValue(base_lr)

    with qtbot.waitSignal(sp.sweepFinished, timeout=TIMEOUT) as done:
        sp.start_btn.click()
    ev = done.args[0]
    assert isinstance(ev, SweepFinished) and ev.reason == "completed"
    qtbot.waitUntil(lambda: win.state == "finished" and sp.start_btn.isEnabled(), timeout=TIMEOUT)

    cells = sorted([sp.table.item(r, c).text() for c in range(sp.table.columnCount())]
                   for r in range(sp.table.rowCount()))   # by trial number (Optuna picks the grid order)
    cells.sort(key=lambda c: c[1])
    assert [(c[1], c[2], c[3]) for c in cells] == [("g_lr=0.0001", "complete", "4"), ("g_lr=0.0003", "complete", "4")]
    assert {json.loads((p / "config.json").read_text())["optim"]["g_lr"] for p in folder.iterdir() if p.is_dir()} \
        == {1e-4, 3e-4}
    assert not any((p / "edits.jsonl").exists() for p in folder.iterdir() if p.is_dir())
    with open(folder / "summary.csv", newline="") as f:
        final = {float(r["g_lr"]): float(r["final_fd"]) for r in csv.DictReader(f)}
    assert [float(c[5]) for c in cells] == [round(final[1e-4], 2), round(final[3e-4], 2)]
    assert [len(xs) for _, xs, _ in sp.curves.values()] == [4, 4]          # FD at 1..4 quarters of the budget
    assert all(not sp.table.item(r, 0).icon().isNull() for r in range(2))  # each trial's latest grid
    assert win.plot.count == 4              # the Training tab followed the trials live (the last one's steps)
    assert win.resume_path is None          # Start on the toolbar does not resume a trial outside its sweep

    # Start again with the same options: nothing is left to run; the table refills from the study and run folders
    with qtbot.waitSignal(sp.sweepFinished, timeout=TIMEOUT):
        sp.start_btn.click()
    qtbot.waitUntil(lambda: sp.start_btn.isEnabled(), timeout=TIMEOUT)
    again = sorted([sp.table.item(r, c).text() for c in range(sp.table.columnCount())]
                   for r in range(sp.table.rowCount()))
    assert again == sorted(cells)
    assert [len(xs) for _, xs, _ in sp.curves.values()] == [4, 4]
    assert all(not sp.table.item(r, 0).icon().isNull() for r in range(2))

    sp.best_btn.click()
    best = min(final, key=final.get)
    assert win.tabs.currentIndex() == 0 and win.panel.value("g_lr") == best

    # the Runs tab groups the sweep's trials under it
    win.runs_panel.set_root(runs_root())
    win.runs_panel.refresh()
    tree = win.runs_panel.tree
    groups = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [g.text(0) for g in groups] == ["sweep-tiny (2 trials)"]
    trials = sorted(groups[0].child(i).text(0) for i in range(groups[0].childCount()))
    assert trials == sorted(p.name for p in folder.iterdir() if p.is_dir())
    win.runs_panel.select_names(*trials)                   # compare the two trials' curves and grids
    assert len(win.runs_panel.grid_labels) == 2
