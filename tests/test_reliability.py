"""Faults the engine must survive without Qt (issue 15): escaping run-folder names, memory bombs in datasets and
run folders, run folders holding JSON that is not an object. Each test fails on the code before its fix."""
from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganstudio.config import Config
from ganstudio.errors import ConfigError, DataError


# -- 5. the run folder name ---------------------------------------------------------------------------------------
def test_preset_name_cannot_name_a_folder_outside_the_runs_root(tmp_path):
    from ganstudio.runs import new_run_path

    with pytest.raises(ConfigError, match=r"preset: '\.\./\.\./\.\./x' is not a valid name"):
        Config.from_dict({"preset": "../../../x"})
    with pytest.raises(ConfigError, match="preset"):
        Config(preset="a/b")
    root = tmp_path / "runs"
    for bad in ("../../../x", "/etc/x", "a/../../b", "..", "\\\\server\\x"):
        path = new_run_path(bad, root)
        assert path.parent == root and "/" not in path.name and "\\" not in path.name, path
    assert new_run_path("wgan-gp", root).name.endswith("-wgan-gp")


# -- 7. memory bombs ----------------------------------------------------------------------------------------------
def _idx_header(shape: tuple[int, ...]) -> bytes:
    return b"\x00\x00\x08" + bytes([len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)


def _peak_bytes(fn) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    try:
        fn()
        err = None
    except Exception as e:  # noqa: BLE001 - returned for the caller's assertions
        err = e
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, err


def test_idx_gz_that_inflates_past_its_header_is_refused_without_reading_it(tmp_path):
    from ganstudio.data import read_idx

    path = tmp_path / "bomb-images-idx3-ubyte.gz"
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:     # header: 2 images of 28x28; then 64 MiB of zeros
        f.write(_idx_header((2, 28, 28)))
        for _ in range(64):
            f.write(zeros)
    assert path.stat().st_size < 1 << 20
    peak, err = _peak_bytes(lambda: read_idx(path))
    assert isinstance(err, DataError) and "IDX file is padded" in str(err) and str(path) in str(err)
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MiB allocated for a file whose header promises 1.5 KiB"


def test_idx_header_claiming_more_than_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    import ganstudio.data as data

    monkeypatch.setattr(data, "memory_budget", lambda: 1 << 20)
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(_idx_header((60000, 28, 28)) + bytes(100))
    peak, err = _peak_bytes(lambda: data.read_idx(path))
    assert isinstance(err, DataError) and "needs 0.0 GiB, more than the 0.0 GiB" in str(err)
    assert peak < 1 << 20


def test_npz_with_a_forged_header_is_refused_before_numpy_allocates(tmp_path):
    from ganstudio.data import load_dataset

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False,
                                                "shape": (10**7, 1000, 1000)})      # 10 TB claimed
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", buf.getvalue() + bytes(28 * 28 * 4))
    peak, err = _peak_bytes(lambda: load_dataset(str(path)))
    assert isinstance(err, DataError), err
    assert "forged.npz[x]: its header claims shape (10000000, 1000, 1000)" in str(err)
    assert "holds 3,136 bytes" in str(err)
    assert peak < 1 << 20


def test_npz_larger_than_the_memory_budget_is_refused(tmp_path, monkeypatch):
    import ganstudio.data as data

    np.savez(tmp_path / "d.npz", x=np.zeros((64, 28, 28), np.uint8))
    monkeypatch.setattr(data, "memory_budget", lambda: 1000)
    with pytest.raises(DataError, match="d.npz: needs .* GiB, more than"):
        data.load_dataset(str(tmp_path / "d.npz"))
    monkeypatch.undo()
    assert len(data.load_dataset(str(tmp_path / "d.npz"))) == 64


def test_folder_with_too_many_files_is_refused_while_scanning(tmp_path, monkeypatch):
    import ganstudio.data.folder as folder

    root = tmp_path / "many"
    root.mkdir()
    for i in range(300):
        (root / f"{i}.png").touch()
    monkeypatch.setattr(folder, "MAX_FILES", 100)
    with pytest.raises(DataError, match="more than 100 image files; point at a smaller folder"):
        folder.scan(root)


def test_folder_whose_decoded_size_exceeds_memory_is_refused_before_the_cache_is_written(tmp_path, monkeypatch):
    import ganstudio.data as data
    from ganstudio.data import load_dataset

    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), i * 40, np.uint8)).save(root / f"{i}.png")
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "memory_budget", lambda: 4 * 28 * 28 - 1)
    with pytest.raises(DataError, match="imgs: needs .*lower the resolution"):
        load_dataset(str(root))
    assert not (tmp_path / "cache").exists()


def test_run_folder_png_goes_through_the_decompression_bomb_guard(tmp_path, monkeypatch):
    from ganstudio.imaging import load_png

    path = tmp_path / "step_000001.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(path)
    assert load_png(path).shape == (100, 100, 1)
    # 1.5x the limit: PIL itself only warns up to 2x, and the studio would decode it
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100 * 2 // 3)
    with pytest.raises(OSError, match="100x100 px is over the decompression-bomb limit"):
        load_png(path)


# -- 8. run folders holding JSON that is not an object ------------------------------------------------------------
def test_runs_list_and_logs_skip_json_that_is_not_an_object(tmp_path):
    from ganstudio.runs import RunDir
    from ganstudio.runs.watch import RunFollower, scan_runs

    good, bad = tmp_path / "good", tmp_path / "bad"
    for run in (good, bad):
        (run / "samples").mkdir(parents=True)
    (good / "config.json").write_text(Config().to_json())
    (bad / "config.json").write_text("[1, 2, 3]")
    rows = ['[1, 2]', '"text"', '{"step": "seven", "g_loss": 1}', '{"step": NaN}', 'null',
            '{"step": 3, "g_loss": 0.5, "d_loss": 0.7}']
    (good / "metrics.jsonl").write_text("\n".join(rows) + "\n")
    skipped: list[str] = []
    summaries = scan_runs(tmp_path, skipped)
    assert [s.name for s in summaries] == ["good"]
    assert summaries[0].step == 3 and summaries[0].g_loss == 0.5
    assert len(skipped) == 1 and "bad/config.json: holds a JSON list, not an object; skipped" in skipped[0]
    assert [r["step"] for r in RunDir(good).read_metrics()] == [3]
    assert [r["step"] for r in RunDir(good).read_metrics(max_step=5)] == [3]
    follower = RunFollower(good)
    assert [r["step"] for r in follower.poll()[0]] == [3]
    with pytest.raises(ConfigError, match="expected a JSON object"):
        RunDir(bad).config()
    json.loads((bad / "config.json").read_text())   # the bad run was left as it was
