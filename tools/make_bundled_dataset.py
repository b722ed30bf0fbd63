"""Build resources/fashion_mnist_subset.npz from the IDX files of Debian's `dataset-fashion-mnist`.

    apt-get install dataset-fashion-mnist
    python tools/make_bundled_dataset.py [--src /usr/share/datasets/fashion-mnist] [--per-class 600]

A class-balanced subset (600 images per class = 6,000 train images, plus 100 per class of the test split)
keeps the repo small (< 5 MB) while training the tutorial preset to recognisable clothing.
The package is needed only to rebuild the file, never at run time.
"""
from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np


def read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or dtype_code != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def balanced(x: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator):
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(10)])
    idx = rng.permutation(idx)
    return x[idx], y[idx]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--per-class", type=int, default=600)
    ap.add_argument("--test-per-class", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "fashion_mnist_subset.npz")
    args = ap.parse_args()
    rng = np.random.default_rng(20261125)
    xtr, ytr = read_idx(args.src / "train-images-idx3-ubyte.gz"), read_idx(args.src / "train-labels-idx1-ubyte.gz")
    xte, yte = read_idx(args.src / "t10k-images-idx3-ubyte.gz"), read_idx(args.src / "t10k-labels-idx1-ubyte.gz")
    x_train, y_train = balanced(xtr, ytr, args.per_class, rng)
    x_test, y_test = balanced(xte, yte, args.test_per_class, rng)
    names = np.array(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
    np.savez_compressed(args.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=names)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): train {x_train.shape}, test {x_test.shape}")


if __name__ == "__main__":
    main()
