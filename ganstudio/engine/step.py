"""The train step (TensorFlow): one generator update after `d_steps` discriminator updates.

With the tutorial's settings (bce_ns, d_steps=1, no penalties, no augmentation, no EMA) the last sub-step is
the tutorial's train_step op for op: two tapes over one forward pass, simultaneous G and D updates.
"""
from __future__ import annotations

import math
from functools import partial

from ..models.losses import LOSSES, gradient_penalty, r1_penalty
from .augment import ADA_DEFAULT_POLICY, diff_augment, parse_policy
from ..core.tfsetup import import_tf


def build_train_step(cfg, G, D, g_opt, d_opt, rng, *, jit: bool, loss_scaling: bool, G_ema=None, strategy=None,
                     steps_per_call: int = 1, ada_p=None):
    """fn(images (k, B, H, W, C) float32, labels (k, B) int32) -> [g_loss, d_loss, mean D(x), mean D(G(z)), r_real]
    where r_real = mean sign(D's scores on the real batch as D saw it, augmentation included, minus the loss
    family's real/fake boundary, see r_threshold): StyleGAN2-ADA's
    overfitting heuristic r_t, near 0 while D generalises and climbing toward 1 as it memorises the training set.

    steps_per_call = s > 1: fn(images (s, k, B, ...), labels (s, k, B)) -> (s, 5), s steps in one compiled loop.

    ada_p: a scalar tf.Variable (adaptive augmentation on): the diffaugment ops (all three if none is set) are
    applied to each image with probability p, read at every call, so the trainer moves p without a retrace.

    Under a tf.distribute strategy with R replicas the inputs are per-replica slices of the global batch; each
    replica scales its losses by 1/R so that the optimizers' all-reduce (a sum) yields the global-batch mean."""
    tf = import_tf()
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    o, m = cfg.optim, cfg.model
    g_loss_fn, d_loss_base = LOSSES[o.loss]
    d_loss_fn = partial(d_loss_base, smoothing=o.label_smoothing) if o.label_smoothing else d_loss_base
    cond = m.conditional
    policy = parse_policy(cfg.data.diffaugment) or (ADA_DEFAULT_POLICY if ada_p is not None else ())
    gp_weight = o.gp_weight if o.loss == "wgan_gp" else 0.0
    r1_gamma = o.r1_gamma
    ema = cfg.optim.ema_decay if G_ema is not None else 0.0
    # Karras' ramp-up: half-life (images) = min(batch * ln 0.5 / ln ema_decay, ema_rampup * images seen)
    rampup = o.ema_rampup if ema else 0.0
    half_life = cfg.data.batch_size * math.log(0.5) / math.log(ema) if ema else 0.0
    k = o.d_steps

    def gen(noise, labels):
        return G([noise, labels] if cond else noise, training=True)

    def disc(x, labels, seed=None):
        if policy and seed is not None:
            if ada_p is None:
                x = diff_augment(x, policy, seed)
            else:   # p = 0 (the start of a run, a large dataset) skips the ops' cost
                x = tf.cond(ada_p > 0, lambda: diff_augment(x, policy, seed, ada_p), lambda: x)
        return tf.cast(D([x, labels] if cond else x, training=True), tf.float32)  # losses in float32

    def penalties(images, fake, labels, seed):
        total = 0.0
        if gp_weight:
            alpha = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed + 3)
            x_hat = images + alpha * (tf.stop_gradient(tf.cast(fake, images.dtype)) - images)
            with tf.GradientTape() as t:
                t.watch(x_hat)
                out = disc(x_hat, labels)
            total += gp_weight * gradient_penalty(t.gradient(out, x_hat))
        if r1_gamma:
            with tf.GradientTape() as t:
                t.watch(images)
                out = disc(images, labels)
            total += 0.5 * r1_gamma * r1_penalty(t.gradient(out, images))
        return total

    def d_loss_of(images, fake, labels, seed):
        real_out = disc(images, labels, seed)
        fake_out = disc(fake, labels, None if seed is None else seed + 1)
        return d_loss_fn(real_out, fake_out) + penalties(images, fake, labels, seed), real_out, fake_out

    def objective(opt, loss):
        """What the tape differentiates (computed inside the tape): the loss / R under a strategy (the all-reduce
        sums gradients), times the loss scale under mixed_float16."""
        loss = loss / replicas if replicas > 1 else loss
        return opt.scale_loss(loss) if loss_scaling else loss

    def apply(opt, tape, target, variables):
        opt.apply_gradients(zip(tape.gradient(target, variables), variables))

    def r_threshold(fake_out):
        """The score that separates 'real' from 'fake' for r_real: 0 for logits (bce, minimax, hinge), LSGAN's
        midpoint 0.5 between its targets 0 and 1, and WGAN's batch mean of fake scores, since a critic has no fixed
        boundary (then r_real is the share of reals scored above the fakes, shifted to [-1, 1])."""
        if o.loss == "lsgan":
            return 0.5
        if o.loss == "wgan_gp":
            return tf.stop_gradient(tf.reduce_mean(fake_out))
        return 0.0

    def core(images, labels, noise, seeds):
        for i in range(k - 1):               # extra critic updates (WGAN-GP's n_critic)
            with tf.GradientTape() as disc_tape:
                fake = gen(noise[i], labels[i])
                d_loss, _, _ = d_loss_of(images[i], fake, labels[i], seeds[i] if policy or gp_weight else None)
                d_target = objective(d_opt, d_loss)
            apply(d_opt, disc_tape, d_target, D.trainable_variables)
        x, y, z, s = images[k - 1], labels[k - 1], noise[k - 1], seeds[k - 1]
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = gen(z, y)
            d_loss, real_out, fake_out = d_loss_of(x, generated, y, s if policy or gp_weight else None)
            g_loss = g_loss_fn(fake_out)
            g_target, d_target = objective(g_opt, g_loss), objective(d_opt, d_loss)
        apply(g_opt, gen_tape, g_target, G.trainable_variables)
        apply(d_opt, disc_tape, d_target, D.trainable_variables)
        if ema:
            beta = ema
            if rampup:   # g_opt.iterations counts generator updates, this one included
                seen = tf.cast(g_opt.iterations, tf.float32) * cfg.data.batch_size
                beta = 0.5 ** (cfg.data.batch_size / tf.maximum(tf.minimum(half_life, rampup * seen), 1e-8))
            for e, w in zip(G_ema.weights, G.weights):
                e.assign(beta * e + (1.0 - beta) * tf.cast(w, e.dtype))
        out = tf.stack([g_loss, d_loss, tf.reduce_mean(tf.sigmoid(real_out)), tf.reduce_mean(tf.sigmoid(fake_out)),
                        tf.reduce_mean(tf.sign(real_out - r_threshold(fake_out)))])
        return out / replicas if replicas > 1 else out

    core_fn = core
    core = tf.function(core, jit_compile=jit)

    # Random draws happen outside the XLA cluster (XLA's RNG gives another stream than TF's kernels), so the
    # speed options change rounding only.
    need_seeds = bool(policy or gp_weight)

    if replicas == 1 and steps_per_call > 1:
        s_ = steps_per_call

        def many(images, labels, noise, seeds):
            out = tf.TensorArray(tf.float32, size=s_)
            for i in tf.range(s_):
                out = out.write(i, core_fn(images[i], labels[i], noise[i], seeds[i]))
            return out.stack()

        many = tf.function(many, jit_compile=jit)

        def multi_step(images, labels):
            # One draw per step, in the same order as single steps: s calls give the same run as s x 1 call.
            b = tf.shape(images)[2]
            noise = tf.stack([rng.normal([k, b, m.noise_dim]) for _ in range(s_)])
            seeds = tf.stack([tf.transpose(rng.make_seeds(k)) for _ in range(s_)]) if need_seeds \
                else tf.zeros([s_, k, 2], tf.int64)
            return many(images, labels, noise, seeds)

        return tf.function(multi_step)

    if replicas == 1:
        def step(images, labels):
            b = tf.shape(images)[1]
            noise = rng.normal([k, b, m.noise_dim])
            seeds = tf.transpose(rng.make_seeds(k)) if need_seeds else tf.zeros([k, 2], tf.int64)
            return core(images, labels, noise, seeds)

        return tf.function(step)

    def replica_step(images, labels, noise, seeds):
        # Every replica takes its slice of the global noise, so R devices compute what one device would.
        r = tf.distribute.get_replica_context().replica_id_in_sync_group
        bl = tf.shape(images)[1]
        # Plain Python here: a nested tf.function may not contain the all-reduce sync points (merge_call).
        return core_fn(images, labels, noise[:, r * bl:(r + 1) * bl], seeds + tf.cast(r, tf.int64))

    def distributed_step(images, labels):
        noise = rng.normal([k, cfg.data.batch_size, m.noise_dim])
        seeds = tf.transpose(rng.make_seeds(k)) if need_seeds else tf.zeros([k, 2], tf.int64)
        per_replica = strategy.run(replica_step, args=(images, labels, noise, seeds))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return tf.function(distributed_step)


def run_call(fn, images, labels, *, steps: int, batch_size: int, device: str):
    """Run a compiled step call (`steps` steps of `batch_size`); running out of memory raises the ConfigError that
    names the setting to lower instead of a traceback."""
    from ..core.errors import ConfigError  # noqa: PLC0415

    tf = import_tf()
    try:
        return fn(images, labels)
    except (tf.errors.ResourceExhaustedError, MemoryError):
        bs = batch_size
        if steps > 1:
            raise ConfigError(f"steps_per_call: {steps} steps of batch_size {bs} in one call do not fit in the "
                              f"{device}'s memory; lower it (e.g. --set steps_per_call=1) or batch_size") from None
        raise ConfigError(f"batch_size: {bs} images per step do not fit in the {device}'s memory; lower it "
                          f"(e.g. --batch-size {max(1, bs // 2)})") from None
