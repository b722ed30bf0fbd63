"""The Trainer's parts, each built alone: event dispatch and row schemas, the data pipeline, the checkpoint keeper,
the quality keeper, the TensorBoard writer, the live-edit handler and device/precision resolution."""
import dataclasses
import math

import numpy as np

import ganstudio.engine as engine
from ganstudio.engine import (EVENT_TYPES, QUALITY_FIELDS, HealthWarning, Message, Metric, StepMetrics, dispatch)
from ganstudio.engine.dispatch import handler_for


# --- dispatch and schemas -----------------------------------------------------------------------------------------
def test_dispatch_calls_the_handler_of_the_events_class():
    seen = []
    handlers = {StepMetrics: lambda e: seen.append(("step", e.step)), Message: lambda e: seen.append(("msg", e.text))}
    assert dispatch(Message("hi"), handlers)
    assert dispatch(StepMetrics(3, 0.1, 1.0, 1, 1, 0.5, 0.5, 10.0), handlers)
    assert not dispatch(engine.Paused(4), handlers)            # no handler: ignored, reported
    assert seen == [("msg", "hi"), ("step", 3)]


def test_dispatch_falls_back_to_a_base_class():
    class Base:
        pass

    class Sub(Base):
        pass

    got = []
    assert dispatch(Sub(), {Base: got.append, object: lambda e: got.append("any")})
    assert isinstance(got[0], Sub)
    assert handler_for(Base(), {}) is None


def test_engine_exports_every_event_type():
    for cls in EVENT_TYPES:
        assert cls.__name__ in engine.__all__, cls
        assert getattr(engine, cls.__name__) is cls
    import pytest

    with pytest.deprecated_call():
        assert engine.Health is HealthWarning                  # the old name: a deprecated alias, one class
    with pytest.deprecated_call():
        from ganstudio.engine.events import Health
    assert Health is HealthWarning and "Health" not in engine.__all__


def test_row_schemas_are_the_event_fields():
    assert tuple(f.name for f in dataclasses.fields(Metric)) == QUALITY_FIELDS
    assert tuple(f.name for f in dataclasses.fields(StepMetrics)) == engine.METRICS_FIELDS
    m = Metric(5, 1.5, 0.01, 0.3, 64, 0.2, "random", None, 0.9)
    row = m.to_row()
    assert list(row) == list(QUALITY_FIELDS) and row["memorization"] == 0.9
    assert Metric.from_row(row) == m
    old = Metric.from_row({"step": 2, "fd": 3.0, "kid": 0.1, "diversity": 0.2, "n": 8, "seconds": 1.0})
    assert old.source == "" and old.accuracy is None and math.isnan(old.memorization)


# --- setup: device, precision, the network fitted to the data, the state ------------------------------------------
def test_resolve_jit_and_precision_explicit_settings():
    from ganstudio.engine.setup import resolve_jit, resolve_precision

    assert resolve_jit("auto", "GPU") and not resolve_jit("auto", "CPU") and not resolve_jit("on", "TPU")
    assert resolve_jit("on", "CPU") and not resolve_jit("off", "GPU")
    assert resolve_precision("float32", "GPU") == "float32"
    assert resolve_precision("auto", "GPU") == "mixed_float16"


def test_the_data_fits_the_network(tiny_config):
    import pytest

    from ganstudio.config.presets import get_preset
    from ganstudio.core.errors import DataError
    from ganstudio.data import Dataset
    from ganstudio.engine.setup import adapt_arch_to_data, fit_config_to_data

    tutorial = get_preset("tutorial").config()
    same, note = adapt_arch_to_data(tutorial, (28, 28, 1))
    assert same is tutorial and note == ""
    dcgan, note = adapt_arch_to_data(tutorial, (32, 32, 3))
    assert (dcgan.model.arch, dcgan.model.image_size, dcgan.model.channels) == ("dcgan", 32, 3) and "dcgan" in note
    rgb = Dataset("rgb", np.zeros((8, 32, 32, 3), np.uint8))
    fitted = fit_config_to_data(tiny_config, rgb)
    assert (fitted.model.image_size, fitted.model.channels) == (32, 3)
    with pytest.raises(DataError, match="square 28, 32 or 64 px"):
        fit_config_to_data(tiny_config, Dataset("odd", np.zeros((8, 30, 30, 1), np.uint8)))
    with pytest.raises(DataError, match="no labels"):
        fit_config_to_data(tiny_config.with_updates({"conditional": True}), rgb)


