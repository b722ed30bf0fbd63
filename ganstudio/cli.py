"""Command line: `ganstudio` opens the studio; `ganstudio train|resume|presets ...` run the same engine headless.

User errors (GanStudioError, bad arguments) print one line and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .config import describe_fields
from .config.options import (add_config_options, add_set_option, add_strategy_option, config_from_args,
                             set_updates)
from .core.errors import GanStudioError

EXIT_USER_ERROR = 2
VERBOSE_HELP = ("keep TensorFlow's C++ start-up log lines (oneDNN, CUDA probing), hidden by default; "
                "also GANSTUDIO_VERBOSE=1")

EPILOG = """\
examples:
  ganstudio                                  open the studio window
  ganstudio train --steps 2000               train the TF DCGAN tutorial on the bundled Fashion-MNIST subset
  ganstudio train --preset dcgan --set g_lr=2e-4 --set beta1=0.5 --run-dir runs/my-dcgan
  ganstudio resume runs/my-dcgan --steps 4000
  ganstudio sweep --preset dcgan --grid g_lr=1e-4,2e-4,4e-4 --grid d_steps=1,2 --minutes 3
  ganstudio presets
"""


def _add_checkpoint_arg(p: argparse.ArgumentParser) -> None:
    """--checkpoint for sample, export, eval and resume; engine.checkpoints.find_checkpoint parses and checks it."""
    p.add_argument("--checkpoint", default=None, metavar="best|latest|STEP",
                   help="which checkpoint: best (lowest Fréchet distance so far), latest (default) or a step number")


def _add_train_args(p: argparse.ArgumentParser) -> None:
    add_config_options(p)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, metavar="N", help="train for N steps in total")
    budget.add_argument("--epochs", type=int, default=None, metavar="N", help="train for N epochs (default 50)")
    p.add_argument("--sample-every", type=int, default=None, metavar="N", help="write a sample grid every N steps")
    add_strategy_option(p)
    p.add_argument("--help-config", action="store_true", help="list every config key with its range and exit")
    p.add_argument("--no-progress", action="store_true", help="print one line per sample instead of a progress bar")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ganstudio", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="A desktop studio for training GANs on TensorFlow/Keras. Without a command it opens the "
                    "studio window; the commands run the same engine headless and write the same run folder.")
    ap.add_argument("--version", action="version", version=f"ganstudio {__version__}")
    ap.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the studio window (the default without a command)")
    gui.add_argument("--preset", default=None, help="preset to select at start")
    gui.add_argument("--dataset", default=None, help="dataset spec to select at start")
    gui.add_argument("--run-dir", type=Path, default=None, help="open this run folder")
    gui.add_argument("--start", action="store_true", help="start training as soon as the window is up")

    tr = sub.add_parser("train", help="train headless with a progress bar, writing a run folder",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="Train headless. Writes RUN_DIR/config.json, metrics.jsonl, samples/step_NNNNNN.png, "
                                    "samples/final.png and checkpoints/. Ctrl-C stops after the current step and "
                                    "leaves a valid, resumable run folder.")
    _add_train_args(tr)
    tr.add_argument("--run-dir", type=Path, default=None, metavar="DIR",
                    help="run folder (default: runs/<timestamp>-<preset>/; must not already hold a run)")

    rs = sub.add_parser("resume", help="continue a run from its latest checkpoint",
                        description="Continue RUN_DIR from its latest (or --checkpoint) checkpoint with the config "
                                    "it was saved with. Continuing from an older checkpoint moves the newer ones aside "
                                    "to RUN_DIR/abandoned/ (kept, never resumed).")
    rs.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    budget = rs.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, metavar="N", help="new total step budget")
    budget.add_argument("--epochs", type=int, default=None, metavar="N", help="new total epoch budget")
    add_strategy_option(rs)   # checkpoints restore across strategies
    _add_checkpoint_arg(rs)
    add_set_option(rs, "change config fields for the rest of the run, e.g. --set g_lr=1e-4 (the adviser's "
                       "remedies print such commands); the model's shape must stay the same")
    rs.add_argument("--no-progress", action="store_true", help="print one line per sample instead of a progress bar")

    sp = sub.add_parser("sample", help="write an image grid from a run's generator",
                        description="Generate images from RUN_DIR's latest (or --checkpoint) generator.")
    sp.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    sp.add_argument("-n", type=int, default=64, help="number of images (default 64)")
    sp.add_argument("--seed", type=int, default=None, help="noise seed (default: the run's fixed noise when n fits)")
    sp.add_argument("--rows", type=int, default=0, help="grid rows (default: square)")
    sp.add_argument("--scale", type=int, default=1, help="integer nearest-neighbour upscaling")
    sp.add_argument("--out", type=Path, default=None, help="grid PNG (default RUN_DIR/sample_stepNNNNNN_nN.png)")
    _add_checkpoint_arg(sp)
    sp.add_argument("--individual", type=Path, default=None, metavar="DIR", help="also write one PNG per image")
    sp.add_argument("--force", action="store_true", help="replace existing output files")

    from .outputs.export import EXPORT_FORMATS, FORMATS  # noqa: PLC0415 - numpy/PIL only

    ex = sub.add_parser("export", help="export the generator (.keras, SavedModel, ONNX, LiteRT), a GIF of training "
                                       "or a checkpoint",
                        description=" ".join(f"{f.name}: {f.help}" for f in EXPORT_FORMATS.values()))
    ex.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    ex.add_argument("--format", required=True, choices=FORMATS)
    ex.add_argument("--out", type=Path, default=None, help="output path (default inside RUN_DIR)")
    _add_checkpoint_arg(ex)
    ex.add_argument("--duration", type=int, default=200, metavar="MS", help="gif: milliseconds per frame")
    ex.add_argument("--start", type=int, default=0, metavar="STEP", help="gif: first step")
    ex.add_argument("--end", type=int, default=None, metavar="STEP", help="gif: last step")
    ex.add_argument("--force", action="store_true",
                    help="replace an existing output (a folder only if it is a SavedModel ganstudio exported)")

    wt = sub.add_parser("watch", help="open the studio following a run another process is writing",
                        description="Follow RUN_DIR live (metrics and sample grids) without loading TensorFlow; "
                                    "works on a shared or synced folder while a headless run writes it.")
    wt.add_argument("run_dir", type=Path, metavar="RUN_DIR")

    ev = sub.add_parser("eval", help="quality metric (Fréchet distance, KID) of a run's generator",
                        description="Fréchet distance and KID between N generated images and the run's dataset in "
                                    "the feature space of a small classifier trained on that dataset (cached).")
    ev.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    _add_checkpoint_arg(ev)
    ev.add_argument("-n", type=int, default=1000, help="generated images (default 1000)")

    rp = sub.add_parser("report", help="write a one-page HTML report of a run",
                        description="One self-contained HTML file built from RUN_DIR alone: config and its edits, "
                                    "dataset, device and precision, loss / D-output / quality curves, the sample grid "
                                    "timeline, the best checkpoint, every adviser warning at its step, time and "
                                    "throughput. Works while the run is still training.")
    rp.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    rp.add_argument("--out", type=Path, default=None, help="output file (default RUN_DIR/report.html)")

    sub.add_parser("presets", help="list presets with a one-line description")

    im = sub.add_parser("import", help="unpack a checkpoint archive into a new run folder",
                        description="Unpack ARCHIVE (from `ganstudio export RUN --format checkpoint`) into a new run "
                                    "folder (default: the runs root / the original run's name); `ganstudio resume` "
                                    "continues it exactly.")
    im.add_argument("archive", type=Path, metavar="ARCHIVE")
    im.add_argument("--run-dir", type=Path, default=None, metavar="DIR", help="the new run folder (must not exist)")

    di = sub.add_parser("desktop-install", help="add ganstudio to the desktop's application menu (this user)",
                        description="Write a freedesktop.org .desktop entry and the icon under $XDG_DATA_HOME "
                                    "(~/.local/share); it starts this Python's ganstudio. --uninstall removes both.")
    di.add_argument("--uninstall", action="store_true", help="remove the entry and the icon")
    from .sweeps.command import add_parser as add_sweep_parser  # noqa: PLC0415

    add_sweep_parser(sub)
    for p in sub.choices.values():   # also after the command; SUPPRESS: an absent flag keeps the top level's value
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return ap


def _train(config, show_progress: bool, **options) -> int:
    """Train `config` (options: the Trainer's run_dir, resume, ...) with a progress bar; the first Ctrl-C stops cleanly
    after the current step."""
    from tqdm import tqdm  # noqa: PLC0415

    from .engine import (CheckpointSaved, Control, Finished, HealthWarning, Message, Metric,  # noqa: PLC0415
                         RolledBack, SampleGrid, Started, StepMetrics, dispatch)
    from .engine.trainer import Trainer  # noqa: PLC0415
    from .metrics.advice import best_text  # noqa: PLC0415

    control = Control()

    def on_sigint(signum, frame):
        control.stop()
        print("\nstopping after the current step (Ctrl-C again to abort)...", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    bar = None
    scan_bar = None

    def on_progress(done: int, total: int) -> None:  # decoding an image folder before the first step
        nonlocal scan_bar
        if scan_bar is None:
            scan_bar = tqdm(total=total, unit="img", desc="decoding images", file=sys.stderr, disable=not show_progress)
        scan_bar.update(done - scan_bar.n)
        if done == total:
            scan_bar.close()

    # headless: after a NaN rollback there is nobody to press Resume; a failed write (disk full etc.) is one line,
    # exit 2, and the last checkpoint resumes once fixed
    trainer = Trainer(config, control=control, progress=on_progress, nan_action="stop", write_errors="raise",
                      **options)
    code = 0
    run_dir, best = "RUN", ""         # for the remedies' commands; "best FD .. @ step .." once measured

    def write(line: str) -> None:
        (bar.write if bar else print)(line)

    def started(ev: Started) -> None:
        nonlocal run_dir, bar
        run_dir = os.path.abspath(ev.run_dir)   # commands printed below work from any folder
        print(f"run folder: {ev.run_dir}\ndataset:    {ev.dataset}\ndevice:     {ev.device}\n"
              f"params:     G {ev.g_params:,}  D {ev.d_params:,}", file=sys.stderr)
        if show_progress:
            bar = tqdm(total=ev.total_steps or None, initial=ev.step, unit="step", dynamic_ncols=True, file=sys.stderr)

    def step_metrics(ev: StepMetrics) -> None:
        if bar is not None:
            bar.set_postfix_str(f"G {ev.g_loss:.3f}  D {ev.d_loss:.3f}  {ev.images_per_sec:,.0f} img/s"
                                + (f"  {best}" if best else ""), refresh=False)
            bar.update(ev.step - bar.n)

    def sample_grid(ev: SampleGrid) -> None:
        if bar is None and ev.path:
            print(f"step {ev.step}: {ev.path}", file=sys.stderr)

    def checkpoint_saved(ev: CheckpointSaved) -> None:
        if bar is None:
            print(f"checkpoint: {ev.path}", file=sys.stderr)

    def metric(ev: Metric) -> None:
        nonlocal best
        best = best_text(trainer.health.best)
        write(f"step {ev.step}: FD {ev.fd:.2f}  KID {max(ev.kid, 0.0):.3f}  diversity {ev.diversity:.2f}  "
              f"memorization {ev.memorization:.2f}  ({ev.n} samples, {ev.seconds:.1f} s)  {best}")

    def health_warning(ev: HealthWarning) -> None:
        for line in ev.cli_lines(run_dir):   # the remedies as exact commands
            write(line)

    def rolled_back(ev: RolledBack) -> None:
        if bar is not None:
            bar.n = ev.step

    def message(ev: Message) -> None:
        nonlocal code
        write(f"{ev.level}: {ev.text}")
        if ev.level == "error":
            code = 1

    def finished(ev: Finished) -> None:
        nonlocal bar, code
        if bar is not None:
            bar.close()
            bar = None
        print(f"{ev.reason} at step {ev.step}; final grid: {ev.final_grid or '-'}\nrun folder: {ev.run_dir}",
              file=sys.stderr)
        if ev.reason == "error":
            code = 1      # NaN or divergence: rolled back and stopped; the fix printed above resumes it
        else:
            print(f"report: ganstudio report {shlex.quote(run_dir)}\ntrain on: ganstudio resume "
                  f"{shlex.quote(run_dir)}", file=sys.stderr)

    handlers = {Started: started, StepMetrics: step_metrics, SampleGrid: sample_grid,
                CheckpointSaved: checkpoint_saved, Metric: metric, HealthWarning: health_warning,
                RolledBack: rolled_back, Message: message, Finished: finished}
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for ev in trainer.run():
            dispatch(ev, handlers)
    finally:
        if bar is not None:
            bar.close()
        signal.signal(signal.SIGINT, previous)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not [a for a in argv if a != "--verbose"]:
        argv = [*argv, "gui"]
    if argv[0] in ("train",) and "--help-config" in argv:
        print(describe_fields())
        return 0
    args = parser.parse_args(argv)
    if args.verbose:
        from .core.tfsetup import set_verbose  # noqa: PLC0415 - no TensorFlow: it reads the setting when it loads

        set_verbose()
    try:
        if args.command == "gui":
            from .qt.app import main as gui_main  # noqa: PLC0415

            gui_args = []
            for flag in ("preset", "dataset", "run_dir"):
                if getattr(args, flag) is not None:
                    gui_args += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
            gui_args += ["--start"] if args.start else []
            return gui_main(gui_args)
        if args.command == "eval":
            from .outputs.export import evaluate  # noqa: PLC0415

            r = evaluate(args.run_dir, step=args.checkpoint, n=args.n)
            acc = "n/a (unlabelled data: random features)" if r["accuracy"] is None else f"{r['accuracy']:.1%}"
            # KID is unbiased, so a generator close to the data can score a little below 0: shown as 0
            print(f"step {r['step']}: FD {r['fd']:.3f}  KID {max(r['kid'], 0.0):.4f}  diversity {r['diversity']:.3f}  "
                  f"memorization {r['memorization']:.3f}  "
                  f"(n={r['n']}, classifier: {r['source']}, test accuracy {acc})")
            return 0
        if args.command == "watch":
            from .qt.app import main as gui_main  # noqa: PLC0415

            return gui_main(["--watch", str(args.run_dir)])
        if args.command == "sweep":
            from .sweeps.command import run as run_sweep  # noqa: PLC0415

            return run_sweep(args)
        if args.command == "desktop-install":
            from .core import desktop_entry  # noqa: PLC0415

            paths = desktop_entry.uninstall() if args.uninstall else desktop_entry.install()
            verb = "removed" if args.uninstall else "wrote"
            print("\n".join(f"{verb} {p}" for p in paths) or "nothing to remove")
            return 0
        if args.command == "import":
            from .outputs.archive import import_checkpoint  # noqa: PLC0415

            path = import_checkpoint(args.archive, args.run_dir)
            print(f"{path}\ncontinue it with: ganstudio resume {path}")
            return 0
        if args.command == "report":
            from .outputs.report import write_report  # noqa: PLC0415

            print(write_report(args.run_dir, args.out))
            return 0
        if args.command == "presets":
            from .config.presets import PRESETS  # noqa: PLC0415

            width = max(map(len, PRESETS))
            for p in PRESETS.values():
                print(f"{p.name:<{width}}  {p.description}")
                if p.expect:   # measured in docs/quality.md
                    print(f"{'':<{width}}  {p.expect}")
            return 0
        if args.command == "train":
            cfg = config_from_args(args)
            # Without a pinned network (--preset, --config, --set arch) the data's shape picks one (issue 16.3).
            adapt = args.preset is None and args.config is None and \
                not any(s.split("=", 1)[0].strip().split(".")[-1] == "arch" for s in args.set)
            return _train(cfg, not args.no_progress, run_dir=args.run_dir, adapt_arch=adapt)
        if args.command == "sample":
            from .outputs.export import sample  # noqa: PLC0415

            paths = sample(args.run_dir, n=args.n, seed=args.seed, rows=args.rows, scale=args.scale, out=args.out,
                           step=args.checkpoint, individual=args.individual, force=args.force)
            print(paths[0])
            return 0
        if args.command == "export":
            from .outputs.export import export  # noqa: PLC0415

            print(export(args.run_dir, args.format, out=args.out, step=args.checkpoint, force=args.force,
                         duration_ms=args.duration, start=args.start, end=args.end))
            return 0
        if args.command == "resume":
            from .runs import RunDir  # noqa: PLC0415

            run = RunDir.open(args.run_dir)
            cfg = run.config()
            if args.steps is not None or args.epochs is not None:
                cfg = cfg.with_updates({"steps": args.steps or 0, "epochs": args.epochs or cfg.train.epochs})
            if args.strategy is not None:
                cfg = cfg.with_updates({"strategy": args.strategy})
            sets = set_updates(args.set)
            cfg = cfg.with_updates(sets)
            # A remedy printed as `resume RUN --set ...` must train: a run that used its budget trains as much again
            # unless the command gives a new one.
            extend = args.steps is None and args.epochs is None and \
                not any(k.split(".")[-1] in ("steps", "epochs", "train_minutes") for k in sets)
            return _train(cfg, not args.no_progress, run_dir=args.run_dir, resume=True, resume_step=args.checkpoint,
                          extend_budget=extend)
    except GanStudioError as e:
        print(f"ganstudio: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    parser.print_help()
    return EXIT_USER_ERROR
