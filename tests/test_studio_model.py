"""The studio model without Qt (ganstudio/studio): the run state machine, what the commands mean, the remedy
policy, recent runs and the runs root. A stub session with a real engine Control stands in for the training
thread; the Qt window only draws this model and calls it (tests/qt check the window end to end)."""
from pathlib import Path

import pytest

from ganstudio.config import Config
from ganstudio.engine.control import Control
from ganstudio.engine.events import Finished, Message, Paused, Resumed, RolledBack, Started, StepMetrics
from ganstudio.metrics.advice import Remedy
from ganstudio.runs import RunDir
from ganstudio.studio import MemoryStore, RecentRuns, RunsRoot, Signal, State, StudioModel, plan_remedy
from tests.helpers import modules_loaded


class StubSession:
    def __init__(self) -> None:
        self.control = Control()
        self.stopped: list[bool] = []

    def stop(self, save: bool = True) -> None:
        self.stopped.append(save)


def metrics(step: int, wall: float | None = None) -> StepMetrics:
    return StepMetrics(step, step / 10, wall if wall is not None else step * 0.1, 1.0, 0.5, 0.6, 0.4, 100.0)


@pytest.fixture
def model():
    m = StudioModel()
    m.states = []
    m.messages = []
    m.errors = []
    m.state_changed.connect(m.states.append)
    m.message.connect(lambda text, ms: m.messages.append(text))
    m.error.connect(m.errors.append)
    return m


def running(model: StudioModel, path: Path = Path("run"), sweeping: bool = False) -> StubSession:
    session = StubSession()
    model.begin(session, model.start_plan("tiny", path), sweeping=sweeping)
    return session


# -- the signal ------------------------------------------------------------------------------------------------
def test_signal_calls_slots_in_order_once_and_disconnects():
    s, got = Signal(), []
    s.connect(lambda x: got.append(("a", x)))
    s.connect_once(lambda x: got.append(("once", x)))
    b = s.connect(lambda x: got.append(("b", x)))
    s.emit(1)
    s.disconnect(b)
    s.emit(2)
    assert got == [("a", 1), ("once", 1), ("b", 1), ("a", 2)] and len(s) == 1


def test_the_model_never_imports_qt():
    assert modules_loaded(["ganstudio.studio"], ("PySide6", "pyqtgraph", "superqt", "shiboken6", "tensorflow"),
                          timeout=120) == []


# -- the state machine ------------------------------------------------------------------------------------------
def test_state_is_a_str_enum_with_live_and_active():
    assert State("paused") is State.PAUSED and State.PAUSED == "paused"
    assert [s.value for s in State if s.live] == ["running", "paused"]
    assert [s.value for s in State if s.active] == ["running", "paused", "stopping"]
    with pytest.raises(ValueError):
        State("sleeping")


def test_start_pause_step_resume_stop_and_the_session_ending(model, tmp_path):
    assert not model.live and model.start_text() == "Start"
    model.toggle_pause()
    model.step(3)
    model.stop()
    assert model.state is State.IDLE and model.states == []           # nothing to command without a session
    session = running(model, tmp_path / "run")
    assert model.state is State.RUNNING and model.live and model.run_path == tmp_path / "run"
    assert model.messages[-1] == f"Starting run in {tmp_path / 'run'} …"
    model.toggle_pause()
    assert model.state is State.PAUSED and session.control.paused
    model.toggle_pause()
    assert model.state is State.RUNNING and not session.control.paused
    model.step(3)                                      # pause, then exactly three steps
    assert model.state is State.PAUSED and session.control.paused
    assert [session.control.next_action(0) for _ in range(4)] == ["step", "step", "step", "idle"]
    assert model.request("checkpoint") and session.control.take_request() == ("checkpoint", {})
    assert model.compute_quality() and session.control.take_request() == ("metric", {})
    assert model.live_edit("g_lr", 1e-4) and session.control.take_edits() == {"g_lr": 1e-4}
    model.stop()
    model.stop()                                       # once: a second Stop while stopping does nothing
    assert session.stopped == [True] and model.state is State.STOPPING and not model.live
    assert not model.request("checkpoint") and model.generator() is None
    assert model.messages[-1] == "Stopping after the current step (saving a checkpoint)…"
    model.handle_event(Finished(7, "stopped", str(tmp_path / "run")))
    ended = []
    model.session_ended.connect(lambda: ended.append((model.session, model.state, model.resume_path)))
    model.end_session()
    # a stopped run can be continued with Start
    assert ended == [(None, State.FINISHED, tmp_path / "run")] and model.start_text() == "Resume run"
    assert model.states[-2:] == [State.FINISHED, State.FINISHED]


