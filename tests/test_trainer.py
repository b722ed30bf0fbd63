import json
import threading

import numpy as np
import pytest

from ganstudio.config import Config
from ganstudio.core.errors import DataError
from ganstudio.core.imaging import load_png
from ganstudio.data import Dataset
from ganstudio.engine import (CheckpointSaved, ConfigChanged, Control, Finished, Message, Paused, SampleGrid, Started,
                              StepMetrics)
from ganstudio.engine.trainer import Trainer, run_to_end
from ganstudio.runs import RunDir


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def next_of(gen, *classes):
    """Advance the trainer generator to the next event of one of `classes` (sample grids etc. are skipped)."""
    for ev in gen:
        if isinstance(ev, classes):
            return ev
    raise AssertionError(f"generator ended before {classes}")


def test_three_steps_write_a_valid_run_folder(tiny_config, tmp_path):
    run_path = tmp_path / "run"
    events = run_to_end(Trainer(tiny_config, run_dir=run_path))
    assert isinstance(events[0], Started) and events[0].step == 0 and events[0].total_steps == 3
    steps = of(events, StepMetrics)
    assert [m.step for m in steps] == [1, 2, 3]
    assert all(np.isfinite([m.g_loss, m.d_loss, m.d_real, m.d_fake]).all() for m in steps)
    assert all(0 < m.d_real < 1 and 0 < m.d_fake < 1 and m.images_per_sec > 0 for m in steps)
    assert [g.step for g in of(events, SampleGrid)] == [0, 2]
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "completed" and fin.step == 3

    run = RunDir.open(run_path)
    assert run.config() == tiny_config
    rows = [json.loads(line) for line in run.metrics_file.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"step", "epoch", "wall", "g_loss", "d_loss", "d_real", "d_fake", "images_per_sec",
                            "r_real", "ada_p"}
    # r_real is a mean of B signs in {-1, 0, 1}: within [-1, 1] and a multiple of 1/B
    b = tiny_config.data.batch_size
    assert all(-1 <= m.r_real <= 1 and abs(m.r_real * b - round(m.r_real * b)) < 1e-4 for m in steps)
    assert rows[2]["r_real"] == pytest.approx(steps[2].r_real)
    assert rows[1]["g_loss"] == pytest.approx(steps[1].g_loss)
    assert [s for s, _ in run.sample_steps()] == [0, 2]
    grid = load_png(run.sample_path(2))
    assert grid.shape == (2 + 2 * 30, 2 + 2 * 30, 1)  # 4 images of 28 px as 2x2 with 2 px padding
    assert np.array_equal(grid[2:30, 2:30, 0], of(events, SampleGrid)[1].images[0, :, :, 0])
    assert (run.samples / "final.png").exists()
    assert of(events, CheckpointSaved)[-1].step == 3
    assert (run.checkpoints / "step_000003" / "meta.json").exists()
    assert list((run.path / "tensorboard").glob("events.out.tfevents.*"))


def test_same_seed_same_losses_different_seed_different(tiny_config, tmp_path):
    cfg = tiny_config.with_updates({"deterministic": True, "steps": 2})
    a = of(run_to_end(Trainer(cfg, run_dir=tmp_path / "a")), StepMetrics)
    b = of(run_to_end(Trainer(cfg, run_dir=tmp_path / "b")), StepMetrics)
    c = of(run_to_end(Trainer(cfg.with_updates({"seed": 1}), run_dir=tmp_path / "c")), StepMetrics)
    assert [(m.g_loss, m.d_loss) for m in a] == [(m.g_loss, m.d_loss) for m in b]
    assert a[0].g_loss != c[0].g_loss


