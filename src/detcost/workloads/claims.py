"""Workloads that exist to test common claims about determinism (claims.py judges them):

- `dropout`: dropout in training mode with the seed set before every call. Is the mask the
  same in every repeat and in a second process?
- `after_allocations`: the same op on the same values after a different history of
  allocations (`history`: fresh, or after many odd-sized blocks were allocated and every
  other one freed, so the caching allocator hands out other addresses). Does its result
  change?
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

ALLOCATION_OPS = ("matmul", "sum", "conv2d")


def build_dropout(p: Mapping, s: Setting) -> Problem:
    import torch
    import torch.nn.functional as F

    n, rate = int(p["n"]), float(p["rate"])
    x = s.randn(n)

    def forward():
        torch.manual_seed(s.seed)  # as a training script seeds before its step
        return F.dropout(x, rate, training=True)

    return Problem(forward, [x], {"fwd": Work(bytes=2.0 * n * s.torch_dtype.itemsize),
                                  "fwdbwd": Work(bytes=4.0 * n * s.torch_dtype.itemsize)})


def _fragment(s: Setting, blocks: int) -> list:
    """Allocate `blocks` odd-sized tensors and free every other one; the survivors are kept
    (by the problem) so the holes stay while the case runs."""
    import torch

    sizes = torch.randint(1, 1 << 20, (blocks,), generator=torch.Generator().manual_seed(7))
    held = [torch.empty(int(k), dtype=torch.uint8, device=s.device) for k in sizes]
    return held[::2]


def build_after_allocations(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    op, n = p["op"], int(p["n"])
    held = _fragment(s, int(p["blocks"])) if p["history"] == "fragmented" else []
    item = s.torch_dtype.itemsize
    if op == "matmul":
        a, b = s.randn(n, n), s.randn(n, n, scale=n ** -0.5)
        forward, work = (lambda: a @ b), Work(flops=2.0 * n ** 3, bytes=3.0 * n * n * item)
    elif op == "sum":
        x = s.randn(n * n)
        forward, work = (lambda: x.sum()), Work(bytes=float(n * n * item))
    else:
        x, w = s.randn(8, 64, n // 8, n // 8), s.randn(64, 64, 3, 3, scale=(64 * 9) ** -0.5)
        forward = lambda: F.conv2d(x, w, padding=1)  # noqa: E731
        work = Work(flops=2.0 * 8 * 64 * 64 * 9 * (n // 8) ** 2, bytes=2.0 * x.numel() * item)

    def step():
        _ = held  # keeps the holes in the allocator's pool for as long as the step lives
        return forward()

    return Problem(step, [], {"fwd": work})


CLAIM_WORKLOADS = [
    Workload("claims", "dropout", "F.dropout in training mode, torch.manual_seed before each "
             "call", build_dropout,
             params={"n": 1 << 24, "rate": Param(0.1, minimum=0.0, maximum=1.0)}, calls=(),
             check=lambda p: "rate must be below 1" if p["rate"] >= 1 else None),
    Workload("claims", "after_allocations", "one op on the same values, fresh or after a "
             "fragmenting allocation history", build_after_allocations,
             params={"op": Param("matmul", ALLOCATION_OPS),
                     "history": Param("fresh", ("fresh", "fragmented")), "n": 4096,
                     "blocks": 512},
             passes=("fwd",),
             check=lambda p: "n must be at least 8" if p["n"] < 8 else None),
]
