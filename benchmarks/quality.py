"""How good does each preset get, on how much data, in a fixed budget? Trains every preset (or variant) x dataset
size x seed for the same training time (or steps), then scores the final generator with the in-app metric
(metrics.QualityMetric on the bundled classifier's features) and writes docs/quality.md with a grid per run.

    .venv/bin/python benchmarks/quality.py                       # the full table: 5 minutes per run, 2 seeds
    .venv/bin/python benchmarks/quality.py --minutes 20          # the long budget
    .venv/bin/python benchmarks/quality.py --minutes 1 --seeds 1 --presets tutorial,dcgan --sizes 600,full
    .venv/bin/python benchmarks/quality.py --suite ablation --sizes 2000 \\
        --variant dcgan+ema=dcgan:ema_decay=0.99117,ema_rampup=0.05 --variant dcgan+ttur=dcgan:g_lr=1e-4,d_lr=4e-4

Every run appends one row to docs/quality/results.jsonl (machine, budget, command and numbers); docs/quality.md is
rendered from all rows, grouped by suite and budget, so a partial rerun adds to the table instead of erasing it
(--fresh starts over); docs/quality/notes.md, written by hand, goes above the tables. Scores, all on the same
1,000 generated images from fixed noise:
- FD and KID against the 1,000 Fashion-MNIST test images shipped in resources/ (never trained on), so runs on
  different training sets are compared on one reference (the studio's own FD compares with the run's data);
- memorization: the in-app ratio against the run's own training images (~1 healthy, well below 1 = copying).
`--real` scores 1,000 of each size's own training images the same way (the mean of 20 draws; the 600 drawn with
repeats): what a generator that reproduced its training set would get, shown beside each summary.
Sizes: 600 and 2000 are the first images of the bundled 6,000; `full` is the 60,000-image train set from Debian's
dataset-fashion-mnist IDX files (`apt-get install dataset-fashion-mnist`).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FULL_IDX = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
OUT_DIR = ROOT / "docs" / "quality"
RESULTS = OUT_DIR / "results.jsonl"
REAL = OUT_DIR / "real.json"   # each size's real training images, scored like a generator: what copying would reach
DOC = ROOT / "docs" / "quality.md"
NOTES = OUT_DIR / "notes.md"
EXPECT = ROOT / "resources" / "quality_expectations.json"   # the presets' guidance reads the table from here
N_GENERATED = 1000


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, load average {load:.1f} at start"


def dataset_for(size: str):
    from ganstudio.data import load_dataset

    if size == "full":
        if not FULL_IDX.exists():
            raise SystemExit(f"{FULL_IDX} is missing: apt-get install dataset-fashion-mnist, or drop 'full' from "
                             f"--sizes")
        return load_dataset(str(FULL_IDX)), str(FULL_IDX)
    n = int(size)
    return load_dataset("bundled", limit=n if n < 6000 else 0), "bundled"


def parse_variant(spec: str) -> tuple[str, str, dict[str, str]]:
    """'label=preset:key=v,key=v' (or a bare preset name) -> (label, preset, overrides)."""
    head, _, sets = spec.partition(":")
    label, _, preset = head.rpartition("=")
    overrides = dict(kv.split("=", 1) for kv in sets.split(",") if kv)
    return label or preset, preset, overrides


def train_one(label: str, preset: str, overrides: dict, size: str, seed: int, minutes: float, steps: int,
              scorers: dict, run_dir: Path, score_at: tuple[float, ...] = ()) -> list[dict]:
    """Train one configuration and score it at the end of its budget, and also at each of score_at's earlier
    training-time marks (minutes): nothing in the engine depends on the total budget, so the generator at a 20-minute
    run's 5-minute mark is the one a 5-minute run ends with. One row per score."""
    from ganstudio.engine import Finished, StepMetrics
    from ganstudio.engine.trainer import Trainer

    ds, spec = dataset_for(size)
    cfg = get_cfg(preset, overrides, spec, seed, minutes, steps)
    t = Trainer(cfg, run_dir=run_dir, dataset=ds)
    last, finished, rows = None, None, []
    marks = sorted(m for m in score_at if not steps and m < minutes)
    for ev in t.run():   # a generator on this thread: scoring between steps touches TF on the training thread
        if isinstance(ev, StepMetrics):
            last = ev
            if marks and t.train_seconds >= 60 * marks[0]:
                rows.append(score(t, last, None, label, preset, overrides, size, ds, seed, f"{marks.pop(0):g} min",
                                  scorers))
        elif isinstance(ev, Finished):
            finished = ev
    budget = scorers["budget"] or (f"{steps} steps" if steps else f"{minutes:g} min")
    return rows + [score(t, last, finished, label, preset, overrides, size, ds, seed, budget, scorers)]


