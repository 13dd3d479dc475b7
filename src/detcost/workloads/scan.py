"""Scans, histograms and selections: cumsum's 1-D scan switches to a fixed-order scan
under deterministic mode (multi-row scans were already deterministic); histc on floats and
median(dim) with indices raise; kthvalue no longer does (torch 2.10+)."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Problem, Setting, Work, Workload, memory_work

INDEX_BYTES = 8


def _rows(p: Mapping, s: Setting):
    rows, cols = int(p["rows"]), int(p["cols"])
    return s.randn(rows, cols) if rows > 1 else s.randn(cols)


def build_cumsum(p: Mapping, s: Setting) -> Problem:
    import torch

    x = _rows(p, s)
    return Problem(lambda: torch.cumsum(x, dim=-1), [x],
                   memory_work(x.numel(), x.numel(), s.torch_dtype.itemsize))


def build_histc(p: Mapping, s: Setting) -> Problem:
    import torch

    x, bins = _rows(p, s), int(p["bins"])
    return Problem(lambda: torch.histc(x, bins=bins, min=-4, max=4), [],
                   {"fwd": Work(bytes=(x.numel() + bins) * s.torch_dtype.itemsize)})


def _select(p: Mapping, s: Setting, kth: bool) -> Problem:
    """The indices are what can vary between runs: they are the output compared."""
    import torch

    x = _rows(p, s)
    k = max(1, int(p["cols"]) // 4)
    rows = x.shape[0] if x.dim() == 2 else 1
    forward = ((lambda: torch.kthvalue(x, k, dim=-1).indices) if kth
               else (lambda: torch.median(x, dim=-1).indices))
    return Problem(forward, [], {"fwd": Work(bytes=x.numel() * s.torch_dtype.itemsize
                                             + rows * INDEX_BYTES)})


def build_median(p: Mapping, s: Setting) -> Problem:
    return _select(p, s, kth=False)


def build_kthvalue(p: Mapping, s: Setting) -> Problem:
    return _select(p, s, kth=True)


_SHAPE = {"rows": 1, "cols": 1 << 24}

SCAN_WORKLOADS = [
    Workload("scan", "cumsum", "torch.cumsum along the last dim (rows = 1: one 1-D scan)",
             build_cumsum, params=dict(_SHAPE)),
    Workload("scan", "histc", "torch.histc of floats over [-4, 4]", build_histc,
             params={**_SHAPE, "bins": 1024}, passes=("fwd",)),
    Workload("scan", "median", "torch.median(dim=-1) indices", build_median,
             params={"rows": 4096, "cols": 4096}, passes=("fwd",)),
    Workload("scan", "kthvalue", "torch.kthvalue(k = cols/4, dim=-1) indices", build_kthvalue,
             params={"rows": 4096, "cols": 4096}, passes=("fwd",)),
]
