"""Images from the live generator between steps: the sample grid of the fixed noise, the quality metric's batches
and the studio's 'generate' requests (its latent explorer). One traced inference call per generator (its EMA or
not), reused for every batch size."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.imaging import to_uint8
from ..core.tfsetup import import_tf
from .events import Generated, Message


class Sampler:
    """G: the generator; G_ema: its moving average or None; fixed_noise: the grid's noise variable (N, noise_dim);
    fixed_labels: the grid's class labels (conditional models) or None, repeated for larger batches."""

    def __init__(self, G, G_ema, fixed_noise, fixed_labels: np.ndarray | None) -> None:
        self.G, self.G_ema, self.fixed_noise, self.fixed_labels = G, G_ema, fixed_noise, fixed_labels
        self._fns: dict[bool, Any] = {}   # ema? -> traced inference call

    def sample(self, noise: np.ndarray | None = None, labels: np.ndarray | None = None, ema: bool = True
               ) -> np.ndarray:
        """uint8 images from the generator (its EMA if any and `ema`) in inference mode (fixed noise by default).
        Training thread only."""
        tf = import_tf()
        ema = ema and self.G_ema is not None
        G = self.G_ema if ema else self.G
        conditional = self.fixed_labels is not None
        if ema not in self._fns:
            # One trace for every batch size and for the noise variable as well as plain arrays: grid, metric and
            # explorer batches differ, and retracing cost a trace per call (TensorFlow's retracing warning).
            spec = [tf.TensorSpec([None, int(self.fixed_noise.shape[1])], tf.float32)]
            if conditional:
                spec.append(tf.TensorSpec([None], tf.int32))
            self._fns[ema] = tf.function(lambda z, *y: tf.cast(G([z, *y] if y else z, training=False), tf.float32),
                                         input_signature=spec)
        z = tf.convert_to_tensor(self.fixed_noise) if noise is None else tf.constant(noise, tf.float32)
        y = ()
        if conditional:
            y = (tf.constant(np.resize(self.fixed_labels if labels is None else labels, int(z.shape[0])), tf.int32),)
        return to_uint8(self._fns[ema](z, *y).numpy())

    def generate(self, step: int, noise: np.ndarray | None = None, labels: np.ndarray | None = None,
                 ema: bool = True, tag: str = "") -> Generated | Message:
        """Answer a 'generate' request: images for the given noise (default: the fixed noise). Bad noise is an error
        message, not a crash."""
        z = self.fixed_noise.numpy() if noise is None else np.asarray(noise, np.float32)
        dim = int(self.fixed_noise.shape[1])
        if z.ndim != 2 or z.shape[1] != dim or not len(z):
            return Message(f"generate: noise must have shape (N, {dim}) for this run, got {z.shape}", "error")
        y = None
        if self.fixed_labels is not None:
            y = np.resize(self.fixed_labels if labels is None else labels, len(z)).astype(np.int32)
        return Generated(step, self.sample(z, y, ema=ema), z, y, tag)
