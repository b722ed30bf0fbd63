"""Every preset trains 3 steps on tiny data with finite losses and the right output shapes."""
import numpy as np
import pytest

from ganstudio.config.presets import PRESETS, get_preset
from ganstudio.data import Dataset
from ganstudio.engine import SampleGrid, StepMetrics
from ganstudio.engine.trainer import Trainer, run_to_end


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_trains_three_steps(name, tmp_path):
    cfg = get_preset(name).config()
    size, ch = cfg.model.image_size, cfg.model.channels
    rng = np.random.default_rng(0)
    ds = Dataset("t", rng.integers(0, 255, (48, size, size, ch), dtype=np.uint8), rng.integers(0, 3, 48))
    small = {"batch_size": 8, "steps": 3, "jit_compile": "off", "sample_every": 3, "tensorboard": False}
    if cfg.model.arch == "dcgan":
        small["width"] = 8
    t = Trainer(cfg.with_updates(small), run_dir=tmp_path / "r", dataset=ds)
    events = run_to_end(t)
    metrics = [e for e in events if isinstance(e, StepMetrics)]
    assert [m.step for m in metrics] == [1, 2, 3]
    assert all(np.isfinite([m.g_loss, m.d_loss]).all() for m in metrics)
    grid = [e for e in events if isinstance(e, SampleGrid)][-1].images
    if t.config.model.conditional:
        assert t.config.model.num_classes == 3 and grid.shape == (9, size, size, ch)   # 3 rows, one per class
    else:
        assert grid.shape == (t.config.sample.num_samples, size, size, ch)


def test_wgan_gp_takes_five_critic_steps_per_generator_step(tmp_path):
    cfg = get_preset("wgan-gp").config().with_updates({"width": 8, "batch_size": 8, "steps": 2, "jit_compile": "off",
                                                       "tensorboard": False})
    ds = Dataset("t", np.zeros((80, 28, 28, 1), np.uint8))
    t = Trainer(cfg, run_dir=tmp_path / "r", dataset=ds)
    events = run_to_end(t)
    assert t.steps_per_epoch == 2   # 10 batches per epoch / 5 critic batches per step
    assert int(t.d_opt.iterations.numpy()) == 10 and int(t.g_opt.iterations.numpy()) == 2
    assert [e.epoch for e in events if isinstance(e, StepMetrics)] == [0.5, 1.0]


def test_ema_generator_lags_the_raw_one(tmp_path, tiny_config):
    t = Trainer(tiny_config.with_updates({"ema_decay": 0.9, "steps": 3}), run_dir=tmp_path / "r")
    run_to_end(t)
    raw, ema = t.G.get_weights()[0], t.G_ema.get_weights()[0]
    assert not np.allclose(raw, ema)
    from ganstudio.outputs.export import load_generator

    assert np.allclose(load_generator(tmp_path / "r").generator.get_weights()[0], ema)


def test_diffaugment_changes_images_but_keeps_shape():
    from ganstudio.core.tfsetup import import_tf
    from ganstudio.engine.augment import diff_augment

    tf = import_tf()
    x = tf.ones([4, 28, 28, 1]) * 0.5
    seed = tf.constant([1, 2], tf.int64)
    for policy in (("translation",), ("cutout",), ("color",), ("translation", "cutout", "color")):
        y = diff_augment(x, policy, seed).numpy()
        assert y.shape == (4, 28, 28, 1) and not np.allclose(y, 0.5)
    cut = diff_augment(x, ("cutout",), seed).numpy()
    assert 0.15 < (cut == 0).mean() < 0.4            # a half-size square is a quarter of the image
    assert np.array_equal(cut, diff_augment(x, ("cutout",), seed).numpy())   # stateless: same seed, same result


def test_ema_rampup_makes_the_average_follow_g_early(tiny_config, tmp_path):
    """Karras' ramp-up caps the EMA half-life at ema_rampup x images seen: after one step of 16 images the cap is
    0.8 images, so the average is G itself (decay 0.5^20); without it the average is still 99.9 % the initial G."""
    from ganstudio.engine.trainer import Trainer, run_to_end

    def gap(rampup):
        t = Trainer(tiny_config.with_updates({"steps": 1, "ema_decay": 0.999, "ema_rampup": rampup}),
                    run_dir=tmp_path / f"r{rampup}")
        run_to_end(t)
        return max(float(np.abs(e.numpy() - w.numpy()).max()) for e, w in zip(t.G_ema.weights, t.G.weights,
                                                                             strict=True))

    with_rampup, without = gap(0.05), gap(0.0)
    assert with_rampup < 1e-5 and without > 1e-4, (with_rampup, without)
