"""Generator and discriminator from ModelConfig, written with keras.layers only (backend-neutral)."""
from __future__ import annotations

import math

import keras
from keras import layers

from ..config import ModelConfig


def build_generator(cfg: ModelConfig) -> keras.Model:
    if cfg.arch == "tutorial":
        return _tutorial_generator(cfg)
    return _dcgan_generator(cfg)


def build_discriminator(cfg: ModelConfig) -> keras.Model:
    if cfg.arch == "tutorial":
        return _tutorial_discriminator(cfg)
    return _dcgan_discriminator(cfg)


def _tutorial_generator(cfg: ModelConfig) -> keras.Model:
    """make_generator_model() of the TensorFlow DCGAN tutorial, layer for layer."""
    return keras.Sequential([
        keras.Input(shape=(cfg.noise_dim,)),
        layers.Dense(7 * 7 * 256, use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope=cfg.leaky_slope),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope=cfg.leaky_slope),
        layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope=cfg.leaky_slope),
        layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
    ], name="generator")


def _tutorial_discriminator(cfg: ModelConfig) -> keras.Model:
    """make_discriminator_model() of the TensorFlow DCGAN tutorial, layer for layer."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=cfg.leaky_slope),
        layers.Dropout(cfg.dropout),
        layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=cfg.leaky_slope),
        layers.Dropout(cfg.dropout),
        layers.Flatten(),
        layers.Dense(1),
    ], name="discriminator")


def _plan(size: int) -> tuple[int, int]:
    """(start resolution, number of 2x upsamplings): 28 -> 7 + 2, 32 -> 4 + 3, 64 -> 4 + 4."""
    start = 7 if size == 28 else 4
    return start, int(math.log2(size // start))


def _dcgan_generator(cfg: ModelConfig) -> keras.Model:
    """Radford et al.: project, then stride-2 transposed convs halving filters; BN + ReLU; tanh out."""
    start, n_up = _plan(cfg.image_size)
    filters = cfg.width * 2 ** (n_up - 1)
    x_in = keras.Input(shape=(cfg.noise_dim,))
    x = layers.Dense(start * start * filters * 2, use_bias=False)(x_in)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((start, start, filters * 2))(x)
    for i in range(n_up - 1):
        x = layers.Conv2DTranspose(filters // 2 ** i, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(cfg.channels, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(x_in, x, name="generator")


def _dcgan_discriminator(cfg: ModelConfig) -> keras.Model:
    """Stride-2 convs doubling filters, LeakyReLU, BN after the first block, one logit out."""
    _, n_down = _plan(cfg.image_size)
    x_in = keras.Input(shape=(cfg.image_size, cfg.image_size, cfg.channels))
    x = x_in
    for i in range(n_down):
        x = layers.Conv2D(cfg.width * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0)(x)
        if i > 0:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(negative_slope=cfg.leaky_slope)(x)
        if cfg.dropout > 0:
            x = layers.Dropout(cfg.dropout)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1)(x)
    return keras.Model(x_in, x, name="discriminator")
