"""Named configs. Each preset is a set of overrides on the Config defaults plus a one-line why."""
from __future__ import annotations

import difflib
import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError, GanStudioError
from ..core.resources import resource_path
from .fields import Config

# docs/quality.md's equal-time table as data (written by benchmarks/quality.py, shipped in the wheel): what the
# presets reached, per dataset size, so the guidance quotes measured numbers and never hand-copied ones.
EXPECTATIONS = "quality_expectations.json"
GUIDE_BUDGET = "5 min"          # the budget the guidance quotes (the table's default)
LONG_BUDGET = "20 min"          # quoted beside it where measured
FURTHER_RATIO = 0.67            # a plateau note names a preset only if it reached at most 2/3 of the run's FD


@dataclass(frozen=True)
class Preset:
    name: str
    description: str          # what it is for
    overrides: dict[str, Any]

    def config(self) -> Config:
        return Config(preset=self.name).with_updates(self.overrides)

    @property
    def expect(self) -> str:
        """What it reached in docs/quality.md's table on every measured size ('' = not measured)."""
        return expectation(self.name)

    def guidance(self, n_images: int | None = None) -> str:
        """What the preset is for and, where measured, what to expect (on the measured size nearest n_images when
        given): the selector's text and `ganstudio presets`."""
        return f"{self.description} {expectation(self.name, n_images)}".strip()


_DCGAN = {"arch": "dcgan", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "dropout": 0.0, "leaky_slope": 0.2,
          "batch_size": 128}

_B64 = {**_DCGAN, "batch_size": 64}
EMA_10K_AT_B64 = round(0.5 ** (64 / 10_000), 6)    # 0.995574: the average's half-life is 10,000 images at batch 64
_B64_EMA = {**_B64, "ema_decay": EMA_10K_AT_B64, "ema_rampup": 0.05}   # ramp-up: half-life <= 5 % of images seen

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("tutorial", "The TensorFlow DCGAN tutorial, layer for layer: Adam 1e-4, batch 256, BCE, 50 epochs; for "
           "comparing with the tutorial, not for the best images.", {}),
    Preset("dcgan-b64-ema-r1", "Recommended: dcgan-b64-ema with Mescheder et al.'s R1 penalty (gamma 0.1) on D's "
           "gradient at real images; a lower mean FD than dcgan at 5 and at 20 minutes on 600, 2,000 and 60,000 "
           "images (2 seeds each) and the lowest of all after 20. R1 makes each step 1.2 to 1.4x slower, so in 5 "
           "minutes dcgan-b64-ema is level with it or ahead on 600, 6,000 and 60,000 images.",
           {**_B64_EMA, "r1_gamma": 0.1}),
    Preset("dcgan-b64-ema", "dcgan-b64 with an exponential moving average of G for samples, the "
           "quality metric and exports (half-life 10k images with Karras et al.'s ramp-up); a lower mean FD than "
           "dcgan at 5 and at 20 minutes on 600 and 60,000 images and at 5 minutes on 2,000; level with it at 20 "
           "minutes on 2,000.",
           _B64_EMA),
    Preset("dcgan-b64", "dcgan at batch 64: twice the updates per image and about 1.9x the updates per second on a "
           "2-core CPU (a step's time grows with its images).", _B64),
    Preset("dcgan", "Radford et al. DCGAN: Adam 2e-4, beta1 0.5, LeakyReLU 0.2, no dropout; sharper samples sooner.",
           _DCGAN),
    Preset("lsgan", "Least-squares GAN (Mao et al.) on the DCGAN nets: no saturating sigmoid, steadier gradients.",
           {**_DCGAN, "loss": "lsgan"}),
    Preset("wgan-gp", "Wasserstein loss + gradient penalty (Gulrajani et al.): 5 critic steps, no batch norm in the "
           "critic; a loss that tracks quality and resists mode collapse.",
           {**_DCGAN, "loss": "wgan_gp", "d_norm": "layer", "d_steps": 5, "gp_weight": 10.0, "g_lr": 1e-4,
            "d_lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "batch_size": 64}),
    Preset("hinge-sn", "Spectral norm + hinge loss (Miyato et al.) with TTUR (D lr 4x G lr), for 32x32 RGB such as "
           "CIFAR-10.",
           {**_DCGAN, "loss": "hinge", "spectral_norm": True, "d_norm": "none", "image_size": 32, "channels": 3,
            "g_lr": 1e-4, "d_lr": 4e-4, "beta1": 0.0, "beta2": 0.9, "batch_size": 64}),
    Preset("cdcgan", "Class-conditional DCGAN (label embedding in G, projection D): pick the class of every sample; "
           "the grid shows one row per class.", {**_DCGAN, "conditional": True}),
    Preset("tiny", "A very small DCGAN for smoke tests and CPU demos: trains in seconds.",
           {**_DCGAN, "width": 8, "noise_dim": 16, "batch_size": 32, "sample_every": 10}),
]}


