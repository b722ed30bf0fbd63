"""The tf.data input pipeline: the batches of any step, as a pure function of (seed, step).

Batch b is slice b % batches_per_epoch of a stateless permutation of the data keyed by (seed, epoch), so the data
position is a pure function of (seed, step): resume needs no iterator state, and the pipeline still runs in tf.data
(parallel map + prefetch) off the Python thread. Under a strategy each replica r reads its own contiguous part of
the global batch."""
from __future__ import annotations

from typing import Any, Iterator

from ..core.tfsetup import import_tf


def batches_from(images, labels, start_step: int, *, batch_size: int, seed: int, d_steps: int = 1,
                 strategy: Any = None) -> Iterator:
    """An endless iterator of (images, labels) for step `start_step` onwards, each of shape (d_steps, batch, ...):
    step s uses batches s*d_steps ... s*d_steps + d_steps - 1. images: uint8 (N, H, W, C) tensor, scaled to
    [-1, 1] as the tutorial does; labels: int32 (N,) tensor. strategy: a tf.distribute strategy with more than one
    replica (distributed per replica), or None."""
    tf = import_tf()
    n = int(images.shape[0])
    bs, k = batch_size, d_steps
    bpe = n // bs   # batches per epoch

    def pipeline(replicas: int, first_replica: int, local: int):
        bl = bs // replicas

        def element(j):
            # j enumerates (step, local replica, critic sub-step); .batch(k) groups the sub-steps and the
            # strategy hands consecutive elements to consecutive local replicas.
            step, lr, i = j // (local * k), (j // k) % local, j % k
            b = step * k + i
            epoch, pos = b // bpe, b % bpe
            idx = pos * bs + tf.cast(first_replica + lr, tf.int64) * bl + tf.range(bl, dtype=tf.int64)
            perm = tf.random.experimental.index_shuffle(
                idx, seed=tf.stack([tf.constant(seed, tf.int64), epoch]), max_index=n - 1)
            x = tf.gather(images, perm)
            return (tf.cast(x, tf.float32) - 127.5) / 127.5, tf.gather(labels, perm)   # the tutorial's scaling

        ds = tf.data.Dataset.range(start_step * local * k, 2**62)
        return ds.map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(k) \
            .prefetch(tf.data.AUTOTUNE)

    if strategy is None or strategy.num_replicas_in_sync == 1:
        return iter(pipeline(1, 0, 1))
    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)

    def per_worker(ctx):
        local = ctx.num_replicas_in_sync // ctx.num_input_pipelines
        return pipeline(ctx.num_replicas_in_sync, ctx.input_pipeline_id * local, local)

    return iter(strategy.distribute_datasets_from_function(per_worker, options))
