"""Generator and discriminator from ModelConfig, written with keras.layers only (backend-neutral)."""
from __future__ import annotations

import math

import keras
from keras import layers

from ..config import ModelConfig
from .bf16_layers import batch_norm, dropout, leaky_relu


def build_generator(cfg: ModelConfig, sync_bn: bool = False) -> keras.Model:
    """sync_bn: batch statistics over the global batch across replicas (tf.distribute), so several devices
    compute what one device would."""
    return _tutorial_generator(cfg, sync_bn) if cfg.arch == "tutorial" else _dcgan_generator(cfg, sync_bn)


def build_discriminator(cfg: ModelConfig, sync_bn: bool = False) -> keras.Model:
    return _tutorial_discriminator(cfg) if cfg.arch == "tutorial" else _dcgan_discriminator(cfg, sync_bn)


def _bn(sync: bool):
    return batch_norm(sync)


def _tutorial_generator(cfg: ModelConfig, sync_bn: bool = False) -> keras.Model:
    """make_generator_model() of the TensorFlow DCGAN tutorial, layer for layer."""
    return keras.Sequential([
        keras.Input(shape=(cfg.noise_dim,)),
        layers.Dense(7 * 7 * 256, use_bias=False),
        _bn(sync_bn),
        leaky_relu(cfg.leaky_slope),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        _bn(sync_bn),
        leaky_relu(cfg.leaky_slope),
        layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        _bn(sync_bn),
        leaky_relu(cfg.leaky_slope),
        layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
    ], name="generator")


def _tutorial_discriminator(cfg: ModelConfig) -> keras.Model:
    """make_discriminator_model() of the TensorFlow DCGAN tutorial, layer for layer."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
        leaky_relu(cfg.leaky_slope),
        dropout(cfg.dropout),
        layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"),
        leaky_relu(cfg.leaky_slope),
        dropout(cfg.dropout),
        layers.Flatten(),
        layers.Dense(1),
    ], name="discriminator")


def _plan(size: int) -> tuple[int, int]:
    """(start resolution, number of 2x upsamplings): 28 -> 7 + 2, 32 -> 4 + 3, 64 -> 4 + 4."""
    start = 7 if size == 28 else 4
    return start, int(math.log2(size // start))


def _norm(kind: str, sync_bn: bool = False):
    if kind == "batch":
        return _bn(sync_bn)
    if kind == "layer":
        return layers.LayerNormalization()
    return None


def _dcgan_generator(cfg: ModelConfig, sync_bn: bool = False) -> keras.Model:
    """Radford et al.: project, then stride-2 transposed convs halving filters; norm + ReLU; tanh out.

    Conditional: a learned class embedding (noise_dim wide) multiplies the noise, as in BigGAN-style
    shared embeddings; cheaper than concatenation and keeps the projection layer's shape."""
    start, n_up = _plan(cfg.image_size)
    filters = cfg.width * 2 ** (n_up - 1)
    z = keras.Input(shape=(cfg.noise_dim,), name="noise")
    inputs = [z]
    x = z
    if cfg.conditional:
        y = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(y)
        x = layers.Multiply()([x, layers.Embedding(cfg.num_classes, cfg.noise_dim)(y)])
    x = layers.Dense(start * start * filters * 2, use_bias=False)(x)
    for layer in (_norm(cfg.g_norm, sync_bn), layers.ReLU(), layers.Reshape((start, start, filters * 2))):
        x = layer(x) if layer is not None else x
    for i in range(n_up - 1):
        x = layers.Conv2DTranspose(filters // 2 ** i, 4, strides=2, padding="same", use_bias=False)(x)
        norm = _norm(cfg.g_norm, sync_bn)
        x = norm(x) if norm is not None else x
        x = layers.ReLU()(x)
    # In the compute dtype like the tutorial's output layer: D casts its input to that dtype anyway, and a float32
    # layer here cost a cast each way and a float32 conv (A/B under mixed_bfloat16: dcgan step 1.09x CPU time).
    x = layers.Conv2DTranspose(cfg.channels, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(inputs if cfg.conditional else z, x, name="generator")


def _dcgan_discriminator(cfg: ModelConfig, sync_bn: bool = False) -> keras.Model:
    """Stride-2 convs doubling filters, LeakyReLU, optional norm after the first block, one logit out.

    Spectral norm wraps every conv/dense; conditional adds a projection term <embed(y), h> (Miyato & Koyama)."""
    _, n_down = _plan(cfg.image_size)
    sn = (lambda layer: layers.SpectralNormalization(layer)) if cfg.spectral_norm else (lambda layer: layer)
    x_in = keras.Input(shape=(cfg.image_size, cfg.image_size, cfg.channels), name="image")
    x = x_in
    for i in range(n_down):
        x = sn(layers.Conv2D(cfg.width * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0))(x)
        norm = _norm(cfg.d_norm, sync_bn) if i > 0 else None
        x = norm(x) if norm is not None else x
        x = leaky_relu(cfg.leaky_slope)(x)
        if cfg.dropout > 0:
            x = dropout(cfg.dropout)(x)
    h = layers.Flatten()(x)
    out = sn(layers.Dense(1))(h)
    if not cfg.conditional:
        return keras.Model(x_in, out, name="discriminator")
    y = keras.Input(shape=(), dtype="int32", name="label")
    emb = layers.Embedding(cfg.num_classes, h.shape[-1])(y)
    proj = layers.Dot(axes=1)([emb, h])
    return keras.Model([x_in, y], layers.Add()([out, proj]), name="discriminator")
