"""Padding, whose backward folds the padded border back onto the input: reflection pads
2-D has a deterministic kernel, replication pads take a decomposition under deterministic
mode, and reflection 1-D and 3-D raise in their backward."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Workload, memory_work


def build_pad(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    mode, dims, n, c, hw, depth, pad = (p["mode"], int(p["dims"]), int(p["n"]), int(p["c"]),
                                        int(p["hw"]), int(p["depth"]), int(p["pad"]))
    spatial = {1: (hw * hw,), 2: (hw, hw), 3: (depth, hw, hw)}[dims]
    x = s.randn(n, c, *spatial)
    widths = (pad,) * (2 * dims)
    out = n * c
    for d in spatial:
        out *= d + 2 * pad
    return Problem(lambda: F.pad(x, widths, mode=mode), [x],
                   memory_work(x.numel(), out, s.torch_dtype.itemsize))


def _check(p: Mapping) -> str | None:
    if p["dims"] > 3:
        return "dims must be 1, 2 or 3"
    if p["mode"] == "reflect" and p["pad"] >= min(p["hw"], p["depth"]):
        return f"pad = {p['pad']} must be smaller than the input for reflection"
    return None


PADDING_WORKLOADS = [
    Workload("padding", "pad", "F.pad (nn.ReflectionPadNd, nn.ReplicationPadNd) over 1, 2 or "
             "3 spatial dims", build_pad,
             params={"mode": Param("reflect", ("reflect", "replicate")), "dims": 2, "n": 16,
                     "c": 64, "hw": 64, "depth": 16, "pad": 3},
             check=_check),
]
