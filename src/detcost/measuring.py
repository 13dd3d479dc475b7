"""How hard a profile measures each case: a profile's `[measure]` table, with a table per
family that needs other settings (a model step is timed in rounds of seconds, an op in
rounds of milliseconds).

    [measure]
    target = 0.01         # time rounds until the median's 95% interval is within +-1% ...
    max_time_s = 3.0      # ... or this many seconds of rounds have passed (per case, process)
    rounds = 10           # at least this many rounds (exactly this many with target = 0)
    min_round_ms = 8.0    # iterations per round rise until a round lasts this long
    warmup_ms = 50.0      # warm up at least this long, then until the step time settles ...
    max_warmup_ms = 3000  # ... or this long has passed
    repeats = 4           # runs on identical inputs compared for variance
    kernel_tables = true  # torch.profiler's kernel table of each model step
                          # (in a family's table: of every case of that family)
    processes = 2         # worker processes per mode, interleaved across modes
    knob_processes = 1    # ... but this many for each knob mode (every mode but default and
                          # deterministic); left out: `processes`
    seed = 0
    [measure.family.model]   # any of the timing settings above, for one family
    min_round_ms = 250.0
    max_time_s = 6.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import DetcostError, unknown

MIN_ROUNDS = 3  # the fewest rounds a case is timed in: a median and a spread


@dataclass(frozen=True)
class Measure:
    rounds: int = 15
    min_round_ms: float = 2.0
    warmup_ms: float = 30.0
    repeats: int = 5
    processes: int = 1
    # The knob modes' processes, where fewer than `processes`: their cost is read against
    # one process of deterministic mode, while default and deterministic mode's processes
    # also measure the spread between processes. None: `processes`.
    knob_processes: int | None = None
    seed: int = 0
    target: float = 0.0  # 0: exactly `rounds` rounds, whatever their spread
    max_time_s: float = 5.0
    max_warmup_ms: float = 0.0  # no longer than warmup_ms: no wait for the time to settle
    # Take the kernel tables (torch.profiler) of the workloads that have them, after each
    # mode's first process has timed its cases: several seconds a model step.
    kernel_tables: bool = True
    # (family, ((setting, value), ...)) for each family with settings of its own
    families: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    def for_family(self, family: str) -> Measure:
        """These settings with the family's own in place."""
        own = dict(self.families).get(family, ())
        return dataclasses.replace(self, families=(), **dict(own)) if own else self

    def fitted_to(self, round_s: float) -> Measure:
        """These settings for a case whose round lasts `round_s`: where `rounds` such rounds
        would overrun `max_time_s`, as few as fit, never under MIN_ROUNDS. A 0.8 s detector
        step then takes 3 rounds, not 8 (6 s past its cap); with `target` 0 the count
        stays exactly `rounds`."""
        if self.target <= 0 or round_s * self.rounds <= self.max_time_s:
            return self
        fit = max(MIN_ROUNDS, int(self.max_time_s / max(round_s, 1e-12) + 1e-9))
        return dataclasses.replace(self, rounds=min(self.rounds, fit))

    def takes_kernel_table(self, family: str, declared: bool) -> bool:
        """Whether a case of this family gets its kernel table: `kernel_tables` in a
        family's own table decides for all its cases (an investigation of scatter, say);
        otherwise the profile's `kernel_tables` takes those of the workloads that declare
        one (the model steps)."""
        own = dict(dict(self.families).get(family, ()))
        return own.get("kernel_tables", self.kernel_tables and declared)

    def processes_of(self, knob_mode: bool, processes: int) -> int:
        """How many of a run's `processes` a mode is measured in: all of them, or for a knob
        mode at most `knob_processes`."""
        if not knob_mode or self.knob_processes is None:
            return processes
        return min(processes, self.knob_processes)

    def describe(self) -> dict[str, Any]:
        """As a run's header stores it."""
        # knob_processes only where set: a run measured before the key resumes as it was
        return {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                   if f.name != "families"
                   and not (f.name == "knob_processes" and self.knob_processes is None)},
                "families": {family: dict(own) for family, own in self.families}}


# [measure] keys: (type, smallest value, words for the error).
RULES: dict[str, tuple[type, float, str]] = {
    "rounds": (int, 1, "an integer >= 1"),
    "min_round_ms": (float, 0.001, "a number of milliseconds > 0"),
    "warmup_ms": (float, 0, "a number of milliseconds >= 0"),
    "repeats": (int, 2, "an integer >= 2 (variance compares runs)"),
    "processes": (int, 1, "an integer >= 1"),
    "knob_processes": (int, 1, "an integer >= 1: processes for each mode other than "
                               "default and deterministic"),
    "seed": (int, 0, "an integer >= 0"),
    "target": (float, 0, "a share >= 0 (0.01: within +-1%; 0: exactly `rounds` rounds)"),
    "max_time_s": (float, 0.001, "a number of seconds > 0"),
    "max_warmup_ms": (float, 0, "a number of milliseconds >= 0"),
    "kernel_tables": (bool, 0, "true or false"),
}
# The settings a family may set for itself: how its cases are timed.
PER_FAMILY = ("rounds", "min_round_ms", "warmup_ms", "max_warmup_ms", "target", "max_time_s",
              "repeats", "kernel_tables")


def _check(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if key not in allowed:
        raise DetcostError(f"{where}: {unknown('setting', key, allowed)}")
    kind, least, words = RULES[key]
    if kind is bool:
        if not isinstance(value, bool):
            raise DetcostError(f"{where}: {key} = {value!r} is not allowed: {words}")
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (not number or (kind is int and not isinstance(value, int)) or value != value
            or value < least or value == float("inf")):
        raise DetcostError(f"{where}: {key} = {value!r} is not allowed: {words}")


def parse_measure(where: str, table: Any, families: tuple[str, ...]) -> Measure:
    """A `[measure]` table, every key and value checked (`families`: those that exist)."""
    if not isinstance(table, dict):
        raise DetcostError(f"{where}: [measure] must be a table, not {table!r}")
    own = table.get("family", {})
    if not isinstance(own, dict):
        raise DetcostError(f"{where} [measure]: family must be a table of tables, one per "
                           f"family, not {own!r}")
    per_family = []
    for family, settings in own.items():
        if family not in families:
            raise DetcostError(f"{where} [measure.family]: "
                               f"{unknown('family', family, families)}")
        if not isinstance(settings, dict):
            raise DetcostError(f"{where} [measure.family.{family}]: must be a table, not "
                               f"{settings!r}")
        for key, value in settings.items():
            _check(f"{where} [measure.family.{family}]", key, value, PER_FAMILY)
        per_family.append((family, tuple(sorted(settings.items()))))
    rest = {k: v for k, v in table.items() if k != "family"}
    for key, value in rest.items():
        _check(f"{where} [measure]", key, value, (*RULES, "family"))
    return Measure(**rest, families=tuple(sorted(per_family)))
