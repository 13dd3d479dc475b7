"""Where a profile's case group is measured: in which modes, and in how many of each mode's
processes. A profile says it per `[[cases]]` group, as data beside the cases:

    [[cases]]
    workload = "resnet"
    params = { batch = 64 }
    modes = ["default", "deterministic"]   # the knob modes leave these cases out
    processes = 1                          # the first process of a mode only

A group without either is measured in every mode that can act on it (modes.Mode.acts_on)
and in every process of the run. `full` uses it to fit its audit on one GPU: the knob modes
time the model steps at the batch where the GPU is busy, not every variant of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DetcostError, unknown
from .modes import MODES

KEYS = ("modes", "processes")


@dataclass(frozen=True)
class Scope:
    modes: tuple[str, ...] | None = None  # None: every mode
    processes: int | None = None  # None: every process of the run

    def measures(self, mode: str, process: int = 1) -> bool:
        """Whether a case of this scope is measured in this process of this mode."""
        return ((self.modes is None or mode in self.modes)
                and (self.processes is None or process <= self.processes))

    def widest(self, other: Scope) -> Scope:
        """The scope of a case that two groups name: measured wherever either measures it."""
        modes = (None if self.modes is None or other.modes is None
                 else tuple(dict.fromkeys(self.modes + other.modes)))
        processes = (None if self.processes is None or other.processes is None
                     else max(self.processes, other.processes))
        return Scope(modes, processes)


EVERYWHERE = Scope()


def parse_scope(where: str, group: dict[str, Any]) -> Scope:
    """A group's `modes` and `processes`, checked: known mode names, a count of at least 1."""
    modes = group.get("modes")
    if modes is not None:
        names = modes if isinstance(modes, list) else [modes]
        if not names:
            raise DetcostError(f"{where}: modes = [] measures nothing: name modes from "
                               f"{', '.join(MODES)}, or leave the key out for every mode")
        for name in names:
            if not isinstance(name, str) or name not in MODES:
                raise DetcostError(f"{where}: {unknown('mode', name, tuple(MODES))}")
        modes = tuple(names)
    processes = group.get("processes")
    if processes is not None and (isinstance(processes, bool) or not isinstance(processes, int)
                                  or processes < 1):
        raise DetcostError(f"{where}: processes = {processes!r} is not allowed (an integer "
                           ">= 1: how many of each mode's processes measure the group)")
    return Scope(modes, processes)
