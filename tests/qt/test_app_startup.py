"""The window shows before TensorFlow is imported; the engine then warms up in the background."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from ganstudio.qt.app import create_window
    app, win = create_window(["--preset", "tiny"], settings=QSettings(sys.argv[1], QSettings.IniFormat))
    win.show()
    app.processEvents()
    print("TF_AFTER_SHOW", "tensorflow" in sys.modules, "keras" in sys.modules, win.isVisible(), flush=True)
    win.warm_up_engine()
    deadline = time.monotonic() + 120
    while not win.engine_ready and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    print("READY", win.statusBar().currentMessage(), flush=True)
    win.close()
    os._exit(0)
""")


def test_window_shows_before_tensorflow_loads(tmp_path):
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")], capture_output=True, text=True,
                       timeout=180)
    out = r.stdout
    assert "TF_AFTER_SHOW False False True" in out, out + r.stderr[-3000:]
    assert "READY Engine ready" in out, out + r.stderr[-3000:]
    assert r.returncode == 0, r.stderr[-3000:]