def test_pause_step_edit_stop_through_control(tiny_config, tmp_path):
    control = Control()
    trainer = Trainer(tiny_config.with_updates({"steps": 0}), run_dir=tmp_path / "r", control=control)
    gen = trainer.run()
    control.pause()
    next_of(gen, Paused)
    assert trainer.step == 0
    control.step(2)
    steps = []
    while len(steps) < 2:
        ev = next(gen)
        if isinstance(ev, StepMetrics):
            steps.append(ev.step)
    assert steps == [1, 2] and trainer.step == 2
    # Paused with no budget: the generator blocks; nothing advances until told.
    control.edit(g_lr="3e-3", beta1=0.25)
    ev = next_of(gen, ConfigChanged, Message)
    assert isinstance(ev, ConfigChanged) and ev.changes["g_lr"] == (2e-4, 3e-3) and ev.step == 2
    assert float(np.asarray(trainer.g_opt.learning_rate)) == pytest.approx(3e-3)
    assert trainer.g_opt.beta_1 == 0.25 and trainer.d_opt.beta_1 == 0.25
    control.edit(batch_size=8)
    ev = next_of(gen, ConfigChanged, Message)
    assert isinstance(ev, Message) and ev.level == "error" and "batch_size cannot change while training" in ev.text
    control.edit(d_lr=-1)
    assert "d_lr: -1 is out of range" in next_of(gen, Message).text
    control.edit(lr="3e-3")      # the alias sets both rates, and both are live
    ev = next_of(gen, ConfigChanged, Message)
    assert isinstance(ev, ConfigChanged) and ev.changes == {"d_lr": (2e-4, 3e-3)}
    control.edit(g_lrr=1)
    assert "unknown config key 'g_lrr'" in next_of(gen, Message).text
    control.step(1)
    assert next_of(gen, StepMetrics).step == 3
    edits = [json.loads(line) for line in (tmp_path / "r" / "edits.jsonl").read_text().splitlines()]
    assert edits[0]["step"] == 2 and edits[0]["changes"]["g_lr"] == {"old": 2e-4, "new": 3e-3}
    assert RunDir.open(tmp_path / "r").config().optim.g_lr == 3e-3
    threading.Timer(0.2, control.stop).start()
    rest = list(gen)
    assert isinstance(rest[-1], Finished) and rest[-1].reason == "stopped" and rest[-1].step == 3


def test_requests_are_served_while_paused(tiny_config, tmp_path):
    control = Control()
    gen = Trainer(tiny_config, run_dir=tmp_path / "r", control=control).run()
    control.pause()
    while not isinstance(next(gen), Paused):
        pass
    control.request("sample")
    grid = next(gen)
    assert isinstance(grid, SampleGrid) and grid.step == 0 and grid.images.shape == (4, 28, 28, 1)
    control.request("checkpoint")
    saved = next(gen)
    assert isinstance(saved, CheckpointSaved) and (tmp_path / "r" / "checkpoints" / "step_000000" / "ckpt.index").exists()
    control.stop()
    assert list(gen)[-1].reason == "stopped"


def test_dataset_smaller_than_a_batch_is_a_clear_error(tiny_config, tmp_path):
    ds = Dataset("few", np.zeros((5, 28, 28, 1), np.uint8))
    with pytest.raises(DataError, match="has 5 images, fewer than one batch of 16"):
        run_to_end(Trainer(tiny_config, run_dir=tmp_path / "r", dataset=ds))
    assert not (tmp_path / "r").exists()


def test_tutorial_on_rgb_data_explains_the_fix(tmp_path):
    ds = Dataset("rgb", np.zeros((64, 32, 32, 3), np.uint8))
    with pytest.raises(DataError, match="fixed at 28x28x1; use --preset dcgan"):
        run_to_end(Trainer(Config().with_updates({"batch_size": 8}), run_dir=tmp_path / "r", dataset=ds))


def test_dcgan_adapts_to_the_dataset_shape(tiny_config, tmp_path):
    ds = Dataset("rgb", np.random.default_rng(0).integers(0, 255, (32, 32, 32, 3), dtype=np.uint8))
    events = run_to_end(Trainer(tiny_config.with_updates({"steps": 1}), run_dir=tmp_path / "r", dataset=ds))
    assert of(events, SampleGrid)[0].images.shape == (4, 32, 32, 3)
    assert RunDir.open(tmp_path / "r").config().model.channels == 3


def test_existing_run_folder_is_never_overwritten(tiny_config, tmp_path):
    from ganstudio.core.errors import RunDirError

    run_to_end(Trainer(tiny_config.with_updates({"steps": 1}), run_dir=tmp_path / "r"))
    before = (tmp_path / "r" / "config.json").read_text()
    with pytest.raises(RunDirError, match="already holds a run; continue it with `ganstudio resume"):
        run_to_end(Trainer(tiny_config.with_updates({"seed": 3}), run_dir=tmp_path / "r"))
    assert (tmp_path / "r" / "config.json").read_text() == before


