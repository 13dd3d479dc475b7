"""Batch invariance: does the result for one request change with the batch it is served in?

Each workload builds a batch whose first row (or sequence) is the same whatever the batch
size, and returns only that row's result. The cases of one workload that differ only in
`batch` then hold one digest each for the same request: if the digests differ, the op is not
batch-invariant (frame.batch_invariance compares them). Deterministic mode promises the same
output for the same inputs, and a different batch is a different input, so it promises
nothing here: kernels pick tiles, split-K and reduction orders by shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload
from .language import gpt_problem
from .models import MODEL_PRECISIONS

BATCHES = (1, 8, 64)


def served_rows(s: Setting, batch: int, *shape: int):
    """(batch, *shape) inputs whose first row is drawn first, alone: identical for every
    batch size (a generator fills one large draw in a size-dependent order on a GPU)."""
    import torch

    first = s.randn(1, *shape)
    return torch.cat([first, s.randn(batch - 1, *shape)]) if batch > 1 else first


def build_row_matmul(p: Mapping, s: Setting) -> Problem:
    batch, k, n = int(p["batch"]), int(p["k"]), int(p["n"])
    w = s.randn(k, n, scale=k ** -0.5)
    x = served_rows(s, batch, k)
    item = s.torch_dtype.itemsize
    return Problem(lambda: (x @ w)[0], [], {"fwd": Work(
        flops=2.0 * batch * k * n, bytes=(batch * k + k * n + batch * n) * item)})


def _rowwise(op: str):
    def build(p: Mapping, s: Setting) -> Problem:
        import torch
        import torch.nn.functional as F

        batch, n = int(p["batch"]), int(p["n"])
        weight, bias = s.randn(n), s.randn(n)  # before the rows: the same for every batch
        x = served_rows(s, batch, n)
        if op == "softmax":
            forward = lambda: torch.softmax(x, dim=-1)[0]  # noqa: E731
        else:
            forward = lambda: F.layer_norm(x, (n,), weight, bias)[0]  # noqa: E731
        return Problem(forward, [], {"fwd": Work(bytes=2.0 * batch * n
                                                 * s.torch_dtype.itemsize)})

    return build


def build_lm_serve(p: Mapping, s: Setting) -> Problem:
    """The language model (models.gpt) serving `batch` prompts, the first one fixed:
    prefill logits, or the greedy decode's logits, of that first prompt only."""
    import torch

    batch, seq, vocab = int(p["batch"]), int(p["seq"]), int(p["vocab"])
    first = s.randint(vocab, 1, seq + 1)
    ids = torch.cat([first, s.randint(vocab, batch - 1, seq + 1)]) if batch > 1 else first
    problem = gpt_problem({**p, "compile": "eager"}, s, ids)
    served = problem.forward
    work = problem.work["fwd"]
    return Problem(lambda: served()[0], [], {"fwd": work})


_FWD = ("fwd",)
_BATCH = 8  # any batch size; the profiles serve BATCHES

INVARIANCE_WORKLOADS = [
    Workload("invariance", "row_matmul", "one row of x @ W, x served in a batch of 1, 8 or "
             "64 rows", build_row_matmul,
             params={"batch": _BATCH, "k": 4096, "n": 4096}, passes=_FWD,
             precisions=MODEL_PRECISIONS),
    Workload("invariance", "row_softmax", "one row of a softmax over the last dimension, in a "
             "batch of rows", _rowwise("softmax"),
             params={"batch": _BATCH, "n": 32768}, passes=_FWD, calls=()),
    Workload("invariance", "row_layernorm", "one row of layer_norm, in a batch of rows",
             _rowwise("layer_norm"), params={"batch": _BATCH, "n": 4096}, passes=_FWD,
             calls=()),  # reductions of their own: no cuBLAS, so no knob mode acts
    Workload("invariance", "lm_serve", "the language model (gpt) serving one prompt in a "
             "batch of prompts: that prompt's prefill or decode logits",
             build_lm_serve,
             params={"phase": Param("prefill", ("prefill", "decode")), "batch": _BATCH,
                     "seq": 512, "new_tokens": 16, "vocab": 32000, "hidden": 768,
                     "layers": 12, "heads": 12},
             passes=_FWD, precisions=MODEL_PRECISIONS,
             check=lambda p: (f"hidden = {p['hidden']} must be a multiple of heads = "
                              f"{p['heads']}" if p["hidden"] % p["heads"] else None)),
]
