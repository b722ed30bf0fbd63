"""Exports from a run folder: sample grids, a GIF of training, the generator as .keras, SavedModel, ONNX or LiteRT.

Everything writes to a temp name and renames into place; an existing output is never replaced unless
`force=True`, and even then a folder is replaced only if it is a SavedModel this module wrote (MARKER).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import FIELD_BY_NAME
from ..config.sampling import fixed_grid_size, grid_labels, metric_inputs
from ..core.errors import GanStudioError, RunDirError
from ..core.fileio import atomic_write_bytes, dir_mode
from ..core.imaging import gif_bytes, load_png, png_bytes, save_grid, to_pil, to_uint8
from ..engine.checkpoints import CheckpointInfo, find_checkpoint
from ..runs import RunDir



@dataclass(frozen=True)
class ExportFormat:
    """One `ganstudio export --format` choice: the CLI's list and help and the studio's File ▸ Export read this."""
    name: str
    help: str              # the CLI's description of it
    menu: str = ""         # File ▸ Export entry ('' = offered elsewhere: the checkpoint archive has its own)
    title: str = ""        # the save dialog's title
    filter: str = ""       # the save dialog's file filter
    suffix: str = ""       # the file name must end so (added by the dialog when missing)
    model: bool = True     # rebuilds the generator (the studio waits until training stopped)


EXPORT_FORMATS: dict[str, ExportFormat] = {f.name: f for f in [
    ExportFormat("keras", "generator as a .keras file (keras.models.load_model, safe_mode on).",
                 "Export generator (.keras)…", "Export generator", "Keras model (*.keras)", ".keras"),
    ExportFormat("savedmodel", "TF SavedModel, serving signature noise -> uint8 images.",
                 "Export SavedModel…", "Export SavedModel folder", "SavedModel folder (*)"),
    ExportFormat("onnx", "ONNX file for ONNX Runtime: noise -> uint8 images (needs the [export] extra).",
                 "Export ONNX (.onnx)…", "Export ONNX model", "ONNX model (*.onnx)", ".onnx"),
    ExportFormat("litert", "LiteRT (TFLite) file for ai-edge-litert / TF Lite: noise -> uint8 images.",
                 "Export LiteRT (.tflite)…", "Export LiteRT model", "LiteRT model (*.tflite)", ".tflite"),
    ExportFormat("gif", "the fixed-noise grids over training.", "Export training GIF…", "Export training GIF",
                 "GIF animation (*.gif)", ".gif", model=False),
    ExportFormat("checkpoint", "one portable .tar.gz (config, models, optimizers, RNG, fixed noise, metrics so far) "
                 "that `ganstudio import` turns into a run `resume` continues.", model=False),
]}
FORMATS = tuple(EXPORT_FORMATS)    # checkpoint: a portable archive (ganstudio.outputs.archive)
MARKER = "ganstudio_export.json"   # written into every exported SavedModel folder: --force replaces only those
# `eval -n` floor, the live metric's (metric_n): with fewer images KID, an unbiased estimate, comes out negative as
# often as not and FD is mostly small-sample bias (a 128-d covariance from a handful of rows)
EVAL_MIN_N = int(FIELD_BY_NAME["metric_n"].min)


def _check_out(path: Path, force: bool, savedmodel: bool = False) -> None:
    if path.exists() and not force:
        raise RunDirError(f"{path} already exists; choose another --out or pass --force to replace it")
    if path.exists() and savedmodel and not ((path / "saved_model.pb").is_file() and (path / MARKER).is_file()):
        raise RunDirError(f"{path} is not a SavedModel that ganstudio exported (saved_model.pb and {MARKER}), so "
                          f"--force does not replace it; choose another --out")
    if path.is_dir() and not savedmodel:
        raise RunDirError(f"{path} is a folder; --force replaces only a file; choose another --out")
    if not path.parent.exists():
        raise RunDirError(f"{path.parent}: folder does not exist; create it or choose another --out")


@dataclass
class Restored:
    generator: Any          # keras.Model
    config: Any             # Config
    checkpoint: CheckpointInfo
    fixed_noise: np.ndarray


def load_generator(run_dir: str | Path, step: int | str | None = None) -> Restored:
    """The generator (float32, inference only) and the run's fixed noise from the run's checkpoint `step`
    (best | latest | a step number; None = latest)."""
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    tf = import_tf()
    import keras  # noqa: PLC0415

    from ..models import build_generator  # noqa: PLC0415

    run = RunDir.open(run_dir)
    cfg = run.config()
    info = find_checkpoint(run.checkpoints, step)
    keras.config.set_dtype_policy("float32")
    G = build_generator(cfg.model)
    m = cfg.model
    noise = tf.Variable(tf.zeros((fixed_grid_size(cfg), m.noise_dim)), trainable=False)
    # With EMA on, samples and exports use the averaged weights (the usual better generator).
    slot = "generator_ema" if cfg.optim.ema_decay else "generator"
    try:
        tf.train.Checkpoint(**{slot: G}, fixed_noise=noise).read(info.prefix).expect_partial() \
            .assert_existing_objects_matched()
    except Exception as e:  # noqa: BLE001
        raise GanStudioError(f"{info.path}: generator does not match {run.config_file} ({str(e).splitlines()[0][:200]})"
                             ) from None
    return Restored(G, cfg, info, noise.numpy())


def generate(G, noise: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    z = noise.astype(np.float32)
    return to_uint8(np.asarray(G([z, labels] if labels is not None else z, training=False)))


def sample(run_dir: str | Path, n: int = 64, seed: int | None = None, rows: int = 0, scale: int = 1,
           out: str | Path | None = None, step: int | str | None = None, individual: str | Path | None = None,
           force: bool = False) -> list[Path]:
    """A grid of n samples (fixed noise of the run when seed is None and n fits, else fresh noise)."""
    if n < 1:
        raise GanStudioError(f"-n {n}: the number of images must be at least 1")
    r = load_generator(run_dir, step)
    if seed is None and n <= len(r.fixed_noise):
        noise = r.fixed_noise[:n]
    else:
        noise = np.random.default_rng(seed).standard_normal((n, r.config.model.noise_dim))
    images = generate(r.generator, noise, grid_labels(r.config, n))
    info = r.checkpoint
    written = []
    out = Path(out) if out else RunDir(run_dir).sample_export_path(info.step, n)
    _check_out(out, force)
    written.append(save_grid(images, out, rows, scale))
    if individual:
        d = Path(individual)
        d.mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(images):
            p = d / f"sample_{i:04d}.png"
            _check_out(p, force)
            atomic_write_bytes(p, png_bytes(img, scale))
            written.append(p)
    return written


def evaluate(run_dir: str | Path, step: int | str | None = None, n: int = 1000, whole_dataset: bool = False
             ) -> dict[str, Any]:
    """FD/KID of n generated images vs the run's dataset, as the trainer's live metric computes them.
    whole_dataset: against all of the source's images, not the run's `limit` (a run on 64 images is judged on
    the distribution they came from: against the 64 themselves a copier scores best)."""
    if n < EVAL_MIN_N:
        raise GanStudioError(f"-n {n}: the quality metric needs at least {EVAL_MIN_N} generated images (with fewer, "
                             f"KID, an unbiased estimate, can come out negative and FD is mostly small-sample bias); "
                             f"use -n {EVAL_MIN_N} or more (default 1000)")
    from ..data import load_config_dataset  # noqa: PLC0415
    from ..metrics import QualityMetric, get_classifier  # noqa: PLC0415

    r = load_generator(run_dir, step)
    ds = load_config_dataset(r.config.with_updates({"limit": 0}) if whole_dataset else r.config)
    fn, acc, source = get_classifier(ds)
    metric = QualityMetric(fn, ds.images, n=min(n, len(ds)))
    noise, labels = metric_inputs(r.config, n)
    images = np.concatenate([generate(r.generator, noise[i:i + 500], None if labels is None else labels[i:i + 500])
                             for i in range(0, n, 500)])
    return {**metric.score(images), "step": r.checkpoint.step, "accuracy": acc, "source": source}


def export(run_dir: str | Path, fmt: str, out: str | Path | None = None, step: int | str | None = None,
           force: bool = False, duration_ms: int = 200, start: int = 0, end: int | None = None) -> Path:
    run = RunDir.open(run_dir)
    if fmt not in FORMATS:
        raise GanStudioError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "gif" and step is not None:
        raise GanStudioError(f"--checkpoint {step} does not apply to --format gif: the GIF is built from the run's "
                             f"saved sample grids ({run.samples}), not from a checkpoint; choose its frames with "
                             f"--start and --end")
    if fmt == "checkpoint":
        from .archive import export_checkpoint  # noqa: PLC0415

        return export_checkpoint(run.path, out, step, force)
    out = Path(out) if out else run.export_path(fmt)
    _check_out(out, force, savedmodel=fmt == "savedmodel")
    if fmt == "gif":
        return export_gif(run, out, duration_ms, start, end)
    r = load_generator(run.path, step)
    G = r.generator
    if fmt == "keras":
        if out.suffix != ".keras":
            raise RunDirError(f"{out}: a Keras model file must end in .keras")
        tmp = out.with_name(f".{out.stem}.tmp.keras")
        G.save(tmp)
        os.replace(tmp, out)
        return out
    if fmt in ("onnx", "litert"):
        return export_portable(G, r.config.model.noise_dim, out, fmt, r.config.model.conditional)
    return _export_savedmodel(G, r.config.model.noise_dim, out, r.config.model.conditional,
                              {"run": str(run.path), "step": r.checkpoint.step})


def serving_model(G, noise_dim: int, conditional: bool = False):
    """G with the SavedModel signature's ends as a Keras model: inputs {"noise": float32 (N, noise_dim)
    [, "label": int32 (N,)]} -> {"images": uint8 (N, H, W, C)}, for Keras's own Model.export."""
    import keras  # noqa: PLC0415

    class ToUint8(keras.layers.Layer):
        def call(self, x):
            x = keras.ops.cast(x, "float32")
            return keras.ops.cast(keras.ops.clip(keras.ops.round(x * 127.5 + 127.5), 0, 255), "uint8")

    noise = keras.Input((noise_dim,), dtype="float32", name="noise")
    inputs = {"noise": noise}
    if conditional:
        inputs["label"] = keras.Input((), dtype="int32", name="label")
    x = G([noise, inputs["label"]] if conditional else noise, training=False)
    return keras.Model(inputs, {"images": ToUint8(dtype="float32", name="images")(x)}, name="generator_uint8")


