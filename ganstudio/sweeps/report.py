"""A sweep's results from its study alone (trial user attributes), so any process or machine can write them:
a ranked Markdown + CSV table and a montage of the trials' final grids (PIL; grids of trials run elsewhere show
as missing)."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..core.fileio import atomic_write_bytes, atomic_write_text
from ..core.imaging import load_png
from ..runs import RunDir
from .folder import SweepDir
from .spec import fmt_value

STUDY_ATTR = "ganstudio_spec"      # the sweep's spec, stored in the study: every process checks it matches
ORDER = {"complete": 0, "pruned": 1, "running": 2, "interrupted": 3, "failed": 4}
TILE = 224                          # montage tile width in pixels


def trial_rows(study) -> list[dict[str, Any]]:
    """One row per trial that ran (retried and duplicate trials left out), best final FD first."""
    from optuna.trial import TrialState  # noqa: PLC0415

    trials = study.get_trials(deepcopy=False)
    retried = {t.system_attrs["failed_trial"] for t in trials if "failed_trial" in t.system_attrs}
    rows = []
    for t in trials:
        if t.number in retried or t.user_attrs.get("duplicate") or t.state == TrialState.WAITING:
            continue
        a = t.user_attrs
        outcome = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
                   TrialState.RUNNING: "running"}.get(t.state, a.get("outcome", "failed"))
        rows.append({"trial": t.number, "params": dict(t.params), "label": a.get("label", ""), "outcome": outcome,
                     "run": a.get("run", ""), "steps": a.get("steps"), "train_seconds": a.get("train_seconds"),
                     **{k: a.get(k) for k in ("best_fd", "best_fd_step", "best_kid", "best_kid_step", "final_fd",
                                              "final_kid")}})
    rows.sort(key=lambda r: (ORDER.get(r["outcome"], 9), math.inf if r["final_fd"] is None else r["final_fd"],
                             r["trial"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def _num(v: Any, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def markdown(rows: list[dict[str, Any]], names: list[str], spec: dict[str, Any]) -> str:
    budget = f"{spec['minutes']:g} min of training time" if spec.get("minutes") else f"{spec['steps']} steps"
    head = ["rank", "trial", *names, "outcome", "steps", "train s", "best FD (step)", "best KID (step)", "final FD"]
    lines = [f"Sweep of {spec.get('preset', '?')}: {len(rows)} trial(s), {budget} each; lower FD is better.", "",
             "| " + " | ".join(head) + " |", "|" + "|".join("---:" if h not in names and h != "outcome" else "---"
                                                          for h in head) + "|"]
    for r in rows:
        cells = [str(r["rank"]), str(r["trial"]), *(fmt_value(r["params"].get(n, "")) for n in names), r["outcome"],
                 _num(r["steps"], ","), _num(r["train_seconds"], ".1f"),
                 f"{_num(r['best_fd'], '.2f')} ({_num(r['best_fd_step'], ',')})",
                 f"{_num(r['best_kid'], '.4f')} ({_num(r['best_kid_step'], ',')})", _num(r["final_fd"], ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_text(rows: list[dict[str, Any]], names: list[str]) -> str:
    buf = io.StringIO()
    fields = ["rank", "trial", *names, "outcome", "steps", "train_seconds", "best_fd", "best_fd_step", "best_kid",
              "best_kid_step", "final_fd", "final_kid", "run"]
    w = csv.DictWriter(buf, fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, **r["params"]})
    return buf.getvalue()


def final_grid(run: RunDir) -> Path | None:
    """samples/final.png, or the latest step grid of a trial that was pruned or is still running."""
    final = run.final_sample
    if final.exists():
        return final
    steps = run.sample_steps()
    return steps[-1][1] if steps else None


def montage(rows: list[dict[str, Any]], folder: SweepDir) -> Image.Image | None:
    """Every trial's final grid in rank order, captioned with its rank, differences, FD and steps."""
    if not rows:
        return None
    font = ImageFont.load_default(size=12)
    tiles = []
    for r in rows:
        path = final_grid(RunDir(folder.path / r["run"])) if r["run"] else None
        img = None
        if path is not None:
            try:
                arr = load_png(path)
                img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr[..., :3]).convert("RGB")
                scale = -(-TILE // img.width)      # whole pixels up, then smoothly down to the tile
                img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
                img.thumbnail((TILE, TILE), Image.LANCZOS)
            except OSError:
                img = None
        caption = [f"#{r['rank']} {r['outcome']}", *(f"{n}={fmt_value(v)}" for n, v in r["params"].items()),
                   f"FD {_num(r['final_fd'], '.2f')} · {_num(r['steps'], ',')} steps"]
        tiles.append((img, caption))
    cols = min(4, len(tiles))
    line_h = 15
    cap_h = line_h * max(len(c) for _, c in tiles) + 6
    cell_w, cell_h = TILE + 16, TILE + cap_h + 16
    rows_n = math.ceil(len(tiles) / cols)
    sheet = Image.new("RGB", (cols * cell_w, rows_n * cell_h), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for i, (img, caption) in enumerate(tiles):
        x, y = (i % cols) * cell_w + 8, (i // cols) * cell_h + 8
        if img is None:
            draw.rectangle((x, y, x + TILE - 1, y + TILE - 1), outline=(90, 90, 90))
            draw.text((x + 8, y + TILE // 2 - 6), "no grid here", fill=(150, 150, 150), font=font)
        else:
            sheet.paste(img, (x + (TILE - img.width) // 2, y + (TILE - img.height) // 2))
        for j, text in enumerate(caption):
            draw.text((x, y + TILE + 4 + j * line_h), text, fill=(235, 235, 235) if j else (130, 200, 255),
                      font=font)
    return sheet


def write_report(folder: SweepDir, study) -> tuple[str, Path | None]:
    """Write summary.md, summary.csv and montage.png; returns the Markdown and the montage path."""
    spec = study.user_attrs.get(STUDY_ATTR, {})
    names = list(spec.get("params", {}))
    rows = trial_rows(study)
    md = markdown(rows, names, spec)
    atomic_write_text(folder.summary_md, md)
    atomic_write_text(folder.summary_csv, csv_text(rows, names))
    sheet = montage(rows, folder)
    if sheet is None:
        return md, None
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    atomic_write_bytes(folder.montage, buf.getvalue())
    return md, folder.montage
