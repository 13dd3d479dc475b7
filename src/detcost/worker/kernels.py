"""Where a step's device time goes: torch.profiler over a few steps, summed per kernel (on a
GPU) or per op (on a CPU), the costliest kept. Comparing two modes' tables names the kernels
that grew under deterministic mode (analysis.tables.kernel_growth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

# One profiled step, after the timing has warmed everything up: the profiler's own work
# grows with the events it keeps, and three steps of a float32 Faster R-CNN took 57 s on an
# H100 (a 32-token decode, 20 s), longer than the rest of the case.
STEPS = 1
TOP = 25  # entries kept per record
NAME_CHARS = 160  # kernel names are long template instantiations


def _self_seconds(event: Any, device: bool) -> float:
    """An event's own time in seconds: on the device (CUDA kernels), else on the CPU."""
    if device:
        micros = getattr(event, "self_device_time_total", None)
        if micros is None:  # torch before the device-neutral names
            micros = getattr(event, "self_cuda_time_total", 0.0)
    else:
        micros = event.self_cpu_time_total
    return float(micros) / 1e6


def kernel_times(step: Callable[[], Any], cuda: bool, steps: int = STEPS,
                 top: int = TOP) -> dict[str, float]:
    """Seconds per step of the `top` costliest kernels (CUDA) or ops (CPU)."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize()
    totals: dict[str, float] = {}
    for event in prof.key_averages():
        if cuda and event.device_type == DeviceType.CPU:
            continue  # an op: its "self" device time is its kernels' time, counted as them
        seconds = _self_seconds(event, cuda)
        if seconds > 0:
            name = event.key[:NAME_CHARS]
            totals[name] = totals.get(name, 0.0) + seconds / steps
    costliest = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {name: round(seconds, 9) for name, seconds in costliest}
