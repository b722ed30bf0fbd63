"""Batch norm for bfloat16 training on the TensorFlow backend: one fused kernel instead of Keras' float32 path.

Keras 3's BatchNormalization upcasts bf16 inputs to float32 and computes the batch moments and the normalization
as separate elementwise ops (Cast, Mean, SquaredDifference, Sub, Mul, ... and their gradients). TensorFlow's
FusedBatchNormV3 takes bf16 inputs with float32 statistics in one op, with oneDNN kernels forward and backward.
A/B on an Intel Xeon with AMX (benchmarks/ab_step.py fused-bn): the tutorial step 1.18x in CPU time. The math is
Keras' (biased batch variance, same moving-average update, same variables, so checkpoints restore into either
class); outputs differ by bf16 rounding only. Used only when the layer computes in bf16, so float32 training
(the tutorial's exact computation) and exported models keep the stock layer.
"""
from __future__ import annotations

import keras


class FusedBatchNormalization(keras.layers.BatchNormalization):
    def call(self, inputs, training=None, mask=None):
        import tensorflow as tf  # noqa: PLC0415 - only built under the TensorFlow backend (batch_norm below)

        if not (training and self.trainable) or mask is not None or self.synchronized or self.renorm \
                or inputs.dtype != tf.bfloat16 or self.axis not in (-1, len(inputs.shape) - 1):
            return super().call(inputs, training, mask)
        c = inputs.shape[-1]
        x = inputs if len(inputs.shape) == 4 else tf.reshape(inputs, [-1, 1, 1, c])   # the op wants NHWC
        y, mean, var = tf.compat.v1.nn.fused_batch_norm(
            x, self.gamma if self.scale else tf.ones([c]), self.beta if self.center else tf.zeros([c]),
            epsilon=self.epsilon, is_training=True)
        n = tf.cast(tf.size(x) // c, tf.float32)
        var = var * ((n - 1.0) / n)   # the op returns the Bessel-corrected variance; Keras averages the biased one
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + var * (1.0 - m))
        return tf.reshape(y, tf.shape(inputs))


def batch_norm(sync: bool = False, dtype=None, name=None) -> keras.layers.BatchNormalization:
    """The batch-norm layer for the models: synchronized across replicas when sync; the fused one when it would
    compute in bf16 (dtype, else the global dtype policy) under TensorFlow."""
    if sync:
        return keras.layers.BatchNormalization(synchronized=True, dtype=dtype, name=name)
    policy = keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
    fused = policy.compute_dtype == "bfloat16" and keras.backend.backend() == "tensorflow"
    return (FusedBatchNormalization if fused else keras.layers.BatchNormalization)(dtype=dtype, name=name)