def test_a_finished_an_errored_and_a_swept_session_are_not_resumed(model, tmp_path):
    running(model, tmp_path / "a")
    model.handle_event(Finished(9, "completed", str(tmp_path / "a")))
    model.end_session()
    assert model.state is State.FINISHED and model.resume_path is None
    running(model, tmp_path / "b")
    model.report_error("disk full")
    model.end_session()
    assert model.state is State.ERROR and model.errors == ["disk full"] and model.resume_path is None
    running(model, tmp_path / "c", sweeping=True)
    assert model.last_error == "" and not model.live_edit("g_lr", 1.0)   # a sweep's trials keep their values
    model.handle_event(Finished(3, "stopped", str(tmp_path / "c")))
    model.end_session()
    assert model.state is State.FINISHED and model.resume_path is None


def test_engine_events_drive_state_and_status_numbers(model, tmp_path):
    running(model, tmp_path / "x")
    assert model.handle_event(Started(str(tmp_path / "run"), {}, 0, 100, 10, "mnist", "CPU, XLA off, float32", 5, 6))
    assert (model.total_steps, model.steps_per_epoch, model.run_path, model.engine_ready, model.device_info) == \
        (100, 10, tmp_path / "run", True, "CPU, XLA off, float32")
    changed = []
    model.metrics_changed.connect(lambda: changed.append(model.last_metrics.step))
    for s in (1, 2, 3):
        model.handle_event(metrics(s, wall=s * 2.0))
    assert changed == [1, 2, 3] and list(model.rate) == [(2.0, 1), (4.0, 2), (6.0, 3)]
    assert model.eta_seconds() == pytest.approx(97 * 2.0)
    model.handle_event(RolledBack(2, 3))                # the trainer pauses itself after a rollback
    assert model.state is State.PAUSED
    model.rewind_metrics(2, metrics(2).to_row())
    assert model.last_metrics.step == 2 and not model.rate and model.eta_seconds() is None
    model.handle_event(Resumed(2))
    assert model.state is State.RUNNING
    model.handle_event(Paused(2))
    assert model.state is State.PAUSED
    model.handle_event(Paused(2))                       # already paused: no second change
    assert model.states.count(State.PAUSED) == 2
    assert not model.handle_event(Message("hello")) and not model.handle_event(object())


def test_start_plan_resumes_the_stopped_run_unless_told_otherwise(model, tmp_path):
    plan = model.start_plan("tiny", tmp_path / "new")
    assert plan.path == tmp_path / "new" and not plan.resume
    run = RunDir.create(tmp_path / "run", Config()).path
    model.opened(run, has_checkpoints=True)
    assert model.start_text() == "Resume run"
    plan = model.start_plan("tiny")
    assert (plan.path, plan.resume, plan.resume_step, plan.history_step) == (run, True, None, 0)
    assert not model.start_plan("tiny", tmp_path / "other").resume       # a given folder: a new run
    assert not model.start_plan("tiny", source=lambda control: iter(())).resume   # a sweep
    model.branch_from(4)                                # Load of an older checkpoint
    assert model.start_text() == "Resume from step 4" and model.state is State.IDLE
    plan = model.start_plan("tiny")
    assert (plan.resume, plan.resume_step, plan.history_step) == (True, 4, 4)
    assert model.newer_checkpoints(0) == []
    assert model.new_run() and model.run_path is model.resume_path is model.resume_step is None
    assert model.start_text() == "Start"
    running(model, tmp_path / "r")
    assert not model.new_run() and model.run_path == tmp_path / "r"  # never while training


def test_watch_mode_follows_a_folder_read_only(model, tmp_path):
    running(model, tmp_path / "r")
    assert model.watch(tmp_path / "w") is None and model.errors == ["Stop training before watching another run"]
    model.session = None
    model.set_state(State.IDLE)
    follower = model.watch(tmp_path / "w")
    assert follower is not None and model.watching and model.run_path == tmp_path / "w"
    model.set_state(State.WATCHING)
    model.record_rows([metrics(1).to_row(), {"step": 2, "wall": "bad"}, metrics(3).to_row()])
    assert model.last_metrics.step == 3 and [s for _, s in model.rate] == [1, 3]
    assert model.stop_watching() and not model.watching and model.state is State.IDLE
    assert not model.stop_watching()


# -- remedies ---------------------------------------------------------------------------------------------------
HALVE = Remedy("Halve both learning rates", {"g_lr": 1e-4, "d_lr": 2e-4})
ROLLBACK = Remedy("Roll back to the best checkpoint", {}, "rollback_best")
AUGMENT = Remedy("Enable DiffAugment", {"diffaugment": "translation"}, "resume")


def test_remedy_policy():
    assert plan_remedy(HALVE, live=True).kind == "live"
    assert plan_remedy(HALVE, live=True).text == "Applied g_lr 0.0001, d_lr 0.0002"
    assert plan_remedy(HALVE, live=True, paused=True).text.endswith("; press Resume to continue")
    rb = plan_remedy(ROLLBACK, live=True, paused=True)
    assert (rb.kind, rb.rollback, rb.text) == ("live", True, "rolling back to the best checkpoint (then paused)")
    assert plan_remedy(AUGMENT, live=True).kind == "restart"
    assert plan_remedy(Remedy("x", {"image_size": 64}), live=True).kind == "restart"   # not a live field
    assert plan_remedy(AUGMENT, live=False).kind == "form"
    assert plan_remedy(HALVE, live=False).text == "Set g_lr 0.0001, d_lr 0.0002 in the form"
    assert plan_remedy(ROLLBACK, live=False).text == "Start a run first"
    assert plan_remedy(Remedy("s", {}, "stop"), live=True).kind == "stop"
    ex = plan_remedy(Remedy("e", {}, "export_best"), live=True)
    assert ex.kind == "export_best" and ex.text.endswith(" once the run has stopped")
    assert not plan_remedy(Remedy("e", {}, "export_best"), live=False).text.endswith("stopped")


