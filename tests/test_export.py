import json

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli import main
from ganstudio.core.imaging import load_png
from ganstudio.outputs.export import generate, load_generator


def test_sample_grid_and_individual(trained_run, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", str(trained_run), "-n", "6", "--rows", "2", "--scale", "2", "--seed", "1",
                 "--out", str(out), "--individual", str(tmp_path / "ind")]) == 0
    assert Image.open(out).size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))
    assert len(list((tmp_path / "ind").glob("sample_*.png"))) == 6
    assert main(["sample", str(trained_run), "-n", "4", "--out", str(out)]) == 2
    assert "already exists; choose another --out or pass --force" in capsys.readouterr().err
    # The fixed noise through the restored generator reproduces the run's final grid.
    assert main(["sample", str(trained_run), "-n", "4", "--out", str(tmp_path / "fixed.png")]) == 0
    assert np.array_equal(load_png(tmp_path / "fixed.png"), load_png(trained_run / "samples" / "final.png"))
    assert main(["sample", str(trained_run), "--checkpoint", "7"]) == 2
    assert "no checkpoint at step 7; available: 0, 1, 2, 3" in capsys.readouterr().err


def test_keras_export_round_trip(trained_run, tmp_path):
    import keras

    out = tmp_path / "g.keras"
    assert main(["export", str(trained_run), "--format", "keras", "--out", str(out)]) == 0
    model = keras.models.load_model(out, safe_mode=True)
    r = load_generator(trained_run)
    z = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    assert np.allclose(np.asarray(model(z, training=False)), np.asarray(r.generator(z, training=False)), atol=1e-6)
    assert generate(model, z).shape == (3, 28, 28, 1)


def test_savedmodel_serving_signature(trained_run, tmp_path):
    import tensorflow as tf

    out = tmp_path / "sm"
    assert main(["export", str(trained_run), "--format", "savedmodel", "--out", str(out)]) == 0
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    z = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    images = serve(noise=tf.constant(z))["images"].numpy()
    assert images.dtype == np.uint8 and images.shape == (2, 28, 28, 1)
    expected = generate(load_generator(trained_run).generator, z)
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


def test_force_replaces_only_what_ganstudio_exported(trained_run, tmp_path, capsys):
    out = tmp_path / "sm"
    assert main(["export", str(trained_run), "--format", "savedmodel", "--out", str(out)]) == 0
    assert json.loads((out / "ganstudio_export.json").read_text())["step"] == 3
    (out / "stale").write_text("x")
    assert main(["export", str(trained_run), "--format", "savedmodel", "--out", str(out), "--force"]) == 0
    assert (out / "saved_model.pb").is_file() and not (out / "stale").exists()          # ours: replaced whole
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "sub" / "thesis.tex").write_text("years of work")
    (mine / "saved_model.pb").write_text("someone else's model")                         # no marker
    assert main(["export", str(trained_run), "--format", "savedmodel", "--out", str(mine), "--force"]) == 2
    assert "is not a SavedModel that ganstudio exported" in capsys.readouterr().err
    assert (mine / "sub" / "thesis.tex").read_text() == "years of work"
    assert main(["export", str(trained_run), "--format", "keras", "--out", str(mine), "--force"]) == 2
    assert "is a folder; --force replaces only a file" in capsys.readouterr().err
    assert sorted(p.name for p in mine.rglob("*")) == ["saved_model.pb", "sub", "thesis.tex"]


def test_gif_of_training(trained_run, tmp_path):
    out = tmp_path / "t.gif"
    assert main(["export", str(trained_run), "--format", "gif", "--out", str(out), "--duration", "50",
                 "--start", "1", "--end", "3"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 3 and gif.info["duration"] == 50
    assert main(["export", str(trained_run), "--format", "gif", "--out", str(tmp_path / "x.gif"),
                 "--start", "100"]) == 2
