"""Dataset sources -> uint8 NHWC numpy arrays (the trainer builds the tf.data pipeline from them).

Sources are plain numpy (no TensorFlow import) so the GUI can preview a dataset before TF has loaded.
"""
from __future__ import annotations

import gzip
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from ..core.resources import resource_path
from .arrays import Dataset, check_claim

BUILTIN = ("bundled", "mnist", "fashion_mnist", "cifar10")
CLASS_NAMES = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
    "mnist": tuple(str(i) for i in range(10)),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}


def load_dataset(spec: str, limit: int = 0, *, size: int = 28, color: str = "auto", resize: str = "crop",
                 bad_images: str = "skip", npz_key: str = "", progress=None) -> Dataset:
    """Resolve a `--dataset` spec: a built-in name, an image folder, or an .npz/.npy/IDX file.

    `size`, `color`, `resize` and `bad_images` apply to image folders; `npz_key` to .npz files."""
    spec = spec.strip()
    if spec == "bundled":
        ds = _load_bundled()
    elif spec in ("mnist", "fashion_mnist"):
        ds = _load_keras(spec)
    elif spec == "cifar10":
        ds = _load_cifar10()
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise DataError(f"dataset {spec!r}: no such file or folder; use {', '.join(BUILTIN)}, an image folder "
                            f"or an .npz/.npy/IDX file")
        if path.is_dir():
            from .folder import load_folder  # noqa: PLC0415

            ds = load_folder(path, size, color, resize, bad_images, progress)
        elif path.suffix.lower() in (".npz", ".npy"):
            ds = _load_npz(path, npz_key)
        elif "idx" in path.name.lower() or "ubyte" in path.name.lower():
            ds = _load_idx(path)
        elif path.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
            raise DataError(f"dataset {spec!r} is a single image; put your images in a folder and pass the folder")
        else:
            raise DataError(f"dataset {spec!r}: unsupported file type {path.suffix or '(none)'}; use an image "
                            f"folder, an .npz/.npy array file or an IDX file")
    if limit:
        ds.images = ds.images[:limit]
        ds.labels = None if ds.labels is None else ds.labels[:limit]
    if len(ds) == 0:
        raise DataError(f"dataset {spec!r} has no images")
    return ds


def load_config_dataset(config, progress=None) -> Dataset:
    """The dataset a Config asks for (folder images resized to data.resolution or the model's image_size)."""
    d = config.data
    return load_dataset(d.dataset, d.limit, size=d.resolution or config.model.image_size, color=d.color,
                        resize=d.resize, bad_images=d.bad_images, npz_key=d.npz_key, progress=progress)


def _load_bundled() -> Dataset:
    path = resource_path("fashion_mnist_subset.npz")
    with np.load(path) as z:
        x, y = z["x_train"], z["y_train"]
        names = tuple(str(s) for s in z["class_names"])
    return Dataset("bundled", x[..., None], y.astype(np.int64), names,
                   ["Fashion-MNIST subset bundled with ganstudio (6,000 images, 600 per class)"])


def _keras_cache_dir() -> Path:
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets"


def _load_keras(name: str) -> Dataset:
    """MNIST/Fashion-MNIST from the Keras cache; download only if missing, with a clear offline message."""
    cache = _keras_cache_dir()
    if name == "mnist":
        f = cache / "mnist.npz"
        if f.exists():
            with np.load(f) as z:
                return Dataset(name, z["x_train"][..., None], z["y_train"].astype(np.int64), CLASS_NAMES[name])
        files_hint = f"{f} (from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz)"
    else:
        d = cache / "fashion-mnist"
        imgs, labels = d / "train-images-idx3-ubyte.gz", d / "train-labels-idx1-ubyte.gz"
        if imgs.exists() and labels.exists():
            return Dataset(name, read_idx(imgs)[..., None], read_idx(labels).astype(np.int64), CLASS_NAMES[name])
        files_hint = (f"{d}/train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (Debian: apt-get install "
                      f"dataset-fashion-mnist, then copy them from /usr/share/datasets/fashion-mnist/)")
    try:
        import keras  # noqa: PLC0415 - heavy, only when a download is needed

        (x, y), _ = getattr(keras.datasets, name).load_data()
    except Exception as e:  # noqa: BLE001 - any network failure becomes one clear message
        raise DataError(f"dataset {name!r} is not in the Keras cache and could not be downloaded "
                        f"({type(e).__name__}); put {files_hint}, or use --dataset bundled") from None
    return Dataset(name, x[..., None], y.astype(np.int64), CLASS_NAMES[name])