@dataclass(frozen=True)
class PresetAdvice:
    """A preset measured to reach further than the run's own in the same time (an adviser remedy as plain data: a
    different network cannot resume the run's checkpoint, so it is a new run)."""
    preset: str
    note: str

    def command(self, dataset: str = "bundled") -> str:
        return f"ganstudio train --preset {self.preset} --dataset {dataset}"


@functools.cache
def quality_table() -> dict:
    """{"source", "machine", "budgets": {budget: {preset: {size: {"images", "fd", "fd_seeds", "seeds", "steps"}}}}}
    from the shipped resource, or {} when it is missing or unreadable (guidance then says nothing measured)."""
    try:
        return json.loads(resource_path(EXPECTATIONS).read_text())
    except (GanStudioError, OSError, ValueError):
        return {}


def _measured(preset: str, budget: str = GUIDE_BUDGET) -> list[dict]:
    rows = quality_table().get("budgets", {}).get(budget, {}).get(preset, {})
    return sorted(rows.values(), key=lambda r: r["images"])


def _nearest(rows: list[dict], n_images: int) -> dict:
    return min(rows, key=lambda r: abs(math.log(r["images"]) - math.log(max(1, n_images))))


def expectation(preset: str, n_images: int | None = None) -> str:
    """'In 5 min on a 2-core CPU …: FD …' from docs/quality.md's table; with n_images, only the nearest measured
    dataset size and the best preset there (and after 20 min, where this one ran that long). '' when the preset was
    not measured."""
    rows = _measured(preset)
    if not rows:
        return ""
    where = f"In {GUIDE_BUDGET} of training on a 2-core CPU (docs/quality.md; FD, lower is better)"
    longer = {r["images"]: r["fd"] for r in _measured(preset, LONG_BUDGET)}

    def fd(r: dict) -> str:
        return f"{r['fd']:.0f}" + (f" ({longer[r['images']]:.0f} after {LONG_BUDGET})" if r["images"] in longer else "")
    if n_images is None:
        return f"{where}: FD " + ", ".join(f"{fd(r)} on {r['images']:,} images" for r in rows) + "."
    row = _nearest(rows, n_images)
    best = _best_at(row["images"])
    than = f"; best there: {best[0]}, FD {best[1]:.0f}" if best and best[0] != preset else ""
    if row["images"] in longer:   # also ran the long budget here: which preset ended up ahead (R1 trails at 5 min)
        late = _best_at(row["images"], LONG_BUDGET)
        if late and late[0] != preset:
            than += f"; after {LONG_BUDGET}: {late[0]}, FD {late[1]:.0f}"
        elif late and than:
            than += f"; after {LONG_BUDGET} this one is the best there"
    return f"{where}, on {row['images']:,} images: FD {fd(row)}{than}."


def _best_at(images: int, budget: str = GUIDE_BUDGET) -> tuple[str, float] | None:
    """(preset, FD) with the lowest FD on this dataset size in the table."""
    found = [(name, r["fd"]) for name in quality_table().get("budgets", {}).get(budget, {})
             for r in _measured(name, budget) if r["images"] == images and name in PRESETS]
    return min(found, key=lambda f: f[1]) if found else None


def plateau_advice(preset: str) -> PresetAdvice | None:
    """For a run of `preset` whose quality has stopped improving: a preset that reached much further (at most
    FURTHER_RATIO of its FD) in the same training time on the largest dataset size docs/quality.md measured it on,
    or None. The adviser (metrics/health.py) offers it as a note: a different network is a new run."""
    rows = _measured(preset)
    if not rows:
        return None
    row = rows[-1]
    best = _best_at(row["images"])
    if best is None or best[0] == preset or best[1] > FURTHER_RATIO * row["fd"]:
        return None
    return PresetAdvice(best[0], f"in docs/quality.md's {GUIDE_BUDGET} runs on {row['images']:,} images it reached "
                                 f"FD {best[1]:.0f} where {preset} reached {row['fd']:.0f}; start a new run with "
                                 f"--preset {best[0]} (a different network cannot resume this one)")


def adviser_expectations() -> dict[str, dict[str, Any]]:
    """What the adviser knows of each preset, handed to it by the trainer (metrics/ never imports this catalogue):
    {preset: {"g_lr", "d_lr": its learning rates, "further": plateau_advice(preset)}}."""
    table = {}
    for name, preset in PRESETS.items():
        optim = preset.config().optim
        table[name] = {"g_lr": optim.g_lr, "d_lr": optim.d_lr, "further": plateau_advice(name)}
    return table

def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"available: {', '.join(PRESETS)}"
        raise ConfigError(f"unknown preset {name!r}; {hint} (`ganstudio presets` lists them)") from None
