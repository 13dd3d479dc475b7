"""Pooling, whose backward scatters gradients into overlapping windows: max_pool3d takes a
decomposition under deterministic mode; avg_pool3d, adaptive avg/max, fractional max pooling
and max_unpool raise (torch has no deterministic kernel for their backward, or for
max_unpool's forward). max_pool2d is the unaffected control."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Workload, memory_work

OPS = ("max_pool2d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
       "adaptive_max_pool2d", "fractional_max_pool2d", "fractional_max_pool3d",
       "max_unpool1d", "max_unpool2d", "max_unpool3d")


def _dims(op: str) -> int:
    return 1 if op.endswith("1d") else 3 if op.endswith("3d") else 2


def build_pool(p: Mapping, s: Setting) -> Problem:
    import torch
    import torch.nn.functional as F

    op, n, c, hw, depth, k = (p["op"], int(p["n"]), int(p["c"]), int(p["hw"]),
                              int(p["depth"]), int(p["k"]))
    dims = _dims(op)
    spatial = {1: (hw * hw,), 2: (hw, hw), 3: (depth, hw, hw)}[dims]
    x = s.randn(n, c, *spatial)
    out_size = tuple(max(1, d // k) for d in spatial)
    if op.startswith("max_unpool"):
        pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
        unpool = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}[dims]
        with torch.no_grad():
            y, idx = pool(x, k, return_indices=True)
        y = y.detach().clone()
        return Problem(lambda: unpool(y, idx, k, output_size=spatial), [y],
                       memory_work(y.numel(), x.numel(), s.torch_dtype.itemsize,
                                   idx.numel() * 8))
    if op.startswith("fractional"):
        # Fixed samples: the op would otherwise draw new windows on every call.
        samples = torch.rand(n, c, dims, generator=s.generator,
                             device=s.device).to(s.torch_dtype)
        fn = F.fractional_max_pool2d if dims == 2 else F.fractional_max_pool3d
        forward = lambda: fn(x, k, output_size=out_size, _random_samples=samples)  # noqa: E731
    elif op.startswith("adaptive"):
        fn = {"adaptive_avg_pool2d": F.adaptive_avg_pool2d,
              "adaptive_avg_pool3d": F.adaptive_avg_pool3d,
              "adaptive_max_pool2d": F.adaptive_max_pool2d}[op]
        # An output size that does not divide the input: windows overlap.
        odd = tuple(max(2, d * 2 // (3 * k)) for d in spatial)
        forward = lambda: fn(x, odd)  # noqa: E731
    else:
        fn = {"max_pool2d": F.max_pool2d, "max_pool3d": F.max_pool3d,
              "avg_pool3d": F.avg_pool3d}[op]
        forward = lambda: fn(x, k, stride=max(1, k // 2))  # noqa: E731 overlapping windows
    with torch.no_grad():
        out = forward()
    return Problem(forward, [x], memory_work(x.numel(), out.numel(), s.torch_dtype.itemsize))


POOLING_WORKLOADS = [
    Workload("pooling", "pool", "torch.nn.functional pooling: max, avg, adaptive, fractional "
             "max, and max_unpool", build_pool,
             params={"op": Param("max_pool3d", OPS), "n": 16, "c": 64, "hw": 56, "depth": 16,
                     "k": 3},
             check=lambda p: (f"k = {p['k']} is larger than the input"
                              if p["k"] > min(p["hw"], p["depth"]) else None)),
]
