"""Many seeded UI fuzz sequences against the real studio window (tests/qt/fuzz.py; CI runs 3 of them).

    .venv/bin/python benchmarks/ui_fuzz.py --sequences 500 [--actions 12] [--first-seed 1000]

Prints one line per failing sequence (seed, actions, failure) and a summary. A failing seed replays exactly with
--first-seed SEED --sequences 1. Offscreen; each sequence gets a fresh window, runs folder and settings file.
"""
from __future__ import annotations

import argparse
import collections
import faulthandler
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
TIMING = "timing"
TIMING_MARKS = ("blocked the GUI thread", "did not finish")   # failures that only exceeded a time limit
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=20)
    ap.add_argument("--actions", type=int, default=12, help="actions per sequence (then a final close)")
    ap.add_argument("--first-seed", type=int, default=1000)
    args = ap.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ganstudio.qt.main_window import MainWindow
    from tests.qt.fuzz import HANG_S, run_sequence

    app = QApplication.instance() or QApplication([])
    failed, actions, closes, steps, kinds = [], collections.Counter(), [], 0, collections.Counter()
    t_start = time.monotonic()
    interrupted = []   # SIGTERM/SIGINT: finish the current sequence, then print the summary of those done
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: interrupted.append(True))
    ran = 0
    for seed in range(args.first_seed, args.first_seed + args.sequences):
        if interrupted:
            break
        ran += 1
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["GANSTUDIO_RUNS"] = str(Path(tmp) / "runs")
            settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat)
            # a deadlock no Python code can report: dump every thread's stack and exit
            faulthandler.dump_traceback_later(HANG_S * 6, exit=True)
            res = run_sequence(lambda: MainWindow(settings=settings, preset="tiny"), seed, args.actions)
            faulthandler.cancel_dump_traceback_later()
        app.processEvents()
        actions.update(a.split("(")[0] for a in res.actions)
        closes.append(res.max_close_s)
        steps += res.steps_trained
        if res.failures:
            failed.append(res)
            timing = all(any(mark in f for mark in TIMING_MARKS) for f in res.failures)
            kinds[TIMING if timing else "functional"] += 1
            print(f"FAIL seed {seed}: {' '.join(res.actions)}\n  " + "\n  ".join(res.failures), flush=True)
        done = seed - args.first_seed + 1
        if done % 10 == 0 or done == args.sequences:
            print(f"{done}/{args.sequences} sequences, {len(failed)} failed, {time.monotonic() - t_start:.0f} s",
                  flush=True)
    print(f"\nsequences: {ran} (seeds {args.first_seed}..{args.first_seed + ran - 1}), "
          f"failed: {len(failed)}, actions: {sum(actions.values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(actions.items()))}), steps trained: {steps:,}, "
          f"longest close() block: {max(closes, default=0):.2f} s, wall: {time.monotonic() - t_start:.0f} s, "
          f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"failed sequences by kind: {dict(kinds) or 'none'} ({TIMING}: only time limits were exceeded, e.g. on an "
          f"overloaded machine; functional: an exception, qCritical, a leaked thread or a driver error)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
