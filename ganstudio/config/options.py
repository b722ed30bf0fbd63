"""A config from command-line options: the flags that choose and change a config, defined once for every command
that builds one (`train`, `resume` in cli.py; `sweep` in sweeps/command.py), and the function that turns parsed
options into a validated Config. It sits below both commands, so neither imports the other.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from ..core.errors import ConfigError
from .fields import Config, resolve_key

# options whose value, when given, sets the config field of the same name (an absent one keeps the base config's)
FIELD_OPTIONS = ("dataset", "steps", "epochs", "batch_size", "seed", "sample_every", "strategy")


def add_config_options(p: argparse.ArgumentParser) -> None:
    """--preset or --config (the base config), --dataset, --batch-size, --seed and --set."""
    p.add_argument("--preset", default=None, help="named starting config (default: tutorial; see `ganstudio presets`)")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="start from a config.json (e.g. another run's) instead of a preset")
    p.add_argument("--dataset", default=None, metavar="SPEC",
                   help="bundled (default, offline), mnist, fashion_mnist, or a path to an .npz/.npy file")
    p.add_argument("--batch-size", type=int, default=None, metavar="N", help="images per step (tutorial: 256)")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="seed for weights, noise and data order")
    add_set_option(p, "set any config field, e.g. --set g_lr=2e-4 --set jit_compile=off (repeatable; "
                      "`ganstudio train --help-config` lists them)")


def add_set_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)


def add_strategy_option(p: argparse.ArgumentParser) -> None:
    info = resolve_key("strategy")[0]   # choices and help come from the config field
    p.add_argument("--strategy", default=None, choices=info.choices, help=info.help)


def config_from_args(args: argparse.Namespace) -> Config:
    """Preset (or --config file) + the field options given + --set, validated into one Config. Options a command
    does not define count as not given."""
    from .presets import get_preset  # noqa: PLC0415 - the catalogue loads only when a config is built

    if args.config is not None and args.preset is not None:
        raise ConfigError("use either --preset or --config, not both")
    cfg = Config.load(args.config) if args.config else get_preset(args.preset or "tutorial").config()
    updates: dict[str, object] = {}
    for key in FIELD_OPTIONS:
        value = getattr(args, key, None)
        if value is not None:
            updates[key] = value
    if getattr(args, "epochs", None) is not None:
        updates["steps"] = 0
    return cfg.with_updates({**updates, **set_updates(args.set)})


def set_updates(items: Sequence[str]) -> dict[str, str]:
    """--set KEY=VALUE items as config updates (the config parses and checks the values)."""
    updates: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set g_lr=2e-4")
        key, value = item.split("=", 1)
        updates[key.strip()] = value
    return updates
