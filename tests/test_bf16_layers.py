"""The bf16 layers compute what Keras' layers compute (to bf16 rounding; dropout: the same distribution), and are
only used where a layer computes in bf16."""
import numpy as np
import pytest

import keras

from ganstudio.models.bf16_layers import (Bf16Dropout, Bf16LeakyReLU, FusedBatchNormalization, batch_norm,
                                          dropout, leaky_relu)


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


def test_bf16_layers_only_where_they_compute_in_bf16():
    stock = (keras.layers.BatchNormalization, keras.layers.Dropout, keras.layers.LeakyReLU)
    for dtype in ("float32", "mixed_float16"):
        made = (batch_norm(dtype=dtype), dropout(0.3, dtype=dtype), leaky_relu(0.2, dtype=dtype))
        assert tuple(type(layer) for layer in made) == stock
    assert batch_norm(sync=True, dtype="mixed_bfloat16").synchronized
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        assert (type(batch_norm()), type(dropout(0.3)), type(leaky_relu(0.2))) == \
            (FusedBatchNormalization, Bf16Dropout, Bf16LeakyReLU)
    finally:
        keras.config.set_dtype_policy("float32")
    assert (type(batch_norm()), type(dropout(0.3)), type(leaky_relu(0.2))) == stock


def test_bf16_dropout_keeps_the_rate_scales_and_masks_the_gradient_alike():
    import tensorflow as tf

    layer = dropout(0.3, seed=5, dtype="mixed_bfloat16")
    x = tf.ones([64, 14, 14, 16])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * 3.0)
    y = tf.cast(y, tf.float32).numpy()
    scale = float(tf.cast(tf.constant(1 / 0.7, tf.bfloat16), tf.float32))
    assert set(np.unique(y)) == {0.0, scale}
    assert abs((y > 0).mean() - 0.7) < 0.01   # 200k draws: 4 standard deviations is 0.004
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_array_equal(grad == 0, y == 0)   # the same mask backward
    np.testing.assert_allclose(grad, 3.0 * y, rtol=4e-3)   # and the same scale, to bf16 rounding
    again = tf.cast(layer(x, training=True), tf.float32).numpy()
    assert 0.45 < ((again > 0) == (y > 0)).mean() < 0.65   # the seed generator moved: a fresh, independent mask
    assert layer(x, training=False) is x or np.array_equal(layer(x, training=False), x)

    x32 = tf.random.stateless_normal([8, 100], [1, 1])   # float32 inputs: Keras' own dropout, same stream
    np.testing.assert_array_equal(Bf16Dropout(0.3, seed=2)(x32, training=True),
                                  keras.layers.Dropout(0.3, seed=2)(x32, training=True))


def test_bf16_leaky_relu_has_keras_output_and_gradient():
    import tensorflow as tf

    x = tf.cast(tf.random.stateless_normal([32, 7, 7, 8], [2, 3]), tf.bfloat16)
    results = []
    for layer in (keras.layers.LeakyReLU(0.2, dtype="mixed_bfloat16"), leaky_relu(0.2, dtype="mixed_bfloat16")):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.cast(x, tf.float32))
        results.append((y.numpy().astype(np.float32), tape.gradient(loss, x).numpy().astype(np.float32)))
    assert type(layer) is Bf16LeakyReLU
    for ref, ours in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, ref)
    assert (results[0][0] < 0).any() and (results[0][0] > 0).any()


def test_a_bf16_generator_checkpoint_restores_into_the_float32_one(tmp_path):
    """sample/export rebuild the generator in float32 (stock batch norm) from a bf16 run's checkpoint."""
    import tensorflow as tf

    from ganstudio.config.presets import get_preset
    from ganstudio.models import build_generator

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


def test_bf16_run_with_dropout_resumes_exactly(tiny_config, tmp_path):
    """The bf16 dropout draws from the layer's checkpointed SeedGenerator, so N + resume + N steps are 2N steps."""
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer, run_to_end

    cfg = tiny_config.with_updates({"precision": "mixed_bfloat16", "deterministic": True, "dropout": 0.3,
                                    "steps": 4, "limit": 64})
    straight = Trainer(cfg, run_dir=tmp_path / "straight")
    ev_straight = run_to_end(straight)
    assert any(isinstance(layer, Bf16Dropout) for layer in straight.D.layers)
    run_to_end(Trainer(cfg.with_updates({"steps": 2}), run_dir=tmp_path / "split"))
    resumed = Trainer(cfg, run_dir=tmp_path / "split", resume=True)
    ev_resumed = run_to_end(resumed)
    losses = lambda evs: [(e.step, e.g_loss, e.d_loss) for e in evs if isinstance(e, StepMetrics)]  # noqa: E731
    assert losses(ev_resumed) == losses(ev_straight)[2:]
    for a, b in zip(straight.G.weights + straight.D.weights, resumed.G.weights + resumed.D.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
