"""GAN losses as small pure functions of discriminator logits (keras.ops, backend-neutral).

LOSSES[name] = (g_loss(fake), d_loss(real, fake, smoothing=0.0)). Penalties that need D's gradients
(WGAN-GP, R1) live in the train step; their formulas are `gradient_penalty` / `r1_penalty` below, given the
gradients.
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


def bce_d(real, fake, smoothing: float = 0.0):
    """Tutorial discriminator_loss: cross_entropy(ones, real) + cross_entropy(zeros, fake).
    One-sided label smoothing (Salimans et al.) lowers only the real target to 1 - smoothing."""
    return _bce(1.0 - smoothing, real) + _bce(0.0, fake)


def minimax_g(fake):
    """The original saturating objective: minimise log(1 - D(G(z))) = -BCE(0, fake)."""
    return -_bce(0.0, fake)


def lsgan_g(fake):
    return 0.5 * ops.mean(ops.square(fake - 1.0))


def lsgan_d(real, fake, smoothing: float = 0.0):
    return 0.5 * ops.mean(ops.square(real - (1.0 - smoothing))) + 0.5 * ops.mean(ops.square(fake))


def wgan_g(fake):
    return -ops.mean(fake)


def wgan_d(real, fake, smoothing: float = 0.0):
    """Critic loss E[D(fake)] - E[D(real)]; the gradient penalty is added by the train step."""
    return ops.mean(fake) - ops.mean(real)


def hinge_g(fake):
    return -ops.mean(fake)


def hinge_d(real, fake, smoothing: float = 0.0):
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


def gradient_penalty(grads):
    """WGAN-GP: mean (||grad_x D(x_hat)||_2 - 1)^2 over the batch. The epsilon inside the sqrt keeps the
    gradient finite where the norm is 0 (keras-io#624)."""
    norm = ops.sqrt(ops.sum(ops.square(grads), axis=tuple(range(1, len(grads.shape)))) + 1e-12)
    return ops.mean(ops.square(norm - 1.0))


def r1_penalty(grads):
    """R1 (Mescheder et al.): mean ||grad_x D(x_real)||^2; the train step scales it by gamma / 2."""
    return ops.mean(ops.sum(ops.square(grads), axis=tuple(range(1, len(grads.shape)))))


LOSSES = {
    "bce_ns": (bce_ns_g, bce_d),
    "minimax": (minimax_g, bce_d),
    "lsgan": (lsgan_g, lsgan_d),
    "wgan_gp": (wgan_g, wgan_d),
    "hinge": (hinge_g, hinge_d),
}
