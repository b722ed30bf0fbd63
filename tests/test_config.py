import json

import pytest

from ganstudio.config import FIELDS, LIVE_FIELDS, Config, describe_fields
from ganstudio.config.presets import PRESETS, get_preset
from ganstudio.core.errors import ConfigError


def test_defaults_are_the_tutorial():
    c = Config()
    assert (c.model.arch, c.model.noise_dim, c.data.batch_size, c.sample.num_samples) == ("tutorial", 100, 256, 16)
    assert (c.optim.g_lr, c.optim.d_lr, c.optim.loss, c.train.epochs) == (1e-4, 1e-4, "bce_ns", 50)


def test_every_field_has_help_and_range_metadata():
    for f in FIELDS:
        assert f.help, f.name
        assert f.type in (int, float, str, bool)
        if f.type in (int, float):
            assert f.min is not None or f.choices, f.name
    assert {"g_lr", "d_lr", "beta1", "beta2", "sample_every"} <= LIVE_FIELDS
    assert "noise_dim" not in LIVE_FIELDS and "batch_size" not in LIVE_FIELDS


def test_with_updates_parses_strings_and_dotted_keys():
    c = Config().with_updates({"g_lr": "2e-4", "optim.d_lr": 3e-4, "batch_size": "64", "deterministic": "true"})
    assert c.optim.g_lr == 2e-4 and c.optim.d_lr == 3e-4 and c.data.batch_size == 64 and c.train.deterministic
    both = Config().with_updates({"lr": "5e-4"})
    assert both.optim.g_lr == both.optim.d_lr == 5e-4


@pytest.mark.parametrize("key,value,expect", [
    ("lr", "-1", "g_lr: -1 is out of range; it must be in (0, 1]"),
    ("g_lr", "nan", "g_lr: nan is not a finite number"),
    ("d_lr", "inf", "d_lr: inf is not a finite number"),
    ("batch_size", "0", "batch_size: 0 is out of range; it must be in [1, 65536]"),
    ("batch_size", "-5", "batch_size: -5 is out of range"),
    ("batch_size", "2.5", "batch_size: '2.5' is not a valid int"),
    ("deterministic", "maybe", "deterministic: 'maybe' is not a valid bool"),
    ("loss", "wasserstein", "loss: 'wasserstein' is not allowed; use one of bce_ns, minimax, lsgan, wgan_gp, hinge"),
    ("image_size", "48", "image_size: 48 is not allowed"),
])
def test_bad_values_name_the_field_and_range(key, value, expect):
    with pytest.raises(ConfigError) as e:
        Config().with_updates({key: value})
    assert expect in str(e.value)
    assert e.value.field == expect.split(":")[0]   # the studio marks this field's widget (lr: g_lr)


def test_unknown_key_lists_close_matches():
    with pytest.raises(ConfigError, match=r"unknown config key 'g_rl'; did you mean g_lr") as e:
        Config().with_updates({"g_rl": 1})
    assert e.value.field is None
    with pytest.raises(ConfigError, match="unknown config key 'optim.batch_size'"):
        Config().with_updates({"optim.batch_size": 1})


def test_tutorial_arch_refuses_other_shapes():
    with pytest.raises(ConfigError, match="fixed at 28x28x1") as e:
        Config().with_updates({"image_size": 32})
    assert e.value.field == "arch"
    assert Config().with_updates({"arch": "dcgan", "image_size": 32, "channels": 3}).model.channels == 3


def test_json_round_trip_and_errors(tmp_path):
    c = get_preset("dcgan").config().with_updates({"seed": 7})
    p = tmp_path / "config.json"
    p.write_text(c.to_json())
    assert Config.load(p) == c
    p.write_text('{"model": {"arch": "tutorial",}')
    with pytest.raises(ConfigError, match=r"config.json: invalid JSON at line 1"):
        Config.load(p)
    p.write_text(json.dumps({"optim": {"g_lr": -3}}))
    with pytest.raises(ConfigError, match="g_lr: -3 is out of range"):
        Config.load(p)
    p.write_text(json.dumps({"optimizer": {}}))
    with pytest.raises(ConfigError, match="unknown section 'optimizer'; did you mean optim"):
        Config.load(p)


def test_presets_build_valid_configs():
    assert get_preset("tutorial").config() == Config(preset="tutorial")
    for name in PRESETS:
        assert get_preset(name).config().preset == name
    with pytest.raises(ConfigError, match="unknown preset 'dcgna'; did you mean dcgan"):
        get_preset("dcgna")


def test_describe_fields_lists_every_key():
    text = describe_fields()
    for f in FIELDS:
        assert f.name in text


def test_help_config_shows_ranges_only_where_there_are_bounds():
    import dataclasses

    from ganstudio.config import FIELD_BY_NAME

    text = describe_fields()
    assert "inf" not in text                                    # was "in [-inf, inf]" for every bool and str
    line = {ln.split()[0]: ln for ln in text.splitlines() if ln.startswith("  ") and not ln.startswith("   ")}
    assert line["spectral_norm"].endswith("default False      true or false")
    assert line["dataset"].endswith("default 'bundled'") and line["npz_key"].endswith("default ''")
    assert line["noise_dim"].endswith("in [1, 1024]") and line["g_lr"].endswith("in (0, 1] [live]")
    assert line["loss"].endswith("one of bce_ns, minimax, lsgan, wgan_gp, hinge")
    noise = FIELD_BY_NAME["noise_dim"]
    assert dataclasses.replace(noise, max=None).range_text() == ">= 1"
    assert dataclasses.replace(noise, max=None, min_exclusive=True).range_text() == "> 1"
    assert dataclasses.replace(noise, min=None).range_text() == "<= 1024"
    assert dataclasses.replace(noise, min=None, max=None).range_text() == ""
    with pytest.raises(ConfigError) as e:
        Config().with_updates({"spectral_norm": "maybe"})
    assert "expected a bool true or false (" in str(e.value) and "inf" not in str(e.value)
