"""Memory growth with the window open: RSS at step 1,000 and at step 10,000 of a `tiny` run in the studio.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/memory.py [--steps 10000]

Goal: < 50 MB growth. Plots keep every point (preallocated, doubling buffers), the grid history keeps every
grid (thinned past 4000), so growth is what a long session really costs.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--first", type=int, default=1_000)
    args = ap.parse_args()

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from ganstudio.engine import StepMetrics
    from ganstudio.config.presets import get_preset
    from ganstudio.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    cfg = get_preset("tiny").config().with_updates(
        {"steps": args.steps, "sample_every": 50, "checkpoint_every": 0, "checkpoint_minutes": 0, "metric_every": 0,
         "jit_compile": "off", "tensorboard": False})
    marks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as d:
        win = MainWindow(settings=QSettings(str(Path(d) / "s.ini"), QSettings.IniFormat))
        win.panel.set_config(cfg)
        win.show()
        win.start_training(Path(d) / "run")

        def on_event(ev):
            if isinstance(ev, StepMetrics) and ev.step in (args.first, args.steps):
                marks[ev.step] = rss_mb()
                print(f"step {ev.step}: RSS {marks[ev.step]:.1f} MB", flush=True)

        win.session.engineEvent.connect(on_event)
        loop = QEventLoop()
        win.sessionFinished.connect(loop.quit)
        loop.exec()
        win.close()
    app.processEvents()
    growth = marks[args.steps] - marks[args.first]
    print(f"\nRSS growth step {args.first:,} -> {args.steps:,}: {growth:+.1f} MB (goal < 50 MB)")


if __name__ == "__main__":
    main()
