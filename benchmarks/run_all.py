"""Run every benchmark, print each one's table and write benchmarks/results.md.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/run_all.py [--quick]

Each script measures its comparison side by side in one run (same process, alternating rounds), so the ratios
hold on any machine even though the absolute figures do not. `make bench` runs this.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def native_bf16() -> bool:
    sys.path.insert(0, str(HERE.parent))
    from ganstudio.engine.trainer import cpu_has_native_bf16

    return cpu_has_native_bf16()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer steps and images (a smoke run, noisier figures)")
    args = ap.parse_args()
    q = args.quick
    jobs = [
        # 'auto' is bf16 where the CPU has it (then "engine fp32" shows the plain step), else fp32; emulated bf16
        # is ~10x slower and not worth the minutes.
        ("Engine vs the tutorial's own loop", ["throughput.py", "--steps", "8" if q else "20", "--rounds", "2",
                                               "--skip", "engine bf16,engine bf16 stock,dcgan bf16 stock"
                                               if native_bf16() else "engine bf16,engine fp32,dcgan bf16,"
                                               "engine bf16 stock,dcgan bf16 stock"]),
        # 50 steps: the first ~30 carry most follow-mode range changes (the costliest repaints); runs are longer.
        ("Studio vs headless, responsiveness, startup, 1M-point plot",
         ["gui.py", "--steps", "10" if q else "50", "--rounds", "1" if q else "3"]),
        ("Input pipeline on a folder of 64x64 PNGs", ["data_pipeline.py", "--images", "2000" if q else "20000",
                                                     "--steps", "10" if q else "20"]),
        ("Memory growth with the window open", ["memory.py", "--steps", "2000" if q else "10000",
                                                "--first", "200" if q else "1000"]),
        # the default preset, and dcgan, whose 3x faster steps make the metric's share largest
        ("Quality metric vs training time (tutorial)", ["metric_cost.py", "--steps", "6" if q else "12",
                                                        "--rounds", "2" if q else "3"]),
        ("Quality metric vs training time (dcgan)", ["metric_cost.py", "--preset", "dcgan", "--steps",
                                                    "10" if q else "30", "--rounds", "2" if q else "3"]),
    ]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), TF_CPP_MIN_LOG_LEVEL="2")
    isa = "native bf16 (AVX512-BF16/AMX)" if native_bf16() else "no native bf16"
    sections = [f"# Benchmark results\n\nMachine: {cpu_name()}, {os.cpu_count()} cores, {isa}, Python "
                f"{platform.python_version()}; {time.strftime('%Y-%m-%d')}.\n"]
    for title, cmd in jobs:
        print(f"== {title}: {' '.join(cmd)}", flush=True)
        r = subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]], capture_output=True, text=True, env=env)
        out = "\n".join(line for line in r.stdout.splitlines() if "propagateSizeHints" not in line)
        print(out, flush=True)
        if r.returncode:
            print(r.stderr[-2000:], file=sys.stderr)
        sections.append(f"## {title}\n\n`python benchmarks/{' '.join(cmd)}`\n\n```\n{out.strip()}\n```\n")
    (HERE / "results.md").write_text("\n".join(sections))
    print(f"wrote {HERE / 'results.md'}")


if __name__ == "__main__":
    main()
