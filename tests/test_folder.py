import os

import numpy as np
import pytest
from PIL import Image

from ganstudio.core.errors import DataError
from ganstudio.data import load_dataset


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))


def save(path, arr, mode=None, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path, **kw)


def test_class_folders_modes_and_sizes(tmp_path):
    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    save(root / "cats" / "a.png", rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))            # RGB, wide
    save(root / "cats" / "b.jpg", rng.integers(0, 255, (80, 80, 3), dtype=np.uint8))
    save(root / "dogs" / "c.bmp", rng.integers(0, 255, (28, 28), dtype=np.uint8))               # L
    save(root / "dogs" / "d.webp", rng.integers(0, 255, (30, 30, 4), dtype=np.uint8), "RGBA")
    Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).convert("P").save(root / "dogs" / "e.png")
    save(root / "dogs" / "f.png", (rng.integers(0, 65535, (32, 32))).astype(np.uint16))           # 16-bit
    (root / "dogs" / "notes.txt").write_text("not an image")
    ds = load_dataset(str(root), size=32)
    assert ds.images.shape == (6, 32, 32, 3) and ds.images.dtype == np.uint8
    assert ds.class_names == ("cats", "dogs") and ds.labels.tolist() == [0, 0, 1, 1, 1, 1]
    assert ds.warnings == []
    gray = load_dataset(str(root), size=28, color="grayscale", resize="pad")
    assert gray.images.shape == (6, 28, 28, 1)
    # pad keeps the whole wide image: the top rows of a 40x60 image padded to 60x60 are black
    assert gray.images[0, 0].max() == 0


def test_cache_is_reused_and_invalidated(tmp_path):
    root = tmp_path / "imgs"
    for i in range(3):
        save(root / f"{i}.png", np.full((28, 28), i * 50, np.uint8))
    a = load_dataset(str(root))
    assert isinstance(a.images, np.memmap) and len(list((tmp_path / "cache").glob("*.npy"))) == 1
    b = load_dataset(str(root))
    assert any("from the cache" in n for n in b.notes)
    save(root / "3.png", np.zeros((28, 28), np.uint8))
    assert len(load_dataset(str(root))) == 4


def test_bad_images_skip_with_count_or_fail(tmp_path):
    root = tmp_path / "imgs"
    for i in range(4):
        save(root / f"good{i}.png", np.full((28, 28), 100, np.uint8))
    good = (root / "good0.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "zero.png").write_bytes(b"")
    (root / "fake.jpg").write_bytes(b"this is text")
    save(root / "tiny.png", np.zeros((1, 1), np.uint8))
    ds = load_dataset(str(root))
    assert len(ds) == 4
    assert len(ds.warnings) == 1 and ds.warnings[0].startswith("skipped 4 of 8 images")
    with pytest.raises(DataError, match=r"fake.jpg: cannot use this image \(not an image PIL can read\); remove it, "
                                        r"or set bad_images=skip"):
        load_dataset(str(root), bad_images="fail")


def test_symlink_loop_is_not_followed_forever(tmp_path):
    root = tmp_path / "imgs"
    save(root / "sub" / "a.png", np.zeros((28, 28), np.uint8))
    os.symlink(root, root / "sub" / "loop")
    assert len(load_dataset(str(root))) == 1


def test_folder_trains_with_dcgan(tmp_path):
    from ganstudio.config.presets import get_preset
    from ganstudio.engine import StepMetrics
    from ganstudio.engine.trainer import Trainer, run_to_end

    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for i in range(20):
        save(root / f"{i}.png", rng.integers(0, 255, (50, 50, 3), dtype=np.uint8))
    cfg = get_preset("tiny").config().with_updates({"dataset": str(root), "resolution": 32, "batch_size": 8,
                                                    "steps": 2, "jit_compile": "off"})
    events = run_to_end(Trainer(cfg, run_dir=tmp_path / "run"))
    assert [e.step for e in events if isinstance(e, StepMetrics)] == [1, 2]
    assert events[0].config["model"]["image_size"] == 32 and events[0].config["model"]["channels"] == 3
