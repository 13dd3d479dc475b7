"""The device's ceilings, measured in each worker before its first case: large matrix
products (bf16, TF32, IEEE float32) and a large device-to-device copy. Running them also
brings the GPU's clocks up from idle, so the first case is not measured cold.

Each default-mode case's throughput is later set against the ceiling that bounds it.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

MATMUL_N = 8192
COPY_BYTES = 2 << 30  # 2 GiB, far beyond any L2


def _events_time(fn, repeats: int) -> float:
    """Median seconds of fn() between CUDA events, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def _matmul_tflops(dtype, precision: str, n: int, repeats: int) -> float:
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        g = torch.Generator(device="cuda").manual_seed(0)
        a = torch.randn(n, n, device="cuda", generator=g).to(dtype)
        b = torch.randn(n, n, device="cuda", generator=g).to(dtype)
        seconds = _events_time(lambda: torch.mm(a, b), repeats)
    finally:
        torch.set_float32_matmul_precision(previous)
    return 2 * n**3 / seconds / 1e12


def _copy_gbs(nbytes: int, repeats: int) -> float:
    src = torch.empty(nbytes // 4, device="cuda").uniform_()
    dst = torch.empty_like(src)
    seconds = _events_time(lambda: dst.copy_(src), repeats)
    return 2 * nbytes / seconds / 1e9  # bytes read plus bytes written


def measure_ceilings(n: int = MATMUL_N, copy_bytes: int = COPY_BYTES,
                     repeats: int = 10) -> dict[str, Any]:
    """{'bf16_tflops', 'tf32_tflops', 'fp32_tflops', 'copy_gbs'}; empty without a GPU."""
    if not torch.cuda.is_available():
        return {}
    ceilings = {
        "bf16_tflops": _matmul_tflops(torch.bfloat16, "highest", n, repeats),
        "tf32_tflops": _matmul_tflops(torch.float32, "high", n, repeats),
        "fp32_tflops": _matmul_tflops(torch.float32, "highest", n // 2, repeats),
        "copy_gbs": _copy_gbs(copy_bytes, repeats),
        "method": f"median of {repeats} CUDA-event timings: {n}^3 matmuls, "
                  f"{copy_bytes >> 20} MiB copy (read + write counted)",
    }
    torch.cuda.empty_cache()
    return ceilings


def roofline(ceilings: dict[str, Any], flops: float, nbytes: float, dtype: str,
             precision: str, seconds: float) -> tuple[str, float | None]:
    """(the ceiling that bounds the case, floor time over measured time).

    The floor is the larger of FLOPs over the matmul rate of the case's numerics and bytes
    over the copy bandwidth: no implementation runs much faster. None without ceilings."""
    compute = compute_ceiling(dtype, precision)
    times = {}
    if flops and ceilings.get(compute):
        times[compute] = flops / (ceilings[compute] * 1e12)
    if nbytes and ceilings.get("copy_gbs"):
        times["copy_gbs"] = nbytes / (ceilings["copy_gbs"] * 1e9)
    if not times or seconds <= 0:
        return "", None
    bound = max(times, key=times.get)
    return bound, times[bound] / seconds


def compute_ceiling(dtype: str, precision: str) -> str:
    """The matmul rate that bounds arithmetic in these numerics."""
    if dtype in ("bfloat16", "float16"):
        return "bf16_tflops"
    return "fp32_tflops" if precision == "highest" else "tf32_tflops"
