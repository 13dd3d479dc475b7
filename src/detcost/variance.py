"""Run-to-run variance: digests of the outputs of repeated runs on the same inputs, how far
each repeat strays from the first (absolute, relative and in units in the last place), and
the error of the first against a float64 reference."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


def _bits(t):
    """The tensor's bytes as an integer tensor of the same element width (bitwise view)."""
    import torch

    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    width = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]
    return t.view(width)


def digest(tensors: Sequence[Any]) -> str:
    """sha256 over dtype, shape and bytes of every tensor, in order: comparable across
    processes and machines."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(_bits(t).cpu().numpy().data)  # the buffer itself: no second copy
    return h.hexdigest()


def bitwise_equal(a: Sequence[Any], b: Sequence[Any]) -> bool:
    import torch

    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and torch.equal(_bits(x), _bits(y))
        for x, y in zip(a, b, strict=True))


def ulp_distance(a, b) -> int:
    """Largest distance in units in the last place between two float tensors of one dtype."""
    import torch

    if not a.is_floating_point() or a.numel() == 0:
        return 0 if torch.equal(a, b) else int((a.long() - b.long()).abs().max())
    magnitude = (1 << (8 * a.element_size() - 1)) - 1

    def ordered(t):
        # Sign-magnitude bits to a monotonic integer line: negatives mirrored below zero.
        # The view is sign-extended by .long(), so a negative float is a negative integer.
        i = _bits(t).long()
        return torch.where(i < 0, -(i & magnitude), i)

    return int((ordered(a) - ordered(b)).abs().max())


def max_abs_diff(a, b) -> float:
    if a.numel() == 0:
        return 0.0
    return float((a.double() - b.double()).abs().max())


def max_rel_diff(a, b) -> float:
    """Largest absolute difference over the largest magnitude of the first run."""
    scale = float(a.double().abs().max()) if a.numel() else 0.0
    diff = max_abs_diff(a, b)
    return diff / scale if scale else diff


def relative_error(out, ref) -> float:
    """||out - ref|| / ||ref|| in float64 (NaN propagates: it never passes)."""
    import torch

    o, r = out.detach().double(), ref.detach().double().to(out.device)
    norm = torch.linalg.vector_norm(r)
    err = torch.linalg.vector_norm(o - r)
    return float(err / norm) if float(norm) else float(err)


@dataclass(frozen=True)
class VarianceResult:
    repeats: int
    distinct_digests: int
    digest: str  # of the first run
    max_abs_diff: float
    max_rel_diff: float
    max_ulp_diff: int
    error_vs_float64: float | None


def measure_variance(step: Callable[[], list[Any]], repeats: int,
                     reference: list[Any] | None = None) -> VarianceResult:
    """Run `step` `repeats` times on the same inputs and compare every output with the
    first. Distinct outputs are kept on the device and compared bitwise, so only the first
    is copied to the host (for its digest)."""
    if repeats < 2:
        raise ValueError("variance needs at least 2 repeats")
    first = [t.detach().clone() for t in step()]
    distinct = [first]
    abs_d = rel_d = 0.0
    ulp = 0
    for _ in range(repeats - 1):
        out = step()
        if any(bitwise_equal(out, seen) for seen in distinct):
            continue
        distinct.append([t.detach().clone() for t in out])
        for a, b in zip(first, out, strict=True):
            abs_d = max(abs_d, max_abs_diff(a, b))
            rel_d = max(rel_d, max_rel_diff(a, b))
            ulp = max(ulp, ulp_distance(a, b))
    error = None
    if reference is not None:
        error = max((relative_error(o, r) for o, r in zip(first, reference, strict=True)
                     if o.is_floating_point()), default=0.0)
    return VarianceResult(repeats, len(distinct), digest(first), abs_d, rel_d, ulp, error)
