"""The training loop as a generator of plain events.

    trainer = Trainer(config, run_dir=..., control=Control())
    for event in trainer.run():       # CLI: progress bar; GUI: a QThread re-emitting signals
        ...

Between steps the trainer asks its Control what to do (pause / step N / stop / live edits / requests), so
front ends never touch TensorFlow objects from another thread. The Trainer is the loop; its parts live beside it:
setup.py (device, precision, the network fitted to the data, the training state), pipeline.py (the tf.data
batches), step.py (the compiled train step), keeper.py and checkpoints.py (checkpoints, the best mark, branches,
restore), quality.py (FD/KID), tboard.py (TensorBoard), edits.py (live edits and requests), events.py (what it
yields). Models and losses are keras.layers / keras.ops.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..config import Config
from ..data import Dataset, load_config_dataset
from ..core.errors import CheckpointError, ConfigError, DataError, GanStudioError, WriteError
from ..runs import RunDir, new_run_path
from ..config.sampling import fixed_grid_size, grid_labels
from ..core.tfsetup import import_tf, is_chief, is_tpu, make_strategy
from .augment import ada_step
from .checkpoints import CheckpointInfo, CheckpointStore, find_checkpoint
from .control import Control
from .edits import apply_to_training, check_edits, handle_request
from .events import (BestCheckpoint, CheckpointSaved, ConfigChanged, Event, Finished, HealthWarning, Message,
                     Metric, Paused, Resumed, RolledBack, SampleGrid, Started, StepMetrics, WriteFailed)
from .keeper import CheckpointKeeper
from .pipeline import batches_from
from .quality import QualityKeeper
from .sampler import Sampler
from .setup import adapt_arch_to_data, build_state, extend_budget, fit_config_to_data, resolve_jit, resolve_precision
from .tboard import NoBoard, open_board


class Trainer:
    def __init__(self, config: Config, run_dir: str | Path | None = None, control: Control | None = None,
                 dataset: Dataset | None = None, resume: bool = False,
                 resume_step: int | str | None = None, extend_budget: bool = False,
                 metric_at_end: bool | None = None, *, progress: Callable[[int, int], None] | None = None,
                 nan_action: str = "pause", write_errors: str = "pause", adapt_arch: bool = False) -> None:
        """A run, trained by iterating run(). Everything a front end decides is an argument here:

        config         the run's settings
        run_dir        its folder (default: a new one under the runs root)
        control        the front end's commands between steps (default: a fresh Control)
        dataset        the images (default: the config's dataset, loaded at setup)
        resume         continue the run in run_dir from its checkpoint `resume_step` (best | latest | a step;
                       None = latest)
        extend_budget  on resume, a run that has used its whole budget (steps, epochs or train_minutes) trains as
                       much again instead of 0 steps (the CLI's `resume` without a new budget)
        metric_at_end  measure FD when the budget is complete (None: whenever metric_every is on); it can move the
                       best mark like every other measurement (a sweep: True)
        progress       callable(done, total) while a folder dataset is decoded (the CLI's progress bar)
        nan_action     after a NaN/divergence rollback: 'pause' (the studio: apply a fix, then Resume) or 'stop'
                       (the CLI, a sweep's trial: nobody is there to press Resume)
        write_errors   a failed run-folder write (disk full, read-only): 'pause' the run with a WriteFailed event
                       (the studio) or 'raise' the WriteError (the CLI: one line, exit 2)
        adapt_arch     no network was pinned (no --preset/--config/--set arch), so a new run may switch to one that
                       fits the data (setup.adapt_arch_to_data)

        The same names are attributes, readable after construction."""
        if nan_action not in ("pause", "stop") or write_errors not in ("pause", "raise"):
            raise ValueError(f"nan_action must be 'pause' or 'stop' (got {nan_action!r}), write_errors 'pause' or "
                             f"'raise' (got {write_errors!r})")
        self.config = config
        self._metric_at_end = metric_at_end
        self._extend_budget = extend_budget
        self.control = control or Control()
        self._dataset = dataset
        self._resume = resume
        self._resume_step = resume_step
        self._run_path = Path(run_dir) if run_dir else new_run_path(config.preset)
        self.progress = progress
        self.nan_action = nan_action
        self.write_errors = write_errors
        self.adapt_arch = adapt_arch
        self.run_dir: RunDir | None = None
        self.step = 0
        self._step_fn = None
        self._multi_fn = None
        self._write_failures: list[Event] = []
        self._lock = None
        self.arch_note = ""
        self.train_seconds = 0.0   # time inside training steps, for the train_minutes budget (restored on resume)
        self.dataset_warnings: list[str] = []
        self._branch_notes: list[Message] = []
        self.tb: NoBoard = NoBoard()

    # -- setup ----------------------------------------------------------------------------------------------
    def _setup(self) -> Started:
        tf = import_tf()
        import keras  # noqa: PLC0415

        from ..config.presets import adviser_expectations  # noqa: PLC0415
        from ..metrics.health import HealthMonitor  # noqa: PLC0415

        if self._resume:
            self.run_dir = RunDir.open(self._run_path)
        ds = self._ds = self._load_data()
        cfg = self.config
        self._place(cfg)
        keras.utils.set_random_seed(cfg.train.seed)
        if cfg.train.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.device = "TPU" if is_tpu(self.strategy) else "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
        self.jit = resolve_jit(cfg.train.jit_compile, self.device)
        self.steps_per_call = cfg.train.steps_per_call or (8 if self.device == "GPU" else 1)
        self.precision = resolve_precision(cfg.train.precision, self.device)
        # The dtype policy is process-global in Keras; set it for every run so one run's choice never leaks.
        keras.config.set_dtype_policy(self.precision)
        with self.strategy.scope():
            s = build_state(cfg, self.precision, self.replicas)
        self.G, self.D, self.G_ema, self.g_opt, self.d_opt = s.G, s.D, s.G_ema, s.g_opt, s.d_opt
        self.rng, self.fixed_noise, self.step_var, self.ada_p, self.ckpt = \
            s.rng, s.fixed_noise, s.step_var, s.ada_p, s.ckpt
        self.fixed_labels = grid_labels(cfg, fixed_grid_size(cfg))
        self.sampler = Sampler(self.G, self.G_ema, self.fixed_noise, self.fixed_labels)
        self.batches_per_epoch = len(ds) // cfg.data.batch_size
        # One training step consumes d_steps batches (one per critic update).
        self.steps_per_epoch = max(1, self.batches_per_epoch // cfg.optim.d_steps)
        self.total_steps = cfg.train.steps or cfg.train.epochs * self.steps_per_epoch  # 0 = until stopped
        self._images = tf.constant(ds.images)          # the dataset stays in memory once ("cache")
        labels = ds.labels if ds.labels is not None else np.zeros(len(ds), np.int64)
        self._labels = tf.constant(labels.astype(np.int32))
        self.health = HealthMonitor.from_config(cfg, dataset_size=len(ds), expectations=adviser_expectations())
        self.quality = QualityKeeper(ds, on_classifier=lambda d: setattr(self.health, "real_diversity", d))
        self.dataset_warnings = list(ds.warnings)
        self.ckpt_store = CheckpointStore(self.ckpt, self.run_dir.checkpoints, keep=cfg.train.keep_checkpoints,
                                          optional=("ada_p",))
        self.keeper = CheckpointKeeper(self.ckpt_store, self.run_dir)
        if self._resume:
            self._resume_from_checkpoint()
        self.step = int(self.step_var.numpy())
        self._saved_step = self.step if self._resume else -1
        self.health.seed_quality(self.run_dir.read_quality(self.step))   # best FD so far, on resume
        self.tb = open_board(self.run_dir.path, self.config, self.config.train.tensorboard and self.chief)
        return self._started()

    def _load_data(self) -> Dataset:
        """The dataset, with the config (network shape, classes) fitted to it."""
        ds = self._dataset or load_config_dataset(self.config, self.progress)
        cfg = self.config
        if self.adapt_arch and not self._resume:
            cfg, self.arch_note = adapt_arch_to_data(cfg, ds.shape)
        cfg = self.config = fit_config_to_data(cfg, ds)
        bs = cfg.data.batch_size
        if len(ds) < bs:
            raise DataError(f"dataset {ds.name!r} has {len(ds)} images, fewer than one batch of {bs}; lower "
                            f"batch_size (e.g. --batch-size {max(1, len(ds) // 2)}) or add images")
        return ds

    def _place(self, cfg: Config) -> None:
        """The distribution strategy and the run folder this process writes (locked by the chief)."""
        bs = cfg.data.batch_size
        self.strategy = make_strategy(cfg.train.strategy)
        self.replicas = self.strategy.num_replicas_in_sync
        if bs % self.replicas:
            raise ConfigError(f"batch_size: {bs} does not split over {self.replicas} replicas; use a multiple of "
                              f"{self.replicas}")
        self.chief = is_chief(self.strategy)
        if not self.chief:
            # Workers other than the chief write into a private temp folder that is deleted at the end.
            self._worker_tmp = tempfile.mkdtemp(prefix="ganstudio-worker-")
            self._source_run = self.run_dir
            self.run_dir = RunDir.create(Path(self._worker_tmp) / "run", cfg)
        elif not self._resume:
            self.run_dir = RunDir.create(self._run_path, cfg)
        if self.chief:
            self._lock = self.run_dir.lock()   # one writer per run folder, until run() ends

    def _resume_from_checkpoint(self) -> None:
        """Restore the resumed checkpoint; the chief branches off there and logs a changed config as an edit."""
        source = self.run_dir if self.chief else self._source_run
        if self.chief:
            self.ckpt_store.sweep()
        self.train_seconds = self.keeper.restore(find_checkpoint(source.checkpoints, self._resume_step))
        self._lrs_from_config()
        cfg = self.config
        step = int(self.step_var.numpy())
        if self._extend_budget:
            cfg, self.total_steps, notes = extend_budget(cfg, step, self.total_steps, self.train_seconds)
            self.config = cfg
            self._branch_notes += [Message(text, "info") for text in notes]
        if self.chief:
            self._branch_notes += self.keeper.branch_off(step)
            changes = self.run_dir.config().diff(cfg)
            if changes:   # `resume --set` (and a budget extension) is history, like a live edit
                self.run_dir.log_edit(step, changes, source="resume")
        self.run_dir.write_config(cfg)  # only after a good restore: a failed resume changes nothing

    def _started(self) -> Started:
        device = (f"{self.device}, XLA {'on' if self.jit else 'off'}, {self.precision}"
                  + (f", {self.steps_per_call} steps/call" if self.steps_per_call > 1 else "")
                  + (f", {type(self.strategy).__name__} x{self.replicas}" if self.replicas > 1 else ""))
        return Started(run_dir=str(self.run_dir.path), config=self.config.to_dict(), step=self.step,
                       total_steps=self.total_steps, steps_per_epoch=self.steps_per_epoch, dataset=self._ds.summary(),
                       device=device, g_params=self.G.count_params(), d_params=self.D.count_params())

    # -- data and steps -------------------------------------------------------------------------------------
    def _dataset_from(self, start_step: int):
        """Batches for step `start_step` onwards (pipeline.batches_from)."""
        c = self.config
        return batches_from(self._images, self._labels, start_step, batch_size=c.data.batch_size, seed=c.train.seed,
                            d_steps=c.optim.d_steps, strategy=self.strategy if self.replicas > 1 else None)

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
            return np.asarray(self._call(self._step_fn, images, labels, 1)).reshape(1, 5)
        if self._multi_fn is None:
            self._multi_fn = self._make_step_fn(s)
        batches = [next(data) for _ in range(s)]
        return np.asarray(self._call(self._multi_fn, tf.stack([b[0] for b in batches]),
                                     tf.stack([b[1] for b in batches]), s))

    def _call(self, fn, images, labels, steps: int):
        from .step import run_call  # noqa: PLC0415 - step.py loads Keras

        return run_call(fn, images, labels, steps=steps, batch_size=self.config.data.batch_size, device=self.device)

    def sample(self, noise: np.ndarray | None = None, labels: np.ndarray | None = None, ema: bool = True
               ) -> np.ndarray:
        """uint8 images from the generator (its EMA if any and `ema`) in inference mode (fixed noise by default).
        Training thread only."""
        return self.sampler.sample(noise, labels, ema)

    def generate(self, noise: np.ndarray | None = None, labels: np.ndarray | None = None, ema: bool = True,
                 tag: str = "") -> Event:
        """Answer a 'generate' request (the studio's latent explorer): images for the given noise (default: the
        fixed noise) from the live generator, between steps. Bad noise is an error message, not a crash."""
        return self.sampler.generate(self.step, noise, labels, ema, tag)

    def _grid(self) -> SampleGrid:
        """A sample grid of the fixed noise, saved into the run folder."""
        grid = self.sample()
        return SampleGrid(self.step, grid, str(self._write(self.run_dir.save_sample, self.step, grid) or ""))

    # -- writes into the run folder -------------------------------------------------------------------------
    def save_checkpoint(self) -> CheckpointSaved | WriteFailed:
        """Save now. A failed write returns WriteFailed with the run paused (the studio) or raises WriteError (the
        CLI); either way the previous checkpoints are intact."""
        self.step_var.assign(self.step)
        try:
            info = self.keeper.save(self.step, {"config": self.config.to_dict(), "g_params": self.G.count_params(),
                                                "d_params": self.D.count_params(), "train_seconds": self.train_seconds},
                                    keep=self.config.train.keep_checkpoints)
        except WriteError as e:
            return self._write_failed(e)
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

    # -- live edits and requests ----------------------------------------------------------------------------
    def _apply_edits(self, updates: dict[str, Any]) -> Event:
        checked = check_edits(self.config, updates)
        if isinstance(checked, Message):
            return checked
        new, changes = checked
        self.config = self.health.config = new   # the adviser's remedies start from the current values
        if apply_to_training(new, changes, self.g_opt, self.d_opt, self.ada_p):
            self._step_fn = self._multi_fn = None
        self._write(self.run_dir.write_config, new)
        self._write(self.run_dir.log_edit, self.step, changes)
        return ConfigChanged(self.step, changes)

    def _handle_request(self, what: str, kwargs: dict[str, Any]) -> Iterator[Event]:
        yield from handle_request(what, kwargs, {
            "sample": lambda **_: [SampleGrid(self.step, self.sample())],
            "metric": lambda **_: self._metric_events(),
            "checkpoint": lambda **_: [self.save_checkpoint()],
            "pin": lambda step, **_: [self.keeper.change("pin", int(step))],
            "unpin": lambda step, **_: [self.keeper.change("unpin", int(step))],
            "delete": lambda step, **_: [self.keeper.change("delete", int(step))],
            "generate": lambda **kw: [self.generate(**kw)],
            "restore": lambda which="latest", **_: self._restore(which)})

    # -- quality and health ---------------------------------------------------------------------------------
    def compute_metric(self) -> Metric:
        """FD/KID of metric_n generated images vs a fixed real subset; the classifier loads or trains once."""
        return self.quality.measure(self.step, self.config, self.sample)

    def _budget_spent(self) -> bool:
        minutes = self.config.train.train_minutes
        return bool(minutes) and self.train_seconds >= 60 * minutes

    def record_metric(self) -> Metric:
        """compute_metric, logged to quality.jsonl and TensorBoard (a sweep measures each trial's end with it)."""
        m = self.compute_metric()
        self._write(self.run_dir.append_quality, m.to_row())
        if self.tb.enabled:
            self.tb.quality(m, self.run_dir.read_quality())
        return m

    def _metric_events(self) -> Iterator[Event]:
        m = self.record_metric()
        # first: 'best so far' includes m
        warnings = self.health.update_quality(m.step, m.fd, m.diversity, m.memorization)
        yield m
        yield from self._warnings(warnings)
        yield from self._keep_best(m)

    def _warnings(self, warnings: list[HealthWarning]) -> Iterator[Event]:
        """The adviser's new warnings: persisted to health.jsonl (the report lists them), then yielded."""
        for w in warnings:   # the time places it on its branch when the run later continues from an earlier step
            self._write(self.run_dir.append_health, {**w.to_row(), "time": time.time()})
            yield w

    # -- checkpoints: best, restore, rollback ---------------------------------------------------------------
    def _keep_best(self, m: Metric) -> Iterator[Event]:
        """The checkpoint with the lowest FD so far is kept as 'best' (never pruned); a better FD saves a checkpoint
        at its step if there is none, then replaces the mark in one atomic write."""
        if not (self.chief and self.keeper.is_better(m.fd)):
            return
        if not self.keeper.has(self.step):
            yield self.save_checkpoint()
        yield BestCheckpoint(self.step, m.fd, str(self.keeper.mark_best(self.step, m.fd)))

    def _lrs_from_config(self) -> None:
        """A checkpoint restores the optimizers' learning-rate variables too; the config decides (a resume's --set,
        or a remedy's edit applied just before its rollback)."""
        self.g_opt.learning_rate = self.config.optim.g_lr
        self.d_opt.learning_rate = self.config.optim.d_lr

    def _restore_to(self, info: CheckpointInfo, reason: str) -> Iterator[Event]:
        """Restore weights, optimizers, RNG and step from `info`, branch off there and reset the health windows."""
        from_step = self.step
        self.train_seconds = self.keeper.restore(info)
        self._lrs_from_config()
        self.step = self._saved_step = int(self.step_var.numpy())
        self.run_dir.close()
        notes = self.keeper.branch_off(self.step)
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
            info = self.keeper.find(which)
            yield from self._restore_to(info, "restore")
        except CheckpointError as e:
            yield Message(str(e), "error")
            return
        self.control.pause()
        yield SampleGrid(self.step, self.sample())
        best = " (the best)" if info.best else ""
        yield Message(f"restored the checkpoint of step {self.step}{best}; paused: Resume continues from it", "info")

    def _rollback(self, diverged: HealthWarning | None = None) -> Iterator[Event]:
        """NaN/Inf or divergence: restore the last checkpoint from before the trouble began (weights, optimizers,
        RNG, step), so that what continues is the healthy model; every newer checkpoint moves aside. A new run's
        step-0 checkpoint means there always is one: continuing from it is the same seed's run from the start."""
        onset = int(diverged.evidence.get("since", self.step)) if diverged else self.step
        target = self.keeper.last_before(onset)
        what = "diverged" if diverged else "became NaN/Inf"
        if target is None:
            yield Message(f"losses {what} at step {self.step} and there is no checkpoint from before step {onset} to "
                          f"roll back to; lower the learning rates and start again", "error")
            return
        from_step = self.step
        yield from self._restore_to(target, "divergence" if diverged else "nan")
        began = f" (it began at step {onset})" if diverged and onset < from_step else ""
        then = "then press Resume" if self.nan_action == "pause" else "then resume"
        yield Message(f"losses {what} at step {from_step}{began}; rolled back to the checkpoint of step {self.step}, "
                      f"the last from before it, and no checkpoint of the {'diverged' if diverged else 'broken'} "
                      f"model was kept. Apply a fix (lower the learning rates), {then}", "warning")

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        try:
            yield from self._run()
        finally:
            if self._lock is not None:   # also when setup failed or the consumer stopped iterating
                self._lock.release()

    def _run(self) -> Iterator[Event]:
        yield from self._start()
        reason = "completed"
        try:
            while not (self.total_steps and self.step >= self.total_steps) and not self._budget_spent():
                action = yield from self._next_action()
                if action == "stop":
                    reason = "stopped"
                    break
                if action != "step":
                    yield from self._between_steps(action)
                elif (yield from self._train()) == "error":
                    reason = "error"
                    break
        finally:
            self.run_dir.close()
            self.tb.flush()
        yield from self._finish(reason)

    def _start(self) -> Iterator[Event]:
        """Setup, its notes, the first grid and (a new run) the step-0 checkpoint."""
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
        yield self._grid()
        if self.chief and self.step == 0 and not self.keeper.any():
            # The initial state: a run that diverges or breaks before its first periodic checkpoint continues from
            # here, which is the same seed's run from the start (exact, like any resume).
            yield self.save_checkpoint()
        self._saved_time = time.monotonic()
        self._data = self._dataset_from(self.step)
        self._t0 = self._last = time.perf_counter()
        self._announced_pause = False

    def _next_action(self) -> Iterator[Event]:
        """Failed writes and pause/resume changes as events, then the control's next action (returned)."""
        while self._write_failures:      # each failed write paused the run (studio)
            yield self._write_failures.pop(0)
        if self.control.paused and not self._announced_pause:
            self._announced_pause = True
            yield Paused(self.step)
        elif not self.control.paused and self._announced_pause:
            self._announced_pause = False
            self._last = time.perf_counter()  # don't count the pause in images/s
            yield Resumed(self.step)
        return self.control.next_action(timeout=0.25)

    def _between_steps(self, action: str) -> Iterator[Event]:
        """A live edit or a request ('idle': nothing)."""
        if action == "edit":
            yield self._apply_edits(self.control.take_edits())
        elif action == "request":
            req = self.control.take_request()
            if req:
                before = self.step
                yield from self._handle_request(*req)
                if self.step != before:     # a restore: the data position follows the step
                    self._data = self._dataset_from(self.step)

    def _train(self) -> Iterator[Event]:
        """One compiled call and its events; returns 'error' when training cannot go on."""
        fns = (self._step_fn, self._multi_fn)
        t_call = time.perf_counter()
        rows = self._train_call(self._data)
        prev, now = self.step, time.perf_counter()
        if fns[0] is self._step_fn and fns[1] is self._multi_fn:   # a call that traced the step is start-up
            self.train_seconds += now - t_call
        rate = len(rows) * self.config.data.batch_size / max(now - self._last, 1e-9)
        self._last = now
        trouble = yield from self._step_events(rows, now - self._t0, rate)
        if trouble:
            return (yield from self._recover(*trouble))
        yield from self._periodic(prev)
        return None

    def _step_events(self, rows: np.ndarray, wall: float, rate: float) -> Iterator[Event]:
        """StepMetrics (logged every log_every) and the adviser's warnings for each step of a call. Stops at the
        first NaN/Inf or divergence and returns (the divergence warning or None, g_loss, d_loss); else None."""
        cfg, d = self.config, self.config.data
        p_call = p = float(self.ada_p.numpy()) if d.ada_target else 0.0   # the p this call trained with
        trouble = None
        for g_loss, d_loss, d_real, d_fake, r_real in rows.astype(float).tolist():
            self.step += 1
            m = StepMetrics(step=self.step, epoch=self.step * cfg.optim.d_steps / self.batches_per_epoch, wall=wall,
                            g_loss=g_loss, d_loss=d_loss, d_real=d_real, d_fake=d_fake, images_per_sec=rate,
                            r_real=r_real, ada_p=p_call)
            if d.ada_target:
                p = ada_step(p, r_real, d.ada_target, d.batch_size, d.ada_kimg)
            if self.step % cfg.train.log_every == 0:
                self._write(self.run_dir.append_metrics, m.to_row())
                self.tb.scalars(m)
            yield m
            warnings = self.health.update(self.step, g_loss, d_loss, d_real, d_fake, r_real=r_real)
            yield from self._warnings(warnings)
            diverged = next((w for w in warnings if w.kind == "divergence"), None)   # handled like NaN
            if not all(map(math.isfinite, (g_loss, d_loss, d_real, d_fake))) or diverged:
                trouble = (diverged, g_loss, d_loss)
                break
        if p != p_call:
            self.ada_p.assign(p)
        return trouble

    def _recover(self, diverged: HealthWarning | None, g_loss: float, d_loss: float) -> Iterator[Event]:
        """NaN/Inf or divergence: roll back (nan_policy 'rollback'; no checkpoint of a diverged model is kept), then
        pause (nan_action 'pause': returns None, training goes on when resumed); else returns 'error'."""
        rolled = False
        if self.config.train.nan_policy == "rollback":
            for ev in self._rollback(diverged):
                rolled = rolled or isinstance(ev, RolledBack)
                yield ev
        if rolled and self.nan_action == "pause":
            self._data = self._dataset_from(self.step)
            self.control.pause()
            self._announced_pause = False   # announce this pause even if an earlier one was never resumed
            return None
        if not rolled:
            what = "diverged" if diverged else "became NaN/Inf"
            yield Message(f"losses {what} at step {self.step} (G {g_loss:.3g}, D {d_loss:.3g}); lower the learning "
                          f"rates and resume from the last checkpoint", "error")
        return "error"

    def _periodic(self, prev: int) -> Iterator[Event]:
        """Grids, quality and checkpoints whose interval the steps since `prev` crossed."""
        cfg = self.config

        def crossed(every: int) -> bool:    # a call of several steps may jump over a multiple
            return bool(every) and self.step // every > prev // every

        if crossed(cfg.sample.sample_every):
            grid = self._grid()
            self.tb.image(self.step, grid.images)
            yield grid
        if crossed(cfg.train.metric_every):
            yield from self._metric_events()
        if (crossed(cfg.train.checkpoint_every) or self._checkpoint_timer_due()) \
                and self._saved_step != self.step:     # a better FD may have saved this step already
            yield self.save_checkpoint()

    def _finish(self, reason: str) -> Iterator[Event]:
        """The final grid, checkpoint and (completed) measurement, then Finished."""
        final = ""
        if reason == "completed" or (reason == "stopped" and self.control.save_on_stop):
            final = str(self._write(self.run_dir.save_final, self.sample()) or "")
            if self._saved_step != self.step:
                yield self.save_checkpoint()
            at_end = bool(self.config.train.metric_every) if self._metric_at_end is None else self._metric_at_end
            if reason == "completed" and at_end and (not self.health.quality or
                                                     self.health.quality[-1][0] != self.step):
                yield from self._metric_events()    # the final model is a candidate for 'best' too
                self.tb.flush()
        yield from self._write_failures
        yield Finished(self.step, reason, str(self.run_dir.path), final, {"train_seconds": self.train_seconds})
        if not self.chief:
            shutil.rmtree(self._worker_tmp, ignore_errors=True)


def run_to_end(trainer: Trainer) -> list[Event]:
    """Drain a trainer synchronously (tests, scripts)."""
    return list(trainer.run())


__all__ = ["Trainer", "run_to_end", "GanStudioError", "adapt_arch_to_data", "fit_config_to_data", "resolve_jit",
           "resolve_precision"]
