"""The dataset rows of the bad-input catalogue in the studio: Start shows the same one-line message as the CLI,
the window goes to 'error' and stays usable (Start enabled, form unlocked), and nothing on disk changes."""
import pytest

from ganstudio.cli import build_parser, config_from_args

from ..test_bad_inputs import ROWS, snapshot

TIMEOUT = 120_000
DATASET_ROWS = [r for r in ROWS if r.area == "dataset"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return tmp_path_factory.mktemp("unused")    # dataset rows never need a trained run


@pytest.mark.parametrize("row", DATASET_ROWS, ids=[r.id for r in DATASET_ROWS])
def test_dataset_error_in_the_window(row, make_main_window, tmp_path, monkeypatch, qtbot, trained):
    monkeypatch.setenv("GANSTUDIO_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "w"
    work.mkdir()
    argv = row.setup(work, monkeypatch, trained)
    cfg = config_from_args(build_parser().parse_args(argv))
    before = snapshot(work)
    win = make_main_window(preset=cfg.preset)
    win.panel.set_config(cfg)
    with qtbot.waitSignal(win.sessionFinished, timeout=TIMEOUT):
        assert win.start_training(tmp_path / "run")
    assert win.state == "error"
    assert len(win.errors) == 1 and row.expect in win.errors[0], win.errors
    assert win.act_start.isEnabled() and win.panel.widgets["batch_size"].isEnabled()
    assert snapshot(work) == before
    assert not (tmp_path / "run").exists()
