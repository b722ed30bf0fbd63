"""The fixed grid and the metric's inputs, shared by the trainer and the exports."""
import numpy as np

from ganstudio.config.sampling import fixed_grid_size, grid_labels, metric_inputs


def test_fixed_grid_and_its_labels(tiny_config):
    assert fixed_grid_size(tiny_config) == 4 and grid_labels(tiny_config, 4) is None
    cond = tiny_config.with_updates({"conditional": True, "num_classes": 3})
    assert fixed_grid_size(cond) == 9                                 # square, one row per class
    np.testing.assert_array_equal(grid_labels(cond, 9), [0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(grid_labels(cond, 4), [0, 0, 0, 1])
    assert grid_labels(cond, 9).dtype == np.int32


def test_metric_inputs_follow_the_seed():
    from ganstudio.config.presets import get_preset

    cfg = get_preset("tiny").config().with_updates({"conditional": True, "num_classes": 10, "seed": 5})
    noise, labels = metric_inputs(cfg, 12)
    assert noise.shape == (12, cfg.model.noise_dim) and noise.dtype == np.float32
    np.testing.assert_array_equal(noise, np.random.default_rng(7).standard_normal(noise.shape).astype(np.float32))
    np.testing.assert_array_equal(labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    again, _ = metric_inputs(cfg, 12)
    np.testing.assert_array_equal(again, noise)
