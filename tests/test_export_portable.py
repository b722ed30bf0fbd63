"""ONNX and LiteRT exports run in their own runtimes (onnxruntime, ai-edge-litert's interpreter) and give the Keras
generator's uint8 images for the same noise (and labels): the tutorial network, dcgan at 64x64x3 and the conditional
cdcgan, built from their presets with randomised weights and batch-norm statistics, and a trained run through
`ganstudio export`."""
import sys

import numpy as np
import pytest

from ganstudio.cli import main
from ganstudio.outputs.export import generate, load_generator

pytest.importorskip("onnxruntime", reason="the [export] extra (pip install 'ganstudio[export]') is not installed")
pytest.importorskip("ai_edge_litert", reason="the [export] extra (pip install 'ganstudio[export]') is not installed")

MAX_LEVELS = 1      # uint8 levels: float rounding may move a pixel sitting on a .5 boundary by one
N = 6


def run_onnx(path, feeds):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sorted(i.name for i in session.get_inputs()) == sorted(feeds)
    assert [o.name for o in session.get_outputs()] == ["images"]
    return session.run(["images"], feeds)[0]


def run_litert(path, feeds):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    assert interpreter.get_signature_list() == {"serving_default": {"inputs": sorted(feeds), "outputs": ["images"]}}
    return interpreter.get_signature_runner()(**feeds)["images"]


RUNTIMES = {"onnx": run_onnx, "litert": run_litert}


def randomised(G, seed=0):
    """Non-trivial weights: every variable drawn afresh (batch-norm variances positive), so the comparison covers
    what training changes rather than an initialisation whose BN is an identity."""
    rng = np.random.default_rng(seed)
    for v in G.weights:
        shape, name = tuple(v.shape), v.path
        if "moving_variance" in name or "gamma" in name:
            value = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            value = rng.normal(0.0, 0.1, shape)
        else:
            value = rng.normal(0.0, 1.0, shape) / np.sqrt(max(1, int(np.prod(shape[:-1]))))
        v.assign(value.astype(np.float32))
    return G


def max_difference(images, expected):
    assert images.dtype == np.uint8 and images.shape == expected.shape
    return int(np.abs(images.astype(np.int16) - expected.astype(np.int16)).max())


@pytest.mark.parametrize("preset,updates,shape", [
    ("tutorial", {}, (28, 28, 1)),
    ("dcgan", {"image_size": 64, "channels": 3}, (64, 64, 3)),
    ("cdcgan", {}, (28, 28, 1)),
])
def test_onnx_and_litert_match_the_keras_generator(preset, updates, shape, tmp_path):
    import keras

    from ganstudio.config.presets import get_preset
    from ganstudio.models import build_generator
    from ganstudio.outputs.export import export_portable

    keras.config.set_dtype_policy("float32")
    m = get_preset(preset).config().with_updates(updates).model
    G = randomised(build_generator(m))
    z = np.random.default_rng(1).standard_normal((N, m.noise_dim)).astype(np.float32)
    labels = (np.arange(N) % m.num_classes).astype(np.int32) if m.conditional else None
    expected = generate(G, z, labels)
    assert expected.shape == (N, *shape) and expected.std() > 20     # real images, not one flat grey
    if m.conditional:                                                  # the label changes the image
        assert not np.array_equal(expected[0], generate(G, z[:1], labels[1:2])[0])
    feeds = {"noise": z, **({"label": labels} if m.conditional else {})}
    for fmt, ext in (("onnx", ".onnx"), ("litert", ".tflite")):
        out = export_portable(G, m.noise_dim, tmp_path / f"g{ext}", fmt, m.conditional)
        images = RUNTIMES[fmt](out, feeds)
        diff = max_difference(images, expected)
        print(f"{preset} {fmt}: max difference {diff} uint8 levels, {np.mean(images != expected):.4%} of the values")
        assert diff <= MAX_LEVELS, (fmt, diff)
        assert not list(tmp_path.glob(".*"))                           # no temp file left behind


def test_cli_exports_a_trained_run_in_both_formats(trained_run, tmp_path, capsys):
    r = load_generator(trained_run)
    z = r.fixed_noise[:4].astype(np.float32)
    expected = generate(r.generator, z)
    for fmt, name in (("onnx", "generator.onnx"), ("litert", "generator.tflite")):
        assert main(["export", str(trained_run), "--format", fmt]) == 0        # default target in the run folder
        out = trained_run / name
        assert capsys.readouterr().out.strip() == str(out)
        assert max_difference(RUNTIMES[fmt](out, {"noise": z}), expected) <= MAX_LEVELS
        assert main(["export", str(trained_run), "--format", fmt]) == 2        # exists: never replaced silently
        assert "already exists; choose another --out or pass --force" in capsys.readouterr().err
    assert main(["export", str(trained_run), "--format", "onnx", "--out", str(tmp_path / "g.bin")]) == 2
    assert "an ONNX file must end in .onnx" in capsys.readouterr().err


def test_onnx_without_its_packages_names_the_extra(trained_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)      # as if not installed: find_spec answers None
    assert main(["export", str(trained_run), "--format", "onnx", "--out", str(tmp_path / "g.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ganstudio: error: --format onnx needs tf2onnx, not installed: pip install 'ganstudio[export]'"]
    assert not (tmp_path / "g.onnx").exists()
