"""The feature network behind the quality metric: a small CNN trained on the run's own dataset.

Inception features mean nothing on 28x28 grayscale clothes, so FD/KID use the penultimate layer (128-d) of a
classifier trained on the dataset's labels. Lookup order in get_classifier(): the model shipped in resources/ (the
bundled Fashion-MNIST subset), the user's cache (keyed by a hash of the images), then training (a few CPU minutes
at most). Unlabeled data falls back to a fixed random-init CNN of the same shape: random conv features still
separate blobs from clothes and collapsed from diverse sets, but the numbers are weaker, and `source` says so.

Keras is imported lazily so importing ganstudio.metrics stays cheap for the GUI and CLI.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.errors import GanStudioError
from ..core.resources import resource_path
from ..data import Dataset

ARCH_VERSION = "cnn-v1"                 # part of the cache key: change it when build_classifier changes
BUNDLED_RESOURCE = "classifier_bundled.keras"
FEATURE_LAYER = "features"
FEATURE_DIM = 128
RANDOM_SEED = 1234                      # the unlabeled fallback must be the same net in every process
MIN_LABELED = 100                       # fewer labeled images than this: a trained classifier is not worth it

Progress = Callable[[int, int], None]   # progress(done, total), like the dataset loaders
FeatureFn = Callable[[np.ndarray], np.ndarray]

_memo: dict[str, tuple[FeatureFn, float | None, str]] = {}   # in-process: get_classifier() twice is free


def build_classifier(input_shape: tuple[int, int, int], num_classes: int, seed: int | None = None):
    """Conv blocks (2 convs + max-pool) until the map is <= 8 px, then Dense(128) 'features' -> softmax.

    28 px: 28 -> 14 -> 7 (~0.45 M parameters, ~1.8 MB); 32 px: 2 blocks; 64 px: 3 blocks."""
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    import_tf()
    import keras  # noqa: PLC0415
    from keras import layers  # noqa: PLC0415

    seeds = iter(range(seed, seed + 100)) if seed is not None else None

    def init():   # explicit per-layer seeds: no keras.utils.set_random_seed, which would reseed the trainer too
        return keras.initializers.GlorotUniform(seed=next(seeds)) if seeds else "glorot_uniform"

    h = input_shape[0]
    x = inp = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(x)   # takes uint8 values as float, like the GAN's data pipeline
    filters = 32
    for _ in range(4):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init())(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init())(x)
        x = layers.MaxPooling2D(2)(x)
        h, filters = h // 2, min(filters * 2, 128)
        if h <= 8:
            break
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3, seed=seed)(x)
    x = layers.Dense(FEATURE_DIM, activation="relu", kernel_initializer=init(), name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3, seed=seed)(x)
    out = layers.Dense(num_classes, activation="softmax", kernel_initializer=init(), name="logits")(x)
    return keras.Model(inp, out, name="feature_classifier")


def feature_extractor(model):
    """A model sharing `model`'s weights that outputs the penultimate 'features' layer (N, 128)."""
    import keras  # noqa: PLC0415

    return keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output, name="feature_extractor")


