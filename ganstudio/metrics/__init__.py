"""Quality metric (Fréchet distance / KID on a dataset-trained classifier's features) and training-health rules.

Importing this package does not import TensorFlow or Keras; only classifier.py's functions do, when called."""
from .fid import (QualityMetric, frechet_distance, frechet_distance_from_stats, gaussian_stats,
                  kernel_inception_distance, measure_cost)
from .health import HealthMonitor, HealthWarning, sample_diversity, weights_finite

__all__ = ["QualityMetric", "frechet_distance", "frechet_distance_from_stats", "gaussian_stats",
           "kernel_inception_distance", "measure_cost", "HealthMonitor", "HealthWarning", "sample_diversity",
           "weights_finite", "get_classifier"]


def get_classifier(dataset, progress=None, **kwargs):
    """(feature_fn, accuracy | None, source); see classifier.get_classifier (imported lazily: it loads Keras)."""
    from .classifier import get_classifier as _get  # noqa: PLC0415

    return _get(dataset, progress, **kwargs)
