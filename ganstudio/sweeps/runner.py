"""Run a sweep: an Optuna study whose trials are ordinary Trainer runs, as a generator of plain events.

    sweep = Sweep(spec, folder, control=Control())
    for event in sweep.run():      # CLI: a line per trial; studio: the training thread, like a single run
        ...

The study's storage is the only shared state, so several processes (or machines, with --storage URL) can work
on one sweep: each asks Optuna for the next trial. Trials are run with ask/tell rather than study.optimize so
that the loop is a generator the studio drives like a single run (Pause, Step and Stop act on the trial).

* Equal budgets: every trial trains for the same training time (config train_minutes: time inside training
  steps only) or the same number of steps. Its quality (FD/KID) is measured at 1/4, 2/4, 3/4 and the end of
  that budget and reported to Optuna at step k = 1..4, which is the same training time in every trial.
* Pruning: a trial whose best FD so far is behind three quarters of the completed trials at the same point is
  stopped (PercentilePruner(75), from the second point on, once two trials have completed).
* Interruption: Stop (Ctrl-C) stops the trial at the next step with a checkpoint; its Optuna trial is failed and
  re-queued with the same parameters, run folder and reported values, so the next run of the same command (in
  any process) resumes it from that checkpoint rather than starting it again. A process killed outright stops
  beating its heartbeat; a sweep process, before each trial it starts, fails and re-queues such a trial the same
  way and takes it over.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState, create_trial

from ..core.errors import ConfigError
from ..engine.checkpoints import list_checkpoints
from ..engine.control import Control
from ..engine.dispatch import dispatch
from ..engine.events import Finished, Metric, Started, StepMetrics
from ..runs import RunDir
from .events import SweepFinished, TrialFinished, TrialReport, TrialStarted
from .folder import SweepDir
from .report import STUDY_ATTR, write_report
from .spec import REPORTS, SweepSpec, label
from .storage import check_driver, connect_url, masked

SQLITE_TIMEOUT_S = 60     # Optuna's FAQ for parallel SQLite: a connect timeout, so a locked database waits
OPEN_TRIES = 5            # processes starting together race to create the schema: the loser retries
HEARTBEAT_S = 30          # a live trial stamps its "beat" this often; one silent for GRACE_S was killed
GRACE_S = 120

optuna.logging.set_verbosity(optuna.logging.WARNING)   # its per-trial INFO lines would interleave with ours


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler without its study.stop() after the last grid point: stop() only works inside
    study.optimize, and this ask/tell loop checks for remaining work itself."""

    def after_trial(self, study, trial, state, values) -> None:  # noqa: D102
        pass


def make_pruner() -> optuna.pruners.BasePruner:
    # percentile 75: prune only a trial worse than 3/4 of the completed ones at the same point ("clearly
    # behind"); warm-up 2: never on the first quarter, where FD is mostly noise.
    return optuna.pruners.PercentilePruner(75.0, n_startup_trials=2, n_warmup_steps=2)


def make_storage(url: str) -> RDBStorage:
    """Optuna's RDB storage on `url` (PostgreSQL through psycopg 3: storage.connect_url)."""
    check_driver(url)
    return RDBStorage(connect_url(url), engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
                      if url.startswith("sqlite") else {})


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue a failed trial again with its parameters, run folder and reported values, as Optuna's
    RetryHeartbeatStaleTrialCallback does (whose heartbeat only runs inside study.optimize)."""
    study.add_trial(create_trial(state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
                                 user_attrs=trial.user_attrs, intermediate_values=trial.intermediate_values,
                                 system_attrs={**trial.system_attrs, "failed_trial": trial.number}))


def _retrying(url: str, fn):
    """fn(), retried when the database is busy or another process is creating the same tables."""
    import sqlalchemy.exc  # noqa: PLC0415

    for attempt in range(OPEN_TRIES):
        try:
            return fn()
        except ImportError as e:     # e.g. mysql:// without its driver installed
            raise ConfigError(f"--storage {masked(url)}: {_scrub(str(e), url)}") from None
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as e:
            if attempt == OPEN_TRIES - 1:
                first = _scrub((str(e).strip().splitlines() or [type(e).__name__])[0][:200], url)
                raise ConfigError(f"--storage {masked(url)}: cannot open the study ({first}); check the URL and that "
                                  f"the database is reachable") from None
            time.sleep(0.2 * 2 ** attempt)


def _scrub(text: str, url: str) -> str:
    """A driver's message with the URL, should it quote it, masked."""
    return text.replace(connect_url(url), masked(url) or "").replace(url, masked(url) or "")


