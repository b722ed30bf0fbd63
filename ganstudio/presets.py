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


_DCGAN = {"arch": "dcgan", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "dropout": 0.0, "leaky_slope": 0.2,
          "batch_size": 128}

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("tutorial", "The TensorFlow DCGAN tutorial, layer for layer: Adam 1e-4, batch 256, BCE, 50 epochs.", {}),
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


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"available: {', '.join(PRESETS)}"
        raise ConfigError(f"unknown preset {name!r}; {hint} (`ganstudio presets` lists them)") from None