def get_cfg(preset: str, overrides: dict, spec: str, seed: int, minutes: float, steps: int):
    from ganstudio.config.presets import get_preset

    return get_preset(preset).config().with_updates(
        {"dataset": spec, "seed": seed, "steps": steps, "epochs": 0, "train_minutes": 0 if steps else minutes,
         "metric_every": 0, "checkpoint_every": 0, "checkpoint_minutes": 0, "tensorboard": False,
         "sample_every": 10**6, **overrides})


def score(t, last, finished, label: str, preset: str, overrides: dict, size: str, ds, seed: int, budget: str,
          scorers: dict) -> dict:
    """One table row: the generator as it is now, scored on 1,000 samples from fixed noise."""
    import numpy as np

    from ganstudio.core.imaging import save_grid

    n = N_GENERATED
    noise = np.random.default_rng(t.config.train.seed + 2).standard_normal((n, t.config.model.noise_dim))

    def generate(**kw):
        return np.concatenate([t.sample(noise[i:i + 500].astype(np.float32), **kw) for i in range(0, n, 500)])
    images = generate()
    test = scorers["test"].score(images)
    raw = {}
    if getattr(t, "G_ema", None) is not None:   # the same step's un-averaged G: EMA's own effect, paired exactly
        raw = {"fd_raw": scorers["test"].score(generate(ema=False))["fd"]}
    if size not in scorers:
        from ganstudio.metrics import QualityMetric

        scorers[size] = QualityMetric(scorers["fn"], ds.images)
    memo = scorers[size].score(images)["memorization"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = budget.replace(" ", "")
    grid = OUT_DIR / f"{scorers['suite']}-{label}-{size}-s{seed}-{tag}.png"
    save_grid(t.sample(t.fixed_noise.numpy()[:16]), grid, rows=4, scale=2)
    return {"suite": scorers["suite"], "label": label, "preset": preset, "overrides": overrides, "size": size,
            "images": len(ds), "seed": seed, "budget": budget,
            "steps": t.step, "train_seconds": round(t.train_seconds, 1),
            "epochs": float(f"{last.epoch:.2g}") if last else 0.0, "fd": test["fd"], "kid": test["kid"],
            "memorization": memo, "diversity": test["diversity"], "ada_p": last.ada_p if last else 0.0,
            **raw, "reason": finished.reason if finished else "budget mark",
            "grid": str(grid.relative_to(ROOT / "docs")), "machine": scorers["machine"],
            "command": scorers["command"], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def row_key(r: dict) -> tuple:
    """A table cell: a later row with the same key replaces the stored one."""
    return r["suite"], r["budget"], r["label"], r["size"], r["seed"]


def done(row: dict, key: tuple, preset: str, overrides: dict) -> bool:
    """Whether a stored row already measured this cell: the same key, or the same preset's configuration at the same
    budget, size and seed in any suite (a variant that equals a preset counts as it, as in the guidance data)."""
    if row_key(row) == key:
        return True
    _, budget, _, size, seed = key
    if (row["budget"], row["size"], row["seed"]) != (budget, size, seed):
        return False
    ours = preset_of({"preset": preset, "overrides": overrides})
    return ours is not None and preset_of(row) == ours


def _hyper(preset: str, overrides: dict):
    """A configuration's hyperparameters, without the preset's name, for comparing configurations."""
    return dataclasses.replace(get_cfg(preset, overrides, "bundled", 1, 5.0, 0), preset="any")


@functools.cache
def _preset_hypers() -> tuple[tuple[str, object], ...]:
    from ganstudio.config.presets import PRESETS

    return tuple((name, _hyper(name, {})) for name in PRESETS)


def preset_of(row: dict) -> str | None:
    """The preset whose configuration the row trained (a variant counts as the preset it equals), or None."""
    return _preset_of(row["preset"], tuple(sorted(row["overrides"].items())))


@functools.cache   # --skip-done asks this of every stored row for every cell: build each configuration once
def _preset_of(preset: str, overrides: tuple[tuple[str, str], ...]) -> str | None:
    from ganstudio.config.presets import PRESETS

    if preset not in PRESETS:
        return None
    if not overrides:
        return preset
    cfg = _hyper(preset, dict(overrides))
    return next((name for name, hyper in _preset_hypers() if hyper == cfg), None)


def write_expectations(rows: list[dict]) -> None:
    """Every time-budget row of a preset's configuration (the "presets" suite's first where a variant in another
    suite trained the same one), as the data ganstudio.config.presets quotes: per budget, preset and dataset size the mean
    FD over seeds (with each seed's), and the steps reached."""
    from ganstudio.config.presets import EXPECTATIONS

    assert EXPECT.name == EXPECTATIONS
    budgets: dict = {}
    seen: set[tuple] = set()
    for r in sorted(rows, key=lambda r: r["suite"] != "presets"):
        name = preset_of(r) if r["budget"].endswith(" min") else None
        if name and (r["budget"], name, r["size"], r["seed"]) not in seen:
            seen.add((r["budget"], name, r["size"], r["seed"]))
            budgets.setdefault(r["budget"], {}).setdefault(name, {}).setdefault(r["size"], []).append(r)
    table = {b: {p: {size: {"images": rs[0]["images"], "fd": round(sum(r["fd"] for r in rs) / len(rs), 1),
                            "fd_seeds": [round(r["fd"], 1) for r in sorted(rs, key=lambda r: r["seed"])],
                            "seeds": sorted(r["seed"] for r in rs),
                            "steps": round(sum(r["steps"] for r in rs) / len(rs))}
                     for size, rs in sizes.items()} for p, sizes in ps.items()} for b, ps in budgets.items()}
    machines = sorted({r["machine"].split(", load")[0] for r in rows if r["suite"] == "presets"})
    EXPECT.write_text(json.dumps({"source": "docs/quality.md (benchmarks/quality.py)", "machine": "; ".join(machines),
                                  "budgets": table}, indent=1) + "\n")


def score_real(size: str, scorers: dict, draws: int = 20) -> dict:
    """FD of 1,000 of the size's own training images against the test reference, like a generator's 1,000 samples
    (drawn with repeats where there are fewer): the floor that copying the training set would reach. Mean of
    `draws` draws, each given."""
    import numpy as np

    ds, _ = dataset_for(size)
    rng = np.random.default_rng(0)
    fds = [scorers["test"].score(ds.images[rng.choice(len(ds), N_GENERATED, replace=len(ds) < N_GENERATED)])["fd"]
           for _ in range(draws)]
    return {"images": len(ds), "fd": float(np.mean(fds)), "fd_draws": [round(f, 2) for f in fds]}


def load_real() -> dict[str, dict]:
    return json.loads(REAL.read_text()) if REAL.exists() else {}


def summary(rs: list[dict], sizes: dict[str, int], real: dict[str, dict] | None = None) -> list[str]:
    """FD at a glance: one line per dataset size, one column per configuration (best first on the largest size),
    each cell the mean over seeds with the seeds' own values (and which seeds, unless they are 1, 2, ...), the row's
    lowest mean in bold; then, where --real scored them, the size's real training images."""
    labels = sorted({r["label"] for r in rs}, key=lambda lb: min(r["fd"] for r in rs if r["label"] == lb))
    real = real or {}
    out = ["| FD (mean; per seed) | " + " | ".join(f"`{lb}`" for lb in labels) +
           (" | 1,000 real training images |" if real else " |"),
           "|---" * (len(labels) + 1 + bool(real)) + "|"]
    for size in sorted({r["size"] for r in rs}, key=lambda z: sizes.get(z, 9)):
        parts = []   # (mean, "per seed; which seeds") per configuration, None where it did not run
        for lb in labels:
            runs = sorted((r["seed"], r["fd"]) for r in rs if r["size"] == size and r["label"] == lb)
            if not runs:
                parts.append(None)
                continue
            seeds, fds = [sd for sd, _ in runs], [f for _, f in runs]
            which = "" if seeds == list(range(1, len(seeds) + 1)) else \
                ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))
            each = " / ".join(f"{f:.1f}" for f in fds) if len(fds) > 1 else ""
            parts.append((sum(fds) / len(fds), "; ".join(x for x in (each, which) if x)))
        best = min(p[0] for p in parts if p)
        cells = ["–" if p is None else (f"**{p[0]:.1f}**" if p[0] == best else f"{p[0]:.1f}") +
                 (f" ({p[1]})" if p[1] else "") for p in parts]
        if real:
            cells.append(f"{real[size]['fd']:.1f}" if size in real else "–")
        images = next(r["images"] for r in rs if r["size"] == size)
        out.append(f"| {images:,} images | " + " | ".join(cells) + " |")
    return out