def load_study(folder: SweepDir, storage: str | None = None) -> optuna.Study:
    """An existing sweep's study, for --report and the Runs tab."""
    info = folder.read_info()
    url = folder.storage_url(storage or info.get("storage"))
    try:
        return _retrying(url, lambda: optuna.load_study(study_name=info["study"], storage=make_storage(url)))
    except KeyError:
        raise ConfigError(f"{folder.path}: its study {info['study']!r} is not in {masked(url)}; pass the --storage it "
                          f"was run with") from None


class _Heartbeat:
    """Stamps the trial's "beat" user attribute from a thread, also while the studio has the trial paused."""

    def __init__(self, trial: optuna.Trial) -> None:
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(trial,), daemon=True,
                                        name="ganstudio-sweep-heartbeat")
        self._thread.start()

    def _beat(self, trial: optuna.Trial) -> None:
        while True:
            try:
                trial.set_user_attr("beat", time.time())
            except Exception:  # noqa: BLE001 - a missed beat (database busy) is harmless within the grace period
                pass
            if self._done.wait(HEARTBEAT_S):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _results(run: RunDir) -> dict[str, Any]:
    rows = [r for r in run.read_quality() if isinstance(r.get("fd"), (int, float))]
    if not rows:
        return {}
    best_fd = min(rows, key=lambda r: r["fd"])
    best_kid = min(rows, key=lambda r: r["kid"])
    return {"best_fd": best_fd["fd"], "best_fd_step": best_fd["step"], "best_kid": best_kid["kid"],
            "best_kid_step": best_kid["step"], "final_fd": rows[-1]["fd"], "final_kid": rows[-1]["kid"]}


class _TrialWatch:
    """What a trial does with its trainer's events: at each report point (Started too: a resumed trial past a point
    measures it before its first step) it asks for a measurement, reports it to the study (which may prune the
    trial), and at the end of the budget reports the final one. The events to pass on gather in take()."""

    def __init__(self, sweep: Sweep, trainer, trial: optuna.Trial, points: list[float], k: int) -> None:
        self.sweep, self.trainer, self.trial, self.points, self.k = sweep, trainer, trial, points, k
        self.pending = False
        self.finished: Finished | None = None
        self.last: Metric | None = None
        self.state = "failed"
        self._out: list[object] = []
        self.handlers = {Started: self.progressed, StepMetrics: self.progressed, Metric: self.measured,
                         Finished: self.ended}

    def take(self) -> list[object]:
        out, self._out = self._out, []
        return out

    def progressed(self, ev: Started | StepMetrics) -> None:
        if not self.pending and self.k < REPORTS - 1 and self.sweep._progress(self.trainer) >= self.points[self.k]:
            self.sweep.control.request("metric")
            self.pending = True

    def measured(self, ev: Metric) -> None:
        self.last = ev
        trainer = self.trainer
        if not self.pending or (trainer.total_steps and ev.step >= trainer.total_steps):
            return
        self.pending = False
        self.k += 1
        self.trial.report(ev.fd, self.k)
        pruned = bool(self.trial.should_prune())
        self._out.append(TrialReport(self.trial.number, self.k, self.sweep._progress(trainer), ev.step, ev.fd, ev.kid,
                                     pruned))
        if pruned:
            self.state = "pruned"

    def ended(self, ev: Finished) -> None:
        self.finished = ev
        if ev.reason == "completed":
            m = self.last
            if m is None or m.step != ev.step:   # e.g. the budget ended at a step already measured
                m = self.trainer.record_metric()
                self._out.append(m)
            self.trial.report(m.fd, REPORTS)
            self._out.append(TrialReport(self.trial.number, REPORTS, self.sweep._progress(self.trainer), m.step, m.fd,
                                         m.kid))
            self.state = "complete"
        elif ev.reason == "stopped":
            self.state = "interrupted"


