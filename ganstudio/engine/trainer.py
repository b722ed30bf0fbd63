"""The training loop as a generator of plain events.

    trainer = Trainer(config, run_dir=..., control=Control())
    for event in trainer.run():       # CLI: progress bar; GUI: a QThread re-emitting signals
        ...

Between steps the trainer asks its Control what to do (pause / step N / stop / live edits / requests), so
front ends never touch TensorFlow objects from another thread. Everything TensorFlow-specific is confined to
this module (train step, data pipeline, checkpoint); models and losses are keras.layers / keras.ops.
"""
from __future__ import annotations

import errno
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..config import LIVE_FIELDS, Config, resolve_key
from ..data import Dataset, load_config_dataset
from ..errors import CheckpointError, ConfigError, DataError, GanStudioError, WriteError
from ..fileio import write_error
from ..imaging import to_uint8
from ..runs import RunDir, new_run_path
from ..sampling import fixed_grid_size, grid_labels, metric_inputs
from .checkpoints import CheckpointInfo, CheckpointStore, find_checkpoint, list_checkpoints, step_dir
from .augment import ada_step
from .control import Control
from .tb_hparams import write_best_fd, write_hparams
from .events import (BestCheckpoint, CheckpointSaved, ConfigChanged, Event, Finished, Health, Message, Metric, Paused, Resumed,
                     RolledBack, SampleGrid, Started, StepMetrics, Generated)
from .events import CheckpointsChanged, WriteFailed
from ..tfsetup import import_tf, is_chief, is_tpu, make_strategy


def resolve_jit(setting: str, device: str) -> bool:
    """'auto' -> XLA on GPUs only. On the CPUs measured (benchmarks/throughput.py, README) XLA gave 0.92-1.09x
    for the tutorial step on an AVX2 machine and 0.65x on an AVX-512 one, while compiling costs seconds at every
    (re)trace. Never on TPUs: TPUStrategy compiles the step with XLA itself."""
    if device == "TPU":
        return False
    if setting == "auto":
        return device == "GPU"
    return setting == "on"


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(setting: str, device: str, bf16_gain=None) -> str:
    """'auto' -> mixed_float16 on GPUs, mixed_bfloat16 on TPUs (their native format); on CPUs mixed_bfloat16 only
    where it measurably pays: the CPU computes bf16 natively (elsewhere it is emulated, ~10x slower) and a cached
    micro-benchmark (engine/bf16gain.py) gives bf16 at least MIN_GAIN x float32's speed. bf16_gain: the
    measurement (injectable for tests)."""
    if setting != "auto":
        return setting
    if device == "GPU":
        return "mixed_float16"
    if device == "TPU":
        return "mixed_bfloat16"
    from .bf16gain import MIN_GAIN, bf16_gain as measured_gain  # noqa: PLC0415

    return "mixed_bfloat16" if cpu_has_native_bf16() and (bf16_gain or measured_gain)() >= MIN_GAIN else "float32"


def adapt_arch_to_data(config: Config, shape: tuple[int, int, int]) -> tuple[Config, str]:
    """Data picks a fitting network: the 'tutorial' network is fixed at 28x28x1, so for other square 28/32/64 px
    data switch to the dcgan network at the data's size and channels, every other setting unchanged. Only for
    configs the user did not pin (CLI without --preset/--config/--set arch, the studio's dataset drop or field).
    Returns the config and a one-line note ('' when nothing changed)."""
    h, w, c = shape
    if config.model.arch != "tutorial" or (h, w, c) == (28, 28, 1) or h != w or h not in (28, 32, 64):
        return config, ""
    new = config.with_updates({"arch": "dcgan", "image_size": h, "channels": c})
    return new, (f"the data is {h}x{w}x{c} and the 'tutorial' network is fixed at 28x28x1, so this run uses the dcgan "
                 f"network at {h}x{w}x{c}, other settings unchanged (--preset dcgan also takes its tuned settings)")


def fit_config_to_data(config: Config, ds: Dataset) -> Config:
    """The model's input shape follows the dataset where the architecture allows; otherwise explain."""
    h, w, c = ds.shape
    m = config.model
    if m.conditional:
        if ds.labels is None:
            raise DataError(f"dataset {ds.name!r} has no labels but conditional=true; use class subfolders, an .npz "
                            f"with a 'y' array, or set conditional=false")
        n_classes = int(ds.labels.max()) + 1
        if n_classes != m.num_classes:
            config = config.with_updates({"num_classes": n_classes})
    if (m.image_size, m.channels) == (h, c) and h == w:
        return config
    if m.arch == "tutorial":
        raise DataError(f"dataset {ds.name!r} has {h}x{w}x{c} images but the 'tutorial' network is fixed at "
                        f"28x28x1; use --preset dcgan (or --set arch=dcgan), which adapts to 28/32/64 px and 1 or 3 "
                        f"channels")
    if h != w or h not in (28, 32, 64):
        raise DataError(f"dataset {ds.name!r} has {h}x{w} images; the dcgan network supports square 28, 32 or 64 px "
                        f"images; resize the data first")
    return config.with_updates({"image_size": h, "channels": c})


