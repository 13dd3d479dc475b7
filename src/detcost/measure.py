"""Measure one case in this process: build it, time it, repeat it, compare it with a float64
reference, and turn the outcome, failure included, into a Record."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cases import Case
from .kernels import kernel_times
from .modes import read_knobs
from .precision import apply_precision
from .profile import Measure
from .records import KernelProfile, Record, read_run_items
from .timing import calibrate, validate_timer
from .variance import measure_variance
from .workloads import Setting, get_workload, make_step

# Signature of the rounds timer: (step, rounds, iterations) -> per-iteration seconds.
TimeRounds = Callable[[Callable[[], Any], int, int], list[float]]

NO_DETERMINISTIC_IMPL = "does not have a deterministic implementation"


def classify_failure(exc: BaseException, deterministic: bool) -> str:
    """Which status a failed case gets: unsupported, oom or error."""
    import torch

    message = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in message.lower():
        return "oom"
    if NO_DETERMINISTIC_IMPL in message or (deterministic and "deterministic" in message):
        return "unsupported"
    if deterministic and "No available kernel" in message:
        # SDPA with only the cuDNN backend allowed: deterministic mode removes it from
        # selection instead of raising the usual alert.
        return "unsupported"
    return "error"


class Phases:
    """Wall seconds per phase of a case (build, warm-up, timing, reference, variance), so
    that a run's duration can be accounted for and cut where it is spent."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 4)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500]


def run_case(case: Case, measure: Measure, device: Any, time_rounds: TimeRounds,
             run_id: str, mode: str, replica: int = 1, validate: bool = False) -> Record:
    """The whole measurement of one case; never raises for a failure of the case itself."""
    import torch

    base = case.record_fields(run_id, mode, replica)
    started = time.perf_counter()
    reason = case.skip_reason()
    if reason:
        return Record(**base, status="skipped", message=reason)
    apply_precision(case.precision)
    phases = Phases()
    try:
        with phases("build"):
            problem, step = _built(case, measure, device)
        with phases("warmup"):
            cal = calibrate(step, measure.warmup_ms / 1e3, measure.min_round_ms / 1e3)
        with phases("timing"):
            times = time_rounds(step, measure.rounds, cal.iterations)
            validation = (validate_timer(step, measure.rounds, cal.iterations, times)
                          if validate else None)
        with phases("reference"):
            # A float64 reference does not change from one process of a mode to the next:
            # the first process computes it, the others only compare digests.
            reference, note = (_reference_outputs(case, measure, device) if replica == 1
                               else (None, ""))
        with phases("variance"):
            # Within-process variance is measured in the first process; the later ones
            # exist for the spread of timings and the cross-process digest, so they repeat
            # only as often as one within-process check needs.
            var = measure_variance(step, measure.repeats if replica == 1 else 2, reference)
        work = problem.work[case.pass_]
        return Record(
            **base, status="ok", message=note, knobs=read_knobs(), times_s=times,
            iterations=cal.iterations,
            work_unit=work.unit, work_amount=work.amount, work_flops=work.flops,
            work_bytes=work.bytes, repeats=var.repeats,
            distinct_digests=var.distinct_digests, digest=var.digest,
            max_abs_diff=var.max_abs_diff, max_rel_diff=var.max_rel_diff,
            max_ulp_diff=var.max_ulp_diff, error_vs_float64=var.error_vs_float64,
            validation=validation, wall_s=time.perf_counter() - started,
            phases_s=phases.seconds)
    except Exception as exc:  # a failing case is a record, never a crash of the run
        status = classify_failure(exc, torch.are_deterministic_algorithms_enabled())
        record = Record(**base, status=status, message=_one_line(exc), knobs=read_knobs(),
                        wall_s=time.perf_counter() - started, phases_s=phases.seconds)
        # The traceback's frames hold the case's tensors in a cycle: collect them now (a
        # full collection costs ~0.1 s, so only here; on success reference counting frees
        # everything).
        del exc
        problem = step = None
        gc.collect()
        return record
    finally:
        problem = step = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _built(case: Case, measure: Measure, device: Any, reference: bool = False):
    """The case's problem and its step, built from the seed (in float64 for the
    reference): the same inputs in every mode and process."""
    setting = Setting(device, case.dtype, seed=measure.seed, reference=reference)
    problem = get_workload(case.workload).build(case.param_dict, setting)
    return problem, make_step(problem, case.pass_, setting)


def profile_case(case: Case, measure: Measure, device: Any, run_id: str, mode: str,
                 replica: int = 1) -> KernelProfile:
    """The case's step built and warmed up again, then profiled. Call it only once every
    case of the process was timed: CUPTI can stay attached after the profiler stops (unless
    torch tears it down), and then every later kernel launch costs more. On an H100 a
    launch-bound decode step timed after profiled cases ran 1.2 to 2.2 times as long as in
    a run without the profiler, though those runs were on other machine starts too. A
    failure, a missing profiler (no CUPTI) above all, is a message, never an error of the
    case."""
    import torch

    apply_precision(case.precision)
    kernels, message = {}, ""
    try:
        _, step = _built(case, measure, device)
        calibrate(step, measure.warmup_ms / 1e3, measure.min_round_ms / 1e3)
        kernels = kernel_times(step, cuda=device.type == "cuda")
    except Exception as exc:
        message = f"not profiled: {_one_line(exc)}"
    finally:
        step = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return KernelProfile(run_id=run_id, mode=mode, case_id=case.id, replica=replica,
                         kernels_s=kernels, message=message)


def owed_profiles(path: Path, cases: dict[str, Case]) -> list[Case]:
    """The cases of a first process's file that were timed but whose profile was never
    written: its worker crashed, or reached the run's time limit, before profiling them.
    The worker that resumes the file profiles them, after its own cases."""
    if not path.exists() or not path.stat().st_size:
        return []
    _, records, profiles = read_run_items(path, live=True)
    written = {p.case_id for p in profiles}
    return [cases[r.case_id] for r in records
            if r.status == "ok" and r.replica == 1 and r.case_id in cases
            and r.case_id not in written and get_workload(cases[r.case_id].workload).profiled]


def _reference_outputs(case: Case, measure: Measure, device: Any) -> tuple[list[Any] | None, str]:
    """The step's outputs in float64 on the same (rounded) inputs, or None (and why) where
    the case has no floating-point result or the reference cannot run."""
    try:
        outputs = _built(case, measure, device, reference=True)[1]()
    except Exception as exc:  # the measurement stands without its reference
        return None, f"no float64 reference: {_one_line(exc)}"
    if not any(t.is_floating_point() for t in outputs):
        return None, ""
    return outputs, ""
