"""What a sweep varies and for how long, parsed against the config's fields before anything runs.

    --grid g_lr=1e-4,2e-4,4e-4        every listed value (a grid over all --grid keys)
    --search g_lr=1e-5..1e-3:log      a float range (log scale), sampled by Optuna's TPE
    --search d_steps=1..3             an int range (the field is an int)
    --search loss=bce_ns,lsgan        a choice

Every value is parsed by the config field it names (config.resolve_key / Config.with_updates) and every grid
combination is built once, so a bad key, value or combination is a one-line ConfigError naming it.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from ..config import Config, resolve_key
from ..core.errors import ConfigError

REPORTS = 4          # the quality metric is measured at 1/4, 2/4, 3/4 and the end of every trial's budget


@dataclass(frozen=True)
class Param:
    name: str                      # a config field name or alias (g_lr, lr, d_steps, seed)
    kind: str                      # grid | float | int | choice
    values: tuple = ()             # grid values or choices, typed by the field
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": list(self.values), "low": self.low, "high": self.high, "log": self.log}


def fmt_value(v: Any) -> str:
    """Compact: 0.0002 stays, 1e-05 -> 1e-5; ints and strings as they are."""
    if isinstance(v, float):
        s = f"{v:.4g}"
        if "e" in s:
            mant, exp = s.split("e")
            s = f"{mant}e{int(exp)}"
        return s
    return str(v)


def label(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


def _split(item: str, flag: str, taken: list[Param]) -> tuple[str, str, Any]:
    """KEY=VALUES -> (field name, VALUES, its FieldInfo); a key already in `taken` is an error."""
    if "=" not in item:
        raise ConfigError(f"{flag} {item!r}: expected KEY=VALUES, e.g. {flag} g_lr=1e-4,2e-4")
    key, rhs = item.split("=", 1)
    infos = resolve_key(key)             # unknown keys: a ConfigError with close matches
    name = key.strip().split(".")[-1]
    if not rhs.strip():
        raise ConfigError(f"{flag} {item!r}: no values for {name}")
    if name == "train_minutes" or name == "steps" or name == "epochs":
        raise ConfigError(f"{flag} {name}: the budget is the same for every trial; set it with --minutes or --steps")
    if any(p.name == name for p in taken):
        hint = f"; list all its values in one --grid {name}=A,B,C" if flag == "--grid" else ""
        raise ConfigError(f"{flag} {name}: given twice{hint}")
    return name, rhs.strip(), infos[0]


def _values(name: str, info, rhs: str, base: Config, flag: str) -> tuple:
    out = []
    for raw in rhs.split(","):
        v = info.parse(raw)
        base.with_updates({name: v})     # range and cross-field checks
        if v in out:
            raise ConfigError(f"{flag} {name}: {raw.strip()} is listed twice")
        out.append(v)
    return tuple(out)


def parse_grid(items: list[str], base: Config) -> list[Param]:
    params: list[Param] = []
    for item in items:
        name, rhs, info = _split(item, "--grid", params)
        params.append(Param(name, "grid", _values(name, info, rhs, base, "--grid")))
    return params


def parse_search(items: list[str], base: Config) -> list[Param]:
    params: list[Param] = []
    for item in items:
        name, rhs, info = _split(item, "--search", params)
        if ".." not in rhs:
            params.append(Param(name, "choice", _values(name, info, rhs, base, "--search")))
            continue
        rng, _, opt = rhs.partition(":")
        if opt not in ("", "log"):
            raise ConfigError(f"--search {item!r}: unknown option {opt!r}; only ':log' (e.g. {name}=1e-5..1e-3:log)")
        if info.type not in (int, float):
            raise ConfigError(f"--search {name}: a range needs a number field, {name} is a {info.type.__name__}; "
                              f"list the choices instead ({name}=A,B)")
        lo_s, _, hi_s = rng.partition("..")
        lo, hi = info.parse(lo_s), info.parse(hi_s)
        for v in (lo, hi):
            base.with_updates({name: v})
        if not lo < hi:
            raise ConfigError(f"--search {name}: the range {lo_s.strip()}..{hi_s.strip()} is empty; write LOW..HIGH")
        if opt == "log" and lo <= 0:
            raise ConfigError(f"--search {name}: a log range must start above 0, got {lo_s.strip()}")
        params.append(Param(name, "int" if info.type is int else "float", low=lo, high=hi, log=opt == "log"))
    return params


@dataclass(frozen=True)
class SweepSpec:
    """A whole sweep: the base config, what varies, and each trial's budget (minutes of training or steps)."""
    base: Config
    params: tuple[Param, ...]
    minutes: float = 0.0
    steps: int = 0
    trials: int = 0                  # search only; a grid runs every combination

    def __post_init__(self) -> None:
        if bool(self.minutes) == bool(self.steps):
            raise ConfigError("give each trial a budget: --minutes M (training time) or --steps N, not both")
        if not self.params:
            raise ConfigError("nothing to sweep: add --grid KEY=A,B or --search KEY=LOW..HIGH")

    @property
    def is_grid(self) -> bool:
        return self.params[0].kind == "grid"

    @property
    def budget(self) -> float:
        """The budget in its unit: training seconds or steps."""
        return self.minutes * 60 if self.minutes else float(self.steps)

    @property
    def unit(self) -> str:
        return "s" if self.minutes else "steps"

    def report_points(self) -> list[float]:
        """Where each trial's quality is measured and reported to Optuna (as step k = 1..REPORTS)."""
        return [self.budget * k / REPORTS for k in range(1, REPORTS + 1)]

    def combinations(self) -> list[dict[str, Any]]:
        names = [p.name for p in self.params]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(p.values for p in self.params))]

    @property
    def total(self) -> int:
        return len(self.combinations()) if self.is_grid else self.trials

    def trial_config(self, params: dict[str, Any]) -> Config:
        """The base config with the trial's values and the shared budget. The sweep measures quality itself at
        the report points, so the trainer's own metric_every is off."""
        budget = {"train_minutes": self.minutes, "steps": 0, "epochs": 0} if self.minutes else \
            {"steps": self.steps, "train_minutes": 0.0}
        return self.base.with_updates({**params, **budget, "metric_every": 0})

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "preset": self.base.preset, "minutes": self.minutes, "steps": self.steps,
                "trials": self.trials, "params": {p.name: p.to_dict() for p in self.params}}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]


