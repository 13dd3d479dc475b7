"""Profiles: TOML files naming which cases to run and how hard to measure them.

    name = "mine"
    [measure]                 # all optional; defaults below
    rounds = 15               # timed rounds per case
    min_round_ms = 2.0        # iterations per round rise until a round lasts this long
    warmup_ms = 30.0
    repeats = 5               # runs on identical inputs compared for variance
    seed = 0
    [defaults]                # for every [[cases]] group that does not set its own
    passes = ["fwd", "fwdbwd"]
    dtypes = ["float32"]
    precisions = ["highest"]
    [[cases]]
    workload = "conv2d"
    params = { cin = 64, layout = ["nchw", "channels_last"] }   # a list is swept

Every list is swept (cartesian product); unset parameters take the workload's defaults.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .cases import Case, make_case
from .errors import DetcostError, unknown
from .precision import DTYPES, PRECISIONS
from .workloads import PASSES, get_workload

BUILTIN = ("smoke", "standard")


@dataclass(frozen=True)
class Measure:
    rounds: int = 15
    min_round_ms: float = 2.0
    warmup_ms: float = 30.0
    repeats: int = 5
    seed: int = 0


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    measure: Measure
    cases: tuple[Case, ...] = field(default=())

    def sample(self, per_family: int) -> list[Case]:
        """Up to `per_family` runnable cases of each family, spread over its list."""
        chosen: list[Case] = []
        families = dict.fromkeys(c.family for c in self.cases)
        for family in families:
            runnable = [c for c in self.cases if c.family == family and not c.skip_reason()]
            step = max(1, len(runnable) // max(1, per_family))
            chosen.extend(runnable[::step][:per_family])
        return chosen

    def describe(self) -> dict[str, Any]:
        """What goes into a run's header."""
        return {"name": self.name, "source": self.source, "measure": asdict(self.measure),
                "cases": len(self.cases)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _check_names(where: str, kind: str, values: list[str], allowed: tuple[str, ...]) -> None:
    for v in values:
        if v not in allowed:
            raise DetcostError(f"{where}: {unknown(kind, v, allowed)}")


def _measure(where: str, table: dict[str, Any]) -> Measure:
    allowed = tuple(Measure.__dataclass_fields__)
    for key, value in table.items():
        if key not in allowed:
            raise DetcostError(f"{where} [measure]: {unknown('setting', key, allowed)}")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise DetcostError(f"{where} [measure]: {key} must be a number >= 0, not {value!r}")
    m = Measure(**table)
    if m.rounds < 1 or m.repeats < 2:
        raise DetcostError(f"{where} [measure]: rounds must be >= 1 and repeats >= 2")
    return m


def _expand_group(where: str, group: dict[str, Any], defaults: dict[str, Any]) -> list[Case]:
    if "workload" not in group:
        raise DetcostError(f"{where}: missing 'workload'")
    extra = set(group) - {"workload", "params", "passes", "dtypes", "precisions"}
    if extra:
        raise DetcostError(f"{where}: unknown key {sorted(extra)[0]!r} (allowed: workload, "
                           "params, passes, dtypes, precisions)")
    try:
        workload = get_workload(group["workload"])
    except DetcostError as exc:
        raise DetcostError(f"{where}: {exc}") from None
    params = group.get("params", {})
    if not isinstance(params, dict):
        raise DetcostError(f"{where}: params must be a table, not {params!r}")
    for name in params:
        if name not in workload.params:
            problem = unknown(f"parameter of {workload.name}", name, tuple(workload.params))
            raise DetcostError(f"{where}: {problem}")
    axes = {key: _as_list(group.get(key, defaults.get(key, fallback)))
            for key, fallback in (("passes", ["fwd"]), ("dtypes", ["float32"]),
                                  ("precisions", ["highest"]))}
    _check_names(where, "pass", axes["passes"], PASSES)
    _check_names(where, "dtype", axes["dtypes"], DTYPES)
    _check_names(where, "precision", axes["precisions"], PRECISIONS)
    names = list(params)
    sweeps = [_as_list(params[n]) for n in names]
    cases = []
    for values in itertools.product(*sweeps):
        chosen = dict(zip(names, values, strict=True))
        for pass_, dtype, precision in itertools.product(
                axes["passes"], axes["dtypes"], axes["precisions"]):
            cases.append(make_case(workload.name, chosen, pass_, dtype, precision))
    return cases


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DetcostError(f"profile {source}: not valid TOML: {exc}") from None
    allowed = ("name", "description", "measure", "defaults", "cases")
    for key in data:
        if key not in allowed:
            raise DetcostError(f"profile {source}: {unknown('key', key, allowed)}")
    groups = data.get("cases")
    if not isinstance(groups, list) or not groups:
        raise DetcostError(f"profile {source}: needs at least one [[cases]] table")
    defaults = data.get("defaults", {})
    cases: dict[Case, None] = {}
    for number, group in enumerate(groups, start=1):
        for case in _expand_group(f"profile {source} [[cases]] #{number}", group, defaults):
            cases.setdefault(case)
    return Profile(str(data.get("name", Path(source).stem)), source,
                   _measure(f"profile {source}", data.get("measure", {})), tuple(cases))


def default_profile(cuda: bool) -> str:
    """standard on a CUDA GPU, smoke (CPU-sized) without one."""
    return "standard" if cuda else "smoke"


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a TOML file by path."""
    if name_or_path in BUILTIN:
        text = resources.files("detcost.profiles").joinpath(f"{name_or_path}.toml").read_text()
        return parse_profile(text, name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise DetcostError(f"profile {name_or_path!r} is neither a built-in "
                           f"({', '.join(BUILTIN)}) nor a file")
    return parse_profile(path.read_text(encoding="utf-8"), str(path))
