"""The bad-input catalogue (docs/bad-inputs.md): every row is a CLI run that must exit 2 with one line naming
the thing and the fix, no traceback, and no pre-existing file changed or temp file left behind."""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import pathlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli import main

TINY = ["--preset", "tiny", "--set", "jit_compile=off", "--set", "num_samples=4", "--no-progress"]


@dataclass
class Row:
    id: str
    area: str
    setup: Callable  # (tmp: Path, mp: pytest.MonkeyPatch, trained: Path) -> argv
    expect: str


def png(path: Path, arr=None, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((28, 28), 120, np.uint8) if arr is None else arr, mode).save(path)
    return path


def noisy_png_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (28, 28), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def folder_with(tmp: Path, extra: Callable[[Path], None], n_good: int = 3) -> Path:
    root = tmp / "imgs"
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_good):
        png(root / f"good{i}.png")
    extra(root)
    return root


def npz(tmp: Path, **arrays) -> str:
    np.savez(tmp / "d.npz", **arrays)
    return str(tmp / "d.npz")


def idx_bytes(arr: np.ndarray, magic: bytes = b"\x00\x00\x08") -> bytes:
    return magic + bytes([arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def copy_run(tmp: Path, trained: Path) -> Path:
    return Path(shutil.copytree(trained, tmp / "run"))


def train_ds(spec: str, *more: str) -> list[str]:
    return ["train", *TINY, "--dataset", spec, "--steps", "1", *more]


def _huge(tmp, mp, trained):
    mp.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # stands in for a 100-megapixel photo
    root = folder_with(tmp, lambda r: png(r / "huge.png", np.zeros((200, 200), np.uint8)))
    return train_ds(str(root), "--set", "bad_images=fail")


def _permission(tmp, mp, trained):
    root = folder_with(tmp, lambda r: png(r / "secret.png"))
    import ganstudio.data.folder as folder

    real = folder._decode

    def decode(path, *a):
        if path.name == "secret.png":  # tests run as root, where chmod 000 does not stop reads
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *a)

    mp.setattr(folder, "_decode", decode)
    return train_ds(str(root), "--set", "bad_images=fail")


def _read_only_run_dir(tmp, mp, trained):
    target = tmp / "ro" / "run"
    real_mkdir = pathlib.Path.mkdir

    def mkdir(self, *a, **kw):
        if str(self).startswith(str(tmp / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **kw)

    mp.setattr(pathlib.Path, "mkdir", mkdir)
    return ["train", *TINY, "--steps", "1", "--set", "limit=64", "--batch-size", "16", "--run-dir", str(target)]


def _disk_full(tmp, mp, trained):
    import ganstudio.core.fileio as fileio

    real = fileio.os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > 2:  # config.json and the first grid go through; the next sample hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    mp.setattr(fileio.os, "fsync", fsync)
    return ["train", *TINY, "--steps", "4", "--sample-every", "1", "--set", "limit=64", "--batch-size", "16",
            "--run-dir", str(tmp / "full")]


def _arch_mismatch(tmp, mp, trained):
    run = copy_run(tmp, trained)
    cfg = json.loads((run / "config.json").read_text())
    cfg["model"]["width"] = 16
    (run / "config.json").write_text(json.dumps(cfg))
    return ["resume", str(run), "--steps", "5", "--no-progress"]


def _truncated_ckpt(tmp, mp, trained):
    run = copy_run(tmp, trained)
    data = sorted((run / "checkpoints").glob("step_*/ckpt.data-*"))[-1]    # the latest: the one resume restores
    data.write_bytes(data.read_bytes()[:64])
    return ["resume", str(run), "--steps", "5", "--no-progress"]


def _incomplete_ckpt(tmp, mp, trained):
    run = copy_run(tmp, trained)
    shutil.rmtree(run / "checkpoints" / "step_000000")     # step 2's is the run's only checkpoint ...
    next((run / "checkpoints").glob("step_*/ckpt.data-*")).unlink()    # ... meta.json there, the data gone
    return ["resume", str(run), "--steps", "5", "--no-progress"]


def _someone_elses_folder(tmp, trained, fmt):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "notes.txt").write_text("not an export")      # --force must never delete it
    return ["export", str(copy_run(tmp, trained)), "--format", fmt, "--out", str(tmp / "mine"), "--force"]


def _offline(tmp, mp, trained):
    import keras

    mp.setenv("KERAS_HOME", str(tmp / "keras"))

    def fail():
        raise OSError("URL fetch failure")

    mp.setattr(keras.datasets.mnist, "load_data", fail)
    return train_ds("mnist")


def _bad_run_config(tmp, mp, trained):
    run = copy_run(tmp, trained)
    (run / "config.json").write_text('{"model": {"arch": "dcgan",,}}')
    return ["resume", str(run), "--no-progress"]


SMALL_RUN = ["--set", "limit=64", "--batch-size", "16"]


def _fail_tf_checkpoint_write(tmp, mp, trained):
    import tensorflow as tf

    real = tf.train.Checkpoint.write
    calls = {"n": 0}

    def write(self, prefix, *a, **kw):
        calls["n"] += 1
        if calls["n"] > 2:   # step 0's and step 1's checkpoints are written; step 2's hits a full disk in TensorFlow
            open(prefix + ".data-00000-of-00001", "wb").close()    # as SaveV2 leaves a partial shard behind
            raise tf.errors.ResourceExhaustedError(None, None, f"{prefix}_temp/part-00000-of-00001.data-00000-of-00001"
                                                   f"; No space left on device [Op:SaveV2]")
        return real(self, prefix, *a, **kw)

    mp.setattr(tf.train.Checkpoint, "write", write)
    return ["train", *TINY, "--steps", "3", "--set", "checkpoint_every=1", *SMALL_RUN, "--run-dir", str(tmp / "full")]


def _fail_open(mp, name: str, code: int):
    """Writes to the run-folder log `name` fail with `code` (root ignores chmod, so the error is injected)."""
    import builtins

    import ganstudio.runs.folder as runs

    def fake_open(file, mode="r", *a, **kw):
        if Path(file).name == name and "a" in mode:
            raise OSError(code, os.strerror(code), str(file))
        return builtins.open(file, mode, *a, **kw)

    mp.setattr(runs, "open", fake_open, raising=False)


def _metrics_disk_full(tmp, mp, trained):
    _fail_open(mp, "metrics.jsonl", errno.ENOSPC)
    return ["train", *TINY, "--steps", "2", *SMALL_RUN, "--run-dir", str(tmp / "full")]


def _quality_permission(tmp, mp, trained):
    _fail_open(mp, "quality.jsonl", errno.EACCES)
    return ["train", *TINY, "--steps", "2", "--set", "metric_every=1", "--set", "metric_n=100", *SMALL_RUN,
            "--run-dir", str(tmp / "ro")]


def _out_of_memory(tmp, mp, trained):
    import tensorflow as tf

    from ganstudio.engine.trainer import Trainer

    def step_fn(self, steps_per_call=1):
        def oom(images, labels):   # what TensorFlow raises when the batch's activations do not fit
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[4096,64,14,14]")
        return oom

    mp.setattr(Trainer, "_make_step_fn", step_fn)
    return ["train", *TINY, "--steps", "2", *SMALL_RUN, "--run-dir", str(tmp / "oom")]


def _locked(tmp, mp, trained):
    from ganstudio.runs import RunDir

    run = copy_run(tmp, trained)
    lock = RunDir(run).lock()        # held as another process would (flock conflicts across open files)
    mp.setattr(RunDir, "_test_holder", lock, raising=False)   # released when the test's monkeypatch undoes
    return ["resume", str(run), "--steps", "4", "--no-progress"]


def _idx_bomb(tmp, mp, trained):
    path = tmp / "bomb-images-idx3-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:    # 1.5 KiB promised, 32 MiB inside
        f.write(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
        for _ in range(32):
            f.write(bytes(1 << 20))
    return train_ds(str(path))


def _npz_forged(tmp, mp, trained):
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False, "shape": (10**7, 1000, 1000)})
    with zipfile.ZipFile(tmp / "forged.npz", "w") as zf:
        zf.writestr("x.npy", buf.getvalue() + bytes(64))
    return train_ds(str(tmp / "forged.npz"))