def test_build_state_is_the_seeds_and_checkpoints_everything(tiny_config):
    import keras

    from ganstudio.engine.setup import build_state

    def state():
        keras.utils.set_random_seed(tiny_config.train.seed)
        return build_state(tiny_config, "float32", 1)

    a, b = state(), state()
    for x, y in zip(a.G.get_weights(), b.G.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert a.G_ema is None and int(a.step_var.numpy()) == 0
    assert a.fixed_noise.shape == (tiny_config.sample.num_samples, tiny_config.model.noise_dim)
    assert {"generator", "discriminator", "g_opt", "d_opt", "rng", "fixed_noise", "step", "ada_p"} <= \
        set(a.ckpt._trackable_children())


# --- pipeline ------------------------------------------------------------------------------------------------------
def _ids(batch) -> np.ndarray:
    return np.rint(batch.numpy()[..., 0, 0, 0] * 127.5 + 127.5).astype(int)


def test_pipeline_is_a_pure_function_of_seed_and_step():
    import tensorflow as tf

    from ganstudio.engine.pipeline import batches_from

    images = tf.constant(np.arange(40, dtype=np.uint8).reshape(40, 1, 1, 1) * np.ones((1, 2, 2, 1), np.uint8))
    labels = tf.constant(np.arange(40, dtype=np.int32))
    it = batches_from(images, labels, 0, batch_size=10, seed=3, d_steps=2)
    x, y = next(it)
    assert x.shape == (2, 10, 2, 2, 1) and y.shape == (2, 10)              # d_steps batches per step
    assert np.array_equal(_ids(x), y.numpy()) and float(x.numpy().min()) >= -1.0
    steps = [x] + [next(it)[0] for _ in range(3)]
    epoch0, epoch1 = np.concatenate([_ids(s).ravel() for s in steps[:2]]), np.concatenate(
        [_ids(s).ravel() for s in steps[2:]])
    assert sorted(epoch0) == list(range(40)) == sorted(epoch1) and not np.array_equal(epoch0, epoch1)
    again = batches_from(images, labels, 3, batch_size=10, seed=3, d_steps=2)
    assert np.array_equal(_ids(next(again)[0]), _ids(steps[3]))
    other = batches_from(images, labels, 0, batch_size=10, seed=4, d_steps=2)
    assert not np.array_equal(_ids(next(other)[0]), _ids(steps[0]))


# --- TensorBoard ---------------------------------------------------------------------------------------------------
def test_tensorboard_writes_scalars_images_and_quality(tiny_config, tmp_path):
    from ganstudio.engine.tboard import Board, NoBoard, open_board

    off = open_board(tmp_path / "off", tiny_config, False)
    assert isinstance(off, NoBoard) and not off.enabled
    off.scalars(StepMetrics(1, 0.1, 1.0, 1, 1, 0.5, 0.5, 10.0))    # no-ops
    off.flush()
    assert not (tmp_path / "off").exists()

    board = open_board(tmp_path / "run", tiny_config, True)
    assert isinstance(board, Board) and board.enabled
    board.scalars(StepMetrics(1, 0.1, 1.0, 1, 1, 0.5, 0.5, 10.0))
    board.image(1, np.zeros((4, 28, 28, 1), np.uint8))
    board.quality(Metric(1, 5.0, 0.1, 0.3, 8, 0.1, "random", None), [{"step": 1, "fd": 5.0}])
    board.flush()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"tensors": 0}).Reload()
    tags = set(acc.Tags()["tensors"])
    assert {"g_loss", "images_per_sec", "samples", "quality/fd", "quality/best_fd", "quality/kid"} <= tags


