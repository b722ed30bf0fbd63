import gzip

import numpy as np
import pytest

from ganstudio.core.errors import DataError
from ganstudio.data import load_dataset, read_idx


def test_bundled_is_a_balanced_fashion_mnist_subset():
    ds = load_dataset("bundled")
    assert ds.images.shape == (6000, 28, 28, 1) and ds.images.dtype == np.uint8
    assert np.bincount(ds.labels).tolist() == [600] * 10
    assert ds.class_names[0] == "T-shirt/top" and ds.images.max() == 255
    assert len(load_dataset("bundled", limit=100)) == 100


@pytest.mark.parametrize("dtype,scale,offset", [(np.uint8, 1, 0), (np.float32, 1 / 255, 0),
                                                (np.float64, 2 / 255, -1)])
def test_npz_value_ranges_are_detected(tmp_path, dtype, scale, offset):
    raw = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=(raw * scale + offset).astype(dtype), y=np.arange(10))
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert ds.images.shape == (10, 28, 28, 1)
    assert np.abs(ds.images.astype(int) - raw[..., None]).max() <= 1
    assert ds.labels.tolist() == list(range(10))


def test_npy_rgb(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((4, 32, 32, 3), np.uint8))
    assert load_dataset(str(tmp_path / "d.npy")).shape == (32, 32, 3)


@pytest.mark.parametrize("arrays,match", [
    ({"labels": np.arange(3)}, "no image array found"),
    ({"x": np.zeros((3, 28, 28, 2))}, r"expected images shaped \(N, H, W\) or \(N, H, W, 1\|3\)"),
    ({"x": np.full((3, 28, 28), np.nan)}, "contains NaN or Inf"),
    ({"x": np.full((3, 28, 28), 1000.0)}, r"values span \[1000, 1000\]"),
    ({"x": np.zeros((0, 28, 28), np.uint8)}, "has no images"),
])
def test_bad_npz_files_are_explained(tmp_path, arrays, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=match):
        load_dataset(str(tmp_path / "bad.npz"))


def test_missing_and_unsupported_paths(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(str(tmp_path / "nope.npz"))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match=r"unsupported file type \.txt"):
        load_dataset(str(tmp_path / "x.txt"))
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataError, match="not a readable numpy file"):
        load_dataset(str(tmp_path / "corrupt.npz"))


def _idx(arr: np.ndarray) -> bytes:
    header = b"\x00\x00\x08" + bytes([arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def test_idx_raw_and_gz(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    (tmp_path / "a-idx3-ubyte").write_bytes(_idx(arr))
    with gzip.open(tmp_path / "a-idx3-ubyte.gz", "wb") as f:
        f.write(_idx(arr))
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte"), arr)
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), arr)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x03" + _idx(arr)[4:])
    with pytest.raises(DataError, match="wrong magic number"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx(arr)[:-10])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")


def test_keras_dataset_uses_cache_or_explains_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    imgs = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    with gzip.open(cache / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(_idx(imgs))
    with gzip.open(cache / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(_idx(np.arange(7)))
    ds = load_dataset("fashion_mnist")
    assert ds.images.shape == (7, 28, 28, 1) and ds.labels.tolist() == list(range(7))

    import keras

    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match=r"'mnist' is not in the Keras cache and could not be downloaded \(OSError\); "
                                        r"put .*mnist.npz"):
        load_dataset("mnist")