def test_data_order_is_a_permutation_per_epoch(tiny_config, tmp_path):
    """Each epoch visits every image exactly once, in a different order (index_shuffle keyed by seed, epoch)."""
    images = np.arange(64, dtype=np.uint8).reshape(64, 1, 1, 1) * np.ones((1, 28, 28, 1), np.uint8)
    t = Trainer(tiny_config, run_dir=tmp_path / "r", dataset=Dataset("ids", images))
    t._setup()
    it = t._dataset_from(0)
    ids = [np.rint(next(it)[0].numpy()[0, :, 0, 0, 0] * 127.5 + 127.5).astype(int) for _ in range(8)]
    epoch0, epoch1 = np.concatenate(ids[:4]), np.concatenate(ids[4:])
    assert sorted(epoch0) == list(range(64)) and sorted(epoch1) == list(range(64))
    assert not np.array_equal(epoch0, epoch1)
    again = t._dataset_from(5)  # resuming at step 5 gives the same batch as step 5 of the straight run
    assert np.array_equal(np.rint(next(again)[0].numpy()[0, :, 0, 0, 0] * 127.5 + 127.5).astype(int), ids[5])


def test_xla_and_plain_step_agree(tiny_config, tmp_path):
    """Speed options may change float rounding only."""
    cfg = tiny_config.with_updates({"steps": 1, "deterministic": True})
    plain = of(run_to_end(Trainer(cfg, run_dir=tmp_path / "a")), StepMetrics)[0]
    xla = of(run_to_end(Trainer(cfg.with_updates({"jit_compile": "on"}), run_dir=tmp_path / "b")), StepMetrics)[0]
    assert xla.g_loss == pytest.approx(plain.g_loss, abs=1e-4)
    assert xla.d_loss == pytest.approx(plain.d_loss, abs=1e-4)


def test_mixed_bfloat16_trains_with_float32_variables(tiny_config, tmp_path):
    t = Trainer(tiny_config.with_updates({"steps": 2, "precision": "mixed_bfloat16"}), run_dir=tmp_path / "r")
    events = run_to_end(t)
    assert all(np.isfinite([m.g_loss, m.d_loss]).all() for m in of(events, StepMetrics))
    assert "mixed_bfloat16" in events[0].device
    assert {v.dtype for v in t.G.trainable_variables} == {"float32"}
    assert of(events, SampleGrid)[-1].images.dtype == np.uint8
    import keras

    Trainer(tiny_config.with_updates({"steps": 1, "precision": "float32"}), run_dir=tmp_path / "s")._setup()
    assert keras.config.dtype_policy().name == "float32"  # the global policy does not leak into the next run


def test_stop_without_save_writes_no_final_checkpoint(tiny_config, tmp_path):
    control = Control()
    gen = Trainer(tiny_config.with_updates({"steps": 0}), run_dir=tmp_path / "r", control=control).run()
    next_of(gen, StepMetrics)
    control.stop(save=False)
    rest = list(gen)
    assert rest[-1].reason == "stopped" and rest[-1].final_grid == ""
    assert not of(rest, CheckpointSaved)
    assert not (tmp_path / "r" / "samples" / "final.png").exists()


def test_several_steps_per_call_match_single_steps(tiny_config, tmp_path):
    cfg = tiny_config.with_updates({"steps": 7, "deterministic": True, "sample_every": 3})
    one = run_to_end(Trainer(cfg.with_updates({"steps_per_call": 1}), run_dir=tmp_path / "a"))
    many_t = Trainer(cfg.with_updates({"steps_per_call": 3}), run_dir=tmp_path / "b")
    many = run_to_end(many_t)
    assert "3 steps/call" in many[0].device
    a = [(m.step, m.g_loss, m.d_loss, m.r_real) for m in of(one, StepMetrics)]
    b = [(m.step, m.g_loss, m.d_loss, m.r_real) for m in of(many, StepMetrics)]
    assert [s for s, *_ in b] == list(range(1, 8))          # 3 + 3 calls, then a single step to reach 7
    assert np.allclose(np.array(a)[:, 1:], np.array(b)[:, 1:], atol=1e-4)
    assert [g.step for g in of(many, SampleGrid)] == [0, 3, 6]   # multiples reached inside a call still sample