# --- quality -------------------------------------------------------------------------------------------------------
def test_quality_keeper_loads_the_classifier_once_and_samples_in_chunks(tiny_config, monkeypatch):
    import ganstudio.metrics as metrics
    from ganstudio.data import Dataset
    from ganstudio.engine.quality import QualityKeeper

    loads = []

    class FakeMetric:
        real_diversity = 0.7

        def __init__(self, fn, images, n):
            self.n = n

        def score(self, images):
            return {"fd": float(len(images)), "kid": 0.01, "diversity": 0.5, "memorization": 1.1}

    monkeypatch.setattr(metrics, "get_classifier", lambda ds: loads.append(ds) or (None, 0.9, "bundled"))
    monkeypatch.setattr(metrics, "QualityMetric", FakeMetric)
    ds = Dataset("x", np.zeros((64, 28, 28, 1), np.uint8))
    seen = []
    keeper = QualityKeeper(ds, on_classifier=seen.append)
    calls = []

    def sample(noise, labels):
        calls.append(len(noise))
        return np.zeros((len(noise), 28, 28, 1), np.uint8)

    cfg = tiny_config.with_updates({"metric_n": 1200})
    m = keeper.measure(7, cfg, sample)
    keeper.measure(8, cfg, sample)
    assert len(loads) == 1 and seen == [0.7]
    assert calls == [500, 500, 200] * 2
    assert (m.step, m.fd, m.n, m.source, m.accuracy, m.memorization) == (7, 1200.0, 1200, "bundled", 0.9, 1.1)


# --- live edits and requests ---------------------------------------------------------------------------------------
def test_check_edits(tiny_config):
    from ganstudio.engine.edits import check_edits

    assert check_edits(tiny_config, {"nonsense": 1}).level == "error"
    locked = check_edits(tiny_config, {"batch_size": 8})
    assert isinstance(locked, Message) and "cannot change while training" in locked.text
    assert check_edits(tiny_config, {"g_lr": tiny_config.optim.g_lr}) == Message("no change", "info")
    new, changes = check_edits(tiny_config, {"g_lr": 1e-3})
    assert new.optim.g_lr == 1e-3 and changes == {"g_lr": (tiny_config.optim.g_lr, 1e-3)}


def test_apply_to_training_moves_optimizers_and_says_when_to_retrace(tiny_config):
    import types

    from ganstudio.engine.edits import apply_to_training, check_edits

    g, d = types.SimpleNamespace(), types.SimpleNamespace()
    p = types.SimpleNamespace(value=None, assign=lambda v: setattr(p, "value", v))
    new, changes = check_edits(tiny_config, {"g_lr": 1e-3, "d_lr": 2e-3})
    assert not apply_to_training(new, changes, g, d, p)
    assert (g.learning_rate, d.learning_rate, p.value) == (1e-3, 2e-3, None)
    new, changes = check_edits(new, {"beta1": 0.1})
    assert apply_to_training(new, changes, g, d, p) and g.beta_1 == d.beta_1 == 0.1
    new, changes = check_edits(new, {"ada_p": 0.2})
    assert not apply_to_training(new, changes, g, d, p) and p.value == 0.2
    new, changes = check_edits(new, {"ada_target": 0.6})
    assert apply_to_training(new, changes, g, d, p)


def test_handle_request_routes_by_name():
    from ganstudio.engine.edits import handle_request

    got = list(handle_request("pin", {"step": 3}, {"pin": lambda step: [Message(f"pin {step}")]}))
    assert got == [Message("pin 3")]
    assert list(handle_request("fly", {}, {}))[0] == Message("unknown request 'fly'", "error")


# --- the checkpoint keeper -----------------------------------------------------------------------------------------
def _keeper(tiny_config, tmp_path):
    import tensorflow as tf

    from ganstudio.engine.checkpoints import CheckpointStore
    from ganstudio.engine.keeper import CheckpointKeeper
    from ganstudio.runs import RunDir

    v = tf.Variable(0.0)
    run = RunDir.create(tmp_path / "run", tiny_config)
    store = CheckpointStore(tf.train.Checkpoint(v=v), run.checkpoints, keep=2)
    return CheckpointKeeper(store, run), v, run


