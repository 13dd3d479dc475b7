"""Timing: a clock that waits for the device, calibration of iterations per round, and the
rounds themselves through pytest-benchmark.

pytest-benchmark reads the clock before and after each round of `iterations` calls. With
`device_clock` as its timer (`--benchmark-timer detcost.worker.timing.device_clock`), both reads
wait for queued GPU work first, so a round measures the device work of its iterations.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..intervals import relative_halfwidth, settled


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
    single_s: float  # per-step seconds of the last warm-up block
    warmup_runs: int
    warmup_s: float = 0.0
    settled: bool = True  # False: the warm-up ran to its cap with the step time still moving


# Rank 0's value on every rank of a process group (the value itself in one process): the
# ranks of a collective must run the same steps, or one waits for the others for ever.
Agree = Callable[[Any], Any]


def alone(value: Any) -> Any:
    return value


@contextlib.contextmanager
def gc_paused():
    """The garbage collector off while steps are timed, as pytest-benchmark's
    --benchmark-disable-gc keeps it off in its own rounds and timeit does: a collection of
    a process holding torch takes milliseconds, a spike in whichever round it falls."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def calibrate(step: Callable[[], Any], warmup_s: float, min_round_s: float,
              max_iterations: int = 10_000, agree: Agree = alone,
              max_warmup_s: float | None = None) -> Calibration:
    """Warm up for at least `warmup_s` and 3 runs (module load, autotuning, handle
    creation), then in blocks of steps lasting about a round until the step time settles
    (settled(): the last blocks agree) or `max_warmup_s` has passed; then choose iterations
    so that one round lasts at least `min_round_s`. Under a process group, rank 0 decides
    when the warm-up ends and how many iterations a round has."""
    cap = max(warmup_s, max_warmup_s if max_warmup_s is not None else warmup_s)
    blocks: list[float] = []
    calm = False
    with gc_paused():
        start = device_clock()
        firsts = [clock_round(step, 1) for _ in range(3)]
        runs = len(firsts)
        while True:
            elapsed = device_clock() - start
            calm = settled(blocks)
            if agree(elapsed >= warmup_s and (calm or elapsed >= cap)):
                break
            recent = blocks[-1] if blocks else min(firsts[-2:])
            size = agree(min(max_iterations, max(1, math.ceil(min_round_s / max(recent, 1e-9)))))
            blocks.append(clock_round(step, size))
            runs += size
        spent = device_clock() - start
    # A round runs its steps back to back, as a block does: its per-step time sizes rounds
    # (a synchronised single step also counts the launch that a round overlaps).
    single = max(blocks[-1] if blocks else statistics.median(firsts), 1e-9)
    iterations = agree(min(max_iterations, max(1, math.ceil(min_round_s / single))))
    return Calibration(iterations, single, runs, spent, calm)


@dataclass(frozen=True)
class Timed:
    """A case's rounds (per-iteration seconds each), and why timing stopped."""

    times: list[float]
    stopped: str  # PRECISE, TIME_CAP, ROUNDS_CAP or ROUNDS (a fixed count was asked)
    halfwidth: float  # the median's 95% interval, relative: 0.01 is +-1%


PRECISE, TIME_CAP, ROUNDS_CAP, ROUNDS = "precise", "time cap", "rounds cap", "rounds"
MAX_ROUNDS = 5_000


def time_to_target(benchmark: Any, step: Callable[[], Any], iterations: int, rounds: int,
                   target: float = 0.0, max_time_s: float = 5.0, agree: Agree = alone,
                   max_rounds: int = MAX_ROUNDS) -> Timed:
    """Time `rounds` rounds with pytest-benchmark, then more, a batch at a time, until the
    median's 95% interval is within +-`target` or `max_time_s` seconds of rounds have
    passed (target 0: the first `rounds` alone). The later rounds are timed as
    pytest-benchmark times a round, with the same clock, and added to its statistics, so
    its JSON holds every round."""
    started = time.perf_counter()
    benchmark.pedantic(step, rounds=rounds, iterations=iterations, warmup_rounds=1)
    times = list(benchmark.stats.stats.data)
    if target <= 0:
        return Timed(times, ROUNDS, relative_halfwidth(times))
    while True:
        width = relative_halfwidth(times)
        stopped = (PRECISE if width <= target else
                   TIME_CAP if time.perf_counter() - started >= max_time_s else
                   ROUNDS_CAP if len(times) >= max_rounds else "")
        stopped = agree(stopped)
        if stopped:
            return Timed(times, stopped, width)
        with gc_paused():
            for _ in range(agree(max(2, len(times) // 4))):
                per_iteration = clock_round(step, iterations)
                benchmark.stats.update(per_iteration * iterations)  # it divides by iterations
                times.append(per_iteration)


def host_time(step: Callable[[], Any], runs: int = 3) -> float:
    """Seconds the host spends calling the step, without waiting for the device: where it
    is most of the step's time, the GPU idles between launches and the step is the host's
    (a step that synchronises inside counts its wait as host time)."""
    synchronize()
    start = time.perf_counter()
    for _ in range(runs):
        step()
    spent = time.perf_counter() - start
    synchronize()
    return spent / runs


def clock_round(step: Callable[[], Any], iterations: int) -> float:
    """Per-step seconds of `iterations` steps run back to back: one round as
    pytest-benchmark's runner times it with `device_clock`, or one block of the warm-up."""
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
