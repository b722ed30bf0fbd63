"""GAN losses as small pure functions of discriminator logits (keras.ops, backend-neutral).

Each returns (generator_loss, discriminator_loss) pairs through LOSSES[name] = (g_loss(fake), d_loss(real, fake)).
"""
from __future__ import annotations

from keras import ops


def _bce(target: float, logits):
    """Mean sigmoid cross-entropy against a constant target, as keras.losses.BinaryCrossentropy(from_logits=True)."""
    t = ops.full_like(logits, target)
    return ops.mean(ops.binary_crossentropy(t, logits, from_logits=True))


def bce_ns_g(fake):
    """Tutorial generator_loss: cross_entropy(ones_like(fake), fake)."""
    return _bce(1.0, fake)


def bce_d(real, fake):
    """Tutorial discriminator_loss: cross_entropy(ones, real) + cross_entropy(zeros, fake)."""
    return _bce(1.0, real) + _bce(0.0, fake)


def lsgan_g(fake):
    return 0.5 * ops.mean(ops.square(fake - 1.0))


def lsgan_d(real, fake):
    return 0.5 * ops.mean(ops.square(real - 1.0)) + 0.5 * ops.mean(ops.square(fake))


def hinge_g(fake):
    return -ops.mean(fake)


def hinge_d(real, fake):
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


LOSSES = {
    "bce_ns": (bce_ns_g, bce_d),
    "lsgan": (lsgan_g, lsgan_d),
    "hinge": (hinge_g, hinge_d),
}