def export_portable(G, noise_dim: int, out: str | Path, fmt: str, conditional: bool = False) -> Path:
    """The generator as an ONNX (tf2onnx, through Keras's Model.export) or LiteRT flatbuffer (TF's TFLite converter,
    built-in ops only, so the plain LiteRT interpreter runs it) with the inputs "noise" [+ "label"] and the output
    "images" (uint8), like the SavedModel's serving signature."""
    out = Path(out)
    spec = EXPORT_FORMATS[fmt]
    if out.suffix != spec.suffix:
        raise RunDirError(f"{out}: {'an ONNX' if fmt == 'onnx' else 'a LiteRT'} file must end in {spec.suffix}")
    if fmt == "onnx":
        from ..core.extras import require  # noqa: PLC0415

        require("--format onnx", "export", "tf2onnx", "onnx")
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    tf = import_tf()
    model = serving_model(G, noise_dim, conditional)
    sig = {"noise": tf.TensorSpec([None, noise_dim], tf.float32, name="noise")}
    if conditional:
        sig["label"] = tf.TensorSpec([None], tf.int32, name="label")
    kwargs = {} if fmt == "onnx" else {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{spec.suffix}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)    # Keras's numpy-2 patch of tf2onnx probes np.object
            model.export(str(tmp), format=fmt, input_signature=[sig], verbose=False, **kwargs)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _export_savedmodel(G, noise_dim: int, out: Path, conditional: bool = False,
                       source: dict[str, Any] | None = None) -> Path:
    """SavedModel with a serving signature: noise float32 (N, noise_dim) [+ label int32 (N,)] -> images uint8
    (N, H, W, C) in [0, 255]; MARKER records where it came from and lets a later --force replace it."""
    from ..core.tfsetup import import_tf  # noqa: PLC0415

    tf = import_tf()

    def to_images(x):
        x = tf.cast(x, tf.float32)
        return {"images": tf.cast(tf.clip_by_value(tf.round(x * 127.5 + 127.5), 0, 255), tf.uint8)}

    noise_spec = tf.TensorSpec([None, noise_dim], tf.float32, name="noise")
    module = tf.Module()
    module.model = G
    if conditional:
        module.serve = tf.function(lambda noise, label: to_images(G([noise, label], training=False)),
                                   input_signature=[noise_spec, tf.TensorSpec([None], tf.int32, name="label")])
    else:
        module.serve = tf.function(lambda noise: to_images(G(noise, training=False)), input_signature=[noise_spec])
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, dir_mode())       # the SavedModel folder follows the umask like every other file we write
    try:
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
        (tmp / MARKER).write_text(json.dumps(source or {}))
        old = out.with_name(f".{out.name}.old-{os.getpid()}") if out.exists() else None
        if old is not None:
            os.replace(out, old)           # the previous export stays whole until the new one is in place
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def export_gif(run: RunDir, out: Path, duration_ms: int = 200, start: int = 0, end: int | None = None,
               scale: int = 2) -> Path:
    frames = [(s, p) for s, p in run.sample_steps() if s >= start and (end is None or s <= end)]
    if not frames:
        raise RunDirError(f"{run.samples}: no sample grids between steps {start} and {end if end is not None else 'end'}")
    images = [to_pil(load_png(p), scale).convert("P") for _, p in frames]
    atomic_write_bytes(out, gif_bytes(images, duration_ms))
    return out


__all__ = ["sample", "export", "export_gif", "export_portable", "load_generator", "generate", "serving_model",
           "EXPORT_FORMATS", "ExportFormat", "FORMATS", "Restored"]
