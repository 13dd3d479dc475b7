"""Timing: a clock that waits for the device, calibration of iterations per round, and the
rounds themselves through pytest-benchmark.

pytest-benchmark reads the clock before and after each round of `iterations` calls. With
`device_clock` as its timer (`--benchmark-timer detcost.timing.device_clock`), both reads
wait for queued GPU work first, so a round measures the device work of its iterations.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

TIMER_PATH = "detcost.timing.device_clock"


def synchronize() -> None:
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def device_clock() -> float:
    """perf_counter, read once queued device work is done."""
    synchronize()
    return time.perf_counter()


@dataclass(frozen=True)
class Calibration:
    iterations: int
    single_s: float  # median time of one step after warm-up
    warmup_runs: int


def calibrate(step: Callable[[], Any], warmup_s: float, min_round_s: float,
              max_iterations: int = 10_000) -> Calibration:
    """Warm up for `warmup_s` (at least 3 runs: module load, autotuning, handle creation),
    then choose iterations so that one round lasts at least `min_round_s`."""
    runs = 0
    start = device_clock()
    while runs < 3 or device_clock() - start < warmup_s:
        step()
        runs += 1
    samples = []
    for _ in range(5):
        t0 = device_clock()
        step()
        samples.append(device_clock() - t0)
    single = max(statistics.median(samples), 1e-9)
    iterations = min(max_iterations, max(1, math.ceil(min_round_s / single)))
    return Calibration(iterations, single, runs)


def time_rounds(benchmark: Any, step: Callable[[], Any], rounds: int,
                iterations: int) -> list[float]:
    """Time `rounds` rounds with pytest-benchmark; return the per-iteration time of each."""
    benchmark.pedantic(step, rounds=rounds, iterations=iterations, warmup_rounds=1)
    return list(benchmark.stats.stats.data)


def median_iqr(samples: Sequence[float]) -> tuple[float, float]:
    """Median and inter-quartile range (the statistics detcost quotes, never the mean)."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return samples[0], 0.0
    q1, q2, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q2, q3 - q1
