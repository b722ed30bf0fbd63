"""Live edits and requests from a front end, applied on the training thread between steps.

An edit changes live config fields (learning rates, betas, ADA, intervals ...): `check_edits` validates it against
the config, `apply_to_training` moves the optimizers and ADA's p to the new values. A request (sample, metric,
checkpoint, pin/unpin/delete, generate, restore) is routed by name by `handle_request`."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..config import LIVE_FIELDS, Config, resolve_key
from ..core.errors import ConfigError
from .events import Event, Message

REQUESTS = ("sample", "metric", "checkpoint", "pin", "unpin", "delete", "generate", "restore")


def check_edits(config: Config, updates: dict[str, Any]) -> tuple[Config, dict[str, tuple[Any, Any]]] | Message:
    """The edited config and its changes (name -> (old, new)), or the Message that refuses the edit: an unknown or
    bad value, a field that cannot change while training, or nothing changed ('no change', level info)."""
    try:
        locked = [k for k in updates if not all(f.live for f in resolve_key(k))]   # an alias: all it sets
    except ConfigError as e:
        return Message(str(e), "error")
    if locked:
        return Message(f"{', '.join(locked)} cannot change while training (only {', '.join(sorted(LIVE_FIELDS))} "
                       f"can); stop the run and start a new one", "error")
    try:
        new = config.with_updates(updates)
    except ConfigError as e:
        return Message(str(e), "error")
    changes = config.diff(new)
    if not changes:
        return Message("no change", "info")
    return new, changes


def apply_to_training(new: Config, changes: dict[str, tuple[Any, Any]], g_opt, d_opt, ada_p) -> bool:
    """Set the optimizers' learning rates and betas and ADA's p variable to `new`; True when the traced train step
    must be traced again (betas are Python floats inside it; ADA switched on or off adds or removes ops)."""
    o = new.optim
    g_opt.learning_rate = o.g_lr
    d_opt.learning_rate = o.d_lr
    retrace = False
    if "beta1" in changes or "beta2" in changes:
        for opt in (g_opt, d_opt):
            opt.beta_1, opt.beta_2 = o.beta1, o.beta2
        retrace = True
    if "ada_p" in changes:
        ada_p.assign(new.data.ada_p)
    if "ada_target" in changes and (not changes["ada_target"][0]) != (not changes["ada_target"][1]):
        retrace = True
    return retrace


def handle_request(what: str, kwargs: dict[str, Any],
                   handlers: dict[str, Callable[..., Iterable[Event]]]) -> Iterator[Event]:
    """The events answering request `what`: those of handlers[what](**kwargs); an error Message for a request
    without a handler."""
    fn = handlers.get(what)
    if fn is None:
        yield Message(f"unknown request {what!r}", "error")
        return
    yield from fn(**kwargs)