def test_applying_remedies_live_and_by_stop_and_resume(model, tmp_path):
    form, calls, order = {}, [], []

    def start() -> None:   # Start with nothing given resumes the stopped run
        plan = model.start_plan("tiny")
        calls.append(("start", dict(form), plan.resume, plan.path))
        order.append("start")

    hooks = {"set_form": form.__setitem__, "start": start,
             "export_best": lambda: calls.append(("export", model.session))}
    model.apply_remedy(HALVE, **hooks)                  # nothing runs: the form only
    assert form == {"g_lr": 1e-4, "d_lr": 2e-4} and model.messages[-1].startswith("Set ")
    model.apply_remedy(Remedy("e", {}, "export_best"), **hooks)      # nothing to stop: at once
    assert calls == [("export", None)]
    form.clear()
    calls.clear()
    session = running(model, tmp_path / "run")
    model.toggle_pause()
    model.apply_remedy(HALVE, **hooks)
    assert session.control.take_edits() == {"g_lr": 1e-4, "d_lr": 2e-4} and form == {}
    assert model.messages[-1] == "Applied g_lr 0.0001, d_lr 0.0002; press Resume to continue"
    model.apply_remedy(ROLLBACK, **hooks)
    assert session.control.take_request() == ("restore", {"which": "best"})

    model.session_ended.connect(lambda: order.append("window"))
    model.apply_remedy(AUGMENT, **hooks)               # stop, then Start with the form changed
    assert session.stopped == [True] and model.state is State.STOPPING and calls == []
    model.handle_event(Finished(5, "stopped", str(tmp_path / "run")))
    model.session_ended.connect(lambda: order.append("after"))
    model.end_session()
    # the observers connected before the remedy (the window's) first, then Start, resuming the stopped run
    assert calls == [("start", {"diffaugment": "translation"}, True, tmp_path / "run")]
    assert order == ["window", "start", "after"]
    model.end_session()                                 # the one-shot does not run again
    assert len(calls) == 1

    running(model, tmp_path / "run")
    model.apply_remedy(Remedy("s", {}, "stop"), **hooks)
    assert model.state is State.STOPPING and model.messages[-1] == \
        "Stopping after the current step (saving a checkpoint)"


# -- recent runs and the runs root -------------------------------------------------------------------------------
def test_recent_runs_newest_first_deduplicated_limited_and_pruned(tmp_path):
    store = MemoryStore()
    recent = RecentRuns(store, limit=3)
    runs = [RunDir.create(tmp_path / f"run{i}", Config()).path for i in range(5)]
    recent.add(tmp_path / "not-a-run")
    for p in runs + [runs[1]]:
        recent.add(p)
    assert [p.name for p in recent.paths()] == ["run1", "run4", "run3"]
    (runs[4] / "config.json").unlink()
    assert [p.name for p in RecentRuns(store).paths()] == ["run1", "run3"]
    assert len(store.values["recent/runs"]) == 2
    recent.clear()
    assert recent.paths() == []


def test_the_model_remembers_the_runs_it_shows(tmp_path):
    model = StudioModel(MemoryStore())
    run = RunDir.create(tmp_path / "run", Config()).path
    model.opened(run, has_checkpoints=False)
    model.set_state(State.IDLE)
    assert model.recent.paths() == [run.resolve()]


def test_runs_root_saved_choice_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GANSTUDIO_RUNS", raising=False)     # runs_root() default: ./runs here
    monkeypatch.chdir(tmp_path)
    env: dict = {}
    store = MemoryStore()
    root = RunsRoot(store, env)
    assert root.path() == Path("runs") and root.reason() == f"./runs under {tmp_path}"
    assert root.set(tmp_path / "chosen") == tmp_path / "chosen"
    assert env["GANSTUDIO_RUNS"] == str(tmp_path / "chosen") and root.reason() == "chosen here (Choose folder…)"
    later: dict = {}
    RunsRoot(store, later).restore()                   # a later launch keeps the choice
    assert later["GANSTUDIO_RUNS"] == str(tmp_path / "chosen")
    user = {"GANSTUDIO_RUNS": str(tmp_path / "env")}
    r = RunsRoot(store, user)
    r.restore()                                         # ... but GANSTUDIO_RUNS set at launch wins
    assert r.path() == tmp_path / "env" and r.reason() == "from GANSTUDIO_RUNS"
