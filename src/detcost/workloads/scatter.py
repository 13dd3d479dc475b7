"""Scatter, index and embedding ops. By default CUDA accumulates with atomics (fast, order
varies from run to run); deterministic mode sorts the indices and reduces segments in a
fixed order, or raises where torch has no deterministic kernel. Each is swept over the
number of destination bins: few bins means many colliding indices.

Ops run out of place on a random destination, so every iteration does the same work and
the inputs are never zeros.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

INDEX_BYTES = 8  # int64


def _scatter_work(src_elems: int, index_elems: int, dest_elems: int, itemsize: int) -> dict:
    src, index, dest = src_elems * itemsize, index_elems * INDEX_BYTES, dest_elems * itemsize
    fwd = src + index + 2 * dest  # read src, index and destination, write the result
    # backward: read the output gradient, gather it through the index into the src gradient,
    # copy it into the destination gradient.
    bwd = 2 * dest + index + src
    return {"fwd": Work(bytes=fwd), "fwdbwd": Work(bytes=fwd + bwd)}


def _flat(p: Mapping, s: Setting):
    """A 1-D random destination of `bins`, a source of `size`, an index into the
    destination, and the work of scattering one into the other."""
    size, bins = int(p["size"]), int(p["bins"])
    return (s.randn(bins), s.randn(size), s.randint(bins, size),
            _scatter_work(size, size, bins, s.torch_dtype.itemsize))


def _rows(p: Mapping, s: Setting):
    """The same for rows of `width`: a (bins, width) destination, a (rows, width) source."""
    rows, bins, width = int(p["rows"]), int(p["bins"]), int(p["width"])
    return (s.randn(bins, width), s.randn(rows, width), s.randint(bins, rows),
            _scatter_work(rows * width, rows, bins * width, s.torch_dtype.itemsize))


def build_scatter_add(p: Mapping, s: Setting) -> Problem:
    import torch

    dest, src, index, work = _flat(p, s)
    return Problem(lambda: torch.scatter_add(dest, 0, index, src), [dest, src],
                   work)


def build_scatter_reduce(p: Mapping, s: Setting) -> Problem:
    import torch

    reduce = str(p["reduce"])
    dest, src, index, work = _flat(p, s)
    return Problem(lambda: torch.scatter_reduce(dest, 0, index, src, reduce=reduce),
                   [dest, src], work)


def build_index_add(p: Mapping, s: Setting) -> Problem:
    import torch

    dest, src, index, work = _rows(p, s)
    return Problem(lambda: torch.index_add(dest, 0, index, src), [dest, src],
                   work)


def build_scatter(p: Mapping, s: Setting) -> Problem:
    """Tensor.scatter with a src tensor and no reduction: colliding writes race."""
    import torch

    dest, src, index, work = _flat(p, s)
    return Problem(lambda: torch.scatter(dest, 0, index, src), [dest, src],
                   work)


def build_index_copy(p: Mapping, s: Setting) -> Problem:
    import torch

    dest, src, index, work = _rows(p, s)
    return Problem(lambda: torch.index_copy(dest, 0, index, src), [dest, src],
                   work)


def build_index_reduce(p: Mapping, s: Setting) -> Problem:
    reduce = str(p["reduce"])
    dest, src, index, work = _rows(p, s)
    with warnings.catch_warnings():  # torch warns once per process that it is in beta
        warnings.simplefilter("ignore", UserWarning)
        dest.index_reduce(0, index[:1], src[:1], reduce)
    return Problem(lambda: dest.index_reduce(0, index, src, reduce), [],
                   work)


def build_gather(p: Mapping, s: Setting) -> Problem:
    """gather reads through the index; its backward scatter-adds into the source."""
    import torch

    size, bins = int(p["size"]), int(p["bins"])
    src, index = s.randn(bins), s.randint(bins, size)
    return Problem(lambda: torch.gather(src, 0, index), [src],
                   _scatter_work(size, size, bins, s.torch_dtype.itemsize))


def build_index_select(p: Mapping, s: Setting) -> Problem:
    """index_select gathers rows; its backward index_adds them into the source."""
    import torch

    rows, bins, width = int(p["rows"]), int(p["bins"]), int(p["width"])
    src, index = s.randn(bins, width), s.randint(bins, rows)
    return Problem(lambda: torch.index_select(src, 0, index), [src],
                   _scatter_work(rows * width, rows, bins * width, s.torch_dtype.itemsize))


def build_repeat_interleave(p: Mapping, s: Setting) -> Problem:
    """Rows repeated 1 to 2 x `repeats` times each; the backward sums them back."""
    import torch

    bins, width, repeats = int(p["bins"]), int(p["width"]), int(p["repeats"])
    src = s.randn(bins, width)
    counts = s.randint(2 * repeats, bins) + 1
    total = int(counts.sum())
    return Problem(lambda: torch.repeat_interleave(src, counts, dim=0, output_size=total),
                   [src], _scatter_work(total * width, bins, bins * width,
                                        s.torch_dtype.itemsize))


def build_index_put(p: Mapping, s: Setting) -> Problem:
    accumulate = bool(p["accumulate"])
    dest, values, index, work = _flat(p, s)
    return Problem(lambda: dest.index_put((index,), values, accumulate=accumulate),
                   [dest, values], work)


def build_bincount(p: Mapping, s: Setting) -> Problem:
    import torch

    size, bins, weighted = int(p["size"]), int(p["bins"]), bool(p["weighted"])
    index = s.randint(bins, size)
    weights = s.rand(size) if weighted else None
    itemsize = s.torch_dtype.itemsize if weighted else 0
    counts = torch.bincount  # local name keeps the closure small
    work = Work(bytes=size * (INDEX_BYTES + itemsize) + bins * 8)
    return Problem(lambda: counts(index, weights=weights, minlength=bins), [],
                   {"fwd": work})


def build_put(p: Mapping, s: Setting) -> Problem:
    accumulate = bool(p["accumulate"])
    dest, values, index, work = _flat(p, s)
    return Problem(lambda: dest.put(index, values, accumulate=accumulate), [dest, values],
                   work)


def skip_bincount(p: Mapping, dtype: str) -> str | None:
    if not p["weighted"] and dtype != "float32":
        return "unweighted bincount counts integers: the dtype has no effect"
    return None


def build_embedding(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    num, dim, tokens = int(p["num"]), int(p["dim"]), int(p["tokens"])
    weight, index = s.randn(num, dim), s.randint(num, tokens)
    if p["indices"] == "skewed":  # 90% of the tokens hit 8 rows: few unique, many repeats
        hot = s.randint(min(8, num), tokens)
        index = index.where(s.rand(tokens) >= 0.9, hot)
    item = s.torch_dtype.itemsize
    fwd = tokens * INDEX_BYTES + 2 * tokens * dim * item  # gather rows, write them
    # backward: read the output gradient and indices, write the dense weight gradient.
    bwd = tokens * dim * item + tokens * INDEX_BYTES + num * dim * item
    return Problem(lambda: F.embedding(index, weight), [weight],
                   {"fwd": Work(bytes=fwd), "fwdbwd": Work(bytes=fwd + bwd)})


def build_embedding_bag(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    num, dim = int(p["num"]), int(p["dim"])
    bags, bag_size, mode = int(p["bags"]), int(p["bag_size"]), str(p["mode"])
    weight, index = s.randn(num, dim), s.randint(num, bags, bag_size)
    item = s.torch_dtype.itemsize
    lookups = bags * bag_size
    fwd = lookups * (INDEX_BYTES + dim * item) + bags * dim * item
    bwd = bags * dim * item + lookups * INDEX_BYTES + num * dim * item
    return Problem(lambda: F.embedding_bag(index, weight, mode=mode), [weight],
                   {"fwd": Work(bytes=fwd), "fwdbwd": Work(bytes=fwd + bwd)})


_FLOATS = ("float32", "bfloat16", "float16")
SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")

SCATTER_WORKLOADS = [
    Workload("scatter", "scatter_add", "torch.scatter_add (Tensor.scatter_add_) along dim 0",
             build_scatter_add, params={"size": 1 << 24, "bins": 1 << 10}),
    Workload("scatter", "scatter_reduce", "torch.scatter_reduce, include_self=True",
             build_scatter_reduce, params={"size": 1 << 24, "bins": 1 << 10,
                                                 "reduce": Param("sum", SCATTER_REDUCTIONS)}),
    Workload("scatter", "index_add", "torch.index_add (Tensor.index_add_) of rows",
             build_index_add, params={"rows": 1 << 16, "bins": 1 << 10, "width": 256}),
    Workload("scatter", "scatter", "Tensor.scatter with a src tensor (no reduction)",
             build_scatter, params={"size": 1 << 24, "bins": 1 << 10}),
    Workload("scatter", "index_copy", "torch.index_copy (Tensor.index_copy_) of rows",
             build_index_copy, params={"rows": 1 << 16, "bins": 1 << 10, "width": 256}),
    Workload("scatter", "index_reduce", "Tensor.index_reduce of rows, include_self=True",
             build_index_reduce,
             params={"rows": 1 << 16, "bins": 1 << 10, "width": 256,
                     "reduce": Param("prod", ("prod", "mean", "amax", "amin"))},
             passes=("fwd",)),
    Workload("scatter", "gather", "torch.gather along dim 0 (backward: scatter_add)",
             build_gather, params={"size": 1 << 24, "bins": 1 << 10}),
    Workload("scatter", "index_select", "torch.index_select of rows (backward: index_add)",
             build_index_select, params={"rows": 1 << 16, "bins": 1 << 10, "width": 256}),
    Workload("scatter", "repeat_interleave", "torch.repeat_interleave of rows by random "
             "counts (backward: index_add)", build_repeat_interleave,
             params={"bins": 1 << 14, "width": 256, "repeats": 4}),
    Workload("scatter", "index_put", "Tensor.index_put_ (x[idx] = v, or += with accumulate), "
             "1-D", build_index_put,
             params={"size": 1 << 24, "bins": 1 << 10, "accumulate": True}),
    Workload("scatter", "put", "Tensor.put_ into the flattened destination",
             build_put, params={"size": 1 << 24, "bins": 1 << 10, "accumulate": True}),
    Workload("scatter", "bincount", "torch.bincount, optionally weighted",
             build_bincount, params={"size": 1 << 24, "bins": 1 << 10, "weighted": False},
             passes=("fwd",), dtypes=_FLOATS, skip=skip_bincount),
    Workload("scatter", "embedding", "F.embedding (nn.Embedding); its backward accumulates",
             build_embedding, params={"num": 1 << 10, "dim": 256, "tokens": 1 << 16,
                                      "indices": Param("uniform", ("uniform", "skewed"))}),
    Workload("scatter", "embedding_bag", "F.embedding_bag (nn.EmbeddingBag)",
             build_embedding_bag,
             params={"num": 1 << 10, "dim": 256, "bags": 1 << 12, "bag_size": 16,
                     "mode": Param("sum", ("sum", "mean", "max"))}),
]
