"""One switch over events, written once: a front end maps event classes to handlers and calls `dispatch` for each
event the Trainer (or a sweep) yields, instead of its own chain of isinstance checks.

    handled = dispatch(ev, {StepMetrics: on_step, Metric: on_metric, Finished: on_finished})

The handler of the event's own class wins, then those of its base classes in method-resolution order, so a handler
for a base class catches its subclasses; events with no handler are ignored (dispatch returns False)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Handlers = Mapping[type, Callable[[Any], object]]


def handler_for(event: object, handlers: Handlers) -> Callable[[Any], object] | None:
    """The callable `dispatch` would call for `event`, or None."""
    for cls in type(event).__mro__:
        fn = handlers.get(cls)
        if fn is not None:
            return fn
    return None


def dispatch(event: object, handlers: Handlers) -> bool:
    """Call the handler of `event`'s class (or nearest base class) with the event; whether there was one."""
    fn = handler_for(event, handlers)
    if fn is None:
        return False
    fn(event)
    return True
