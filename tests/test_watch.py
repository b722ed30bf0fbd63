"""RunFollower tails a run folder another process writes: growth, torn lines, truncation, late folders."""
import json
import os

import numpy as np

from ganstudio.core.imaging import save_grid
from ganstudio.runs.watch import RunFollower, last_metrics_row, scan_runs


def row(step, g=1.0):
    return json.dumps({"step": step, "g_loss": g, "d_loss": 0.5}) + "\n"


def test_follower_waits_for_the_folder_then_reads_growth(tmp_path):
    run = tmp_path / "late"
    f = RunFollower(run)
    assert f.poll() == ([], [])            # nothing there yet: no error
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "metrics.jsonl").write_text(row(1) + row(2))
    rows, grids = f.poll()
    assert [r["step"] for r in rows] == [1, 2] and grids == [] and not f.reset
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(row(3))
    save_grid(np.zeros((4, 8, 8, 1), np.uint8), run / "samples" / "step_000003.png")
    rows, grids = f.poll()
    assert [r["step"] for r in rows] == [3]
    assert [s for s, _ in grids] == [3] and grids[0][1].exists()
    assert f.poll() == ([], [])            # nothing new


def test_quality_history_is_read_again_only_when_it_changed(tmp_path):
    f = RunFollower(tmp_path)
    assert f.poll_quality() is None                       # no file yet, as before: nothing to redraw
    q = tmp_path / "quality.jsonl"
    q.write_text(json.dumps({"step": 2, "fd": 50.0}) + "\n")
    assert [r["fd"] for r in f.poll_quality()] == [50.0]
    assert f.poll_quality() is None                       # unchanged
    with open(q, "a") as fh:
        fh.write(json.dumps({"step": 4, "fd": 40.0}) + "\n")
    assert [r["step"] for r in f.poll_quality()] == [2, 4]   # the whole history (a rollback rewrites it)
    q.unlink()
    assert f.poll_quality() == []                         # gone: the plot empties


def test_torn_last_line_is_kept_until_completed(tmp_path):
    m = tmp_path / "metrics.jsonl"
    line = row(2)
    m.write_text(row(1) + line[:7])
    f = RunFollower(tmp_path)
    assert [r["step"] for r in f.poll()[0]] == [1]
    with open(m, "a") as fh:
        fh.write(line[7:-1])               # still no newline
    assert f.poll()[0] == []
    with open(m, "a") as fh:
        fh.write("\n" + row(3))
    assert [r["step"] for r in f.poll()[0]] == [2, 3]


def test_truncation_and_replacement_restart_from_the_beginning(tmp_path):
    m = tmp_path / "metrics.jsonl"
    m.write_text("".join(row(i) for i in range(1, 6)))
    f = RunFollower(tmp_path)
    assert len(f.poll()[0]) == 5
    m.write_text(row(1) + row(2))          # shrank in place
    rows, _ = f.poll()
    assert f.reset and [r["step"] for r in rows] == [1, 2]
    tmp = tmp_path / "new.jsonl"           # a resume rewrites it atomically: a new inode, maybe not smaller
    tmp.write_text("".join(row(i, g=9.0) for i in range(1, 4)))
    os.replace(tmp, m)
    rows, _ = f.poll()
    assert f.reset and [r["g_loss"] for r in rows] == [9.0, 9.0, 9.0]
    assert not f.poll()[0] and not f.reset


def test_scan_runs_and_tail(tmp_path):
    for name, steps in (("a", 3), ("b", 5)):
        d = tmp_path / name
        (d / "samples").mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"preset": "tiny", "data": {"dataset": "bundled"}}))
        (d / "metrics.jsonl").write_text("".join(row(i, g=float(i)) for i in range(1, steps + 1)) + '{"step": 9')
        save_grid(np.zeros((4, 8, 8, 1), np.uint8), d / "samples" / "step_000002.png")
    (tmp_path / "not_a_run").mkdir()
    runs = scan_runs(tmp_path)
    assert sorted(r.name for r in runs) == ["a", "b"]
    b = next(r for r in runs if r.name == "b")
    assert (b.step, b.g_loss, b.preset, b.dataset) == (5, 5.0, "tiny", "bundled")
    assert b.latest_grid.name == "step_000002.png"
    assert last_metrics_row(tmp_path / "missing.jsonl") is None
