"""Profiles: TOML files naming which cases to run and how hard to measure them.

    name = "mine"
    [measure]                 # all optional: see measuring.py
    target = 0.01             # rounds until the median's 95% interval is within +-1% ...
    max_time_s = 3.0          # ... or this many seconds of rounds
    processes = 2             # worker processes per mode, interleaved across modes
    [defaults]                # for every [[cases]] group that does not set its own
    passes = ["fwd", "fwdbwd"]
    dtypes = ["float32"]
    precisions = ["highest"]
    [[cases]]
    workload = "conv2d"
    params = { cin = 64, layout = ["nchw", "channels_last"] }   # a list is swept
    modes = ["default", "deterministic"]   # optional: where the group is measured (scope.py)

Every list is swept (cartesian product); unset parameters take the workload's defaults.
Everything is checked before any worker starts: an unknown key in any table, a value of
the wrong type, a shape of zero or less, or a value outside a parameter's choices is one
error naming the file, the case group, the key, the value and what is allowed.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from .cases import Case, make_case
from .errors import DetcostError, unknown
from .measuring import Measure, parse_measure
from .precision import DTYPES, PRECISIONS
from .scope import EVERYWHERE, KEYS, Scope, parse_scope
from .workloads import PASSES, get_workload
from .workloads.families import FAMILY_FACTS

BUILTIN = ("smoke", "standard", "full", "distributed")


_AXES = {"passes": PASSES, "dtypes": DTYPES, "precisions": PRECISIONS}
_AXIS_NAME = {"passes": "pass", "dtypes": "dtype", "precisions": "precision"}


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    measure: Measure
    cases: tuple[Case, ...] = field(default=())
    # (case id, scope) for each case that a group measures in fewer modes or processes
    scopes: tuple[tuple[str, Scope], ...] = field(default=())

    def measures(self, case: Case, mode: str, process: int = 1) -> bool:
        """Whether the profile measures the case in this process of this mode (whether the
        mode can act on it is the mode's to say)."""
        return self._scope_of.get(case.id, EVERYWHERE).measures(mode, process)

    @cached_property
    def _scope_of(self) -> dict[str, Scope]:
        return dict(self.scopes)

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
        return {"name": self.name, "source": self.source, "measure": self.measure.describe(),
                "cases": len(self.cases)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _axes(where: str, table: dict[str, Any], fallback: dict[str, list[str]]) -> dict:
    """passes, dtypes and precisions of a table: lists (or one name) of allowed names."""
    axes = {}
    for key, allowed in _AXES.items():
        values = _as_list(table.get(key, fallback[key]))
        if not values:
            raise DetcostError(f"{where}: {key} is empty (allowed: {', '.join(allowed)})")
        for v in values:
            if not isinstance(v, str) or v not in allowed:
                raise DetcostError(f"{where}: {unknown(_AXIS_NAME[key], v, allowed)}")
        axes[key] = values
    return axes


def _expand_group(where: str, group: Any, defaults: dict[str, list[str]]
                  ) -> tuple[list[Case], Scope]:
    if not isinstance(group, dict):
        raise DetcostError(f"{where}: must be a table, not {group!r}")
    if "workload" not in group:
        raise DetcostError(f"{where}: missing 'workload'")
    extra = set(group) - {"workload", "params", *_AXES, *KEYS}
    if extra:
        raise DetcostError(f"{where}: unknown key {sorted(extra)[0]!r} (allowed: workload, "
                           "params, passes, dtypes, precisions, modes, processes)")
    if not isinstance(group["workload"], str):
        raise DetcostError(f"{where}: workload must be a name, not {group['workload']!r}")
    try:
        workload = get_workload(group["workload"])
    except DetcostError as exc:
        raise DetcostError(f"{where}: {exc}") from None
    where = f"{where} ({workload.name})"
    params = group.get("params", {})
    if not isinstance(params, dict):
        raise DetcostError(f"{where}: params must be a table, not {params!r}")
    for name, value in params.items():
        if name not in workload.params:
            problem = unknown(f"parameter of {workload.name}", name, tuple(workload.params))
            raise DetcostError(f"{where}: {problem}")
        values = _as_list(value)
        if not values:
            raise DetcostError(f"{where}: {name} = [] sweeps nothing: "
                               f"{workload.params[name].allowed()}")
        for v in values:
            problem = workload.problem({name: v})
            if problem:
                raise DetcostError(f"{where}: {problem}")
    axes = _axes(where, group, defaults)
    names = list(params)
    sweeps = [_as_list(params[n]) for n in names]
    cases = []
    for values in itertools.product(*sweeps):
        chosen = dict(zip(names, values, strict=True))
        problem = workload.problem({**workload.defaults, **chosen})
        if problem:
            raise DetcostError(f"{where}: {problem}")
        for pass_, dtype, precision in itertools.product(
                axes["passes"], axes["dtypes"], axes["precisions"]):
            cases.append(make_case(workload.name, chosen, pass_, dtype, precision))
    return cases, parse_scope(where, group)


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DetcostError(f"profile {source}: not valid TOML: {exc}") from None
    allowed = ("name", "description", "measure", "defaults", "cases")
    for key in data:
        if key not in allowed:
            raise DetcostError(f"profile {source}: {unknown('key', key, allowed)}")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise DetcostError(f"profile {source}: {key} must be a string, not {data[key]!r}")
    groups = data.get("cases")
    if not isinstance(groups, list) or not groups:
        raise DetcostError(f"profile {source}: needs at least one [[cases]] table")
    table = data.get("defaults", {})
    if not isinstance(table, dict):
        raise DetcostError(f"profile {source}: [defaults] must be a table, not {table!r}")
    for key in table:
        if key not in _AXES:
            raise DetcostError(f"profile {source} [defaults]: "
                               f"{unknown('key', key, tuple(_AXES))}")
    defaults = _axes(f"profile {source} [defaults]", table,
                     {"passes": ["fwd"], "dtypes": ["float32"], "precisions": ["highest"]})
    cases: dict[Case, Scope] = {}
    for number, group in enumerate(groups, start=1):
        found, scope = _expand_group(f"profile {source} [[cases]] #{number}", group, defaults)
        for case in found:  # a case two groups name is measured wherever either measures it
            cases[case] = cases[case].widest(scope) if case in cases else scope
    return Profile(str(data.get("name", Path(source).stem)), source,
                   parse_measure(f"profile {source}", data.get("measure", {}),
                                 tuple(dict.fromkeys(c.family for c in cases))
                                 + tuple(FAMILY_FACTS)), tuple(cases),
                   tuple((c.id, s) for c, s in cases.items() if s != EVERYWHERE))


def workloads_profile_text(specs: list[str] | tuple[str, ...], measure: Measure) -> str:
    """A profile of the given workloads at their default parameters, every pass they have,
    in float32 (PyTorch's default matmul precision) and bfloat16, measured as `measure`."""
    settings = measure.describe()
    lines = ['name = "user"', "[measure]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()
              if key != "families"]  # JSON's numbers and booleans are TOML's
    for family, own in settings["families"].items():
        lines += [f"[measure.family.{json.dumps(family)}]",
                  *(f"{key} = {json.dumps(value)}" for key, value in own.items())]
    for spec in specs:
        w = get_workload(spec)
        dtypes = [d for d in ("float32", "bfloat16") if d in w.dtypes] or list(w.dtypes[:1])
        lines += ["[[cases]]", f"workload = {json.dumps(spec)}",
                  f"passes = {json.dumps(list(w.passes))}", f"dtypes = {json.dumps(dtypes)}",
                  'precisions = ["highest"]']
    return "\n".join(lines) + "\n"


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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DetcostError(f"profile {path}: cannot be read: {exc}") from None
    return parse_profile(text, str(path))
