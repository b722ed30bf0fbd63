"""Named configs. Each preset is a set of overrides on the Config defaults plus a one-line why."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .config import Config
from .errors import ConfigError


@dataclass(frozen=True)
class Preset:
    name: str
    description: str          # what it is for
    overrides: dict[str, Any]
    expect: str = ""          # what it reached in docs/quality.md's table (measured numbers only; '' = not measured)

    def config(self) -> Config:
        return Config(preset=self.name).with_updates(self.overrides)

    def guidance(self) -> str:
        """What the preset is for and, where measured, what to expect: the selector's text and `ganstudio presets`."""
        return f"{self.description} {self.expect}".strip()


_DCGAN = {"arch": "dcgan", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "dropout": 0.0, "leaky_slope": 0.2,
          "batch_size": 128}

# What the presets reached in docs/quality.md (one seed; the machine was shared, so budgets are step counts standing
# for ~2.2 minutes of training on a quiet 2-core CPU: dcgan 300 steps, tutorial 90, dcgan-b64 600).
_EQUAL_TIME = "in docs/quality.md's equal-time runs (~2 min on a 2-core CPU, 1 seed)"

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("tutorial", "The TensorFlow DCGAN tutorial, layer for layer: Adam 1e-4, batch 256, BCE, 50 epochs; for "
           "comparing with the tutorial, not for the best images.", {},
           f"Reached FD 431.1 on 600 images, 432.9 on 2,000, 433.2 on 6,000 and 432.1 on 60,000 {_EQUAL_TIME}, "
           f"where dcgan-b64 reached 115.8 to 122.0."),
    Preset("dcgan-b64", "Recommended: dcgan at batch 64, twice the updates per image (on a CPU a step's time grows "
           "with its images, so also twice the updates per second).", {**_DCGAN, "batch_size": 64},
           f"Reached FD 116.2 on 600 images, 116.0 on 2,000, 122.0 on 6,000 and 115.8 on 60,000 {_EQUAL_TIME}: "
           f"less than half of dcgan's."),
    Preset("dcgan", "Radford et al. DCGAN: Adam 2e-4, beta1 0.5, LeakyReLU 0.2, no dropout; sharper samples sooner.",
           _DCGAN,
           f"Reached FD 251.0 on 600 images, 257.6 on 2,000, 264.5 on 6,000 and 265.9 on 60,000 {_EQUAL_TIME}."),
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


# run preset -> (the preset that reaches further, why: from docs/quality.md)
FURTHER: dict[str, tuple[str, str]] = {
    "tutorial": ("dcgan", "in docs/quality.md's equal-time runs dcgan reached FD 251.0 to 265.9 where tutorial "
                          "stayed at 431.1 to 433.2 (and dcgan-b64 115.8 to 122.0); start a new run with "
                          "--preset dcgan or dcgan-b64 (a different network cannot resume this one)"),
}


def plateau_advice(preset: str) -> PresetAdvice | None:
    """For a run of `preset` whose quality has stopped improving: a preset that reached much further in the same
    training time in docs/quality.md's table, or None. The adviser (metrics/health.py) offers it as a remedy."""
    if preset not in FURTHER:
        return None
    better, why = FURTHER[preset]
    return PresetAdvice(better, why)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"available: {', '.join(PRESETS)}"
        raise ConfigError(f"unknown preset {name!r}; {hint} (`ganstudio presets` lists them)") from None