def test_keeper_saves_restores_and_rolls_back(tiny_config, tmp_path):
    keeper, v, run = _keeper(tiny_config, tmp_path)
    assert not keeper.any()
    for step in (0, 2, 4):
        v.assign(float(step))
        keeper.save(step, {"train_seconds": step / 10}, keep=5)
    assert keeper.any() and keeper.has(2) and not keeper.has(3)
    assert keeper.last_before(4).step == 2 and keeper.last_before(0) is None
    assert keeper.find("latest").step == 4
    assert keeper.restore(keeper.find(2)) == 0.2 and float(v.numpy()) == 2.0
    keeper.save(6, {}, keep=2)                                            # retention: the newest 2
    from ganstudio.engine.checkpoints import list_checkpoints

    assert [c.step for c in list_checkpoints(keeper.folder)] == [4, 6]


def test_keeper_best_mark_and_branching(tiny_config, tmp_path):
    from ganstudio.engine.checkpoints import best_record, list_checkpoints

    keeper, v, run = _keeper(tiny_config, tmp_path)
    for step in (1, 2, 3):
        keeper.save(step, {}, keep=5)
        run.append_quality(Metric(step, 10.0 - step, 0, 0, 1, 0, "t", None).to_row())
    assert keeper.is_better(9.0)
    assert keeper.mark_best(2, 8.0).name == "step_000002" and best_record(keeper.folder)["step"] == 2
    assert not keeper.is_better(8.5) and keeper.is_better(7.5)
    notes = keeper.branch_off(1)       # 2 and 3 move aside, with their quality rows; the best is chosen again
    assert [c.step for c in list_checkpoints(keeper.folder)] == [1]
    assert "moved aside" in notes[-1].text and notes[-1].level == "warning"
    assert [r["step"] for r in run.read_quality()] == [1]
    assert best_record(keeper.folder)["step"] == 1


def test_keeper_pin_delete_and_failed_saves(tiny_config, tmp_path, monkeypatch):
    import pytest
    import tensorflow as tf

    from ganstudio.core.errors import WriteError
    from ganstudio.engine import CheckpointsChanged
    from ganstudio.engine.checkpoints import list_checkpoints

    keeper, v, run = _keeper(tiny_config, tmp_path)
    keeper.save(1, {}, keep=5)
    assert keeper.change("pin", 1) == CheckpointsChanged(1, "Pinned the checkpoint at step 1")
    assert list_checkpoints(keeper.folder)[0].pinned
    assert keeper.change("unpin", 1).text == "Unpinned the checkpoint at step 1"
    assert keeper.change("delete", 1).text == "Deleted the checkpoint at step 1"
    assert keeper.change("pin", 1).level == "error"

    def full(step, meta):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    monkeypatch.setattr(keeper.store, "save", full)
    with pytest.raises(WriteError, match="step_000005"):
        keeper.save(5, {}, keep=5)


# --- sampler, budget extension, out-of-memory -------------------------------------------------------------------
def test_sampler_grids_and_generate_requests(tiny_config):
    import keras

    from ganstudio.engine import Generated
    from ganstudio.engine.sampler import Sampler
    from ganstudio.engine.setup import build_state

    keras.utils.set_random_seed(0)
    s = build_state(tiny_config, "float32", 1)
    sampler = Sampler(s.G, None, s.fixed_noise, None)
    grid = sampler.sample()
    assert grid.dtype == np.uint8 and grid.shape[0] == tiny_config.sample.num_samples
    np.testing.assert_array_equal(sampler.sample(s.fixed_noise.numpy()), grid)     # the fixed noise by default
    assert sampler.sample(np.zeros((7, tiny_config.model.noise_dim), np.float32)).shape[0] == 7
    answer = sampler.generate(5, np.ones((2, tiny_config.model.noise_dim), np.float32), tag="q")
    assert isinstance(answer, Generated) and (answer.step, answer.tag, answer.images.shape[0]) == (5, "q", 2)
    bad = sampler.generate(5, np.ones((2, 3), np.float32))
    assert bad.level == "error" and f"(N, {tiny_config.model.noise_dim})" in bad.text
    for n in (1, 3, 500, 11):     # metric and explorer batches: no retracing (issue 33)
        sampler.sample(np.zeros((n, tiny_config.model.noise_dim), np.float32))
    assert sampler._fns[False].experimental_get_tracing_count() == 1