class Sweep:
    def __init__(self, spec: SweepSpec, folder: str | Path | None = None, *, storage: str | None = None,
                 control: Control | None = None, pruner: optuna.pruners.BasePruner | None = None) -> None:
        self.spec = spec
        self.folder = SweepDir(folder or SweepDir.default_path(spec.base.preset, spec.fingerprint()))
        self.storage = storage
        self.control = control or Control()
        self.pruner = pruner or make_pruner()
        self.study: optuna.Study | None = None

    # -- the study ------------------------------------------------------------------------------------------
    def open(self) -> optuna.Study:
        """Create or join the study; a folder or study holding another sweep is a one-line error."""
        spec = self.spec.to_dict()
        if self.folder.info_file.exists():
            info = self.folder.read_info()
            if info.get("spec") != json.loads(json.dumps(spec)):
                raise ConfigError(f"{self.folder.path} holds a different sweep (other values, budget or base config); "
                                  f"use the same ones to continue it, or another sweep folder (--sweep-dir)")
        name = self.folder.path.name
        self.folder.make()
        sampler = GridSampler({p.name: list(p.values) for p in self.spec.params}) if self.spec.is_grid else \
            optuna.samplers.TPESampler(n_startup_trials=min(10, max(1, self.spec.trials // 2)))
        url = self.folder.storage_url(self.storage)
        study = _retrying(url, lambda: optuna.create_study(study_name=name, storage=make_storage(url), sampler=sampler,
                                                           pruner=self.pruner, direction="minimize",
                                                           load_if_exists=True))
        theirs = study.user_attrs.get(STUDY_ATTR)
        if theirs is None:
            study.set_user_attr(STUDY_ATTR, spec)
        elif theirs != json.loads(json.dumps(spec)):
            raise ConfigError(f"study {name!r} in {masked(url)} holds a different sweep; "
                              f"use the same options or another --sweep-dir")
        # once the study opened; the URL's password masked (load_study then connects without it: PGPASSWORD)
        self.folder.describe({"study": name, "storage": masked(self.storage), "spec": spec})
        self.study = study
        return study

    @staticmethod
    def _retried(trials: list[FrozenTrial]) -> set[int]:
        return {t.system_attrs["failed_trial"] for t in trials if "failed_trial" in t.system_attrs}

    def _key(self, params: dict[str, Any]) -> tuple:
        return tuple(params.get(p.name) for p in self.spec.params)

    def _work_left(self, study: optuna.Study) -> bool:
        trials = study.get_trials(deepcopy=False)
        if any(t.state == TrialState.WAITING for t in trials):
            return True
        retried = self._retried(trials)
        live = [t for t in trials if t.number not in retried and not t.user_attrs.get("duplicate")]
        if self.spec.is_grid:
            taken = {self._key(t.params) for t in live}
            return any(self._key(c) not in taken for c in self.spec.combinations())
        return len(live) < self.spec.trials

    def _duplicate(self, study: optuna.Study, number: int, params: dict[str, Any]) -> bool:
        """Two processes asking at the same moment can be handed the same grid point: the lower number keeps it."""
        if not self.spec.is_grid:
            return False
        trials = study.get_trials(deepcopy=False)
        retried = self._retried(trials)
        return any(t.number < number and t.number not in retried and not t.user_attrs.get("duplicate")
                   and t.state != TrialState.WAITING and self._key(t.params) == self._key(params) for t in trials)

    def _suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        out = {}
        for p in self.spec.params:
            if p.kind in ("grid", "choice"):
                out[p.name] = trial.suggest_categorical(p.name, list(p.values))
            elif p.kind == "int":
                out[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                out[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        return out

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self, control: Control | None = None) -> Iterator[object]:
        """The sweep's events; `control` (the studio's session's) pauses and stops the current trial."""
        self.control = control or self.control
        study = self.study or self.open()
        reason = "completed"
        while True:
            self._requeue_stale(study)     # before every trial: a killed process's trial is taken over first
            if not self._work_left(study):
                break
            if self.control.stop_requested:
                reason = "stopped"
                break
            trial = study.ask()
            params = self._suggest(trial)
            if self._duplicate(study, trial.number, params):
                trial.set_user_attr("duplicate", True)
                study.tell(trial, state=TrialState.FAIL)
                continue
            state = yield from self._run_trial(study, trial, params)
            self.report()
            if state == "interrupted":
                reason = "stopped"
                break
        md, montage = self.report()
        yield SweepFinished(str(self.folder.path), reason, md, str(montage or ""))

    @staticmethod
    def _requeue_stale(study: optuna.Study) -> None:
        """Trials of killed processes (no beat for GRACE_S): failed, then queued again to resume."""
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if time.time() - t.user_attrs.get("beat", time.time()) > GRACE_S:
                try:
                    frozen = study.tell(t.number, state=TrialState.FAIL)
                except Exception:  # noqa: BLE001 - another process failed (or finished) it first
                    continue
                requeue(study, frozen)

    def report(self) -> tuple[str, Path | None]:
        return write_report(self.folder, self.study)

    def _progress(self, trainer) -> float:
        return trainer.train_seconds if self.spec.minutes else float(trainer.step)

    def _run_trial(self, study: optuna.Study, trial: optuna.Trial, params: dict[str, Any]) -> Iterator[object]:
        from ..engine.trainer import Trainer  # noqa: PLC0415 - TensorFlow loads on the training thread

        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
        text = label(params)
        run_name = frozen.user_attrs.get("run")
        resume = bool(run_name) and bool(list_checkpoints(self.folder.path / run_name / "checkpoints"))
        path = self.folder.path / run_name if resume else self.folder.trial_path(trial.number, text)
        trial.set_user_attr("run", path.name)
        trial.set_user_attr("label", text)
        trial.set_user_attr("run_dir", str(path.resolve()))   # where, on which machine: the dashboard shows both
        trial.set_user_attr("host", socket.gethostname())
        # the end-of-budget measurement is the trainer's own, so it can move the trial's best mark
        # a NaN trial fails (nan_action 'stop'): nobody is there to press Resume between trials
        trainer = Trainer(self.spec.trial_config(params), run_dir=path, control=self.control, resume=resume,
                          metric_at_end=True, nan_action="stop")
        trials = study.get_trials(deepcopy=False)
        retried = self._retried(trials)
        done = sum(t.state.is_finished() and t.number not in retried and not t.user_attrs.get("duplicate")
                   for t in trials)
        yield TrialStarted(trial.number, params, text, str(path), resume, done, self.spec.total)

        # k: points a resumed trial already reported
        watch = _TrialWatch(self, trainer, trial, self.spec.report_points(), len(frozen.intermediate_values))
        heartbeat = _Heartbeat(trial)
        events = trainer.run()
        try:
            for ev in events:
                yield ev
                dispatch(ev, watch.handlers)
                yield from watch.take()
                if watch.state == "pruned":
                    trainer.run_dir.save_final(trainer.sample())   # the montage shows where it stopped
                    break
        except BaseException:
            self._tell(study, trial, trainer, "interrupted")
            raise
        finally:
            events.close()
            heartbeat.stop()
            if watch.pending:          # the trial ended before answering: don't hand the request to the next one
                self.control.take_request()
        finished, state = watch.finished, watch.state
        if finished is not None and finished.reason == "error":
            trial.set_user_attr("error", "losses became NaN/Inf")
        res = self._tell(study, trial, trainer, state)
        yield TrialFinished(trial.number, text, state, str(path), trainer.step, trainer.train_seconds,
                            res.get("final_fd"), res.get("best_fd"), params)
        return state

    def _tell(self, study: optuna.Study, trial: optuna.Trial, trainer, state: str) -> dict[str, Any]:
        res = _results(trainer.run_dir) if trainer.run_dir is not None else {}
        for k, v in {**res, "steps": trainer.step, "train_seconds": trainer.train_seconds, "outcome": state}.items():
            trial.set_user_attr(k, v)
        if state == "complete":
            study.tell(trial, res["final_fd"])
        elif state == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            frozen = study.tell(trial, state=TrialState.FAIL)
            if state == "interrupted":   # queue it again: the next sweep process resumes its run folder
                requeue(study, frozen)
        return res