def make_spec(base: Config, grid: list[str], search: list[str], *, minutes: float = 0.0, steps: int = 0,
              trials: int = 20, seeds: int = 1) -> SweepSpec:
    if grid and search:
        raise ConfigError("use either --grid (every combination) or --search (sampled ranges), not both")
    if minutes < 0 or steps < 0 or not math.isfinite(minutes):
        raise ConfigError("--minutes and --steps must be positive")
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: must be at least 1")
    if trials < 1:
        raise ConfigError(f"--trials {trials}: must be at least 1")
    if grid:
        params = parse_grid(grid, base)
        if seeds > 1:
            if any(p.name == "seed" for p in params):
                raise ConfigError("--seeds with --grid seed=...: use one of them")
            first = base.train.seed
            params.append(Param("seed", "grid", _values("seed", resolve_key("seed")[0],
                                                          ",".join(str(first + i) for i in range(seeds)), base,
                                                          "--seeds")))
        spec = SweepSpec(base, tuple(params), minutes=minutes, steps=steps)
        for combo in spec.combinations():   # cross-field rules (e.g. the tutorial net and g_norm) per combination
            try:
                spec.trial_config(combo)
            except ConfigError as e:
                raise ConfigError(f"--grid {label(combo)}: {e}") from None
        return spec
    if seeds > 1:
        raise ConfigError("--seeds repeats grid points; with --search every trial already differs (use --grid)")
    return SweepSpec(base, tuple(parse_search(search, base)), minutes=minutes, steps=steps, trials=trials)
