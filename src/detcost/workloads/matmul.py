"""Matrix products through cuBLAS: torch.mm, F.linear (nn.Linear), torch.addmm, torch.bmm.

Deterministic mode changes no matmul kernel on torch 2.10+, but the knobs around it bear on
these ops: `CUBLAS_WORKSPACE_CONFIG` sizes cuBLAS's workspace (split-K reductions use it),
and the float32 matmul precision picks IEEE, TF32 or bf16x3 arithmetic. Skinny shapes (a
small M and N against a huge K) are where split-K and the workspace matter; decode shapes
(1 to 16 rows) are where a serving step spends its matmul time.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

OPS = ("mm", "linear", "addmm", "bmm")


def _work(batch: int, m: int, k: int, n: int, itemsize: int) -> dict[str, Work]:
    """Forward: 2MNK FLOPs, A, B read and C written. Backward: dA = dC B^T and dB = A^T dC,
    each as costly as the forward; reads dC, A, B and writes dA, dB."""
    flops = 2.0 * batch * m * n * k
    a, b, c = batch * m * k, batch * k * n, batch * m * n
    fwd = (a + b + c) * itemsize
    bwd = (c + a + b + a + b) * itemsize
    return {"fwd": Work(flops=flops, bytes=fwd), "fwdbwd": Work(flops=3 * flops,
                                                                bytes=fwd + bwd)}


def build_matmul(p: Mapping, s: Setting) -> Problem:
    import torch
    import torch.nn.functional as F

    op, m, k, n = str(p["op"]), int(p["m"]), int(p["k"]), int(p["n"])
    batch = int(p["batch"]) if op == "bmm" else 1
    scale = k**-0.5  # unit-variance outputs at any K
    if op == "bmm":
        a, b = s.randn(batch, m, k), s.randn(batch, k, n, scale=scale)
        return Problem(lambda: torch.bmm(a, b), [a, b],
                       _work(batch, m, k, n, s.torch_dtype.itemsize))
    a = s.randn(m, k)
    if op == "linear":  # nn.Linear stores its weight (out, in) and adds a bias
        w, bias = s.randn(n, k, scale=scale), s.randn(n)
        return Problem(lambda: F.linear(a, w, bias), [a, w, bias],
                       _work(1, m, k, n, s.torch_dtype.itemsize))
    b = s.randn(k, n, scale=scale)
    if op == "addmm":
        c = s.randn(m, n)
        return Problem(lambda: torch.addmm(c, a, b), [c, a, b],
                       _work(1, m, k, n, s.torch_dtype.itemsize))
    return Problem(lambda: torch.mm(a, b), [a, b], _work(1, m, k, n, s.torch_dtype.itemsize))


MATMUL_WORKLOADS = [
    Workload(
        "matmul", "matmul", "torch.mm, F.linear (nn.Linear, with bias), torch.addmm, or "
        "torch.bmm of (batch x) M x K by K x N",
        build_matmul,
        params={"op": Param("mm", OPS), "batch": 1, "m": 4096, "k": 4096, "n": 4096},
        precisions=("highest", "high", "medium"),
    ),
]