def _load_cifar10() -> Dataset:
    try:
        import keras  # noqa: PLC0415

        (x, y), _ = keras.datasets.cifar10.load_data()
    except Exception as e:  # noqa: BLE001
        raise DataError(f"dataset 'cifar10' is not in the Keras cache and could not be downloaded "
                        f"({type(e).__name__}); unpack cifar-10-python.tar.gz into "
                        f"{_keras_cache_dir()}/cifar-10-batches-py/, or use --dataset bundled") from None
    return Dataset("cifar10", x, y.reshape(-1).astype(np.int64), CLASS_NAMES["cifar10"])


def _load_idx(path: Path) -> Dataset:
    x = read_idx(path)
    if x.ndim != 3:
        raise DataError(f"{path}: IDX holds shape {x.shape}, not images (N, H, W); pass the '-images-' file")
    labels = None
    for cand in (path.with_name(path.name.replace("images-idx3", "labels-idx1")),):
        if cand != path and cand.exists():
            y = read_idx(cand)
            labels = y.astype(np.int64) if y.shape == (len(x),) else None
    return Dataset(path.name, x[..., None], labels, (), [f"IDX file {path}"])


IDX_CHUNK = 1 << 20


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (raw or .gz) as MNIST ships it. The header's shape bounds the read: the array is allocated
    once at the size the header promises (after checking it against memory), and a file that holds more (a .gz
    that inflates to gigabytes) is refused after one extra byte."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[0:2] != b"\x00\x00" or head[2] != 0x08:
                raise DataError(f"{path}: not a uint8 IDX file (wrong magic number); expected MNIST-style "
                                f"'...-idx3-ubyte' data")
            ndim = head[3]
            dims = f.read(4 * ndim)
            shape = tuple(int.from_bytes(dims[4 * i: 4 + 4 * i], "big") for i in range(len(dims) // 4))
            expected = 4 + 4 * ndim + math.prod(shape)
            if len(shape) == ndim:
                check_claim(str(path), math.prod(shape), "use a subset of the data")
            out = np.empty(math.prod(shape) if len(shape) == ndim else 0, np.uint8)
            view, got = memoryview(out), 0
            while got < len(out):
                k = f.readinto(view[got:got + IDX_CHUNK])
                if not k:
                    break
                got += k
            extra = len(f.read(1))
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot read IDX file ({e})") from None
    if extra:
        raise DataError(f"{path}: IDX file is padded: it holds more than the {expected:,} bytes its header says "
                        f"(refused before reading the rest); re-export it or check that it is an IDX file")
    if len(shape) != ndim or got != len(out):
        raise DataError(f"{path}: IDX file is truncated or padded ({4 + len(dims) + got} bytes, header says "
                        f"{expected})")
    return out.reshape(shape)


def _npy_claims(path: Path) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, shape, bytes its header claims, bytes the file holds) for each array of an .npz/.npy, read from the
    headers alone, so a forged header is refused before numpy allocates what it claims."""
    def claim(name: str, fp, size: int) -> tuple[str, tuple[int, ...], int, int]:
        version = np.lib.format.read_magic(fp)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(fp)
        if dtype.hasobject:   # pickled objects: np.load refuses them with its own message
            return name, shape, 0, 0
        return name, shape, math.prod(shape) * dtype.itemsize, size - fp.tell()

    if path.suffix.lower() == ".npy":
        with open(path, "rb") as fp:
            return [claim("arr_0", fp, os.fstat(fp.fileno()).st_size)]
    with zipfile.ZipFile(path) as zf:
        out = []
        for info in zf.infolist():
            if info.filename.endswith(".npy"):
                with zf.open(info) as fp:
                    out.append(claim(info.filename[:-4], fp, info.file_size))
        return out


def _load_npz(path: Path, key: str = "") -> Dataset:
    try:
        claims = _npy_claims(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable numpy file ({e}); save images with np.savez(path, x=images)") \
            from None
    for name, shape, claimed, held in claims:
        if claimed != held:
            raise DataError(f"{path}[{name}]: its header claims shape {shape} ({claimed:,} bytes) but the file holds "
                            f"{held:,} bytes; the file is damaged, re-save it with np.savez")
    check_claim(str(path), sum(c[2] for c in claims), "use a subset of the data")
    try:
        if path.suffix.lower() == ".npy":
            arrays = {"arr_0": np.load(path, allow_pickle=False)}
        else:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable numpy file ({e}); save images with np.savez(path, x=images)") \
            from None
    if key:
        if key not in arrays:
            raise DataError(f"{path}: no array named {key!r}; it holds {', '.join(arrays) or 'nothing'} "
                            f"(set npz_key to one of them)")
        keys = [key]
    else:
        keys = [k for k in ("x_train", "x", "images", "arr_0") if k in arrays] or \
               [k for k, v in arrays.items() if getattr(v, "ndim", 0) in (3, 4)]
    if len(keys) > 1 and not {"x_train", "x", "images", "arr_0"} & set(keys):
        raise DataError(f"{path}: several image arrays ({', '.join(keys)}); choose one with --set npz_key=NAME")
    if not keys:
        raise DataError(f"{path}: no image array found (keys: {', '.join(arrays) or 'none'}); store images under "
                        f"'x' with shape (N, H, W) or (N, H, W, C)")
    key = keys[0]
    x = _to_uint8(arrays[key], f"{path}[{key}]")
    labels = next((arrays[k] for k in ("y_train", "y", "labels") if k in arrays), None)
    if labels is not None and (labels.ndim != 1 or len(labels) != len(x)):
        labels = None
    return Dataset(path.name, x, None if labels is None else labels.astype(np.int64), (),
                   [f"array {key!r} from {path} ({_describe_range(arrays[key])})"])


def _describe_range(x: np.ndarray) -> str:
    if x.dtype == np.uint8:
        return "uint8 [0, 255]"
    lo, hi = float(np.min(x)), float(np.max(x))
    return f"{x.dtype} [{lo:g}, {hi:g}] detected as " + ("[-1, 1]" if lo < 0 else "[0, 1]" if hi <= 1 else "[0, 255]")


def _to_uint8(x: np.ndarray, where: str) -> np.ndarray:
    """Accept uint8 [0,255] or float in [0,1] / [-1,1]; return uint8 NHWC."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(f"{where}: expected images shaped (N, H, W) or (N, H, W, 1|3), got {x.shape}")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{where}: dtype {x.dtype} is not an image type; store uint8 [0, 255] or float [0, 1]")
    xf = x.astype(np.float32)
    if not np.all(np.isfinite(xf)):
        raise DataError(f"{where}: contains NaN or Inf values; clean the array before training")
    lo, hi = float(xf.min()), float(xf.max())
    if lo >= -1.0 - 1e-6 and hi <= 1.0 + 1e-6 and lo < 0:
        xf = (xf + 1.0) * 127.5
    elif lo >= 0 and hi <= 1.0 + 1e-6:
        xf = xf * 255.0
    elif not (lo >= 0 and hi <= 255):
        raise DataError(f"{where}: values span [{lo:g}, {hi:g}]; expected uint8 [0, 255] or float [0, 1] / [-1, 1]")
    return np.clip(np.rint(xf), 0, 255).astype(np.uint8)
