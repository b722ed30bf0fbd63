"""The generator's quality, measured between steps: Fréchet distance, KID, diversity and memorization of
metric_n generated images against a fixed subset of the real ones, in a small classifier's feature space. The
classifier loads (bundled, cached) or trains once, at the first measurement."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..config import Config
from ..data import Dataset
from ..config.sampling import metric_inputs
from .events import Metric

CHUNK = 500   # images generated per call


class QualityKeeper:
    """measure(step, config, sample) -> Metric. sample(noise, labels) -> uint8 images from the live generator.
    on_classifier(real_diversity): called once the classifier is ready (the health monitor's reference)."""

    def __init__(self, dataset: Dataset, on_classifier: Callable[[float], None] | None = None) -> None:
        self.dataset = dataset
        self.on_classifier = on_classifier
        self._metric = None    # (QualityMetric, classifier accuracy, classifier source), at the first measurement

    def _classifier(self, n: int):
        if self._metric is None:
            from ..metrics import QualityMetric, get_classifier  # noqa: PLC0415

            fn, acc, source = get_classifier(self.dataset)
            self._metric = (QualityMetric(fn, self.dataset.images, n=min(n, len(self.dataset))), acc, source)
            if self.on_classifier is not None:
                self.on_classifier(self._metric[0].real_diversity)
        return self._metric

    def measure(self, step: int, config: Config,
                sample: Callable[[np.ndarray, np.ndarray | None], np.ndarray]) -> Metric:
        """The quality at `step`: metric_n images for the config's fixed metric noise (and labels)."""
        t0 = time.perf_counter()
        n = config.train.metric_n
        metric, acc, source = self._classifier(n)
        noise, labels = metric_inputs(config, n)
        images = np.concatenate([sample(noise[i:i + CHUNK], None if labels is None else labels[i:i + CHUNK])
                                 for i in range(0, n, CHUNK)])
        s = metric.score(images)
        return Metric(step, s["fd"], s["kid"], s["diversity"], n, time.perf_counter() - t0, source, acc,
                      s["memorization"])