def make_feature_fn(model, batch_size: int = 500) -> FeatureFn:
    """uint8 (N, H, W, C) -> float32 (N, 128) numpy, in fixed-size batches (one traced function, bounded memory)."""
    extractor = feature_extractor(model)
    shape = tuple(model.input_shape[1:])

    def features(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 3 and shape[-1] == 1:
            images = images[..., None]
        if tuple(images.shape[1:]) != shape:
            raise ValueError(f"feature classifier expects images of shape {shape}, got {images.shape[1:]}")
        out = [extractor.predict_on_batch(images[i:i + batch_size].astype(np.float32))
               for i in range(0, len(images), batch_size)]
        return np.concatenate([np.asarray(o) for o in out]) if out else np.zeros((0, FEATURE_DIM), np.float32)

    return features


def _split(images: np.ndarray, labels: np.ndarray, test_frac: float, seed: int):
    idx = np.random.default_rng(seed).permutation(len(images))
    n_test = max(1, int(len(images) * test_frac))
    return (images[idx[n_test:]], labels[idx[n_test:]]), (images[idx[:n_test]], labels[idx[:n_test]])


def train_classifier(dataset: Dataset, epochs: int = 10, progress: Progress | None = None, *,
                     test: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0, max_train: int = 12000,
                     batch_size: int = 64) -> tuple[object, float]:
    """Train the CNN on dataset.images/labels; returns (model, accuracy on `test` or on a 10% held-out split).

    At most `max_train` images are used so MNIST-sized sets stay within a few CPU minutes (6,000 bundled images x 10
    epochs take about a minute on 2 cores)."""
    if dataset.labels is None:
        raise GanStudioError(f"dataset {dataset.name!r} has no labels; the quality metric falls back to random "
                             f"features (get_classifier does this for you)")
    import keras  # noqa: PLC0415

    x, y = np.asarray(dataset.images), np.asarray(dataset.labels, dtype=np.int64)
    if test is None:
        (x, y), test = _split(x, y, 0.1, seed)
    if len(x) > max_train:
        keep = np.random.default_rng(seed).choice(len(x), max_train, replace=False)
        x, y = x[keep], y[keep]
    num_classes = int(max(y.max(), np.max(test[1])) + 1)
    model = build_classifier(tuple(x.shape[1:]), num_classes, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    class _Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if progress is not None:
                progress(epoch + 1, epochs)

    model.fit(x.astype(np.float32), y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True,
              callbacks=[_Report()])
    return model, evaluate(model, *test)


def evaluate(model, images: np.ndarray, labels: np.ndarray) -> float:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    probs = np.concatenate([np.asarray(model.predict_on_batch(images[i:i + 500].astype(np.float32)))
                            for i in range(0, len(images), 500)])
    return float((probs.argmax(axis=1) == np.asarray(labels)).mean())


def save_classifier(model, path: str | Path) -> None:
    """Save weights + architecture without the optimizer state (Adam's two slots would triple the file)."""
    import keras  # noqa: PLC0415

    bare = keras.Model.from_config(model.get_config())   # clone_model keeps the compiled optimizer in 3.x
    bare.set_weights(model.get_weights())
    bare.save(path)


def dataset_key(dataset: Dataset) -> str:
    """A hash of shape + up to 512 evenly spaced images and their labels (hashing all of MNIST would take a
    noticeable fraction of a second; a subsample still changes with any different dataset or limit)."""
    imgs = np.ascontiguousarray(dataset.images)
    idx = np.linspace(0, len(imgs) - 1, num=min(512, len(imgs))).astype(int)
    h = hashlib.sha256(f"{ARCH_VERSION}|{imgs.shape}|{imgs.dtype}".encode())
    h.update(np.ascontiguousarray(imgs[idx]).tobytes())
    if dataset.labels is not None:
        h.update(np.ascontiguousarray(np.asarray(dataset.labels)[idx], dtype=np.int64).tobytes())
    return h.hexdigest()[:24]


def cache_dir() -> Path:
    """$GANSTUDIO_CACHE/classifiers, else ($XDG_CACHE_HOME or ~/.cache)/ganstudio/classifiers."""
    if os.environ.get("GANSTUDIO_CACHE"):
        return Path(os.environ["GANSTUDIO_CACHE"]) / "classifiers"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganstudio" / "classifiers"


def _load_bundled() -> tuple[FeatureFn, float]:
    """The shipped model; its accuracy is measured on the npz's held-out x_test at load (about 0.2 s), so a
    stale or corrupt file shows up as a low number instead of a stale claim."""
    import keras  # noqa: PLC0415

    model = keras.saving.load_model(resource_path(BUNDLED_RESOURCE), compile=False)
    with np.load(resource_path("fashion_mnist_subset.npz")) as z:
        acc = evaluate(model, z["x_test"], z["y_test"])
    return make_feature_fn(model), acc


def _is_bundled(dataset: Dataset) -> bool:
    # any `limit` of the bundled set is drawn from the distribution the shipped model was trained on
    return dataset.name == "bundled" and dataset.shape == (28, 28, 1)


def random_feature_fn(input_shape: tuple[int, int, int]) -> FeatureFn:
    """Features of a fixed random-init CNN (same seed in every process) for datasets without labels."""
    return make_feature_fn(build_classifier(input_shape, 10, seed=RANDOM_SEED))


def get_classifier(dataset: Dataset, progress: Progress | None = None, *, epochs: int = 10,
                   use_cache: bool = True) -> tuple[FeatureFn, float | None, str]:
    """(feature_fn, test accuracy or None, source) with source in 'bundled' | 'cache' | 'trained' | 'random'.

    'random' means the dataset has no (or too few) labels and the features come from an untrained network: say
    so next to the score. A cache that cannot be written is not an error (the model is just retrained next time)."""
    key = dataset_key(dataset)
    if key in _memo:
        return _memo[key]
    labels = dataset.labels
    if _is_bundled(dataset):
        try:
            fn, acc = _load_bundled()
            _memo[key] = (fn, acc, "bundled")
            return _memo[key]
        except GanStudioError:
            pass   # resource missing (e.g. a source checkout before tools/train_bundled_classifier.py): train
    if labels is None or len(labels) < MIN_LABELED or len(np.unique(labels)) < 2:
        _memo[key] = (random_feature_fn(dataset.shape), None, "random")
        return _memo[key]

    import keras  # noqa: PLC0415

    path, meta = cache_dir() / f"{key}.keras", cache_dir() / f"{key}.json"
    if use_cache and path.exists() and meta.exists():
        try:
            model = keras.saving.load_model(path, compile=False)
            _memo[key] = (make_feature_fn(model), json.loads(meta.read_text())["accuracy"], "cache")
            return _memo[key]
        except Exception:  # noqa: BLE001 - a corrupt cache entry is retrained, not fatal
            pass
    model, acc = train_classifier(dataset, epochs=epochs, progress=progress)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_classifier(model, path)
            meta.write_text(json.dumps({"accuracy": acc, "dataset": dataset.name, "images": len(dataset),
                                        "shape": list(dataset.shape), "epochs": epochs, "arch": ARCH_VERSION}))
        except OSError:
            pass
    _memo[key] = (make_feature_fn(model), acc, "trained")
    return _memo[key]
