"""Timing: a clock that waits for the device, calibration of iterations per round, and the
rounds themselves through pytest-benchmark.

pytest-benchmark reads the clock before and after each round of `iterations` calls. With
`device_clock` as its timer (`--benchmark-timer detcost.worker.timing.device_clock`), both reads
wait for queued GPU work first, so a round measures the device work of its iterations.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch


def synchronize() -> None:
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


# Rank 0's value on every rank of a process group (the value itself in one process): the
# ranks of a collective must run the same steps, or one waits for the others for ever.
Agree = Callable[[Any], Any]


def alone(value: Any) -> Any:
    return value


def calibrate(step: Callable[[], Any], warmup_s: float, min_round_s: float,
              max_iterations: int = 10_000, agree: Agree = alone) -> Calibration:
    """Warm up for `warmup_s` (at least 3 runs: module load, autotuning, handle creation),
    then choose iterations so that one round lasts at least `min_round_s`. Under a process
    group, rank 0 decides when the warm-up ends and how many iterations a round has."""
    runs = 0
    start = device_clock()
    while agree(runs < 3 or device_clock() - start < warmup_s):
        step()
        runs += 1
    samples = []
    for _ in range(5):
        t0 = device_clock()
        step()
        samples.append(device_clock() - t0)
    single = max(statistics.median(samples), 1e-9)
    iterations = agree(min(max_iterations, max(1, math.ceil(min_round_s / single))))
    return Calibration(iterations, single, runs)


def time_rounds(benchmark: Any, step: Callable[[], Any], rounds: int,
                iterations: int) -> list[float]:
    """Time `rounds` rounds with pytest-benchmark; return the per-iteration time of each."""
    benchmark.pedantic(step, rounds=rounds, iterations=iterations, warmup_rounds=1)
    return list(benchmark.stats.stats.data)


def clock_round(step: Callable[[], Any], iterations: int) -> float:
    """One round as pytest-benchmark's runner times it with `device_clock`."""
    start = device_clock()
    for _ in range(iterations):
        step()
    return (device_clock() - start) / iterations


def event_round(step: Callable[[], Any], iterations: int) -> float:
    """The same round timed by CUDA events on the stream instead of the host clock."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        step()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3 / iterations


def interleaved_rounds(step: Callable[[], Any], rounds: int, iterations: int
                       ) -> tuple[list[float], list[float]]:
    """Clock rounds and event rounds taken in alternation (ABBA), so that a drift of the
    GPU's clocks or a burst of interference falls on both alike."""
    clock, events = [], []
    for r in range(rounds):
        if r % 2:
            events.append(event_round(step, iterations))
            clock.append(clock_round(step, iterations))
        else:
            clock.append(clock_round(step, iterations))
            events.append(event_round(step, iterations))
    return clock, events


def do_bench_median(step: Callable[[], Any]) -> float | None:
    """triton.testing.do_bench's median (it flushes L2 before every call), where triton is."""
    try:
        from triton.testing import do_bench
    except ImportError:
        return None
    return float(do_bench(step, warmup=25, rep=100, return_mode="median")) / 1e3


def validate_timer(step: Callable[[], Any], rounds: int, iterations: int,
                   suite_times: Sequence[float]) -> dict[str, Any]:
    """Time the step again in the same process, right after the suite's own rounds: the
    suite's clock and CUDA events in alternating rounds (the comparison that is judged),
    and do_bench. `suite_median_s` is what pytest-benchmark measured before them."""
    if not torch.cuda.is_available():
        return {"suite_median_s": statistics.median(suite_times), "clock_median_s": None,
                "events_median_s": None, "do_bench_median_s": None}
    clock, events = interleaved_rounds(step, max(rounds, 10), iterations)
    return {"suite_median_s": statistics.median(suite_times),
            "clock_median_s": statistics.median(clock),
            "events_median_s": statistics.median(events),
            "do_bench_median_s": do_bench_median(step)}