def test_conditional_sampler_traces_once(tiny_config):
    import keras

    from ganstudio.engine.sampler import Sampler
    from ganstudio.engine.setup import build_state

    cfg = tiny_config.with_updates({"conditional": True, "num_classes": 10})
    keras.utils.set_random_seed(0)
    s = build_state(cfg, "float32", 1)
    labels = np.arange(int(s.fixed_noise.shape[0])) % 10
    sampler = Sampler(s.G, None, s.fixed_noise, labels)
    grid = sampler.sample()
    assert grid.shape[0] == int(s.fixed_noise.shape[0])     # the conditional grid: a row per class
    for n in (2, 9):
        assert sampler.sample(np.zeros((n, cfg.model.noise_dim), np.float32), np.ones(n, np.int32)).shape[0] == n
    assert sampler._fns[False].experimental_get_tracing_count() == 1


def test_extend_budget(tiny_config):
    from ganstudio.engine.setup import extend_budget

    cfg = tiny_config.with_updates({"steps": 10})
    assert extend_budget(cfg, 4, 10, 0.0) == (cfg, 10, [])                        # room left: unchanged
    new, total, notes = extend_budget(cfg, 10, 10, 0.0)
    assert (new.train.steps, total) == (20, 20) and "10 more, to step 20" in notes[0]
    timed = tiny_config.with_updates({"steps": 0, "train_minutes": 1.0})
    new, total, notes = extend_budget(timed, 50, 0, 61.0)
    assert new.train.train_minutes == round(61 / 60 + 1, 2) and total == 0 and "1 more" in notes[0]


def test_run_call_names_the_setting_that_does_not_fit():
    import pytest
    import tensorflow as tf

    from ganstudio.core.errors import ConfigError
    from ganstudio.engine.step import run_call

    def oom(images, labels):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM")

    assert run_call(lambda x, y: x + y, 1, 2, steps=1, batch_size=8, device="CPU") == 3
    with pytest.raises(ConfigError, match=r"^batch_size: 8 images per step .* \(e.g. --batch-size 4\)$"):
        run_call(oom, 0, 0, steps=1, batch_size=8, device="CPU")
    with pytest.raises(ConfigError, match=r"^steps_per_call: 4 steps of batch_size 8 in one call do not fit in the GPU"):
        run_call(oom, 0, 0, steps=4, batch_size=8, device="GPU")


# --- the loop routes requests to its parts ------------------------------------------------------------------------
def test_requests_on_a_paused_run_reach_the_keeper(tiny_config, tmp_path):
    from ganstudio.engine import CheckpointSaved, CheckpointsChanged, Control, Finished, Paused
    from ganstudio.engine.checkpoints import list_checkpoints
    from ganstudio.engine.trainer import Trainer

    control = Control()
    control.pause()
    trainer = Trainer(tiny_config.with_updates({"steps": 1}), run_dir=tmp_path / "run", control=control,
                      nan_action="stop", write_errors="raise")
    assert (trainer.nan_action, trainer.write_errors, trainer.adapt_arch, trainer.progress) == \
        ("stop", "raise", False, None)
    gen = trainer.run()
    assert isinstance(next(e for e in gen if isinstance(e, (CheckpointSaved, Paused))), CheckpointSaved)
    assert isinstance(next(gen), Paused)
    control.request("pin", step=0)
    assert next(gen) == CheckpointsChanged(0, "Pinned the checkpoint at step 0")
    assert list_checkpoints(tmp_path / "run" / "checkpoints")[0].pinned
    control.request("unpin", step=0)
    assert next(gen).text == "Unpinned the checkpoint at step 0"
    control.request("pin", step=7)
    assert next(gen).level == "error"
    control.request("fly")
    assert next(gen) == Message("unknown request 'fly'", "error")
    control.request("sample")
    assert next(gen).step == 0
    control.resume()
    assert next(e for e in gen if isinstance(e, Finished)).step == 1


def test_front_end_choices_are_checked():
    import pytest

    from ganstudio.engine.trainer import Trainer

    with pytest.raises(ValueError, match="nan_action"):
        Trainer(None, run_dir="x", nan_action="ignore")
