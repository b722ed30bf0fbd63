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
    description: str
    overrides: dict[str, Any]

    def config(self) -> Config:
        return Config(preset=self.name).with_updates(self.overrides)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("tutorial", "The TensorFlow DCGAN tutorial, layer for layer: Adam 1e-4, batch 256, BCE, 50 epochs.", {}),
    Preset("dcgan", "Radford et al. DCGAN: Adam 2e-4, beta1 0.5, no dropout; sharper samples sooner.",
           {"arch": "dcgan", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "dropout": 0.0, "batch_size": 128}),
    Preset("lsgan", "Least-squares GAN on the DCGAN nets: smoother gradients, less saturation.",
           {"arch": "dcgan", "loss": "lsgan", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "dropout": 0.0,
            "batch_size": 128}),
    Preset("hinge", "Hinge loss on the DCGAN nets with a 4x faster discriminator (TTUR).",
           {"arch": "dcgan", "loss": "hinge", "g_lr": 1e-4, "d_lr": 4e-4, "beta1": 0.0, "beta2": 0.9,
            "dropout": 0.0, "batch_size": 128}),
    Preset("tiny", "A very small DCGAN for smoke tests and CPU demos: trains in seconds.",
           {"arch": "dcgan", "width": 8, "noise_dim": 16, "batch_size": 32, "g_lr": 2e-4, "d_lr": 2e-4,
            "beta1": 0.5, "dropout": 0.0, "sample_every": 10}),
]}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"available: {', '.join(PRESETS)}"
        raise ConfigError(f"unknown preset {name!r}; {hint} (`ganstudio presets` lists them)") from None
