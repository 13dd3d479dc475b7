"""Attention: scaled_dot_product_attention with each backend forced, and nn.MultiheadAttention.

Deterministic mode changes the backward of FLASH (ordered dQ accumulation) and EFFICIENT
(no split over keys), and removes cuDNN attention from selection altogether. MATH is
unaffected: it is the control case.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

BACKENDS = ("flash", "efficient", "cudnn", "math")
_HALF_ONLY = ("flash", "cudnn")


def sdpa_backend(name: str):
    from torch.nn.attention import SDPBackend

    table = {
        "flash": SDPBackend.FLASH_ATTENTION,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "cudnn": SDPBackend.CUDNN_ATTENTION,
        "math": SDPBackend.MATH,
    }
    if name not in table:
        raise ValueError(f"backend must be one of {BACKENDS}, not {name!r}")
    return table[name]


def attention_flops(batch: int, heads: int, seq: int, head_dim: int, causal: bool) -> float:
    flops = 4.0 * batch * heads * seq * seq * head_dim  # QK^T and PV
    return flops / 2 if causal else flops


def build_sdpa(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F
    from torch.nn.attention import sdpa_kernel

    b, h, seq, d = (int(p[x]) for x in ("batch", "heads", "seq", "head_dim"))
    causal = bool(p["causal"])
    # The float64 reference can only run on MATH.
    backend = sdpa_backend("math" if s.reference else str(p["backend"]))
    q, k, v = (s.randn(b, h, seq, d) for _ in range(3))

    def forward():
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    fwd = attention_flops(b, h, seq, d, causal)
    # The least work: backward does four matmuls to the forward's two (FlashAttention's
    # recomputation of QK^T is its own choice, and is not counted as work). Bytes: q, k, v
    # read and o written; backward reads q, k, v, o, do and writes dq, dk, dv.
    tensor = q.numel() * s.torch_dtype.itemsize
    return Problem(forward, [q, k, v], {"fwd": Work(flops=fwd, bytes=4 * tensor),
                                        "fwdbwd": Work(flops=3 * fwd, bytes=12 * tensor)})


def skip_sdpa(p: Mapping, dtype: str) -> str | None:
    if p["backend"] in _HALF_ONLY and dtype == "float32":
        return f"{p['backend']} attention runs in float16/bfloat16 only"
    return None


def build_mha(p: Mapping, s: Setting) -> Problem:
    import torch

    b, seq, e, h = (int(p[x]) for x in ("batch", "seq", "embed", "heads"))
    mha = torch.nn.MultiheadAttention(e, h, batch_first=True, device=s.device,
                                      dtype=s.torch_dtype)
    params = [param for _, param in sorted(mha.named_parameters())]
    with torch.no_grad():
        for param in params:
            param.copy_(s.randn(*param.shape, scale=e**-0.5))
    mha.eval()  # dropout is 0 anyway; eval lets inference take torch's fast path
    x = s.randn(b, seq, e)

    def forward():
        return mha(x, x, x, need_weights=False)[0]

    projections = 2.0 * b * seq * e * e * 4  # q, k, v and out projections
    attention = attention_flops(b, h, seq, e // h, causal=False)
    # Bytes: x and the weights read, the output written (the least any implementation moves).
    moved = (2 * x.numel() + 4 * e * e) * s.torch_dtype.itemsize
    return Problem(forward, [x, *params], {
        "fwd": Work(flops=projections + attention, bytes=moved),
        "fwdbwd": Work(flops=3 * (projections + attention), bytes=3 * moved),
    })


ATTENTION_WORKLOADS = [
    Workload(
        "attention", "sdpa", "F.scaled_dot_product_attention with one backend forced",
        build_sdpa,
        params={"batch": 4, "heads": 16, "seq": 2048, "head_dim": 128, "causal": False,
                "backend": Param("flash", BACKENDS)},
        precisions=("highest", "high", "medium"),
        skip=skip_sdpa,
    ),
    Workload(
        "attention", "mha", "nn.MultiheadAttention (batch_first, need_weights=False)",
        build_mha,
        params={"batch": 8, "seq": 1024, "embed": 1024, "heads": 16},
        precisions=("highest", "high", "medium"),
        check=lambda p: (f"embed = {p['embed']} must be a multiple of heads = {p['heads']}"
                         if p["embed"] % p["heads"] else None),
    ),
]
