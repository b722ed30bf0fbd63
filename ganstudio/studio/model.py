"""The studio model: what the studio is doing, without Qt (napari's ViewerModel is the pattern).

It holds the run state machine (State), the current training session, the run shown (run folder, the run Start
resumes and from which step), the watched run's follower, the status numbers (last metrics, total steps, the
rate for the ETA), recent runs and the runs root; it says what Start, Pause, Step, Stop, Resume, Load and a remedy
mean. It announces its changes through plain-Python signals (studio.signal.Signal); the Qt layer (ganstudio/qt)
draws them and calls its methods. A session is anything with `.control` (engine.control.Control) and
`.stop(save=True)`: qt.worker.TrainingSession in the studio, a stub in tests.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from ..engine.checkpoints import list_checkpoints
from ..engine.dispatch import dispatch
from ..engine.events import Finished, Paused, Resumed, RolledBack, Started, StepMetrics
from ..metrics.advice import Remedy
from ..runs import RunDir, new_run_path
from ..runs.watch import RunFollower
from .recent import MemoryStore, RecentRuns, RunsRoot, Store
from .remedy import RemedyPlan, plan_remedy
from .signal import Signal
from .state import State


class Session(Protocol):
    control: Any                                  # engine.control.Control

    def stop(self, save: bool = True) -> None: ...


def metrics_from_row(row: dict) -> StepMetrics:
    """A metrics.jsonl row (StepMetrics.to_row) back as the event, for the status numbers of a watched run."""
    nan = float("nan")   # a hand-edited log may hold anything: non-numbers read as NaN
    return StepMetrics(**{k: v if isinstance(v := row.get(k), (int, float)) else nan
                          for k in StepMetrics.__dataclass_fields__})


@dataclass(frozen=True)
class StartPlan:
    """What Start means now: a new run in `path`, or the resume of `path` (from `resume_step`, else its last
    checkpoint; `history_step` is the step whose metrics the views keep)."""
    path: Path
    resume: bool
    resume_step: int | None = None
    history_step: int = 0


class StudioModel:
    def __init__(self, store: Store | None = None) -> None:
        # -- events (plain-Python signals) ------------------------------------------------------------------
        self.state_changed = Signal()     # (State)
        self.session_ended = Signal()     # () the session has gone; state and resume path already updated
        self.metrics_changed = Signal()   # () last_metrics / total_steps / rate changed: the status numbers
        self.message = Signal()           # (text, timeout_ms) for the status bar; 0: until the next one
        self.error = Signal()             # (text) a failure to show the user (status bar and a dialog)
        self.watch_stopped = Signal()     # () watch mode ended (the follower is gone)
        # -- state ----------------------------------------------------------------------------------------
        self.state = State.IDLE
        self.session: Session | None = None
        self.sweeping = False                      # the session runs a sweep's trials
        self.run_path: Path | None = None          # run folder of the current / opened / watched run
        self.resume_path: Path | None = None       # Start continues this run from a checkpoint
        self.resume_step: int | None = None        # ... this one (Load in the Checkpoints dock), else the last
        self.follower: RunFollower | None = None   # watch mode: the run folder another process trains
        self.total_steps = 0
        self.steps_per_epoch = 0
        self.last_metrics: StepMetrics | None = None
        self.rate: collections.deque = collections.deque(maxlen=64)   # (wall, step) for the ETA
        self.last_error = ""
        self.finished_reason = ""
        self.engine_ready = False
        self.device_info = ""     # what the engine runs on: the warm-up's device, then Started's
        store = store if store is not None else MemoryStore()
        self.recent = RecentRuns(store)
        self.runs_root = RunsRoot(store)
        self.state_changed.connect(lambda _state: self.remember_run())
        self.session_ended.connect(self.remember_run)
        self._handlers = self._event_handlers()

    # ------------------------------------------------------------------------------------------------ state
    def set_state(self, state: State | str) -> None:
        self.state = State(state)
        self.state_changed.emit(self.state)

    @property
    def live(self) -> bool:
        """A trainer runs or is paused in this studio: it takes commands and live edits."""
        return self.session is not None and self.state.live

    @property
    def watching(self) -> bool:
        return self.follower is not None

    def start_text(self) -> str:
        """The Start action's text."""
        if not self.state.active and self.resume_path and self.resume_step is not None:
            return f"Resume from step {self.resume_step:,}"
        return "Resume run" if (not self.state.active and self.resume_path) else "Start"

    def report_error(self, text: str) -> None:
        self.last_error = text
        self.error.emit(text)

    # ------------------------------------------------------------------------------------------------ status numbers
    def reset_progress(self) -> None:
        self.last_metrics = None
        self.total_steps = 0
        self.rate.clear()
        self.metrics_changed.emit()

    def record_metrics(self, m: StepMetrics) -> None:
        self.last_metrics = m
        self.rate.append((m.wall, m.step))
        self.metrics_changed.emit()

    def record_rows(self, rows: list[dict]) -> None:
        """metrics.jsonl rows of a watched run."""
        for r in rows[-64:]:
            if isinstance(r.get("wall"), (int, float)) and "step" in r:
                self.rate.append((r["wall"], r["step"]))
        if rows:
            self.last_metrics = metrics_from_row(rows[-1])
            self.metrics_changed.emit()

    def rewind_metrics(self, step: int, last_row: dict | None) -> None:
        """A rollback to `step`: the rate starts again; `last_row` is the newest metrics row kept."""
        self.rate.clear()
        if self.last_metrics is not None and self.last_metrics.step > step:
            self.last_metrics = metrics_from_row(last_row) if last_row else None
            self.metrics_changed.emit()

    def eta_seconds(self) -> float | None:
        if not self.total_steps or len(self.rate) < 2 or self.last_metrics is None:
            return None
        (w0, s0), (w1, s1) = self.rate[0], self.rate[-1]
        if w1 <= w0 or s1 <= s0:
            return None
        return max(0, self.total_steps - self.last_metrics.step) * (w1 - w0) / (s1 - s0)

    # ------------------------------------------------------------------------------------------------ Start
    def start_plan(self, preset: str, run_dir: str | Path | None = None, source: object = None) -> StartPlan:
        """What Start does: resume `resume_path` unless a run folder or a sweep (`source`) is given."""
        if self.resume_path is not None and run_dir is None and source is None:
            path = self.resume_path
            ckpts = list_checkpoints(RunDir(path).checkpoints)
            step = self.resume_step if self.resume_step is not None else (ckpts[-1].step if ckpts else 0)
            return StartPlan(path, True, self.resume_step, step)
        return StartPlan(Path(run_dir) if run_dir else new_run_path(preset), False)

    def begin(self, session: Session, plan: StartPlan, sweeping: bool = False) -> None:
        """A session was started as `plan` says: it is now the running one."""
        self.sweeping = sweeping
        self.run_path = plan.path
        self.last_metrics = None
        self.last_error = ""
        self.finished_reason = ""
        self.rate.clear()
        self.session = session
        self.set_state(State.RUNNING)
        self.message.emit(f"Starting {'resumed ' if plan.resume else ''}run in {plan.path} …", 0)

    def end_session(self) -> None:
        """The session's thread has really finished."""
        self.session = None
        self.set_state(State.ERROR if self.last_error or self.finished_reason == "error" else State.FINISHED)
        # A stopped run can be continued with Start (a stopped sweep from its tab); a completed one stays viewable.
        self.resume_path = self.run_path if self.finished_reason == "stopped" and self.run_path and \
            not self.sweeping else None
        self.resume_step = None
        self.set_state(self.state)
        self.session_ended.emit()

    def when_stopped(self, then: Callable[[], None]) -> None:
        """Run `then` now if no session exists, else stop it (saving a checkpoint) and run `then` once its thread
        has finished (after the other session_ended observers)."""
        if self.session is None:
            then()
            return
        self.session_ended.connect_once(then)
        self.stop()

    # ------------------------------------------------------------------------------------------------ commands
    def toggle_pause(self) -> None:
        if self.session is None:
            return
        if self.state is State.RUNNING:
            self.session.control.pause()
            self.set_state(State.PAUSED)
        elif self.state is State.PAUSED:
            self.session.control.resume()
            self.set_state(State.RUNNING)

    def step(self, n: int = 1) -> None:
        """Pause (if running) and allow exactly n more steps."""
        if not self.live:
            return
        self.session.control.step(n)
        self.set_state(State.PAUSED)

    def stop(self) -> None:
        if self.session is None or self.state is State.STOPPING:
            return
        self.session.stop()
        self.set_state(State.STOPPING)
        self.message.emit("Stopping after the current step (saving a checkpoint)…", 0)

    def request(self, what: str, **kwargs: Any) -> bool:
        """A request the trainer answers between steps (also while paused): 'checkpoint', 'metric', 'generate',
        'pin' / 'unpin' / 'delete' (step=...), 'restore'."""
        if not self.live:
            return False
        self.session.control.request(what, **kwargs)
        return True

    def compute_quality(self) -> bool:
        """Ask the trainer for FD / KID now; a Metric event answers."""
        if not self.request("metric"):
            return False
        self.message.emit("Computing the quality metric on the training thread…", 8000)
        return True

    def live_edit(self, name: str, value: object) -> bool:
        # a sweep's trials keep their own values: the form is the base of the next sweep, not a live edit
        if self.live and not self.sweeping:
            self.session.control.edit(**{name: value})
            return True
        return False

    def generator(self) -> Callable[..., None] | None:
        """While a trainer is live, a function that asks it to generate (between steps, on its own thread)."""
        if not self.live:
            return None
        control = self.session.control
        return lambda **kw: control.request("generate", **kw)

    # ------------------------------------------------------------------------------------------------ engine events
    def handle_event(self, ev: object) -> bool:
        """The model's part of an engine event (the views draw theirs). True if it concerned the model."""
        return dispatch(ev, self._handlers)

    def _event_handlers(self) -> dict[type, Callable[[Any], None]]:
        return {StepMetrics: self.record_metrics, Started: self._started, RolledBack: self._paused_by_trainer,
                Paused: self._paused_by_trainer, Resumed: self._resumed, Finished: self._finished}

    def _started(self, ev: Started) -> None:
        self.total_steps = ev.total_steps
        self.steps_per_epoch = ev.steps_per_epoch
        self.run_path = Path(ev.run_dir)
        self.engine_ready = True
        self.device_info = ev.device

    def _paused_by_trainer(self, _ev: object) -> None:
        # After a rollback the trainer pauses itself; it announces that with a Paused event only if it had not
        # already announced an earlier pause (a step right after Resume skips the Resumed event): do not wait.
        if self.state is State.RUNNING:
            self.set_state(State.PAUSED)

    def _resumed(self, _ev: Resumed) -> None:
        if self.state is State.PAUSED:
            self.set_state(State.RUNNING)

    def _finished(self, ev: Finished) -> None:
        self.finished_reason = ev.reason

    # ------------------------------------------------------------------------------------------------ which run
    def new_run(self) -> bool:
        """Forget the current run: Start begins a new one."""
        if self.session is not None:
            return False
        self.stop_watching()
        self.resume_path = None
        self.resume_step = None
        self.run_path = None
        self.reset_progress()
        self.set_state(State.IDLE)
        return True

    def opened(self, path: Path, has_checkpoints: bool) -> None:
        """A run folder was opened into the views: Start resumes it from its last checkpoint if it has one."""
        self.stop_watching()
        self.run_path = path
        self.resume_path = path if has_checkpoints else None
        self.resume_step = None
        self.last_metrics = None
        self.total_steps = 0
        self.metrics_changed.emit()
        self.set_state(State.IDLE)

    def branch_from(self, step: int) -> None:
        """Load of an older checkpoint of the opened run: Start resumes from `step` (moving newer ones aside)."""
        self.resume_path = self.run_path
        self.resume_step = step
        self.set_state(State.IDLE)

    def newer_checkpoints(self, step: int) -> list[int]:
        """Checkpoint steps of the current run after `step` (Load asks before they are moved aside)."""
        if self.run_path is None:
            return []
        return [c.step for c in list_checkpoints(RunDir(self.run_path).checkpoints) if c.step > step]

    def watch(self, path: str | Path) -> RunFollower | None:
        """Follow a run folder another process writes (read-only; it may not exist yet)."""
        if self.session is not None:
            self.report_error("Stop training before watching another run")
            return None
        self.stop_watching()
        path = Path(path)
        self.follower = RunFollower(path)
        self.reset_progress()
        self.run_path = path
        self.resume_path = None
        self.resume_step = None
        return self.follower

    def stop_watching(self) -> bool:
        """False if nothing was watched."""
        if self.follower is None:
            return False
        self.follower = None
        self.watch_stopped.emit()
        if self.state is State.WATCHING:
            self.set_state(State.IDLE)
        return True

    def remember_run(self) -> None:
        if self.run_path is not None:
            self.recent.add(self.run_path)     # only once its config.json exists

    # ------------------------------------------------------------------------------------------------ remedies
    def apply_remedy(self, remedy: Remedy, *, set_form: Callable[[str, Any], None], start: Callable[[], Any],
                     export_best: Callable[[], Any]) -> RemedyPlan:
        """Carry out plan_remedy's plan: `set_form(name, value)` sets a field of the form, `start()` is Start (it
        resumes the stopped run with the form's config), `export_best()` exports the best generator."""
        plan = plan_remedy(remedy, self.live, self.state is State.PAUSED)
        if plan.kind == "stop":
            self.stop()
        elif plan.kind == "export_best":
            self.when_stopped(export_best)
        elif plan.kind == "restart":
            def resume() -> None:
                for k, v in plan.edits.items():
                    set_form(k, v)
                start()
            self.when_stopped(resume)
        elif plan.kind == "live":
            if plan.edits:
                self.session.control.edit(**plan.edits)   # a ConfigChanged event comes back and updates the form
            if plan.rollback:
                self.session.control.request("restore", which="best")
        else:
            for k, v in plan.edits.items():
                set_form(k, v)
        self.message.emit(plan.text, 10000)
        return plan
