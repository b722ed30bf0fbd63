"""The studio must never cost training speed or responsiveness. Measured side by side in one run:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui.py [--preset tutorial] [--steps 50] [--rounds 3]

1. startup: process start -> window shown, and -> first sample grid on screen (`ganstudio gui --start`);
2. throughput: the same config and steps headless (Trainer loop) and in the window (QThread worker, live plots,
   sample grids), alternating rounds; prints img/s of each and the ratio (goal >= 0.97);
3. event-loop lateness while the window trains: a 10 ms QTimer probe, worst and p99 (goals < 50 ms, < 20 ms);
4. plot redraw time with 1,000,000 points in every curve.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WARMUP = 3

STARTUP = textwrap.dedent("""
    import sys, time
    t0 = float(sys.argv[1])
    from PySide6.QtCore import QSettings, QTimer
    from ganstudio.qt.app import create_window
    from ganstudio.engine import SampleGrid
    from ganstudio.qt.main_window import DEFAULT_SIZE
    app, win = create_window(["--preset", sys.argv[2]], settings=QSettings(sys.argv[3], QSettings.IniFormat))
    win.resize(*DEFAULT_SIZE)
    win.show()
    def shown():
        print("SHOWN", time.time() - t0, flush=True)
        win.warm_up_engine()
        win.start_training(sys.argv[4])
        win.session.engineEvent.connect(lambda ev: isinstance(ev, SampleGrid) and QTimer.singleShot(0, grid))
    def grid():
        print("FIRST_GRID", time.time() - t0, flush=True)
        win.session.stop(save=False)
        win.shutdown()
        app.quit()
    QTimer.singleShot(0, shown)
    app.exec()
""")


def startup(preset: str, tmp: Path) -> tuple[float, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", STARTUP, str(t0), preset, str(tmp / "s.ini"), str(tmp / "startup")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT).stdout
    vals = dict(line.split() for line in out.splitlines() if line.startswith(("SHOWN", "FIRST_GRID")))
    return float(vals["SHOWN"]), float(vals["FIRST_GRID"])


def throughput(walls: dict[int, float], steps: int, batch: int) -> float:
    return batch * (steps - WARMUP) / (walls[steps] - walls[WARMUP])


def headless(cfg, run_dir: Path) -> float:
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer

    walls = {ev.step: ev.wall for ev in Trainer(cfg, run_dir=run_dir).run() if isinstance(ev, StepMetrics)}
    return throughput(walls, cfg.train.steps, cfg.data.batch_size)


def in_window(app, cfg, run_dir: Path, tmp: Path) -> tuple[float, list[float], list[float]]:
    """Train in the window; returns (img/s, lateness while building/tracing, lateness once steps run) in ms."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

    from ganstudio.engine import StepMetrics
    from ganstudio.qt.main_window import DEFAULT_SIZE, MainWindow

    win = MainWindow(settings=QSettings(str(tmp / "w.ini"), QSettings.IniFormat))
    win.panel.set_config(cfg)
    win.resize(*DEFAULT_SIZE)   # offscreen's 800x800 screen would make the window smaller than on a desktop
    win.show()
    walls: dict[int, float] = {}
    building: list[float] = []
    training: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)

    def tick():
        late = max(0.0, clock.restart() - 10.0)
        (training if walls else building).append(late)
        if late > 50 and os.environ.get("GANSTUDIO_BENCH_VERBOSE"):
            print(f"  stall {late:.0f} ms at step {max(walls, default=0)}", flush=True)

    probe.timeout.connect(tick)
    assert win.start_training(run_dir)
    win.session.engineEvent.connect(lambda ev: isinstance(ev, StepMetrics) and walls.__setitem__(ev.step, ev.wall))
    loop = QEventLoop()
    win.sessionFinished.connect(loop.quit)
    clock.start()
    probe.start()
    loop.exec()
    probe.stop()
    win.close()
    return throughput(walls, cfg.train.steps, cfg.data.batch_size), building, training


