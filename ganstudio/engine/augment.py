"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to real and fake images before D, so a
small dataset does not let D memorise it. Stateless: every call takes a seed, so results are reproducible.

Adaptive augmentation (StyleGAN2-ADA, Karras et al. 2020) gates each augmentation per image with a probability p
that the trainer tunes from the overfitting signal r_t = E[sign(D(real))] (ada_step); p = 1 is plain DiffAugment.
"""
from __future__ import annotations

from ..core.tfsetup import import_tf

ADA_DEFAULT_POLICY = ("translation", "color", "cutout")   # ADA with diffaugment unset gates all three


def parse_policy(policy: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in policy.split(",") if p.strip())


def diff_augment(x, policy: tuple[str, ...], seed, p=None):
    """x: float (B, H, W, C) in [-1, 1]; seed: int tensor shape [2]; p: None (always augment) or a float scalar
    tensor: each image gets each augmentation independently with probability p (ADA), else passes unchanged. The
    choice is a tf.where, so gradients still flow to the images, augmented or not."""
    tf = import_tf()
    for i, name in enumerate(policy):
        s = seed + tf.constant([0, 7919], seed.dtype) * (i + 1)   # a distinct stream per augmentation
        y = {"color": _color, "translation": _translation, "cutout": _cutout}[name](x, s)
        if p is None:
            x = y
        else:
            u = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], s + tf.constant([0, 104729], s.dtype))
            x = tf.where(u < tf.cast(p, u.dtype), y, x)
    return x


def ada_step(p: float, r_t: float, target: float, batch: int, kimg: float) -> float:
    """The ADA update after one step: p moves by batch / (kimg * 1000) toward more augmentation when r_t > target
    (D is sure of the real images it trains on: it is memorising them) and toward less otherwise, clipped to [0, 1].
    So at full speed p crosses 0 -> 1 in kimg thousand images (the paper: 500, adjusting every 4 steps on their
    sign-mean; here every step, so resume needs no accumulator). NaN r_t (a NaN step) leaves p alone."""
    if not target or r_t != r_t:
        return p
    sign = 1.0 if r_t > target else -1.0 if r_t < target else 0.0
    return min(max(p + sign * batch / (kimg * 1000.0), 0.0), 1.0)


def _color(x, seed):
    tf = import_tf()
    b = tf.shape(x)[0]
    u = lambda k: tf.random.stateless_uniform([b, 1, 1, 1], seed + k, dtype=x.dtype)  # noqa: E731
    x = x + (u(1) - 0.5)                                                  # brightness
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (u(2) * 2) + mean                                    # saturation
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (u(3) + 0.5) + mean                               # contrast


def _translation(x, seed, ratio: float = 0.125):
    """Shift each image by up to ratio * size pixels, filling with zeros (padding of the [-1, 1] image)."""
    tf = import_tf()
    b, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    sh, sw = int(x.shape[1] * ratio + 0.5), int(x.shape[2] * ratio + 0.5)
    ty = tf.random.stateless_uniform([b, 1, 1], seed, minval=-sh, maxval=sh + 1, dtype=tf.int32)
    tx = tf.random.stateless_uniform([b, 1, 1], seed + 1, minval=-sw, maxval=sw + 1, dtype=tf.int32)
    gy = tf.clip_by_value(tf.range(h)[None, :, None] + ty + 1, 0, h + 1)
    gx = tf.clip_by_value(tf.range(w)[None, None, :] + tx + 1, 0, w + 1)
    bi = tf.broadcast_to(tf.range(b)[:, None, None], tf.shape(gy + gx))
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return tf.gather_nd(padded, tf.stack([bi, tf.broadcast_to(gy, tf.shape(bi)), tf.broadcast_to(gx, tf.shape(bi))],
                                         axis=-1))


def _cutout(x, seed, ratio: float = 0.5):
    """Zero a random square of ratio * size per image."""
    tf = import_tf()
    b, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = tf.random.stateless_uniform([b, 1, 1], seed, maxval=h + (1 - ch % 2), dtype=tf.int32)
    cx = tf.random.stateless_uniform([b, 1, 1], seed + 1, maxval=w + (1 - cw % 2), dtype=tf.int32)
    yy = tf.range(h)[None, :, None]
    xx = tf.range(w)[None, None, :]
    inside = (tf.abs(yy - cy) < ch // 2 + 1) & (tf.abs(xx - cx) < cw // 2 + 1)
    return x * tf.cast(~inside, x.dtype)[..., None]
