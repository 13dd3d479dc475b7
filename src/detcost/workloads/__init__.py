"""The workload registry: every benchmarked op, by name."""

from __future__ import annotations

from ..errors import unknown
from .attention import ATTENTION_WORKLOADS
from .base import PASSES, Problem, Setting, Work, Workload, make_step
from .conv import CONV_WORKLOADS
from .scatter import SCATTER_WORKLOADS

WORKLOADS: dict[str, Workload] = {
    w.name: w for w in (*CONV_WORKLOADS, *ATTENTION_WORKLOADS, *SCATTER_WORKLOADS)
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(w.family for w in WORKLOADS.values()))


def get_workload(name: str) -> Workload:
    try:
        return WORKLOADS[name]
    except KeyError:
        raise unknown("workload", name, list(WORKLOADS)) from None


__all__ = ["FAMILIES", "PASSES", "WORKLOADS", "Problem", "Setting", "Work", "Workload",
           "get_workload", "make_step"]