def render(rows: list[dict]) -> str:
    """docs/quality.md from every stored row: one table per (suite, budget), runs grouped by dataset size."""
    real = load_real()
    floor = "" if not real else (
        "; the summaries' last column scores 1,000 of each size's own training images the same way, what a generator "
        "that reproduced them would get: " + ", ".join(
            "{:.1f} for {:,} images".format(v["fd"], v["images"]) for v in sorted(real.values(),
                                                                                  key=lambda v: v["images"])))
    out = ["# Quality by preset and dataset size\n",
           "Written by `benchmarks/quality.py` (see its docstring for every option). FD and KID: the final generator's "
           "1,000 samples from fixed noise against the 1,000 Fashion-MNIST test images in `resources/`, in the "
           f"bundled classifier's feature space (lower is better{floor}). "
           "Memorization: the in-app ratio against the run's own training images (about 1 = new images, well "
           "below 1 = copies). With an EMA of G, FD scores the average and \"(G …)\" the same step's un-averaged "
           "G. Budget: training time inside steps (start-up, tracing and scoring excluded) or a step count; `steps` "
           "and `epochs` say how far each run got in it.\n"]
    if NOTES.exists():   # what ran, on what machine, and what it showed: written by hand, kept across reruns
        out.append(NOTES.read_text())
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["suite"], r["budget"]), []).append(r)
    sizes = {"600": 0, "2000": 1, "6000": 2, "full": 3}
    suites = {"presets": 0, "ada": 1, "ablation": 2, "longer": 3, "reduced": 4}   # the headline table first
    for (suite, budget), rs in sorted(groups.items(), key=lambda g: suites.get(g[0][0], 2)):
        out.append(f"## {suite}: {budget} per run\n")
        for m in sorted({(r["machine"], r["command"]) for r in rs}):
            out.append(f"- `{m[1]}` on {m[0]}")
        # A variant's own preset, where this table did not run it, from the presets table at the same budget, size
        # and seed, so that the summary compares each variant with its base pairwise.
        run_here, wanted = {x["label"] for x in rs}, {(x["preset"], x["size"], x["seed"]) for x in rs}
        base = [] if suite == "presets" else [
            r for r in rows if r["suite"] == "presets" and r["budget"] == budget and not r["overrides"]
            and r["label"] not in run_here and (r["label"], r["size"], r["seed"]) in wanted]
        out += ["", *summary(rs + base, sizes, real)]
        if base:
            names = ", ".join(sorted({"`" + r["label"] + "`" for r in base}))
            out.append(f"\n{names}: from the presets table at the same budget, sizes and seeds.")
        out.append("\n| size | preset | overrides | seed | steps | epochs | FD | KID | memorization | ADA p | final grid |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in sorted(rs, key=lambda r: (sizes.get(r["size"], 9), r["fd"])):
            ov = ", ".join(f"{k}={v}" for k, v in r["overrides"].items()) or "-"
            p = f"{r['ada_p']:.2f}" if r["overrides"].get("ada_target") and "ada_p" in r else "-"   # at the end
            raw = f" (G {r['fd_raw']:.1f})" if "fd_raw" in r else ""   # with an EMA: the un-averaged G's FD
            out.append(f"| {r['images']:,} | `{r['label']}` | {ov} | {r['seed']} | {r['steps']:,} | {r['epochs']:g} "
                       f"| {r['fd']:.1f}{raw} | {r['kid']:.2f} | {r['memorization']:.2f} | {p} "
                       f"| ![{r['label']}]({r['grid']}) |")
        out.append("")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=5.0, help="training time per run (default 5; the issue's "
                        "long budget is 20)")
    budget.add_argument("--steps", type=int, default=0, help="a step budget instead of a time budget")
    ap.add_argument("--presets", default="", help="comma-separated presets (default: every preset but tiny and "
                    "cdcgan, which the table does not rank)")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL=PRESET:key=v,...",
                    help="an extra configuration (repeatable), e.g. dcgan+ema=dcgan:ema_decay=0.99117")
    ap.add_argument("--sizes", default="600,2000,6000,full")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--suite", default="presets", help="the table this run's rows go to")
    ap.add_argument("--budget-label", default="", help="the budget's name in the table, e.g. when step budgets of "
                    "different presets stand for one training time (default: '5 min' or 'N steps')")
    ap.add_argument("--fresh", action="store_true", help="forget earlier rows in docs/quality/results.jsonl")
    ap.add_argument("--render-only", action="store_true", help="rewrite docs/quality.md from the stored rows")
    ap.add_argument("--real", action="store_true", help="score 1,000 real training images of each of --sizes "
                    "(the floor copying would reach) into docs/quality/real.json instead of training")
    ap.add_argument("--score-at", default="", metavar="MINUTES,...", help="also score each run at these earlier "
                    "marks of training time, e.g. --minutes 20 --score-at 5 gives the 5- and 20-minute rows in one run")
    ap.add_argument("--skip-done", action="store_true", help="leave out runs whose final row is already stored (to "
                    "continue an interrupted table)")
    args = ap.parse_args()

    if args.real and (args.render_only or args.fresh):
        ap.error("--real only adds the real images' scores to the stored table: leave out --render-only and --fresh")
    rows = [] if args.fresh or not RESULTS.exists() else \
        [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    if not args.render_only:
        import logging
        import tempfile

        logging.getLogger("tensorflow").setLevel(logging.ERROR)   # sample()'s retrace notes for each new run

        import numpy as np

        from ganstudio.data import load_dataset
        from ganstudio.metrics import QualityMetric, get_classifier
        from ganstudio.config.presets import PRESETS
        from ganstudio.core.resources import resource_path

        fn, _, _ = get_classifier(load_dataset("bundled"))
        with np.load(resource_path("fashion_mnist_subset.npz")) as z:
            x_test = z["x_test"][..., None]
        scorers = {"fn": fn, "test": QualityMetric(fn, x_test, n=len(x_test)), "suite": args.suite,
                   "budget": args.budget_label, "machine": machine(),
                   "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:])}
        names = [p for p in args.presets.split(",") if p] or \
            ([] if args.variant else [p for p in PRESETS if p not in ("tiny", "cdcgan")])
        configs = [(n, n, {}) for n in names] + [parse_variant(v) for v in args.variant]
        score_at = tuple(float(m) for m in args.score_at.split(",") if m)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        if args.real:   # instead of training
            real, configs = load_real(), []
            for size in args.sizes.split(","):
                real[size] = score_real(size, scorers)
                print(f"real training images {size:>5}: FD {real[size]['fd']:.2f} {real[size]['fd_draws']}",
                      flush=True)
            REAL.write_text("{\n" + ",\n".join(f' "{k}": {json.dumps(v)}' for k, v in sorted(real.items())) + "\n}\n")
        with tempfile.TemporaryDirectory() as d:
            for size in args.sizes.split(","):
                for seed in map(int, args.seeds.split(",")):
                    for label, preset, overrides in configs:
                        budget = args.budget_label or (f"{args.steps} steps" if args.steps else f"{args.minutes:g} min")
                        key = (args.suite, budget, label, size, seed)
                        if args.skip_done and any(done(r, key, preset, overrides) for r in rows):
                            print(f"{label:<14} {size:>5} seed {seed}: stored, skipped", flush=True)
                            continue
                        t0 = time.perf_counter()
                        new = train_one(label, preset, overrides, size, seed, args.minutes, args.steps, scorers,
                                        Path(d) / f"{label}-{size}-{seed}", score_at)
                        keys = {row_key(r) for r in new}
                        rows = [r for r in rows if row_key(r) not in keys] + new
                        RESULTS.write_text("".join(json.dumps(r) + "\n" for r in rows))
                        DOC.write_text(render(rows))
                        write_expectations(rows)
                        for row in new:
                            print(f"{label:<14} {size:>5} seed {seed} {row['budget']:>7}: {row['steps']:6,} steps "
                                  f"({row['epochs']:g} epochs)  FD {row['fd']:7.2f}  KID {row['kid']:.3f}  "
                                  f"memorization {row['memorization']:.2f}", flush=True)
                        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    DOC.write_text(render(rows))
    write_expectations(rows)
    print(f"wrote {DOC.relative_to(ROOT)} and {EXPECT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