def redraw_1m(app) -> tuple[float, float]:
    import numpy as np

    from ganstudio.qt.widgets.loss_plot import LossPlot

    n = 1_000_000
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=np.float64)
    cols = {"step": steps, "g_loss": 1 + rng.normal(0, 0.3, n).cumsum() / 300, "d_loss": 1 + rng.normal(0, 0.3, n),
            "d_real": rng.uniform(0.4, 0.9, n), "d_fake": rng.uniform(0.1, 0.5, n),
            "images_per_sec": rng.uniform(150, 200, n), "epoch": steps / 23, "wall": steps}
    plot = LossPlot()
    plot.resize(900, 700)
    plot.show()
    t0 = time.perf_counter()
    plot.set_columns(cols)
    plot.redraw_if_dirty()
    app.processEvents()
    load = time.perf_counter() - t0
    times = []
    for i in range(10):   # steady state: one new point per redraw, as while training
        plot.append({k: float(v[-1]) + (1 if k == "step" else 0) * (i + 1) for k, v in cols.items()})
        t0 = time.perf_counter()
        plot.redraw_if_dirty()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    plot.close()
    return load, statistics.median(times)


def warm_up() -> None:
    """Load TensorFlow as the studio does, on its warm-up Task, so TF's thread pools start off the GUI thread."""
    from PySide6.QtCore import QEventLoop

    from ganstudio.qt.main_window import load_engine
    from ganstudio.qt.worker import Task

    t = Task(load_engine, "warmup")
    loop = QEventLoop()
    t.finished.connect(loop.quit)
    t.start()
    loop.exec()
    t.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tutorial")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from ganstudio.config.presets import get_preset

    app = QApplication.instance() or QApplication([])
    warm_up()
    cfg = get_preset(args.preset).config().with_updates(
        {"steps": args.steps, "sample_every": 10, "checkpoint_every": 0, "checkpoint_minutes": 0})
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        shown, first = startup(args.preset, tmp)
        print(f"startup: window shown {shown:.2f} s, first sample grid {first:.2f} s after process start", flush=True)
        results.update(shown=shown, first_grid=first)
        head, gui, late, build = [], [], [], []
        for r in range(args.rounds):
            head.append(headless(cfg, tmp / f"h{r}"))
            g, b, lt = in_window(app, cfg, tmp / f"g{r}", tmp)
            gui.append(g)
            build += b
            late += lt
            print(f"round {r + 1}: headless {head[-1]:.1f} img/s, window {gui[-1]:.1f} img/s", flush=True)
        load, redraw = redraw_1m(app)
    h, g = statistics.median(head), statistics.median(gui)
    late.sort()
    p99 = late[int(0.99 * (len(late) - 1))] if late else float("nan")
    print(f"\n{'measure':<42}{'value':>12}  goal")
    print(f"{'launch -> window shown':<42}{shown:>10.2f} s  < 2 s")
    print(f"{'launch -> first sample grid':<42}{first:>10.2f} s")
    print(f"{'headless throughput (' + args.preset + ')':<42}{h:>8.1f} img/s")
    print(f"{'window throughput':<42}{g:>8.1f} img/s")
    print(f"{'window / headless':<42}{g / h:>12.3f}  >= 0.97")
    print(f"{'event-loop lateness worst, training':<42}{late[-1] if late else float('nan'):>9.1f} ms  < 50 ms")
    print(f"{'event-loop lateness p99':<42}{p99:>9.1f} ms  < 20 ms")
    print(f"{'lateness worst, building/tracing':<42}{max(build, default=float('nan')):>9.1f} ms")
    print(f"{'plot: load 1,000,000 points':<42}{load * 1000:>9.0f} ms")
    print(f"{'plot: redraw with 1,000,000 points':<42}{redraw * 1000:>9.1f} ms")


if __name__ == "__main__":
    main()
