"""The fused bf16 batch norm computes Keras' batch norm to bf16 rounding, and only where it computes in bf16."""
import numpy as np
import pytest

import keras

from ganstudio.models.fused_bn import FusedBatchNormalization, batch_norm


@pytest.mark.parametrize("shape", [(32, 7, 7, 16), (32, 48)])   # after a conv, and after the tutorial's Dense
def test_fused_matches_keras_batch_norm_to_bf16_rounding(shape):
    import tensorflow as tf

    x = tf.random.stateless_normal(shape, [1, 2]) * 3 + 1
    ref, fused = keras.layers.BatchNormalization(dtype="mixed_bfloat16"), batch_norm(dtype="mixed_bfloat16")
    assert type(fused) is FusedBatchNormalization
    for layer in (ref, fused):
        layer.build(shape)
        layer.gamma.assign(tf.random.stateless_normal(shape[-1:], [3, 4]))
        layer.beta.assign(tf.random.stateless_normal(shape[-1:], [5, 6]))
    out, grads = [], []
    for layer in (ref, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * x)   # a non-uniform upstream gradient
        assert y.dtype == tf.bfloat16 and y.shape == shape
        out.append(tf.cast(y, tf.float32).numpy())
        grads.append([tf.cast(g, tf.float32).numpy() for g in tape.gradient(loss, [x, layer.gamma, layer.beta])])
    np.testing.assert_allclose(out[1], out[0], atol=2e-2)   # bf16 keeps 8 bits: ~1e-2 at |y| ~ 3
    assert np.abs(out[0]).max() > 1   # normalized values, not zeros
    for g_ref, g_fused in zip(*grads, strict=True):
        np.testing.assert_allclose(g_fused, g_ref, atol=2e-2 * np.abs(g_ref).max())
    for name in ("moving_mean", "moving_variance"):   # biased variance, same momentum
        np.testing.assert_allclose(getattr(fused, name).numpy(), getattr(ref, name).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fused(x, training=False).numpy().astype(np.float32),
                               ref(x, training=False).numpy().astype(np.float32))   # inference: Keras' own path


def test_fused_only_where_it_computes_in_bf16():
    assert type(batch_norm(dtype="float32")) is keras.layers.BatchNormalization
    assert type(batch_norm(dtype="mixed_float16")) is keras.layers.BatchNormalization
    assert batch_norm(sync=True, dtype="mixed_bfloat16").synchronized
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        assert type(batch_norm()) is FusedBatchNormalization
    finally:
        keras.config.set_dtype_policy("float32")
    assert type(batch_norm()) is keras.layers.BatchNormalization


def test_a_bf16_generator_checkpoint_restores_into_the_float32_one(tmp_path):
    """sample/export rebuild the generator in float32 (stock batch norm) from a bf16 run's checkpoint."""
    import tensorflow as tf

    from ganstudio.models import build_generator
    from ganstudio.presets import get_preset

    cfg = get_preset("tiny").config().model
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g16 = build_generator(cfg)
    finally:
        keras.config.set_dtype_policy("float32")
    assert any(isinstance(layer, FusedBatchNormalization) for layer in g16.layers)
    for v in g16.weights:
        v.assign(tf.random.stateless_normal(v.shape, [7, len(v.path)]) + 1)
    path = tf.train.Checkpoint(generator=g16).write(str(tmp_path / "ckpt"))
    g32 = build_generator(cfg)
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in g32.layers)
    tf.train.Checkpoint(generator=g32).read(path).assert_consumed()
    for a, b in zip(g16.weights, g32.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
