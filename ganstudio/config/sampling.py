"""What the trainer and the exports draw, in one place, so that `ganstudio eval`/`sample` see what training saw:
the fixed grid's size and labels, and the noise and labels the quality metric scores (numpy only)."""
from __future__ import annotations

import numpy as np

from .fields import Config

METRIC_SEED = 2   # the metric's noise comes from train.seed + 2 (the fixed grid's from train.seed itself)


def fixed_grid_size(config: Config) -> int:
    """Samples in the fixed grid: square with one row per class when conditional."""
    m = config.model
    return m.num_classes ** 2 if m.conditional else config.sample.num_samples


def grid_labels(config: Config, n: int) -> np.ndarray | None:
    """Labels for n conditional samples, one row per class as in the training grid (None if unconditional)."""
    m = config.model
    return np.resize(np.repeat(np.arange(m.num_classes), m.num_classes), n).astype(np.int32) if m.conditional \
        else None


def metric_inputs(config: Config, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The quality metric's n noise vectors (float32) and labels (int32, classes in turn; None if unconditional)."""
    m = config.model
    noise = np.random.default_rng(config.train.seed + METRIC_SEED).standard_normal((n, m.noise_dim))
    labels = (np.arange(n) % m.num_classes).astype(np.int32) if m.conditional else None
    return noise.astype(np.float32), labels
