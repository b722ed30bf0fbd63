"""A one-page run report: one self-contained HTML file (figures and sample grids embedded as base64 PNGs) built
only from the run folder, so it works for any run, finished, stopped or still training, from the CLI or the studio.

    ganstudio report RUN [--out report.html]

Figures come from matplotlib's Agg canvas (no pyplot, no global backend: safe in the studio's worker thread).
"""
from __future__ import annotations

import base64
import io
import math
import shlex
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ..config import FIELDS, Config
from ..core.errors import RunDirError
from ..core.fileio import atomic_write_text
from ..metrics.advice import HealthWarning, best_quality
from ..metrics.health import TITLES
from ..runs import RunDir

MAX_GRIDS = 7          # sample grids in the timeline (evenly spaced, plus the final one: one row of 8)
MAX_POINTS = 4000      # per curve: longer runs are min/max-decimated so peaks survive

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2330; background: #f4f5f7; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 20px 28px 40px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 2px; } h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #dde;
  padding-bottom: 3px; }
.sub { color: #667; margin-bottom: 14px; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; }
.card { flex: 1 1 140px; background: #f0f3f8; border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 18px; } .card span { color: #667; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td, th { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef; vertical-align: top; }
th { background: #f6f7fa; } code { font-size: 12px; background: #f3f3f6; padding: 0 3px; border-radius: 3px; }
.cols { display: flex; gap: 24px; } .cols > div { flex: 1; }
img.fig { width: 100%; }
.grids { display: flex; flex-wrap: wrap; gap: 10px; }
.grids figure { margin: 0; text-align: center; font-size: 12px; color: #556; }
.grids img { width: 116px; image-rendering: pixelated; border: 1px solid #ccd; }
.best img { width: 180px; }
.warn { border-left: 4px solid #f0b429; background: #fffaf0; padding: 6px 10px; margin: 6px 0; }
.warn.error { border-color: #ef5350; background: #fff5f5; }
.muted { color: #889; }
"""


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _fig_png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return _png(buf.getvalue())


def _decimate(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_POINTS points, each bucket's min and max kept (spikes stay visible)."""
    if len(x) <= MAX_POINTS:
        return x, y
    b = len(x) // (MAX_POINTS // 2)
    n = len(x) // b * b
    xs, ys = x[:n].reshape(-1, b), y[:n].reshape(-1, b)
    lo, hi = np.nanargmin(np.where(np.isfinite(ys), ys, np.inf), 1), np.nanargmax(np.where(np.isfinite(ys), ys, -np.inf), 1)
    idx = np.sort(np.stack([lo, hi], 1), 1)
    rows = np.arange(len(xs))[:, None]
    return xs[rows, idx].ravel(), ys[rows, idx].ravel()


def _smooth(y: np.ndarray, n: int) -> np.ndarray:
    """Centred moving mean over n points, from cumulative sums (linear time: a million rows take milliseconds);
    NaN/Inf are left out of the means, the window shrinks at the ends."""
    if len(y) < 3 or n < 2:
        return y
    ok = np.isfinite(y)
    total = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    count = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(len(y))
    lo, hi = np.clip(i - n // 2, 0, len(y)), np.clip(i + n - n // 2, 0, len(y))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total[hi] - total[lo]) / (count[hi] - count[lo])


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th point of a smooth curve, at most MAX_POINTS."""
    k = max(1, len(x) // MAX_POINTS)
    return x[::k], y[::k]


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r.get(key) if isinstance(r.get(key), (int, float)) else np.nan for r in rows], dtype=float)


def _curve_figure(rows: list[dict], quality: list[dict], warnings: list[HealthWarning]) -> str:
    from matplotlib.figure import Figure  # noqa: PLC0415

    qs, fd = _column(quality, "step"), _column(quality, "fd")
    measured = bool(np.isfinite(fd).any())
    fig = Figure(figsize=(10.6, 8.4 if measured else 5.8), layout="constrained")
    axes = fig.subplots(3 if measured else 2, 1, sharex=True)
    step = _column(rows, "step")
    win = max(1, len(rows) // 100)
    ax = axes[0]
    for key, label, color in (("g_loss", "G loss", "#1f77b4"), ("d_loss", "D loss", "#d62728")):
        y = _column(rows, key)
        x, yd = _decimate(step, y)
        ax.plot(x, yd, color=color, alpha=0.25, lw=0.8)
        ax.plot(*_thin(step, _smooth(y, win)), color=color, lw=1.6, label=f"{label} (smoothed)")
    finite = np.abs(np.concatenate([_column(rows, "g_loss"), _column(rows, "d_loss")]))
    finite = finite[np.isfinite(finite)]
    if finite.size and finite.max() > 1e3 * max(np.median(finite), 1e-3):
        ax.set_yscale("symlog", linthresh=1.0)   # exploded losses: keep the healthy part readable
    ax.set_ylabel("loss")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    for key, label, color in (("d_real", "D(x)", "#2ca02c"), ("d_fake", "D(G(z))", "#9467bd"),
                              ("r_real", "r_real = E[sign D(x)]", "#ff7f0e")):
        y = _column(rows, key)
        if np.isfinite(y).any():
            ax.plot(*_thin(step, _smooth(y, win)), color=color, lw=1.4, label=label)
    ax.set_ylabel("D output")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0.5, color="#aaa", lw=0.6, ls=":")
    ax.legend(loc="lower right", fontsize=8)
    if measured:
        ax = axes[2]
        ax.plot(qs, fd, "o-", color="#17becf", lw=1.4, ms=4, label="FD (lower is better)")
        best = best_quality(quality)
        ax.plot([best[1]], [best[0]], "*", color="#e6a700", ms=14, label=f"best FD {best[0]:.3g} @ {best[1]:,}")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_ylabel("Fréchet distance")
    axes[-1].set_xlabel("step")
    for w in warnings:
        for a in axes:
            a.axvline(w.step, color="#ef5350" if w.kind in ("nan", "divergence") else "#f0b429", lw=1, ls="--")
        axes[0].annotate(f" {TITLES.get(w.kind, w.kind)}", (w.step, 0.03), xycoords=("data", "axes fraction"),
                         fontsize=8, rotation=90, va="bottom", ha="right", color="#b26b00")
    for a in axes:
        a.grid(alpha=0.25)
    return _fig_png(fig)


def _throughput_figure(rows: list[dict]) -> str:
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(10.6, 2.2), layout="constrained")
    ax = fig.subplots()
    step, ips = _column(rows, "step"), _column(rows, "images_per_sec")
    x, y = _decimate(step, ips)
    ax.plot(x, y, color="#7f7f7f", lw=0.6, alpha=0.4)
    ax.plot(*_thin(step, _smooth(ips, max(1, len(rows) // 100))), color="#444", lw=1.4)
    ax.set_ylabel("images / s")
    ax.set_xlabel("step")
    ax.grid(alpha=0.25)
    return _fig_png(fig)


def _train_time(rows: list[dict]) -> float:
    """Seconds of training: `wall` restarts at 0 on every resume, so sum each segment's last value."""
    total, last = 0.0, 0.0
    for w in _column(rows, "wall"):
        if not math.isfinite(w):
            continue
        if w < last:
            total += last
        last = w
    return total + last


def _throughput(run: RunDir, rows: list[dict], batch_size: int) -> float:
    """Images / s over training time: the trainer's own clock inside training steps (train_seconds, kept with each
    checkpoint; start-up, tracing, grids, metric and checkpoint writes are not in it), so the figure matches the
    throughput curve. Without a checkpoint past step 0, the median of the logged rows."""
    import json  # noqa: PLC0415

    from ..engine.checkpoints import list_checkpoints  # noqa: PLC0415  (no TensorFlow import)

    for info in reversed(list_checkpoints(run.checkpoints)):
        try:
            seconds = float(json.loads((info.path / "meta.json").read_text()).get("train_seconds", 0.0))
        except (OSError, ValueError, TypeError):
            continue
        if info.step > 0 and seconds > 0:
            return info.step * batch_size / seconds
    ips = _column(rows, "images_per_sec")
    ips = ips[np.isfinite(ips)]
    return float(np.median(ips)) if ips.size else math.nan


def branch_points(sessions: list[dict]) -> list[tuple[float, int]]:
    """(time, step) of every point where the run continued from an earlier step: each resume after the first
    start and each rollback or restore."""
    return [(float(r["time"]), int(r["step"])) for r in sessions[1:]
            if isinstance(r.get("time"), (int, float)) and isinstance(r.get("step"), (int, float))]


def on_abandoned_branch(row: dict, points: list[tuple[float, int]]) -> bool:
    """A row (a warning or an edit, with its time and step) that a later continuation from an earlier step left
    behind. Rows without a time (older versions) count as current."""
    t, step = row.get("time"), row.get("step")
    return isinstance(t, (int, float)) and isinstance(step, (int, float)) and \
        any(pt > t and ps < step for pt, ps in points)


def _hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _config_section(cfg: Config, edits: list[dict], points: list[tuple[float, int]]) -> str:
    from ..config.presets import get_preset  # noqa: PLC0415
    from ..core.errors import GanStudioError  # noqa: PLC0415

    try:
        base = get_preset(cfg.preset).config()
    except GanStudioError:
        base = Config()
    start: dict[str, Any] = {}   # config.json is the current config: undo every edit (live or resume --set)
    for e in edits:
        for k, c in (e.get("changes") or {}).items():
            if isinstance(c, dict):
                start.setdefault(k, c.get("old"))
    changed = [(f, base.get(f.name), start.get(f.name, cfg.get(f.name)), cfg.get(f.name)) for f in FIELDS
               if base.get(f.name) != cfg.get(f.name) or f.name in start]
    rows = "".join(f"<tr><td><code>{escape(f.key)}</code></td><td>{escape(_value(first))}</td>"
                   f"<td>{escape(_value(now))}{' (unchanged)' if now == first else ''}</td>"
                   f"<td class=muted>{escape(_value(old))}</td></tr>" for f, old, first, now in changed)
    out = (f"<p>Preset <b>{escape(cfg.preset)}</b>, loss <b>{escape(cfg.optim.loss)}</b>, g_lr "
           f"{cfg.optim.g_lr:g}, d_lr {cfg.optim.d_lr:g}, batch {cfg.data.batch_size} (now).</p>")
    out += ("<table><tr><th>changed from the preset</th><th>at start</th><th>now (after edits)</th>"
            "<th>preset</th></tr>" + rows + "</table>" if rows else "<p class=muted>Exactly the preset.</p>")
    if edits:
        sources = {"live": "live edit", "resume": "resume --set"}

        def edit_rows(e: dict) -> str:
            gone = on_abandoned_branch(e, points)
            how = escape(sources.get(e.get("source", "live"), str(e.get("source")))) + \
                (" (abandoned branch)" if gone else "")
            return "".join(f"<tr{' class=muted' if gone else ''}><td>{e.get('step', 0):,}</td>"
                           f"<td><code>{escape(k)}</code></td>"
                           f"<td>{escape(_value(c.get('old')))} → {escape(_value(c.get('new')))}</td>"
                           f"<td>{how}</td></tr>"
                           for k, c in (e.get("changes") or {}).items() if isinstance(c, dict))

        er = "".join(map(edit_rows, edits))
        out += (f"<h3>Changes</h3><table><tr><th>step</th><th>field</th><th>change</th><th>how</th></tr>{er}"
                f"</table>")
    full = "".join(f"<tr><td><code>{escape(f.key)}</code></td><td>{escape(_value(cfg.get(f.name)))}</td></tr>"
                   for f in FIELDS)
    return out + f"<details><summary>Full config</summary><table>{full}</table></details>"


def _grids_section(run: RunDir) -> str:
    steps = run.sample_steps()
    if len(steps) > MAX_GRIDS:
        pick = np.unique(np.linspace(0, len(steps) - 1, MAX_GRIDS).round().astype(int))
        steps = [steps[i] for i in pick]
    figs = [(f"step {s:,}", p) for s, p in steps]
    final = run.final_sample
    if final.exists():
        figs.append(("final", final))
    if not figs:
        return "<p class=muted>No sample grids yet.</p>"
    return "<div class=grids>" + "".join(f"<figure><img src='{_png(p.read_bytes())}' alt='{escape(c)}'>"
                                         f"<figcaption>{escape(c)}</figcaption></figure>" for c, p in figs) + "</div>"


def _warnings_section(warnings: list[HealthWarning], run_dir: str, abandoned: list[HealthWarning] = (),
                      points: list[tuple[float, int]] = ()) -> str:
    if abandoned:
        bases = ", ".join(f"{s:,}" for s in sorted({s for _, s in points}))
        gone = _warnings_section(abandoned, run_dir)
        rest = _warnings_section(warnings, run_dir) if warnings else "<p>None on the current branch.</p>"
        return (rest + f"<h3>On abandoned branches</h3><p class=muted>The run continued from an earlier step "
                       f"(step {bases}), so these warnings describe training that is no longer part of it "
                       f"(kept under <code>abandoned/</code> where checkpoints were moved aside).</p>" + gone)
    if not warnings:
        return "<p>None: the adviser saw no sign of trouble.</p>"
    out = []
    for w in warnings:
        cls = "warn error" if w.kind in ("nan", "divergence") else "warn"
        rem = "".join(f"<li>{escape(r.label)}: <code>{escape(r.command(run_dir))}</code></li>" for r in w.remedies)
        out.append(f"<div class='{cls}'><b>Step {w.step:,}: {escape(TITLES.get(w.kind, w.kind))}</b> — "
                   f"{escape(w.message)}" + (f"<br><i>Likely cause:</i> {escape(w.cause)}" if w.cause else "")
                   + (f"<ul>{rem}</ul>" if rem else "") + "</div>")
    return "".join(out)


def _best_section(run: RunDir, quality: list[dict]) -> str:
    from ..engine.checkpoints import best_record  # noqa: PLC0415  (no TensorFlow import)

    rec = best_record(run.checkpoints)
    best = best_quality(quality)
    if rec is None and best is None:
        return "<p class=muted>No quality measurement, so no best checkpoint.</p>"
    step = int(rec["step"]) if rec else best[1]
    fd = float(rec["fd"]) if rec else best[0]
    text = (f"<p>Lowest Fréchet distance <b>{fd:.4g}</b> at step <b>{step:,}</b>"
            + (f"; its checkpoint is kept as <code>best</code>: <code>ganstudio export {escape(shlex.quote(str(run.path.resolve())))} "
               f"--format keras --checkpoint best</code>" if rec else " (no checkpoint kept at that step)") + ".</p>")
    grid = run.sample_path(step)
    if grid.exists():
        text += f"<div class='grids best'><figure><img src='{_png(grid.read_bytes())}'><figcaption>step {step:,}" \
                f"</figcaption></figure></div>"
    return text


def _metric_state(cfg: Config, last_step: int) -> str:
    """Why there is no FD yet: switched off, or its first measurement not reached."""
    every = cfg.train.metric_every
    if not every:
        return "the metric is off (metric_every = 0)"
    return f"the metric is not reached yet (first at step {every:,}; the run is at step {last_step:,})"


def build_report(run_dir: str | Path) -> str:
    """The report of `run_dir` as one HTML string."""
    run = RunDir.open(run_dir)
    cfg = run.config()
    rows = run.read_metrics()
    quality = run.read_quality()
    sessions = run.read_sessions()
    points = branch_points(sessions)
    health = run.read_health()
    warnings, abandoned = [], []
    for r in health:
        (abandoned if on_abandoned_branch(r, points) else warnings).append(HealthWarning.from_row(r))
    edits = run.read_edits()
    last_step = int(rows[-1]["step"]) if rows else 0
    seconds = _train_time(rows)
    bs = cfg.data.batch_size
    ips = _throughput(run, rows, bs)
    best = best_quality(quality)
    starts_only = [x for x in sessions if x.get("kind", "start") != "rollback"]
    s = starts_only[-1] if starts_only else {}
    cards = [(f"{last_step:,}", "steps"), (_hms(seconds), "wall time (incl. start-up)"),
             (f"{ips:,.0f}" if math.isfinite(ips) else "–", "images / s (training time)"),
             (f"{best[0]:.3g} @ {best[1]:,}" if best else "–", "best FD @ step"),
             (str(len(warnings)), "adviser warnings")]
    body = [f"<h1>{escape(run.path.name)}</h1><div class=sub>{escape(str(run.path.resolve()))}</div>",
            "<div class=cards>" + "".join(f"<div class=card><b>{escape(v)}</b><span>{escape(k)}</span></div>"
                                          for v, k in cards) + "</div>"]
    device = escape(s.get("device", "not recorded (run folder from an older version)"))
    dataset = escape(s.get("dataset", cfg.data.dataset))
    params = f"G {s['g_params']:,} / D {s['d_params']:,}" if "g_params" in s else "–"
    starts = "".join(f"<li>step {x.get('step', 0):,}: "
                     + (escape(f"rolled back from step {x.get('from_step', '?'):,} ({x.get('reason', '')}); the steps "
                               f"after {x.get('step', 0):,} are an abandoned branch")
                        if x.get("kind") == "rollback" else escape(x.get('device', ''))) + "</li>"
                     for x in sessions)
    body.append(f"<div class=cols><div><h2>Dataset</h2><p>{dataset}<br>{cfg.model.image_size}×{cfg.model.image_size}"
                f"×{cfg.model.channels}, batch {bs}" + (f", first {cfg.data.limit:,} images" if cfg.data.limit else "")
                + (f", DiffAugment {escape(cfg.data.diffaugment)}" if cfg.data.diffaugment else "") + "</p></div>"
                f"<div><h2>Device and precision</h2><p>{device}<br>parameters {params}</p>"
                + (f"<details{' open' if points else ''}><summary>{len(starts_only)} start(s), "
                   f"{len(sessions) - len(starts_only)} rollback(s)</summary><ul>{starts}</ul></details>"
                   if len(sessions) > 1 else "") + "</div></div>")
    path = str(run.path.resolve())   # commands that work from any folder
    body.append(f"<h2>Adviser warnings</h2>{_warnings_section(warnings, path, abandoned, points)}")
    body.append("<h2>Configuration</h2>" + _config_section(cfg, edits, points))
    body.append("<h2>Curves</h2>" + (f"<img class=fig src='{_curve_figure(rows, quality, warnings)}'>"
                                     f"<img class=fig src='{_throughput_figure(rows)}'>" if rows else
                                     "<p class=muted>No steps logged yet.</p>")
                + ("" if best else f"<p class=muted>No quality curve: {escape(_metric_state(cfg, last_step))}.</p>"))
    body.append("<h2>Samples from the fixed noise</h2>" + _grids_section(run))
    body.append("<h2>Best checkpoint</h2>" + _best_section(run, quality))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>ganstudio report: {escape(run.path.name)}"
            f"</title><style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>")


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Build the report and write it atomically (default RUN/report.html); returns the path."""
    run = RunDir.open(run_dir)
    path = Path(out) if out else run.report_file
    if path.is_dir():
        raise RunDirError(f"{path} is a folder; give a file name such as report.html")
    atomic_write_text(path, build_report(run_dir))
    return path
