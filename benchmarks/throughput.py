"""Engine vs the TensorFlow DCGAN tutorial's own training loop, side by side in one process.

    .venv/bin/python benchmarks/throughput.py [--steps 20] [--rounds 2]

Both train the tutorial models on the bundled Fashion-MNIST subset at batch 256. Rounds alternate
(tutorial, engine XLA off, engine XLA on, ...) so that machine drift hits all equally; the first steps
(tracing/compilation) are excluded. Prints images/s per variant and the ratio to the tutorial loop.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

WARMUP = 4   # a multiple of every steps_per_call variant, so timing starts at a call boundary


def tutorial_loop(steps: int) -> float:
    """The tutorial's code, verbatim where possible (Keras 3 spelling of `input_shape`)."""
    import tensorflow as tf
    from tensorflow.keras import layers

    from ganstudio.data import load_dataset

    train_images = load_dataset("bundled").images.astype("float32")
    train_images = (train_images - 127.5) / 127.5
    BUFFER_SIZE, BATCH_SIZE, noise_dim = 60000, 256, 100
    train_dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)

    def make_generator_model():
        model = tf.keras.Sequential()
        model.add(layers.Input((100,)))
        model.add(layers.Dense(7 * 7 * 256, use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        model.add(layers.Reshape((7, 7, 256)))
        model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False, activation='tanh'))
        return model

    def make_discriminator_model():
        model = tf.keras.Sequential()
        model.add(layers.Input((28, 28, 1)))
        model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same'))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))
        model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))
        model.add(layers.Flatten())
        model.add(layers.Dense(1))
        return model

    generator, discriminator = make_generator_model(), make_discriminator_model()
    cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        return cross_entropy(tf.ones_like(real_output), real_output) + \
            cross_entropy(tf.zeros_like(fake_output), fake_output)

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH_SIZE, noise_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    done, t_start = 0, None
    while done < steps + WARMUP:
        for image_batch in train_dataset:
            if image_batch.shape[0] != BATCH_SIZE:
                continue  # the tutorial's ragged last batch would retrace; both sides use full batches
            train_step(image_batch)
            done += 1
            if done == WARMUP:
                generator.layers[0].kernel.numpy()  # wait for the async step before starting the clock
                t_start = time.perf_counter()
            if done == steps + WARMUP:
                break
    generator.layers[0].kernel.numpy()
    return BATCH_SIZE * steps / (time.perf_counter() - t_start)


def engine_loop(steps: int, **overrides) -> float:
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer
    from ganstudio.presets import get_preset

    cfg = get_preset("tutorial").config().with_updates(
        {"steps": steps + WARMUP, "checkpoint_every": 0, "checkpoint_minutes": 0, "metric_every": 0,
         "tensorboard": False, **overrides})
    walls = {}
    with tempfile.TemporaryDirectory() as d:
        for ev in Trainer(cfg, run_dir=os.path.join(d, "run")).run():
            if isinstance(ev, StepMetrics):
                walls[ev.step] = ev.wall
    return 256 * steps / (walls[steps + WARMUP] - walls[WARMUP])


VARIANTS = {
    "tutorial loop": lambda n: tutorial_loop(n),
    "engine (auto)": lambda n: engine_loop(n),
    "engine, XLA on": lambda n: engine_loop(n, jit_compile="on", precision="float32"),
    "engine, 4 steps/call": lambda n: engine_loop(n, jit_compile="off", precision="float32", steps_per_call=4),
    "engine, bf16": lambda n: engine_loop(n, jit_compile="off", precision="mixed_bfloat16"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    results: dict[str, list[float]] = {k: [] for k in VARIANTS}
    for r in range(args.rounds):
        for name, fn in VARIANTS.items():
            results[name].append(fn(args.steps))
            print(f"round {r + 1}: {name:<22} {results[name][-1]:8.1f} img/s", flush=True)
    base = statistics.median(results["tutorial loop"])
    print(f"\n{'variant':<22}{'img/s (median)':>16}{'ratio':>8}")
    for name, vals in results.items():
        med = statistics.median(vals)
        print(f"{name:<22}{med:>16.1f}{med / base:>8.3f}")


if __name__ == "__main__":
    main()
