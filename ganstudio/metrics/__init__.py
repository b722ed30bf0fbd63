"""Quality metric (Fréchet distance / KID on a dataset-trained classifier's features: fid.py, classifier.py) and
training-health rules (the adviser: health.py, advice.py).

Importing this package does not import TensorFlow or Keras; only classifier.py's functions do, when called."""
from .classifier import get_classifier
from .fid import (QualityMetric, frechet_distance, frechet_distance_from_stats, gaussian_stats,
                  kernel_inception_distance, measure_cost)
from .health import HealthMonitor, HealthWarning, sample_diversity, weights_finite

__all__ = ["QualityMetric", "frechet_distance", "frechet_distance_from_stats", "gaussian_stats",
           "kernel_inception_distance", "measure_cost", "HealthMonitor", "HealthWarning", "sample_diversity",
           "weights_finite", "get_classifier"]
