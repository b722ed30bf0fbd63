"""`ganstudio sweep`: its arguments and the headless loop (cli.py hooks both in; the config options are
config/options.py's, as for `train`)."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from ..config.options import add_config_options, config_from_args

DESCRIPTION = """\
Train one run per configuration, each for the same budget, measure FD/KID at 1/4, 2/4, 3/4 and the end of
it, and rank them (Optuna: a grid or a TPE search; trials clearly behind are pruned). Each trial is an ordinary
run folder inside the sweep folder. Ctrl-C stops the current trial with a checkpoint; the same command again
continues (that trial resumes). With --storage several processes or machines share one study.

examples:
  ganstudio sweep --preset dcgan --grid g_lr=1e-4,2e-4,4e-4 --grid d_steps=1,2 --minutes 3
  ganstudio sweep --preset dcgan --search g_lr=1e-5..1e-3:log --search d_steps=1..3 --trials 20 --steps 2000
  ganstudio sweep --report runs/sweep-dcgan-1a2b3c4d
"""


def add_parser(sub) -> None:
    sw = sub.add_parser("sweep", help="compare configs at an equal training budget, or search hyperparameters",
                        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_options(sw)   # the base config every trial starts from
    sw.add_argument("--grid", action="append", default=[], metavar="KEY=A,B,...",
                    help="values to try (repeat for more keys: every combination runs)")
    sw.add_argument("--search", action="append", default=[], metavar="KEY=LOW..HIGH[:log]|KEY=A,B",
                    help="a range (ints for int fields) or choices for Optuna's TPE sampler")
    sw.add_argument("--trials", type=int, default=20, metavar="N", help="--search: trials in all (default 20)")
    sw.add_argument("--seeds", type=int, default=1, metavar="N",
                    help="--grid: run every combination with N seeds (--seed, --seed + 1, ...)")
    budget = sw.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="training time per trial (start-up and metric evaluation not counted)")
    budget.add_argument("--steps", type=int, default=None, metavar="N", help="steps per trial")
    sw.add_argument("--sweep-dir", type=Path, default=None, metavar="DIR",
                    help="sweep folder (default: runs/sweep-<preset>-<hash of the options>, so the same command "
                         "continues the same sweep)")
    sw.add_argument("--storage", default=None, metavar="URL",
                    help="Optuna RDB URL shared by several processes/machines, e.g. postgresql://user:PASSWORD@host/db "
                         "(needs the [postgres] extra; the password is never printed or stored: --report without "
                         "--storage takes it from PGPASSWORD or ~/.pgpass) (default: SQLite in the sweep folder)")
    sw.add_argument("--no-prune", action="store_true", help="run every trial to the end of its budget")
    sw.add_argument("--report", type=Path, default=None, metavar="DIR",
                    help="print a sweep's table and montage path again (rewrites them from its study) and exit")


def run(args: argparse.Namespace) -> int:
    from .folder import SweepDir  # noqa: PLC0415
    from .spec import make_spec  # noqa: PLC0415

    if args.report is not None:
        from .report import write_report  # noqa: PLC0415
        from .runner import load_study  # noqa: PLC0415

        folder = SweepDir(args.report)
        md, montage = write_report(folder, load_study(folder, args.storage))
        print(md)
        print(f"table: {folder.summary_md} and {folder.summary_csv}\nmontage: {montage or '- (no grids yet)'}")
        return 0
    spec = make_spec(config_from_args(args), args.grid, args.search, minutes=args.minutes or 0.0,
                     steps=args.steps or 0, trials=args.trials, seeds=args.seeds)

    from optuna.pruners import NopPruner  # noqa: PLC0415

    from ..engine.dispatch import dispatch  # noqa: PLC0415
    from ..engine.events import Message  # noqa: PLC0415
    from .events import SweepFinished, TrialFinished, TrialReport, TrialStarted  # noqa: PLC0415
    from .runner import Sweep  # noqa: PLC0415
    from .storage import masked  # noqa: PLC0415

    sweep = Sweep(spec, args.sweep_dir, storage=args.storage, pruner=NopPruner() if args.no_prune else None)
    sweep.open()   # a folder holding another sweep fails here, before TensorFlow loads
    unit = "s" if spec.minutes else " steps"
    print(f"sweep folder: {sweep.folder.path}\nstudy: {masked(sweep.folder.storage_url(args.storage))}\n"
          f"{spec.total} trials, {spec.budget:g}{unit} of training each", file=sys.stderr)

    def on_sigint(signum, frame):
        sweep.control.stop()
        print("\nstopping the trial after the current step, with a checkpoint; the same command continues "
              "(Ctrl-C again to abort)", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def trial_started(ev: TrialStarted) -> None:
        print(f"trial {ev.index + 1}/{ev.total} (#{ev.number}) {ev.label}{' (resuming)' if ev.resumed else ''}: "
              f"{ev.run_dir}", file=sys.stderr)

    def trial_report(ev: TrialReport) -> None:
        at = f"{ev.progress:,.0f} s, " if spec.minutes else ""
        print(f"  {at}step {ev.step:,}: FD {ev.fd:.2f}  KID {max(ev.kid, 0.0):.4f}"
              f"{'  -> pruned (clearly behind)' if ev.pruned else ''}", file=sys.stderr)

    def message(ev: Message) -> None:
        if ev.level != "info":
            print(f"  {ev.level}: {ev.text}", file=sys.stderr)

    def trial_finished(ev: TrialFinished) -> None:
        fd = "-" if ev.final_fd is None else f"{ev.final_fd:.2f}"
        print(f"  {ev.state}: {ev.steps:,} steps in {ev.train_seconds:.0f} s of training; final FD {fd}",
              file=sys.stderr)

    def sweep_finished(ev: SweepFinished) -> None:
        print(ev.summary)
        print(f"table: {sweep.folder.summary_md}\nmontage: {ev.montage or '-'}")
        if ev.reason == "stopped":
            print("stopped: run the same command again to continue (the interrupted trial resumes from its "
                  "checkpoint)", file=sys.stderr)

    handlers = {TrialStarted: trial_started, TrialReport: trial_report, Message: message,
                TrialFinished: trial_finished, SweepFinished: sweep_finished}
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for ev in sweep.run():
            dispatch(ev, handlers)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0
