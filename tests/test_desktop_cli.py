"""Issue 16 from the command line: data picks a fitting network, ..."""
import json

import numpy as np

from ganstudio.cli import main
from ganstudio.engine.trainer import adapt_arch_to_data
from ganstudio.presets import get_preset

SMALL = ["--batch-size", "16", "--steps", "1", "--set", "width=8", "--set", "noise_dim=16", "--set", "jit_compile=off",
         "--set", "num_samples=4", "--set", "precision=float32", "--no-progress"]


def colour_npz(path, n=32, size=32):
    np.savez(path, x=np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8))
    return path


def test_adapt_rule():
    tut = get_preset("tutorial").config()
    cfg, note = adapt_arch_to_data(tut, (32, 32, 3))
    assert (cfg.model.arch, cfg.model.image_size, cfg.model.channels) == ("dcgan", 32, 3) and "32x32x3" in note
    assert cfg.optim.g_lr == tut.optim.g_lr and cfg.data.batch_size == tut.data.batch_size   # nothing else moves
    assert adapt_arch_to_data(tut, (28, 28, 1)) == (tut, "")
    assert adapt_arch_to_data(tut, (48, 48, 3)) == (tut, "")      # dcgan cannot take it either: the error explains
    dc = get_preset("dcgan").config()
    assert adapt_arch_to_data(dc, (32, 32, 3)) == (dc, "")        # already adaptive (fit_config_to_data resizes)


def test_colour_data_without_preset_switches_to_dcgan(tmp_path, capsys):
    data = colour_npz(tmp_path / "rgb.npz")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(data), *SMALL, "--run-dir", str(run)]) == 0
    out = capsys.readouterr()
    notes = [line for line in (out.out + out.err).splitlines() if "dcgan network at 32x32x3" in line]
    assert len(notes) == 1 and "fixed at 28x28x1" in notes[0]
    model = json.loads((run / "config.json").read_text())["model"]
    assert (model["arch"], model["image_size"], model["channels"]) == ("dcgan", 32, 3)

    # an explicit preset (or arch) is the user's choice: today's clear error, nothing switched
    for pin in (["--preset", "tutorial"], ["--set", "arch=tutorial"]):
        assert main(["train", "--dataset", str(data), *pin, *SMALL, "--run-dir", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert "the 'tutorial' network is fixed at 28x28x1; use --preset dcgan" in err and "Traceback" not in err
        assert not (tmp_path / "x").exists()