def _many_files(tmp, mp, trained):
    import ganstudio.data.folder as folder

    mp.setattr(folder, "MAX_FILES", 50)   # stands in for the 1,000,000 limit
    root = tmp / "many"
    root.mkdir()
    for i in range(51):
        (root / f"{i:03d}.png").touch()
    return train_ds(str(root))


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


ROWS = [
    # -- datasets ------------------------------------------------------------------------------------------
    Row("path-missing", "dataset", lambda t, m, r: train_ds(str(t / "nope")), "no such file or folder"),
    Row("empty-folder", "dataset", lambda t, m, r: (t / "e").mkdir() or train_ds(str(t / "e")), "folder is empty"),
    Row("no-images", "dataset", lambda t, m, r: (t / "d").mkdir() or (t / "d" / "a.txt").write_text("x") and
        train_ds(str(t / "d")), "no images among 1 files (.txt)"),
    Row("truncated-png-fail", "dataset", lambda t, m, r: train_ds(str(folder_with(
        t, lambda d: (d / "cut.png").write_bytes(noisy_png_bytes()[:400]))), "--set", "bad_images=fail"),
        "cut.png: cannot use this image"),
    Row("zero-byte-only", "dataset", lambda t, m, r: train_ds(str(folder_with(
        t, lambda d: (d / "z.png").write_bytes(b""), n_good=0))), "none of the 1 images could be read (empty file"),
    Row("non-image-as-png", "dataset", lambda t, m, r: train_ds(str(folder_with(
        t, lambda d: (d / "fake.png").write_text("hello"))), "--set", "bad_images=fail"),
        "fake.png: cannot use this image (not an image PIL can read)"),
    Row("one-pixel-image", "dataset", lambda t, m, r: train_ds(str(folder_with(
        t, lambda d: png(d / "dot.png", np.zeros((1, 1), np.uint8)))), "--set", "bad_images=fail"),
        "dot.png: cannot use this image (too small (1x1 px))"),
    Row("huge-image", "dataset", _huge, "huge.png: cannot use this image (too large (decompression-bomb guard))"),
    Row("unreadable-file", "dataset", _permission, "secret.png: cannot use this image (permission denied)"),
    Row("single-image-file", "dataset", lambda t, m, r: train_ds(str(png(t / "one.png"))), "is a single image"),
    Row("unsupported-file", "dataset", lambda t, m, r: train_ds(_write(t / "d.csv", b"1,2")),
        "unsupported file type .csv"),
    Row("npz-missing-key", "dataset", lambda t, m, r: train_ds(npz(t, x=np.zeros((4, 28, 28), np.uint8)),
                                                               "--set", "npz_key=images"),
        "no array named 'images'; it holds x"),
    Row("npz-ambiguous", "dataset", lambda t, m, r: train_ds(npz(t, a=np.zeros((4, 28, 28)), b=np.zeros((4, 28, 28)))),
        "several image arrays (a, b); choose one with --set npz_key=NAME"),
    Row("npz-wrong-rank", "dataset", lambda t, m, r: train_ds(npz(t, x=np.zeros((4, 28, 28, 2)))),
        "expected images shaped (N, H, W) or (N, H, W, 1|3)"),
    Row("npz-nan", "dataset", lambda t, m, r: train_ds(npz(t, x=np.full((4, 28, 28), np.nan))), "contains NaN or Inf"),
    Row("npz-wrong-dtype", "dataset", lambda t, m, r: train_ds(npz(t, x=np.zeros((4, 28, 28), complex))),
        "dtype complex128 is not an image type"),
    Row("npz-out-of-range", "dataset", lambda t, m, r: train_ds(npz(t, x=np.full((4, 28, 28), 300.0))),
        "values span [300, 300]"),
    Row("npz-corrupt", "dataset", lambda t, m, r: train_ds(_write(t / "c.npz", b"PK\x03\x04junk")),
        "not a readable numpy file"),
    Row("idx-wrong-magic", "dataset", lambda t, m, r: train_ds(_write(
        t / "x-images-idx3-ubyte", idx_bytes(np.zeros((2, 28, 28), np.uint8), b"\x00\x00\x0d"))), "wrong magic number"),
    Row("idx-truncated", "dataset", lambda t, m, r: train_ds(_write(
        t / "x-images-idx3-ubyte.gz", gzip.compress(idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-9]))),
        "IDX file is truncated"),
    Row("fewer-than-a-batch", "dataset", lambda t, m, r: train_ds(npz(t, x=np.zeros((5, 28, 28), np.uint8)),
                                                                  "--batch-size", "16"),
        "has 5 images, fewer than one batch of 16; lower batch_size"),
    Row("tutorial-on-rgb", "dataset", lambda t, m, r: ["train", "--preset", "tutorial", "--dataset",
                                                       npz(t, x=np.zeros((8, 32, 32, 3), np.uint8)),
                                                       "--batch-size", "4", "--steps", "1"],   # pinned: no auto-switch
        "fixed at 28x28x1; use --preset dcgan"),
    Row("unsupported-resolution", "dataset", lambda t, m, r: train_ds(npz(t, x=np.zeros((8, 48, 48), np.uint8)),
                                                                      "--batch-size", "4"),
        "supports square 28, 32 or 64 px images"),
    Row("keras-dataset-offline", "dataset", _offline, "'mnist' is not in the Keras cache and could not be downloaded"),
    Row("idx-gz-bomb", "dataset", _idx_bomb, "IDX file is padded: it holds more than the 1,584 bytes its header says"),
    Row("npz-forged-header", "dataset", _npz_forged, "forged.npz[x]: its header claims shape (10000000, 1000, 1000)"),
    Row("folder-too-many-files", "dataset", _many_files, "more than 50 image files; point at a smaller folder"),
    # -- config and CLI arguments ----------------------------------------------------------------------------
    Row("batch-size-zero", "config", lambda t, m, r: ["train", "--batch-size", "0"], "batch_size: 0 is out of range"),
    Row("batch-size-negative", "config", lambda t, m, r: ["train", "--batch-size", "-3"],
        "batch_size: -3 is out of range"),
    Row("lr-negative", "config", lambda t, m, r: ["train", "--set", "lr=-1"], "g_lr: -1 is out of range; it must be "
                                                                             "in (0, 1]"),
    Row("lr-nan", "config", lambda t, m, r: ["train", "--set", "g_lr=nan"], "g_lr: nan is not a finite number"),
    Row("lr-inf", "config", lambda t, m, r: ["train", "--set", "d_lr=inf"], "d_lr: inf is not a finite number"),
    Row("unknown-preset", "config", lambda t, m, r: ["train", "--preset", "wgan"], "unknown preset 'wgan'"),
    Row("unknown-set-key", "config", lambda t, m, r: ["train", "--set", "learning_rate=1"],
        "unknown config key 'learning_rate'"),
    Row("set-wrong-type", "config", lambda t, m, r: ["train", "--set", "noise_dim=big"],
        "noise_dim: 'big' is not a valid int"),
    Row("set-not-a-choice", "config", lambda t, m, r: ["train", "--set", "loss=wasserstein"],
        "loss: 'wasserstein' is not allowed; use one of bce_ns, minimax, lsgan, wgan_gp, hinge"),
    Row("set-without-equals", "config", lambda t, m, r: ["train", "--set", "g_lr"], "expected KEY=VALUE"),
    Row("config-invalid-json", "config", lambda t, m, r: ["train", "--config", _write(t / "c.json", b"{oops")],
        "invalid JSON at line 1, column 2"),
    Row("config-preset-escapes", "config", lambda t, m, r: ["train", "--config", _write(
        t / "c.json", b'{"preset": "../../../x"}')], "preset: '../../../x' is not a valid name"),
    Row("batch-too-large-for-memory", "config", _out_of_memory, "batch_size: 16 images per step do not fit in the"),
    Row("config-unknown-section", "config", lambda t, m, r: ["train", "--config", _write(
        t / "c.json", b'{"optimiser": {}}')], "unknown section 'optimiser'; did you mean optim"),
    # -- run folders -----------------------------------------------------------------------------------------
    Row("run-folder-read-only", "run folder", _read_only_run_dir, "cannot create run folder (Read-only file system)"),
    Row("run-folder-exists", "run folder", lambda t, m, r: ["train", *TINY, "--run-dir", str(copy_run(t, r))],
        "already holds a run; continue it with `ganstudio resume"),
    Row("disk-full-writing-samples", "run folder", _disk_full, "disk full while writing; free some space"),
    Row("disk-full-writing-checkpoint", "run folder", _fail_tf_checkpoint_write,
        "full/checkpoints/step_000002: disk full while writing; free some space"),
    Row("disk-full-writing-metrics", "run folder", _metrics_disk_full,
        "full/metrics.jsonl: disk full while writing; free some space"),
    Row("permission-denied-writing-quality", "run folder", _quality_permission, "ro: not writable (Permission denied)"),
    Row("run-locked-by-another-writer", "run folder", _locked, "another process is writing this run (pid"),
    Row("resume-not-a-run", "run folder", lambda t, m, r: (t / "x").mkdir() or ["resume", str(t / "x")],
        "not a ganstudio run (config.json is missing)"),
    Row("resume-missing-folder", "run folder", lambda t, m, r: ["resume", str(t / "gone")], "no such run folder"),
    Row("run-config-invalid-json", "run folder", _bad_run_config, "config.json: invalid JSON at line 1"),
    Row("output-exists", "run folder", lambda t, m, r: ["sample", str(copy_run(t, r)), "--out",
                                                         str(png(t / "mine.png"))],
        "mine.png already exists; choose another --out or pass --force"),
    Row("export-wrong-suffix", "run folder", lambda t, m, r: ["export", str(copy_run(t, r)), "--format", "keras",
                                                               "--out", str(t / "g.h5")],
        "must end in .keras"),
    Row("gif-empty-range", "run folder", lambda t, m, r: ["export", str(copy_run(t, r)), "--format", "gif",
                                                           "--start", "500"], "no sample grids between steps 500"),
    # -- checkpoints -----------------------------------------------------------------------------------------
    Row("checkpoint-other-architecture", "checkpoint", _arch_mismatch,
        "written by a different architecture/config or is damaged (nothing was changed)"),
    Row("checkpoint-truncated", "checkpoint", _truncated_ckpt, "cannot restore"),
    Row("checkpoint-missing-step", "checkpoint", lambda t, m, r: ["sample", str(copy_run(t, r)), "--checkpoint", "7"],
        "no checkpoint at step 7; available: 0, 2"),
    Row("no-checkpoint-yet", "checkpoint", lambda t, m, r: (shutil.rmtree(copy_run(t, r) / "checkpoints") or
                                                            ["resume", str(t / "run")]), "no checkpoint yet"),
    Row("checkpoint-incomplete", "checkpoint", _incomplete_ckpt,
        "no checkpoint yet (step_000002 is incomplete: data files are missing)"),
    Row("checkpoint-no-best-yet", "checkpoint", lambda t, m, r: (copy_run(t, r) / "checkpoints" / "best.json").unlink(
        missing_ok=True) or ["sample", str(t / "run"), "--checkpoint", "best"],
        "no best checkpoint yet (it is kept when the quality metric runs"),
    Row("checkpoint-spec-invalid", "checkpoint", lambda t, m, r: ["eval", str(copy_run(t, r)), "--checkpoint",
                                                                   "newest"],
        "--checkpoint 'newest': use best, latest or a step number"),
    Row("export-force-not-our-savedmodel", "run folder", lambda t, m, r: _someone_elses_folder(t, r, "savedmodel"),
        "is not a SavedModel that ganstudio exported"),
    Row("export-force-onto-a-folder", "run folder", lambda t, m, r: _someone_elses_folder(t, r, "keras"),
        "is a folder; --force replaces only a file"),
    # -- command arguments (issue 30.6) ------------------------------------------------------------------------
    Row("sample-zero-images", "config", lambda t, m, r: ["sample", str(copy_run(t, r)), "-n", "0"],
        "-n 0: the number of images must be at least 1"),
    Row("sample-negative-images", "config", lambda t, m, r: ["sample", str(copy_run(t, r)), "-n", "-3"],
        "-n -3: the number of images must be at least 1"),
    Row("eval-too-few-images", "config", lambda t, m, r: ["eval", str(copy_run(t, r)), "-n", "5"],
        "-n 5: the quality metric needs at least 100 generated images (with fewer, KID, an unbiased estimate, can "
        "come out negative"),
    Row("gif-with-checkpoint", "checkpoint", lambda t, m, r: ["export", str(copy_run(t, r)), "--format", "gif",
                                                              "--checkpoint", "2"],
        "--checkpoint 2 does not apply to --format gif: the GIF is built from the run's saved sample grids"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from ganstudio.config.presets import get_preset
    from ganstudio.engine.trainer import Trainer, run_to_end

    cfg = get_preset("tiny").config().with_updates({"limit": 64, "batch_size": 16, "steps": 2, "sample_every": 1,
                                                    "jit_compile": "off", "num_samples": 4})
    run = tmp_path_factory.mktemp("trained") / "run"
    run_to_end(Trainer(cfg, run_dir=run))
    return run


def snapshot(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_catalogue_has_at_least_30_rows_and_matches_the_docs():
    ids = [r.id for r in ROWS]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    doc = (Path(__file__).parents[1] / "docs" / "bad-inputs.md").read_text()
    missing = [i for i in ids if f"`{i}`" not in doc]
    assert not missing, f"docs/bad-inputs.md lacks rows: {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row, tmp_path, monkeypatch, capsys, trained):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "w"
    work.mkdir()
    argv = row.setup(work, monkeypatch, trained)
    before = snapshot(work)
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("ganstudio: error:")]
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    assert len(lines) == 1 and row.expect in lines[0], err[-2000:]
    after = snapshot(work)
    changed = [p for p, h in before.items() if after.get(p) != h]
    assert not changed, f"pre-existing files changed: {changed}"
    leftovers = [p for p in after if ".tmp" in Path(p).name or ".saving-" in p]
    assert not leftovers, leftovers
    if os.environ.get("GANSTUDIO_CATALOGUE_OUT"):  # tools/make_bad_inputs_doc.py regenerates the docs table
        with open(os.environ["GANSTUDIO_CATALOGUE_OUT"], "a") as f:
            f.write(json.dumps({"id": row.id, "area": row.area, "argv": argv, "message": lines[0]}) + "\n")
