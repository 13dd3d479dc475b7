"""Run-to-run variance: digests of the outputs of repeated runs on the same inputs, how far
each repeat strays from the first (absolute, relative and in units in the last place), and
the error of the first against a float64 reference."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch


def _bits(t):
    """The tensor's bytes as an integer tensor of the same element width (bitwise view)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    width = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]
    return t.view(width)


# The digest is computed where the tensor lives: copying a GPU output of a gigabyte to the
# host and hashing it there took seconds per case, most of a run's variance phase. The tensor's
# bytes are read as 16-bit limbs and hashed with random weights modulo a prime (a universal
# hash: two different tensors collide with probability about 2/PRIME per hash, and two hashes
# with independent weights are kept). Every step is exact integer arithmetic, so the value does
# not depend on the order of any reduction, nor on the device: it is comparable across
# processes and machines.
PRIME = 2**31 - 1
ROW = 2**15  # limbs per row: (2^16 - 1) * (PRIME - 1) * ROW < 2^63, so no row sum overflows
ROWS_PER_BLOCK = 2**14  # rows weighted by one block vector; blocks get weights of their own
CHUNK_ROWS = 256  # rows hashed per kernel batch, bounding the temporary memory
_WEIGHTS: dict[tuple[int, str], tuple[Any, Any, Any]] = {}


def _weights(seed: int, device: Any):
    """Random weights (limb within a row, row within a block, block), made on the CPU from a
    fixed seed so that every process and machine uses the same ones."""
    key = (seed, str(device))
    if key not in _WEIGHTS:
        g = torch.Generator().manual_seed(seed)
        _WEIGHTS[key] = tuple(torch.randint(1, PRIME, (n,), generator=g,
                                            dtype=torch.int64).to(device)
                              for n in (ROW, ROWS_PER_BLOCK, 4096))
    return _WEIGHTS[key]


def fingerprint(t, seed: int) -> int:
    """A universal hash of the tensor's bytes modulo PRIME, computed on its device a chunk of
    rows at a time (the int64 limbs take four times the tensor's memory, so never all at
    once)."""
    limb_w, row_w, block_w = _weights(seed, t.device)
    raw = t.detach().contiguous().reshape(-1).view(torch.uint8)
    chunk_bytes = 2 * ROW * CHUNK_ROWS
    total = torch.zeros((), dtype=torch.int64, device=t.device)
    for offset in range(0, raw.numel(), chunk_bytes):
        part = raw[offset:offset + chunk_bytes]
        pad = -part.numel() % (2 * ROW)  # only the last chunk: zero bytes to whole rows
        if pad:
            part = torch.cat([part, part.new_zeros(pad)])
        rows = (part.view(torch.int16).to(torch.int64) & 0xFFFF).view(-1, ROW)
        sums = (rows * limb_w).sum(dim=1) % PRIME
        index = torch.arange(offset // (2 * ROW), offset // (2 * ROW) + rows.shape[0],
                             device=t.device)
        weights = row_w[index % ROWS_PER_BLOCK] * block_w[index // ROWS_PER_BLOCK] % PRIME
        total = (total + (sums * weights % PRIME).sum()) % PRIME
    return int(total)


def _hashed_on_host(t) -> bool:
    return t.device.type == "cpu"


def digest(tensors: Sequence[Any]) -> str:
    """sha256 over dtype, shape and content of every tensor, in order. A CPU tensor's bytes go
    into it directly (hashing on the host is fast there); a device tensor's content enters as
    two on-device fingerprints, so that only a few numbers leave the device. Comparable
    across processes and machines for tensors on the same kind of device."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        if _hashed_on_host(t):
            h.update(_bits(t).numpy().data)  # the buffer itself: no second copy
        else:
            h.update(f"{fingerprint(t, 1)}:{fingerprint(t, 2)};".encode())
    return h.hexdigest()


def bitwise_equal(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and torch.equal(_bits(x), _bits(y))
        for x, y in zip(a, b, strict=True))


def ulp_distance(a, b) -> int:
    """Largest distance in units in the last place between two float tensors of one dtype."""
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


def relative_error(out, ref) -> float | None:
    """||out - ref|| / ||ref|| in float64 (NaN propagates: it never passes); None where the
    two differ in shape (a detector keeps another number of boxes in float64)."""
    if out.shape != ref.shape:
        return None
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
                     reference: Callable[[list[Any]], list[Any] | None] | None = None
                     ) -> VarianceResult:
    """Run `step` `repeats` times on the same inputs and compare every output with the
    first, and the first with `reference(first)`: the float64 outputs of the same step (a
    reference may follow the measured outputs, as a decode follows its tokens). Distinct
    outputs are kept on the device and compared bitwise, so only the first is copied to the
    host (for its digest)."""
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
    error = error_against(first, reference(first)) if reference is not None else None
    return VarianceResult(repeats, len(distinct), digest(first), abs_d, rel_d, ulp, error)


def error_against(outputs: Sequence[Any], reference: Sequence[Any] | None) -> float | None:
    """The largest normwise error of the floating-point outputs against their float64
    reference; None without a reference or where a pair cannot be compared."""
    if reference is None:
        return None
    errors = [relative_error(o, r) for o, r in zip(outputs, reference, strict=True)
              if o.is_floating_point()]
    comparable = [e for e in errors if e is not None]
    return max(comparable, default=0.0) if len(comparable) == len(errors) else None
