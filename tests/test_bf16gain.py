"""precision=auto on CPUs: bf16 only where a measured gain pays; the measurement is cached per CPU and TensorFlow."""
import json

import pytest

from ganstudio.engine import bf16gain, setup
from ganstudio.engine.trainer import resolve_precision


@pytest.mark.parametrize("native, gain, expected", [
    (True, 1.87, "mixed_bfloat16"), (True, 1.1, "mixed_bfloat16"), (True, 1.05, "float32"),
    (False, 3.0, "float32"),   # emulated bf16: not even measured
])
def test_auto_on_cpu_follows_the_measured_gain(monkeypatch, native, gain, expected):
    monkeypatch.setattr(setup, "cpu_has_native_bf16", lambda: native)
    calls = []
    assert resolve_precision("auto", "CPU", bf16_gain=lambda: calls.append(1) or gain) == expected
    assert len(calls) == (1 if native else 0)


def test_other_devices_and_explicit_settings_do_not_measure():
    never = lambda: pytest.fail("measured")  # noqa: E731
    assert resolve_precision("auto", "GPU", bf16_gain=never) == "mixed_float16"
    assert resolve_precision("auto", "TPU", bf16_gain=never) == "mixed_bfloat16"
    assert resolve_precision("float32", "CPU", bf16_gain=never) == "float32"


def test_gain_is_measured_once_then_cached_per_cpu_and_tensorflow(tmp_path, monkeypatch):
    import tensorflow as tf

    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    calls = []
    measure = lambda: calls.append(1) or 1.234  # noqa: E731
    assert bf16gain.bf16_gain(measure) == pytest.approx(1.234)
    assert bf16gain.bf16_gain(measure) == pytest.approx(1.234)
    assert len(calls) == 1
    stored = json.loads((tmp_path / "cache" / "bf16_gain.json").read_text())
    assert stored == {f"{bf16gain.cpu_model()} | TensorFlow {tf.__version__}": 1.234}

    monkeypatch.setattr(bf16gain, "cpu_model", lambda: "Another CPU")   # another key: measured again, both kept
    assert bf16gain.bf16_gain(lambda: 0.5) == 0.5
    assert len(json.loads((tmp_path / "cache" / "bf16_gain.json").read_text())) == 2


def test_corrupt_or_unwritable_cache_only_means_measuring_again(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bf16_gain.json").write_text("[not json")
    monkeypatch.setenv("GANSTUDIO_CACHE", str(cache))
    assert bf16gain.bf16_gain(lambda: 1.5) == 1.5
    assert list(json.loads((cache / "bf16_gain.json").read_text()).values()) == [1.5]

    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "file"))   # a file where the cache folder should be
    (tmp_path / "file").write_text("x")
    assert bf16gain.bf16_gain(lambda: 1.7) == 1.7


def test_the_probe_leaves_the_runs_random_state_alone():
    """It runs inside Trainer._setup after keras.utils.set_random_seed: the run's initial weights and dropout seeds
    must not depend on whether the gain was cached."""
    import random

    import keras

    def draws(probe: bool):
        keras.utils.set_random_seed(7)
        if probe:
            assert bf16gain.measure(rounds=1, calls=1) > 0
        layer = keras.layers.Dense(3)
        layer.build((None, 4))
        return layer.kernel.numpy().tolist(), random.random(), keras.random.uniform((2,)).numpy().tolist()

    assert draws(True) == draws(False)
