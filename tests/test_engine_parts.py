"""The Trainer's parts, each built alone: event dispatch and row schemas, the data pipeline, the checkpoint keeper,
the quality keeper, the TensorBoard writer, the live-edit handler and device/precision resolution."""
import dataclasses
import math

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
    assert engine.Health is HealthWarning                      # deprecated alias, one class


def test_row_schemas_are_the_event_fields():
    assert tuple(f.name for f in dataclasses.fields(Metric)) == QUALITY_FIELDS
    assert tuple(f.name for f in dataclasses.fields(StepMetrics)) == engine.METRICS_FIELDS
    m = Metric(5, 1.5, 0.01, 0.3, 64, 0.2, "random", None, 0.9)
    row = m.to_row()
    assert list(row) == list(QUALITY_FIELDS) and row["memorization"] == 0.9
    assert Metric.from_row(row) == m
    old = Metric.from_row({"step": 2, "fd": 3.0, "kid": 0.1, "diversity": 0.2, "n": 8, "seconds": 1.0})
    assert old.source == "" and old.accuracy is None and math.isnan(old.memorization)