class Trainer:
    def __init__(self, config: Config, run_dir: str | Path | None = None, control: Control | None = None,
                 dataset: Dataset | None = None, resume: bool = False,
                 resume_step: int | str | None = None, extend_budget: bool = False,
                 metric_at_end: bool | None = None) -> None:
        """extend_budget: on resume, a run that has used its whole budget (steps, epochs or train_minutes) trains
        as much again instead of 0 steps (the CLI's `resume` without a new budget). metric_at_end: measure FD when
        the budget is complete (default: whenever metric_every is on), which can move the best mark like every
        other measurement."""
        self.config = config
        self._metric_at_end = metric_at_end
        self._extend_budget = extend_budget
        self.control = control or Control()
        self._dataset = dataset
        self._resume = resume
        self._resume_step = resume_step   # best | latest | a step (None = latest)
        self._run_path = Path(run_dir) if run_dir else new_run_path(config.preset)
        self.run_dir: RunDir | None = None
        self.step = 0
        self._step_fn = None
        self._multi_fn = None
        self._sample_fns: dict[bool, Any] = {}   # ema? -> traced inference call
        self.progress = None      # optional callable(done, total) while a folder dataset is decoded
        self.nan_action = "pause"  # after a NaN rollback: 'pause' (the studio) or 'stop' (the CLI)
        self.write_errors = "pause"   # a failed run-folder write: 'pause' (the studio) or 'raise' (the CLI)
        self._write_failures: list[Event] = []
        self._lock = None
        self.adapt_arch = False    # True: no preset was pinned, so adapt_arch_to_data may switch the network
        self.arch_note = ""
        self._quality = None
        self.train_seconds = 0.0   # time inside training steps, for the train_minutes budget (restored on resume)
        self.dataset_warnings: list[str] = []
        self._branch_notes: list[Message] = []

    # -- setup ----------------------------------------------------------------------------------------------
    def _setup(self) -> Started:
        tf = import_tf()
        import keras  # noqa: PLC0415

        from ..models import build_discriminator, build_generator  # noqa: PLC0415

        if self._resume:
            self.run_dir = RunDir.open(self._run_path)
        cfg = self.config
        ds = self._dataset or load_config_dataset(cfg, self.progress)
        if self.adapt_arch and not self._resume:
            cfg, self.arch_note = adapt_arch_to_data(cfg, ds.shape)
        cfg = self.config = fit_config_to_data(cfg, ds)
        bs = cfg.data.batch_size
        if len(ds) < bs:
            raise DataError(f"dataset {ds.name!r} has {len(ds)} images, fewer than one batch of {bs}; lower "
                            f"batch_size (e.g. --batch-size {max(1, len(ds) // 2)}) or add images")
        self.strategy = make_strategy(cfg.train.strategy)
        self.replicas = self.strategy.num_replicas_in_sync
        if bs % self.replicas:
            raise ConfigError(f"batch_size: {bs} does not split over {self.replicas} replicas; use a multiple of "
                              f"{self.replicas}")
        self.chief = is_chief(self.strategy)
        if not self.chief:
            # Workers other than the chief write into a private temp folder that is deleted at the end.
            import tempfile  # noqa: PLC0415

            self._worker_tmp = tempfile.mkdtemp(prefix="ganstudio-worker-")
            self._source_run = self.run_dir
            self.run_dir = RunDir.create(Path(self._worker_tmp) / "run", cfg)
        elif not self._resume:
            self.run_dir = RunDir.create(self._run_path, cfg)
        if self.chief:
            self._lock = self.run_dir.lock()   # one writer per run folder, until run() ends

        seed = cfg.train.seed
        keras.utils.set_random_seed(seed)
        if cfg.train.deterministic:
            tf.config.experimental.enable_op_determinism()

        self.device = "TPU" if is_tpu(self.strategy) else "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
        self.jit = resolve_jit(cfg.train.jit_compile, self.device)
        self.steps_per_call = cfg.train.steps_per_call or (8 if self.device == "GPU" else 1)
        self.precision = resolve_precision(cfg.train.precision, self.device)
        # The dtype policy is process-global in Keras; set it for every run so one run's choice never leaks.
        keras.config.set_dtype_policy(self.precision)
        with self.strategy.scope():
            self._build_state(cfg, keras, tf, build_generator, build_discriminator)
        o = cfg.optim

        self.batches_per_epoch = len(ds) // bs
        # One training step consumes d_steps batches (one per critic update).
        self.steps_per_epoch = max(1, self.batches_per_epoch // o.d_steps)
        self.total_steps = cfg.train.steps or cfg.train.epochs * self.steps_per_epoch  # 0 = until stopped
        self._images = tf.constant(ds.images)          # the dataset stays in memory once ("cache")
        labels = ds.labels if ds.labels is not None else np.zeros(len(ds), np.int64)
        self._labels = tf.constant(labels.astype(np.int32))
        self._n_images = len(ds)
        self._ds = ds
        from ..metrics.health import HealthMonitor  # noqa: PLC0415

        self.health = HealthMonitor.from_config(cfg, dataset_size=len(ds))
        self.dataset_warnings = list(ds.warnings)

        noise = np.random.default_rng(seed).standard_normal((fixed_grid_size(cfg), cfg.model.noise_dim))
        with self.strategy.scope():
            self.rng = tf.random.Generator.from_seed(seed)
            self.fixed_noise = tf.Variable(noise.astype(np.float32), trainable=False, name="fixed_noise")
            self.step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            # adaptive augmentation's p: read by the step at every call, moved by the loop, checkpointed
            self.ada_p = tf.Variable(cfg.data.ada_p, dtype=tf.float32, trainable=False, name="ada_p")
        self.fixed_labels = grid_labels(cfg, fixed_grid_size(cfg))
        # Keras' dropout SeedGenerator states are not reachable through the models' checkpoint dependencies;
        # without them a resumed run draws different dropout masks.
        seed_states = [v.value for m in (self.G, self.D) for v in m.non_trainable_variables
                       if "seed_generator_state" in v.path]
        extra = {"generator_ema": self.G_ema} if self.G_ema is not None else {}
        self.ckpt = tf.train.Checkpoint(generator=self.G, discriminator=self.D, g_opt=self.g_opt, d_opt=self.d_opt,
                                        rng=self.rng, fixed_noise=self.fixed_noise, step=self.step_var,
                                        dropout_seeds=seed_states, ada_p=self.ada_p, **extra)
        self.ckpt_store = CheckpointStore(self.ckpt, self.run_dir.checkpoints, keep=cfg.train.keep_checkpoints,
                                          optional=("ada_p",))
        if self._resume:
            source = self.run_dir if self.chief else self._source_run
            if self.chief:
                self.ckpt_store.sweep()
            info = find_checkpoint(source.checkpoints, self._resume_step)
            self.ckpt_store.restore(info)
            self._lrs_from_config()
            self.train_seconds = float(json.loads((info.path / "meta.json").read_text()).get("train_seconds", 0.0))
            if self._extend_budget:
                cfg = self.config = self._extended(cfg, int(self.step_var.numpy()))
            if self.chief:
                self._branch_notes += self._branch_off(int(self.step_var.numpy()))
                changes = self.run_dir.config().diff(cfg)
                if changes:   # `resume --set` (and a budget extension) is history, like a live edit
                    self.run_dir.log_edit(int(self.step_var.numpy()), changes, source="resume")
            self.run_dir.write_config(cfg)  # only after a good restore: a failed resume changes nothing
        self.step = int(self.step_var.numpy())
        self._saved_step = self.step if self._resume else -1
        self.health.seed_quality(self.run_dir.read_quality(self.step))   # best FD so far, on resume
        self._tb = tf.summary.create_file_writer(str(self.run_dir.path / "tensorboard")) \
            if cfg.train.tensorboard and self.chief else None
        if self._tb is not None:
            write_hparams(self._tb, cfg, self.run_dir.path)   # TensorBoard's HParams dashboard (engine/tb_hparams.py)

        return Started(run_dir=str(self.run_dir.path), config=cfg.to_dict(), step=self.step,
                       total_steps=self.total_steps, steps_per_epoch=self.steps_per_epoch, dataset=ds.summary(),
                       device=f"{self.device}, XLA {'on' if self.jit else 'off'}, {self.precision}"
                              + (f", {self.steps_per_call} steps/call" if self.steps_per_call > 1 else "")
                              + (f", {type(self.strategy).__name__} x{self.replicas}" if self.replicas > 1 else ""),
                       g_params=self.G.count_params(), d_params=self.D.count_params())

    def _extended(self, cfg: Config, step: int) -> Config:
        """The budget (steps / epochs, train_minutes) again, from `step`, where the run has used it all."""
        updates: dict[str, Any] = {}
        if self.total_steps and step >= self.total_steps:
            updates["steps"] = step + self.total_steps
            self._branch_notes.append(Message(
                f"the run had used its budget of {self.total_steps:,} steps; training {self.total_steps:,} more, to "
                f"step {step + self.total_steps:,} (--steps sets another total)", "info"))
            self.total_steps = step + self.total_steps
        minutes = cfg.train.train_minutes
        if minutes and self.train_seconds >= 60 * minutes:
            updates["train_minutes"] = round(self.train_seconds / 60 + minutes, 2)
            self._branch_notes.append(Message(
                f"the run had used its budget of {minutes:g} training minutes; training {minutes:g} more "
                f"(--set train_minutes=M sets another total)", "info"))
        return cfg.with_updates(updates) if updates else cfg

    def _build_state(self, cfg, keras, tf, build_generator, build_discriminator) -> None:
        """Models and optimizers, created under the strategy's scope by _setup."""
        sync = self.replicas > 1
        self.G = build_generator(cfg.model, sync_bn=sync)
        self.D = build_discriminator(cfg.model, sync_bn=sync)
        self.G_ema = None
        if cfg.optim.ema_decay:
            self.G_ema = build_generator(cfg.model, sync_bn=sync)
            self.G_ema.set_weights(self.G.get_weights())
        o = cfg.optim
        self.g_opt = keras.optimizers.Adam(o.g_lr, beta_1=o.beta1, beta_2=o.beta2, epsilon=o.epsilon)
        self.d_opt = keras.optimizers.Adam(o.d_lr, beta_1=o.beta1, beta_2=o.beta2, epsilon=o.epsilon)
        if self.precision == "mixed_float16":  # float16 gradients underflow without loss scaling
            self.g_opt = keras.optimizers.LossScaleOptimizer(self.g_opt)
            self.d_opt = keras.optimizers.LossScaleOptimizer(self.d_opt)
        self.g_opt.build(self.G.trainable_variables)
        self.d_opt.build(self.D.trainable_variables)

    # -- the data pipeline ----------------------------------------------------------------------------------
    def _dataset_from(self, start_step: int):
        """Batches for step s onwards; step s uses batches s*d_steps ... s*d_steps + d_steps - 1.

        Batch b is slice b % batches_per_epoch of a stateless permutation of the data keyed by (seed, epoch), so
        the data position is a pure function of (seed, step): resume needs no iterator state, and the pipeline
        still runs in tf.data (parallel map + prefetch) off the Python thread. Under a strategy each replica r
        reads its own contiguous part of the global batch.
        """
        tf = import_tf()
        bs, bpe, n, seed = self.config.data.batch_size, self.batches_per_epoch, self._n_images, self.config.train.seed
        k = self.config.optim.d_steps
        images, labels = self._images, self._labels

        def pipeline(replicas: int, first_replica: int, local: int):
            bl = bs // replicas

            def element(j):
                # j enumerates (step, local replica, critic sub-step); .batch(k) groups the sub-steps and the
                # strategy hands consecutive elements to consecutive local replicas.
                step, lr, i = j // (local * k), (j // k) % local, j % k
                b = step * k + i
                epoch, pos = b // bpe, b % bpe
                idx = pos * bs + tf.cast(first_replica + lr, tf.int64) * bl + tf.range(bl, dtype=tf.int64)
                perm = tf.random.experimental.index_shuffle(
                    idx, seed=tf.stack([tf.constant(seed, tf.int64), epoch]), max_index=n - 1)
                x = tf.gather(images, perm)
                return (tf.cast(x, tf.float32) - 127.5) / 127.5, tf.gather(labels, perm)   # the tutorial's scaling

            ds = tf.data.Dataset.range(start_step * local * k, 2**62)
            return ds.map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(k) \
                .prefetch(tf.data.AUTOTUNE)

        if self.replicas == 1:
            return iter(pipeline(1, 0, 1))
        options = tf.distribute.InputOptions(experimental_fetch_to_device=True)

        def per_worker(ctx):
            local = ctx.num_replicas_in_sync // ctx.num_input_pipelines
            return pipeline(ctx.num_replicas_in_sync, ctx.input_pipeline_id * local, local)

        return iter(self.strategy.distribute_datasets_from_function(per_worker, options))

    # -- steps ----------------------------------------------------------------------------------------------
    def _make_step_fn(self, steps_per_call: int = 1):
        from .step import build_train_step  # noqa: PLC0415

        return build_train_step(self.config, self.G, self.D, self.g_opt, self.d_opt, self.rng, jit=self.jit,
                                loss_scaling=self.precision == "mixed_float16", G_ema=self.G_ema,
                                strategy=self.strategy if self.replicas > 1 else None, steps_per_call=steps_per_call,
                                ada_p=self.ada_p if self.config.data.ada_target else None)

    def _train_call(self, data) -> np.ndarray:
        """Run one compiled call: steps_per_call steps when running freely with room left in the budget, else
        one step (pause/Step, the end of the budget). Returns (n, 5) metrics rows (see step.build_train_step)."""
        tf = import_tf()
        s = self.steps_per_call
        many = s > 1 and self.replicas == 1 and not self.control.paused and \
            not (self.total_steps and self.total_steps - self.step < s)
        if not many:
            if self._step_fn is None:
                self._step_fn = self._make_step_fn()
            images, labels = next(data)
            return np.asarray(self._fits_in_memory(self._step_fn, images, labels, 1)).reshape(1, 5)
        if self._multi_fn is None:
            self._multi_fn = self._make_step_fn(s)
        batches = [next(data) for _ in range(s)]
        return np.asarray(self._fits_in_memory(self._multi_fn, tf.stack([b[0] for b in batches]),
                                               tf.stack([b[1] for b in batches]), s))

    def _fits_in_memory(self, fn, images, labels, steps: int):
        """Run a compiled step call; running out of memory names the setting to lower instead of a traceback."""
        tf = import_tf()
        try:
            return fn(images, labels)
        except (tf.errors.ResourceExhaustedError, MemoryError):
            bs = self.config.data.batch_size
            if steps > 1:
                raise ConfigError(f"steps_per_call: {steps} steps of batch_size {bs} in one call do not fit in the "
                                  f"{self.device}'s memory; lower it (e.g. --set steps_per_call=1) or batch_size") \
                    from None
            raise ConfigError(f"batch_size: {bs} images per step do not fit in the {self.device}'s memory; lower it "
                              f"(e.g. --batch-size {max(1, bs // 2)})") from None

    def sample(self, noise: np.ndarray | None = None, labels: np.ndarray | None = None, ema: bool = True
               ) -> np.ndarray:
        """uint8 images from the generator (its EMA if any and `ema`) in inference mode (fixed noise by default).
        Training thread only."""
        tf = import_tf()
        ema = ema and self.G_ema is not None
        G = self.G_ema if ema else self.G
        if ema not in self._sample_fns:   # reduce_retracing: grid, metric and explorer batches differ in size
            self._sample_fns[ema] = tf.function(
                lambda z, y: tf.cast(G([z, y] if y is not None else z, training=False), tf.float32),
                reduce_retracing=True)
        z = self.fixed_noise if noise is None else tf.constant(noise, tf.float32)
        y = None
        if self.fixed_labels is not None:
            y = tf.constant(np.resize(self.fixed_labels if labels is None else labels, int(z.shape[0])), tf.int32)
        return to_uint8(self._sample_fns[ema](z, y).numpy())

    def generate(self, noise: np.ndarray | None = None, labels: np.ndarray | None = None, ema: bool = True,
                 tag: str = "") -> Event:
        """Answer a 'generate' request (the studio's latent explorer): images for the given noise (default: the
        fixed noise) from the live generator, between steps. Bad noise is an error message, not a crash."""
        z = self.fixed_noise.numpy() if noise is None else np.asarray(noise, np.float32)
        dim = self.config.model.noise_dim
        if z.ndim != 2 or z.shape[1] != dim or not len(z):
            return Message(f"generate: noise must have shape (N, {dim}) for this run, got {z.shape}", "error")
        y = None
        if self.fixed_labels is not None:
            y = np.resize(self.fixed_labels if labels is None else labels, len(z)).astype(np.int32)
        return Generated(self.step, self.sample(z, y, ema=ema), z, y, tag)

    def save_checkpoint(self) -> CheckpointSaved | WriteFailed:
        """Save now. A failed write returns WriteFailed with the run paused (the studio) or raises WriteError (the
        CLI); either way the previous checkpoints are intact."""
        self.step_var.assign(self.step)
        self.ckpt_store.keep = self.config.train.keep_checkpoints
        tf = import_tf()
        try:
            info = self.ckpt_store.save(self.step, {"config": self.config.to_dict(), "g_params": self.G.count_params(),
                                                    "d_params": self.D.count_params(),
                                                    "train_seconds": self.train_seconds})
        except (tf.errors.OpError, CheckpointError, WriteError) as e:
            for tmp in self.ckpt_store.folder.glob(".saving-*"):   # TF's own errors pass the store's cleanup
                shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, tf.errors.OpError):   # TF reports ENOSPC, EACCES, EROFS as OpErrors
                code = errno.ENOSPC if isinstance(e, tf.errors.ResourceExhaustedError) else \
                    errno.EACCES if isinstance(e, tf.errors.PermissionDeniedError) else errno.EIO
                e = write_error(self.ckpt_store.folder / f"step_{self.step:06d}", OSError(code, e.message[:200]))
            return self._write_failed(e if isinstance(e, WriteError) else WriteError(str(e)))
        self._saved_step, self._saved_time = self.step, time.monotonic()
        return CheckpointSaved(self.step, str(info.path))

    def _write(self, fn, *args):
        """A run-folder write (metrics, samples, quality, edits): its result, or None after a failure, which
        raises in the CLI and pauses the run in the studio (see _write_failed)."""
        try:
            return fn(*args)
        except WriteError as e:
            self._write_failures.append(self._write_failed(e))
            return None

    def _write_failed(self, e: WriteError) -> WriteFailed:
        if self.write_errors == "raise":
            raise e
        self.control.pause()
        return WriteFailed(self.step, f"{e}. Training is paused at step {self.step:,}: fix it, then press Resume "
                                      f"(the last checkpoint is intact)")

    def _checkpoint_timer_due(self) -> bool:
        t = self.config.train
        return bool(t.checkpoint_minutes) and time.monotonic() - self._saved_time >= 60 * t.checkpoint_minutes

    def _tb_scalars(self, m: StepMetrics) -> None:
        tf = import_tf()
        with self._tb.as_default(step=m.step):
            for k in ("g_loss", "d_loss", "d_real", "d_fake", "r_real", "ada_p", "images_per_sec"):
                tf.summary.scalar(k, getattr(m, k))

    def _tb_image(self, step: int, grid: np.ndarray) -> None:
        tf = import_tf()
        from ..imaging import make_grid  # noqa: PLC0415

        with self._tb.as_default(step=step):
            tf.summary.image("samples", make_grid(grid)[None])

    # -- live edits -----------------------------------------------------------------------------------------
    def _apply_edits(self, updates: dict[str, Any]) -> Event:
        try:
            locked = [k for k in updates if not all(f.live for f in resolve_key(k))]   # an alias: all it sets
        except ConfigError as e:
            return Message(str(e), "error")
        if locked:
            return Message(f"{', '.join(locked)} cannot change while training (only {', '.join(sorted(LIVE_FIELDS))} "
                           f"can); stop the run and start a new one", "error")
        try:
            new = self.config.with_updates(updates)
        except ConfigError as e:
            return Message(str(e), "error")
        changes = self.config.diff(new)
        if not changes:
            return Message("no change", "info")
        self.config = self.health.config = new   # the adviser's remedies start from the current values
        o = new.optim
        self.g_opt.learning_rate = o.g_lr
        self.d_opt.learning_rate = o.d_lr
        if "beta1" in changes or "beta2" in changes:
            for opt in (self.g_opt, self.d_opt):
                opt.beta_1, opt.beta_2 = o.beta1, o.beta2
            self._step_fn = self._multi_fn = None  # betas are Python floats inside the traced step: retrace
        if "ada_p" in changes:
            self.ada_p.assign(new.data.ada_p)
        if "ada_target" in changes and (not changes["ada_target"][0]) != (not changes["ada_target"][1]):
            self._step_fn = self._multi_fn = None  # ADA switched on or off: the gated ops enter or leave the step
        self._write(self.run_dir.write_config, new)
        self._write(self.run_dir.log_edit, self.step, changes)
        return ConfigChanged(self.step, changes)

    # -- quality and health ---------------------------------------------------------------------------------
    def compute_metric(self) -> Metric:
        """FD/KID of metric_n generated images vs a fixed real subset; the classifier loads or trains once."""
        from ..metrics import QualityMetric, get_classifier  # noqa: PLC0415

        t0 = time.perf_counter()
        cfg = self.config
        if self._quality is None:
            fn, acc, source = get_classifier(self._ds)
            self._quality = (QualityMetric(fn, self._ds.images, n=min(cfg.train.metric_n, len(self._ds))), acc, source)
            self.health.real_diversity = self._quality[0].real_diversity
        metric, acc, source = self._quality
        n = cfg.train.metric_n
        noise, labels = metric_inputs(cfg, n)
        images = np.concatenate([self.sample(noise[i:i + 500], None if labels is None else labels[i:i + 500])
                                 for i in range(0, n, 500)])
        s = metric.score(images)
        return Metric(self.step, s["fd"], s["kid"], s["diversity"], n, time.perf_counter() - t0, source, acc,
                      s["memorization"])

    def _budget_spent(self) -> bool:
        minutes = self.config.train.train_minutes
        return bool(minutes) and self.train_seconds >= 60 * minutes

    def record_metric(self) -> Metric:
        """compute_metric, logged to quality.jsonl and TensorBoard (a sweep measures each trial's end with it)."""
        m = self.compute_metric()
        self._write(self.run_dir.append_quality, {k: getattr(m, k) for k in ("step", "fd", "kid", "diversity", "n", "seconds",
                                                                "source", "accuracy",
                                                                             "memorization")})
        if self._tb is not None:
            tf = import_tf()
            with self._tb.as_default(step=m.step):
                tf.summary.scalar("quality/fd", m.fd)
                write_best_fd(self.run_dir.read_quality(), m.step)
                tf.summary.scalar("quality/kid", m.kid)
                tf.summary.scalar("quality/memorization", m.memorization)
        return m

    def _metric_events(self) -> Iterator[Event]:
        m = self.record_metric()
        # first: 'best so far' includes m
        warnings = self.health.update_quality(m.step, m.fd, m.diversity, m.memorization)
        yield m
        yield from self._warnings(warnings)
        yield from self._keep_best(m)

    def _warnings(self, warnings: list[Health]) -> Iterator[Event]:
        """The adviser's new warnings: persisted to health.jsonl (the report lists them), then yielded."""
        for w in warnings:   # the time places it on its branch when the run later continues from an earlier step
            self._write(self.run_dir.append_health, {**w.to_row(), "time": time.time()})
            yield w

    # -- checkpoints: best, branches, restore ---------------------------------------------------------------
    def _keep_best(self, m: Metric) -> Iterator[Event]:
        """The checkpoint with the lowest FD so far is kept as 'best' (never pruned); a better FD saves a checkpoint
        at its step if there is none, then replaces the mark in one atomic write."""
        if not (self.chief and self.ckpt_store.is_better(m.fd)):
            return
        if not self.ckpt_store.has(self.step):
            yield self.save_checkpoint()
        self.ckpt_store.set_best(self.step, m.fd)
        yield BestCheckpoint(self.step, m.fd, str(step_dir(self.ckpt_store.folder, self.step)))

    def _branch_off(self, step: int) -> list[Message]:
        """Continue from the checkpoint of `step`. Newer checkpoints (complete or not) must never be resumed later by
        mistake: they move aside, kept, with the metric rows, quality rows and grids after `step`, into
        abandoned/step-HEAD-from-STEP. Incomplete ones are renamed first (reported once); the best is chosen again
        from what is left."""
        store, run = self.ckpt_store, self.run_dir
        notes = [Message(text, "warning") for text in store.set_aside_incomplete()]
        newer = store.newer_than(step)
        if newer:
            dest = run.abandoned_branch(newer[-1][0], step)
            store.move_aside([p for _, p in newer], dest / "checkpoints")
            run.rewind(step, keep_in=dest)
            steps = ", ".join(str(s) for s, _ in newer)
            notes.append(Message(f"continuing from step {step}: the newer checkpoint{'s' * (len(newer) > 1)} {steps} "
                                 f"moved aside to {dest} (kept, never resumed)", "warning"))
        else:
            run.rewind(step)
        store.choose_best(run.read_quality())
        return notes

    def _lrs_from_config(self) -> None:
        """A checkpoint restores the optimizers' learning-rate variables too; the config decides (a resume's --set,
        or a remedy's edit applied just before its rollback)."""
        self.g_opt.learning_rate = self.config.optim.g_lr
        self.d_opt.learning_rate = self.config.optim.d_lr

    def _restore_to(self, info: CheckpointInfo, reason: str) -> Iterator[Event]:
        """Restore weights, optimizers, RNG and step from `info`, branch off there and reset the health windows."""
        from_step = self.step
        self.ckpt_store.restore(info)
        self._lrs_from_config()
        self.step = self._saved_step = int(self.step_var.numpy())
        self.train_seconds = float(json.loads((info.path / "meta.json").read_text()).get("train_seconds", 0.0))
        self.run_dir.close()
        notes = self._branch_off(self.step)
        # a branch point, like a resume: the report shows what happened after from_step as abandoned
        self._write(self.run_dir.append_session, {"step": self.step, "time": time.time(), "kind": "rollback",
                                                  "from_step": from_step, "reason": reason})
        self.health.reset_windows()
        self.health.seed_quality(self.run_dir.read_quality(self.step))   # 'best so far' forgets the branch
        yield RolledBack(self.step, from_step, reason)
        yield from notes

    def _restore(self, which: int | str) -> Iterator[Event]:
        """The 'restore' request (best | latest | a step): continue from that checkpoint, paused."""
        try:
            info = find_checkpoint(self.ckpt_store.folder, which)
            yield from self._restore_to(info, "restore")
        except CheckpointError as e:
            yield Message(str(e), "error")
            return
        self.control.pause()
        yield SampleGrid(self.step, self.sample())
        best = " (the best)" if info.best else ""
        yield Message(f"restored the checkpoint of step {self.step}{best}; paused: Resume continues from it", "info")

    def _rollback(self, diverged: Health | None = None) -> Iterator[Event]:
        """NaN/Inf or divergence: restore the last checkpoint from before the trouble began (weights, optimizers,
        RNG, step), so that what continues is the healthy model; every newer checkpoint moves aside. A new run's
        step-0 checkpoint means there always is one: continuing from it is the same seed's run from the start."""
        onset = int(diverged.evidence.get("since", self.step)) if diverged else self.step
        ckpts = [c for c in list_checkpoints(self.ckpt_store.folder) if c.step < onset]
        what = "diverged" if diverged else "became NaN/Inf"
        if not ckpts:
            yield Message(f"losses {what} at step {self.step} and there is no checkpoint from before step {onset} to "
                          f"roll back to; lower the learning rates and start again", "error")
            return
        from_step = self.step
        yield from self._restore_to(ckpts[-1], "divergence" if diverged else "nan")
        began = f" (it began at step {onset})" if diverged and onset < from_step else ""
        then = "then press Resume" if self.nan_action == "pause" else "then resume"
        yield Message(f"losses {what} at step {from_step}{began}; rolled back to the checkpoint of step {self.step}, "
                      f"the last from before it, and no checkpoint of the {'diverged' if diverged else 'broken'} "
                      f"model was kept. Apply a fix (lower the learning rates), {then}", "warning")

    def _handle_request(self, what: str, kwargs: dict[str, Any]) -> Iterator[Event]:
        if what == "sample":
            yield SampleGrid(self.step, self.sample())
        elif what == "metric":
            yield from self._metric_events()
        elif what == "checkpoint":
            yield self.save_checkpoint()
        elif what in ("pin", "unpin", "delete"):
            yield self._change_checkpoint(what, int(kwargs["step"]))
        elif what == "generate":
            yield self.generate(**kwargs)
        elif what == "restore":
            yield from self._restore(kwargs.get("which", "latest"))
        else:
            yield Message(f"unknown request {what!r}", "error")

    def _change_checkpoint(self, what: str, step: int) -> Event:
        """Pin/unpin/delete from the studio's Checkpoints dock, done here between steps so that it never races a save
        or retention."""
        from .checkpoints import delete_checkpoint, set_pinned  # noqa: PLC0415

        info = next((c for c in list_checkpoints(self.ckpt_store.folder) if c.step == step), None)
        if info is None:
            return Message(f"no checkpoint at step {step} any more (retention may have removed it)", "error")
        try:
            delete_checkpoint(info) if what == "delete" else set_pinned(info, what == "pin")
        except OSError as e:
            return Message(f"{info.path}: cannot {what} ({e.strerror or e})", "error")
        return CheckpointsChanged(step, f"{what.capitalize()}{'d' if what == 'delete' else 'ned'} the checkpoint at "
                                        f"step {step:,}")

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        try:
            yield from self._run()
        finally:
            if self._lock is not None:   # also when setup failed or the consumer stopped iterating
                self._lock.release()

    def _run(self) -> Iterator[Event]:
        started = self._setup()
        self._write(self.run_dir.append_session, {   # for the run report
            "step": started.step, "time": time.time(), "device": started.device, "dataset": started.dataset,
            "g_params": started.g_params, "d_params": started.d_params})
        yield started
        for text in self.dataset_warnings:
            yield Message(text, "warning")
        yield from self._branch_notes
        if self.arch_note:
            yield Message(self.arch_note, "info")
        run, cfg = self.run_dir, self.config
        grid = self.sample()
        yield SampleGrid(self.step, grid, str(self._write(run.save_sample, self.step, grid) or ""))
        if self.chief and self.step == 0 and not list_checkpoints(self.ckpt_store.folder):
            # The initial state: a run that diverges or breaks before its first periodic checkpoint continues from
            # here, which is the same seed's run from the start (exact, like any resume).
            yield self.save_checkpoint()
        self._saved_time = time.monotonic()

        data = self._dataset_from(self.step)
        t0 = time.perf_counter()
        last = t0
        announced_pause = False
        reason = "completed"
        try:
            while not (self.total_steps and self.step >= self.total_steps) and not self._budget_spent():
                while self._write_failures:      # each failed write paused the run (studio)
                    yield self._write_failures.pop(0)
                if self.control.paused and not announced_pause:
                    announced_pause = True
                    yield Paused(self.step)
                elif not self.control.paused and announced_pause:
                    announced_pause = False
                    last = time.perf_counter()  # don't count the pause in images/s
                    yield Resumed(self.step)
                action = self.control.next_action(timeout=0.25)
                if action == "stop":
                    reason = "stopped"
                    break
                if action == "idle":
                    continue
                if action == "edit":
                    yield self._apply_edits(self.control.take_edits())
                    cfg = self.config
                    continue
                if action == "request":
                    req = self.control.take_request()
                    if req:
                        before = self.step
                        yield from self._handle_request(*req)
                        if self.step != before:     # a restore: the data position follows the step
                            data = self._dataset_from(self.step)
                    continue

                fns = (self._step_fn, self._multi_fn)
                t_call = time.perf_counter()
                rows = self._train_call(data)
                prev = self.step
                now = time.perf_counter()
                if fns[0] is self._step_fn and fns[1] is self._multi_fn:   # a call that traced the step is start-up
                    self.train_seconds += now - t_call
                rate = len(rows) * cfg.data.batch_size / max(now - last, 1e-9)
                last = now
                finite = True
                diverged = None   # the divergence warning, handled like NaN (no checkpoint of a diverged model)
                d = cfg.data
                p_call = p = float(self.ada_p.numpy()) if d.ada_target else 0.0   # the p this call trained with
                for g_loss, d_loss, d_real, d_fake, r_real in rows.astype(float).tolist():
                    self.step += 1
                    m = StepMetrics(step=self.step, epoch=self.step * cfg.optim.d_steps / self.batches_per_epoch,
                                    wall=now - t0, g_loss=g_loss, d_loss=d_loss, d_real=d_real, d_fake=d_fake,
                                    images_per_sec=rate, r_real=r_real, ada_p=p_call)
                    if d.ada_target:
                        p = ada_step(p, r_real, d.ada_target, d.batch_size, d.ada_kimg)
                    if self.step % cfg.train.log_every == 0:
                        self._write(run.append_metrics, m.to_row())
                        if self._tb is not None:
                            self._tb_scalars(m)
                    yield m
                    warnings = self.health.update(self.step, g_loss, d_loss, d_real, d_fake, r_real=r_real)
                    yield from self._warnings(warnings)
                    finite = all(map(math.isfinite, (g_loss, d_loss, d_real, d_fake)))
                    diverged = next((w for w in warnings if w.kind == "divergence"), None)
                    if not finite or diverged:
                        break
                if p != p_call:
                    self.ada_p.assign(p)
                if not finite or diverged:
                    rolled = False
                    if cfg.train.nan_policy == "rollback":
                        for ev in self._rollback(diverged):
                            rolled = rolled or isinstance(ev, RolledBack)
                            yield ev
                    if rolled and self.nan_action == "pause":
                        data = self._dataset_from(self.step)
                        self.control.pause()
                        announced_pause = False   # announce this pause even if an earlier one was never resumed
                        continue
                    if not rolled:
                        what = "diverged" if diverged else "became NaN/Inf"
                        yield Message(f"losses {what} at step {self.step} (G {g_loss:.3g}, D {d_loss:.3g}); lower "
                                      f"the learning rates and resume from the last checkpoint", "error")
                    reason = "error"
                    break
                def crossed(every: int) -> bool:    # a call of several steps may jump over a multiple
                    return bool(every) and self.step // every > prev // every

                if crossed(cfg.sample.sample_every):
                    grid = self.sample()
                    if self._tb is not None:
                        self._tb_image(self.step, grid)
                    yield SampleGrid(self.step, grid, str(self._write(run.save_sample, self.step, grid) or ""))
                if crossed(cfg.train.metric_every):
                    yield from self._metric_events()
                if (crossed(cfg.train.checkpoint_every) or self._checkpoint_timer_due()) \
                        and self._saved_step != self.step:     # a better FD may have saved this step already
                    yield self.save_checkpoint()
        finally:
            run.close()
            if self._tb is not None:
                self._tb.flush()
        final = ""
        if reason == "completed" or (reason == "stopped" and self.control.save_on_stop):
            grid = self.sample()
            final = str(self._write(run.save_final, grid) or "")
            if self._saved_step != self.step:
                yield self.save_checkpoint()
            at_end = bool(cfg.train.metric_every) if self._metric_at_end is None else self._metric_at_end
            if reason == "completed" and at_end and (not self.health.quality or self.health.quality[-1][0] != self.step):
                yield from self._metric_events()    # the final model is a candidate for 'best' too
                if self._tb is not None:
                    self._tb.flush()
        yield from self._write_failures
        yield Finished(self.step, reason, str(run.path), final, {"train_seconds": self.train_seconds})
        if not self.chief:
            import shutil  # noqa: PLC0415

            shutil.rmtree(self._worker_tmp, ignore_errors=True)


def run_to_end(trainer: Trainer) -> list[Event]:
    """Drain a trainer synchronously (tests, scripts)."""
    return list(trainer.run())


__all__ = ["Trainer", "run_to_end", "GanStudioError", "adapt_arch_to_data", "fit_config_to_data", "resolve_jit"]
