"""Layers for bfloat16 training on the TensorFlow backend, chosen by the factories below only where a layer computes
in bf16: float32 training (the tutorial's exact computation) and exported models keep the stock Keras layers. Each
was kept because it won an A/B of the train step (benchmarks/ab_step.py; figures in the README, Performance).

Batch norm: Keras 3's BatchNormalization upcasts bf16 inputs to float32 and computes the batch moments and the
normalization as separate elementwise ops (Cast, Mean, SquaredDifference, Sub, Mul, ... and their gradients). TensorFlow's
FusedBatchNormV3 takes bf16 inputs with float32 statistics in one op, with oneDNN kernels forward and backward.
The math is Keras' (biased batch variance, same moving-average update, same variables, so checkpoints restore
into either class); outputs differ by bf16 rounding only.

Dropout and LeakyReLU: TensorFlow's bf16 elementwise kernels are slower than its float32 ones on CPUs (measured on
an AMX Xeon: LeakyRelu 2.3x, its gradient 1.8x, a multiply 1.7x, a uniform draw 1.4x), so these do less of them:
dropout draws 16 random bits per element (one uint32 draw for two elements) and applies one multiply by a
keep/scale mask (stock: a bf16 uniform draw, compare, multiply, select, and the same again backward); LeakyReLU's
gradient reads the activation's output instead of its input (the same mask for a positive slope), which lets
grappler's remapper fuse Conv2D + BiasAdd + LeakyRelu into one oneDNN kernel (with the stock gradient the remapper
fails on the whole step: "fanout ... LeakyReluGrad exist for missing node ... BiasAdd").
"""
from __future__ import annotations

import keras


class FusedBatchNormalization(keras.layers.BatchNormalization):
    def call(self, inputs, training=None, mask=None):
        import tensorflow as tf  # noqa: PLC0415 - these layers are only built under the TensorFlow backend

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


class Bf16Dropout(keras.layers.Dropout):
    def call(self, inputs, training=False):
        import tensorflow as tf  # noqa: PLC0415

        if not (training and 0 < self.rate < 1) or self.noise_shape is not None or inputs.dtype != tf.bfloat16:
            return super().call(inputs, training)
        # one draw from the layer's own SeedGenerator per call, as Keras' dropout does: exact resume still holds
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        n = tf.size(inputs)
        bits = tf.random.stateless_uniform([(n + 1) // 2], seed, minval=None, maxval=None, dtype=tf.uint32)
        half = tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:n]
        keep = tf.reshape(half >= tf.constant(round(self.rate * 2 ** 16), tf.uint16), tf.shape(inputs))
        return inputs * tf.cast(tf.where(keep, 1.0 / (1.0 - self.rate), 0.0), inputs.dtype)


class Bf16LeakyReLU(keras.layers.LeakyReLU):
    def call(self, inputs):
        import tensorflow as tf  # noqa: PLC0415

        if inputs.dtype != tf.bfloat16 or self.negative_slope <= 0:
            return super().call(inputs)
        alpha = self.negative_slope

        @tf.custom_gradient
        def leaky(x):
            y = tf.nn.leaky_relu(x, alpha)
            return y, lambda g: tf.raw_ops.LeakyReluGrad(gradients=g, features=y, alpha=alpha)

        return leaky(inputs)


def _in_bf16(dtype) -> bool:
    """Would a layer built with this dtype (None: the global policy) compute in bf16 under TensorFlow?"""
    policy = keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
    return policy.compute_dtype == "bfloat16" and keras.backend.backend() == "tensorflow"


def batch_norm(sync: bool = False, dtype=None, name=None) -> keras.layers.BatchNormalization:
    """The batch-norm layer for the models: synchronized across replicas when sync, else the fused one in bf16."""
    if sync:
        return keras.layers.BatchNormalization(synchronized=True, dtype=dtype, name=name)
    return (FusedBatchNormalization if _in_bf16(dtype) else keras.layers.BatchNormalization)(dtype=dtype, name=name)


def dropout(rate: float, dtype=None, **kwargs) -> keras.layers.Dropout:
    return (Bf16Dropout if _in_bf16(dtype) else keras.layers.Dropout)(rate, dtype=dtype, **kwargs)


def leaky_relu(negative_slope: float, dtype=None, **kwargs) -> keras.layers.LeakyReLU:
    return (Bf16LeakyReLU if _in_bf16(dtype) else keras.layers.LeakyReLU)(negative_slope=negative_slope,
                                                                          dtype=dtype, **kwargs)
