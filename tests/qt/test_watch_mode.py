"""Watch mode: the window follows a run that a separate `ganstudio train` process writes, without TensorFlow."""
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 180_000   # the training subprocess imports TensorFlow on 2 busy cores

WATCH_SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from ganstudio.qt.app import create_window
    app, win = create_window(["--watch", sys.argv[1]], settings=QSettings(sys.argv[2], QSettings.IniFormat))
    win.show()
    deadline = time.monotonic() + 60
    while (win.plot.count == 0 or not win.grid_view.entries) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
    print("WATCHED", win.state, win.plot.count > 0, len(win.grid_view.entries) > 0, "tensorflow" in sys.modules,
          "keras" in sys.modules, flush=True)
    win.close()
    os._exit(0)
""")


@pytest.fixture
def training_process(tmp_path):
    run = tmp_path / "watched"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganstudio", "train", "--preset", "tiny", "--set", "limit=64", "--batch-size", "16",
         "--set", "jit_compile=off", "--set", "tensorboard=false", "--steps", "30", "--sample-every", "5",
         "--no-progress", "--run-dir", str(run)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield run, proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=60)


def test_window_follows_a_run_written_by_another_process(make_main_window, training_process, tmp_path, qtbot):
    run, proc = training_process
    win = make_main_window(preset="tutorial")
    win.show()
    assert win.watch_run(run)                 # before the folder exists: it waits for it
    assert win.state == "watching" and win.watching
    assert not win.act_start.isEnabled() and not win.act_pause.isEnabled() and not win.act_stop.isEnabled()
    assert not win.panel.isEnabled() and win.act_open.isEnabled() and win.act_new.isEnabled()

    seen = []                                  # plot sizes after each poll: 0 while the folder is missing
    win.watchPolled.connect(lambda: seen.append(win.plot.count))
    qtbot.waitUntil(lambda: win.plot.count > 0 and bool(win.grid_view.entries), timeout=TIMEOUT)
    assert seen[0] == 0 and max(seen) > 0
    assert win.current_config().preset == "tiny"      # the form shows the watched run's config
    qtbot.waitUntil(lambda: win.plot.raw["g_loss"].getData()[0] is not None
                    and len(win.plot.raw["g_loss"].getData()[0]) > 0, timeout=5000)   # drawn, not only buffered
    qtbot.waitUntil(lambda: win.lbl_step.text().startswith("step "), timeout=5000)
    assert win.grid_view.canvas.array is not None
    assert win.state == "watching" and win.errors == []

    # the same run watched from a fresh process never imports TensorFlow
    r = subprocess.run([sys.executable, "-c", WATCH_SCRIPT, str(run), str(tmp_path / "s.ini")],
                       capture_output=True, text=True, timeout=120)
    assert "WATCHED watching True True False False" in r.stdout, r.stdout + r.stderr[-3000:]

    assert proc.wait(timeout=TIMEOUT / 1000) == 0, proc.stdout.read()[-3000:]
    qtbot.waitUntil(lambda: win.plot.count == 30, timeout=10_000)
    qtbot.waitUntil(lambda: win.grid_view.entries[-1].step == 30, timeout=10_000)
    assert seen == sorted(seen)                # the plot only ever grew
    qtbot.waitUntil(lambda: win.lbl_step.text() == "step 30 / 30", timeout=5000)
    # the final checkpoint is written after the last grid; the panel relists checkpoints every 2 s
    qtbot.waitUntil(lambda: win.ckpt_panel.tree.topLevelItemCount() >= 1, timeout=5000)

    win.new_run()                             # New run stops watching
    assert not win.watching and win.state == "idle" and win.act_start.isEnabled() and win.panel.isEnabled()
