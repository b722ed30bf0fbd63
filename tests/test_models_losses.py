import math

import numpy as np
import pytest

from ganstudio.config import Config


@pytest.fixture(scope="module")
def tutorial_models():
    from ganstudio.models import build_discriminator, build_generator

    cfg = Config().model
    return build_generator(cfg), build_discriminator(cfg)


def test_tutorial_parameter_counts(tutorial_models):
    g, d = tutorial_models
    assert g.count_params() == 2_330_944
    assert d.count_params() == 212_865


def test_tutorial_layers_match_the_tutorial(tutorial_models):
    g, d = tutorial_models
    assert [type(layer).__name__ for layer in g.layers] == [
        "Dense", "BatchNormalization", "LeakyReLU", "Reshape", "Conv2DTranspose", "BatchNormalization", "LeakyReLU",
        "Conv2DTranspose", "BatchNormalization", "LeakyReLU", "Conv2DTranspose"]
    assert [type(layer).__name__ for layer in d.layers] == [
        "Conv2D", "LeakyReLU", "Dropout", "Conv2D", "LeakyReLU", "Dropout", "Flatten", "Dense"]
    convt = [layer for layer in g.layers if type(layer).__name__ == "Conv2DTranspose"]
    assert [(c.filters, c.kernel_size, c.strides, c.use_bias) for c in convt] == [
        (128, (5, 5), (1, 1), False), (64, (5, 5), (2, 2), False), (1, (5, 5), (2, 2), False)]
    assert g.layers[-1].activation.__name__ == "tanh"
    assert [layer.rate for layer in d.layers if type(layer).__name__ == "Dropout"] == [0.3, 0.3]
    out = g(np.zeros((2, 100), np.float32), training=False)
    assert tuple(out.shape) == (2, 28, 28, 1)
    assert tuple(d(out).shape) == (2, 1)


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3)])
def test_dcgan_shapes_follow_the_config(size, channels):
    from ganstudio.models import build_discriminator, build_generator

    m = Config().with_updates({"arch": "dcgan", "image_size": size, "channels": channels, "width": 8}).model
    g, d = build_generator(m), build_discriminator(m)
    x = g(np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32), training=False)
    assert tuple(x.shape) == (3, size, size, channels)
    assert tuple(d(x).shape) == (3, 1)


def _bce(t, z):
    return -(t * math.log(1 / (1 + math.exp(-z))) + (1 - t) * math.log(1 - 1 / (1 + math.exp(-z))))


def test_losses_against_hand_computed_values():
    from ganstudio.models.losses import LOSSES

    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[0.5], [-3.0]], np.float32)
    g, d = LOSSES["bce_ns"]
    assert float(g(fake)) == pytest.approx((_bce(1, 0.5) + _bce(1, -3.0)) / 2, rel=1e-5)
    assert float(d(real, fake)) == pytest.approx(
        (_bce(1, 2.0) + _bce(1, -1.0)) / 2 + (_bce(0, 0.5) + _bce(0, -3.0)) / 2, rel=1e-5)
    g, d = LOSSES["lsgan"]
    assert float(g(fake)) == pytest.approx(0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2)
    assert float(d(real, fake)) == pytest.approx(0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + 0.5 * (0.25 + 9) / 2)
    g, d = LOSSES["hinge"]
    assert float(g(fake)) == pytest.approx(-(0.5 - 3.0) / 2)
    assert float(d(real, fake)) == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)


def test_bce_matches_the_tutorials_keras_loss():
    """The tutorial's cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)."""
    import keras

    from ganstudio.models.losses import LOSSES

    ce = keras.losses.BinaryCrossentropy(from_logits=True)
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(256, 1)).astype(np.float32), rng.normal(size=(256, 1)).astype(np.float32)
    g, d = LOSSES["bce_ns"]
    assert float(g(fake)) == pytest.approx(float(ce(np.ones_like(fake), fake)), rel=1e-6)
    assert float(d(real, fake)) == pytest.approx(
        float(ce(np.ones_like(real), real)) + float(ce(np.zeros_like(fake), fake)), rel=1e-6)


def test_variant_losses_and_penalties_by_hand():
    from ganstudio.models.losses import LOSSES, gradient_penalty, r1_penalty

    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[0.5], [-3.0]], np.float32)
    g, d = LOSSES["minimax"]
    assert float(g(fake)) == pytest.approx(-(_bce(0, 0.5) + _bce(0, -3.0)) / 2, rel=1e-5)
    g, d = LOSSES["wgan_gp"]
    assert float(g(fake)) == pytest.approx(1.25) and float(d(real, fake)) == pytest.approx(-1.25 - 0.5)
    _, d = LOSSES["bce_ns"]
    smoothed = float(d(real, fake, smoothing=0.1))
    expect = sum(0.9 * -math.log(1 / (1 + math.exp(-z))) + 0.1 * -math.log(1 - 1 / (1 + math.exp(-z)))
                 for z in (2.0, -1.0)) / 2 + (_bce(0, 0.5) + _bce(0, -3.0)) / 2
    assert smoothed == pytest.approx(expect, rel=1e-5)
    grads = np.array([[[[3.0]], [[4.0]]], [[[0.0]], [[0.0]]]], np.float32)  # norms 5 and 0
    assert float(gradient_penalty(grads)) == pytest.approx(((5 - 1) ** 2 + (0 - 1) ** 2) / 2, rel=1e-5)
    assert float(r1_penalty(grads)) == pytest.approx((25 + 0) / 2)


def test_dcgan_options_build():
    import keras

    from ganstudio.models import build_discriminator, build_generator

    m = Config().with_updates({"arch": "dcgan", "width": 8, "spectral_norm": True, "d_norm": "none",
                               "g_norm": "layer", "conditional": True, "num_classes": 3}).model
    g, d = build_generator(m), build_discriminator(m)
    z = np.random.default_rng(0).standard_normal((4, 100)).astype(np.float32)
    y = np.array([0, 1, 2, 1], np.int32)
    x = g([z, y], training=False)
    assert tuple(x.shape) == (4, 28, 28, 1)
    assert tuple(d([x, keras.ops.convert_to_tensor(y)], training=True).shape) == (4, 1)
    assert any(type(layer).__name__ == "SpectralNormalization" for layer in d.layers)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in d.layers)
    # conditioning matters: same noise, different labels -> different images
    x2 = g([z, np.array([2, 2, 0, 0], np.int32)], training=False)
    assert np.abs(np.asarray(x) - np.asarray(x2)).max() > 1e-4
