"""The workload registry: every benchmarked op, by name; then the workloads installed
packages register, then a user's own (`file.py:NAME`, `module:NAME`; see user.py)."""

from __future__ import annotations

from ..errors import unknown
from .attention import ATTENTION_WORKLOADS
from .base import PASSES, Problem, Setting, Work, Workload, make_step
from .claims import CLAIM_WORKLOADS
from .conv import CONV_WORKLOADS
from .distributed import DISTRIBUTED_WORKLOADS
from .families import library_calls
from .invariance import INVARIANCE_WORKLOADS
from .loss import LOSS_WORKLOADS
from .matmul import MATMUL_WORKLOADS
from .models import MODEL_WORKLOADS
from .padding import PADDING_WORKLOADS
from .pooling import POOLING_WORKLOADS
from .resample import RESAMPLE_WORKLOADS
from .scan import SCAN_WORKLOADS
from .scatter import SCATTER_WORKLOADS
from .user import USER_FAMILY, entry_point_workloads, is_user_spec, load_user_workload
from .vision import VISION_WORKLOADS

WORKLOADS: dict[str, Workload] = {
    w.name: w for w in (*MATMUL_WORKLOADS, *CONV_WORKLOADS, *ATTENTION_WORKLOADS,
                        *SCATTER_WORKLOADS, *POOLING_WORKLOADS, *RESAMPLE_WORKLOADS,
                        *PADDING_WORKLOADS, *LOSS_WORKLOADS, *SCAN_WORKLOADS,
                        *VISION_WORKLOADS, *MODEL_WORKLOADS, *INVARIANCE_WORKLOADS,
                        *CLAIM_WORKLOADS, *DISTRIBUTED_WORKLOADS)
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(w.family for w in WORKLOADS.values()))
# Families whose worker is a torchrun launch of several ranks, not one process.
DISTRIBUTED_FAMILY = "distributed"


def case_calls(family_name: str, workload: str) -> tuple[str, ...]:
    """The libraries a case of this workload calls (a user's own: its family's list)."""
    known = WORKLOADS.get(workload)
    return library_calls(family_name, known.calls if known else None)


def get_workload(name: str) -> Workload:
    if name in WORKLOADS:
        return WORKLOADS[name]
    if is_user_spec(name):
        return load_user_workload(name)
    registered = entry_point_workloads()
    if name in registered:
        return registered[name]
    raise unknown("workload", name, [*WORKLOADS, *registered, "path/to/file.py:NAME"])


__all__ = ["DISTRIBUTED_FAMILY", "FAMILIES", "PASSES", "USER_FAMILY", "WORKLOADS", "Problem",
           "Setting", "Work", "Workload", "case_calls", "get_workload", "make_step"]
