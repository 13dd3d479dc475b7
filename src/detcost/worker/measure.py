"""Measure one case in this process: build it, time it, repeat it, compare it with a float64
reference, and turn the outcome, failure included, into a Record."""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..cases import Case
from ..failures import excluded_backend, raised_op, unsupported_message
from ..measuring import Measure
from ..modes import MODES
from ..runs.folder import ModeProcess
from ..runs.records import KernelTable, Record, read_run_items
from ..workloads import Problem, Setting, get_workload, make_step
from .kernels import kernel_times
from .knobs import apply_precision, read_knobs
from .timing import Agree, Timed, alone, calibrate, host_time, validate_timer
from .variance import measure_variance

# The rounds timer: (step, iterations, the case's settings) -> the rounds and why they
# stopped (timing.time_to_target through pytest-benchmark in a worker).
TimeRounds = Callable[[Callable[[], Any], int, Measure], Timed]


def classify_failure(exc: BaseException, deterministic: bool) -> str:
    """Which status a failed case gets: unsupported, oom or error."""
    message = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in message.lower():
        return "oom"
    if unsupported_message(message, deterministic):
        return "unsupported"
    return "error"


def failure_record(case: Case, who: ModeProcess, exc: BaseException, **fields: Any) -> Record:
    """The record of a case that raised: its status, its message on one line, and for an
    unsupported case the op torch named."""
    status = classify_failure(exc, torch.are_deterministic_algorithms_enabled())
    message = _one_line(exc)
    reason = ({"raised_op": raised_op(message), "excluded_backend": excluded_backend(message)}
              if status == "unsupported" else {})
    return Record.of(case, who, status, message=message, **reason, **fields)


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
             who: ModeProcess, validate: bool = False, agree: Agree = alone) -> Record:
    """The whole measurement of one case; never raises for a failure of the case itself."""
    started = time.perf_counter()
    reason = case.skip_reason()
    if reason:
        return Record.of(case, who, "skipped", message=reason)
    apply_precision(case.precision)
    measure = measure.for_family(case.family)
    phases = Phases()
    try:
        with phases("build"):
            problem, step = _built(case, measure, device)
        with phases("warmup"):
            cal = calibrate(step, measure.warmup_ms / 1e3, measure.min_round_ms / 1e3,
                            agree=agree, max_warmup_s=measure.max_warmup_ms / 1e3)
        with phases("timing"):
            timed = time_rounds(step, cal.iterations,
                                measure.fitted_to(cal.iterations * cal.single_s))
            times = timed.times
            validation = (validate_timer(step, measure.rounds, cal.iterations, times)
                          if validate else None)
            host = host_time(step)
        notes: list[str] = []

        def reference(outputs: list[Any]) -> list[Any] | None:
            with phases("reference"):
                found, note = _reference_outputs(case, measure, device, problem, outputs)
            notes.append(note)
            return found

        with phases("variance"):
            # Within-process variance is measured in the first process; the later ones
            # exist for the spread of timings and the cross-process digest, so they repeat
            # only as often as one within-process check needs. A float64 reference does
            # not change from one process to the next: the first computes it, in the
            # modes whose precision is compared.
            first = who.process == 1
            compared = first and who.mode in MODES and MODES[who.mode].float64_reference
            var = measure_variance(step, measure.repeats if first else 2,
                                   reference if compared else None)
        note = "; ".join(filter(None, notes))
        work = problem.work[case.pass_]
        return Record.of(
            case, who, "ok", message=note, knobs=read_knobs(), times_s=times,
            iterations=cal.iterations, stopped=timed.stopped,
            halfwidth=timed.halfwidth if math.isfinite(timed.halfwidth) else None,
            warmup_runs=cal.warmup_runs, warmup_s=cal.warmup_s, settled=cal.settled,
            host_s=host,
            work_unit=work.unit, work_amount=work.amount, work_flops=work.flops,
            work_bytes=work.bytes, repeats=var.repeats,
            distinct_digests=var.distinct_digests, digest=var.digest,
            max_abs_diff=var.max_abs_diff, max_rel_diff=var.max_rel_diff,
            max_ulp_diff=var.max_ulp_diff, error_vs_float64=var.error_vs_float64,
            validation=validation, wall_s=time.perf_counter() - started,
            phases_s=phases.seconds)
    except Exception as exc:  # a failing case is a record, never a crash of the run
        record = failure_record(case, who, exc, knobs=read_knobs(),
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


def _built(case: Case, measure: Measure, device: Any, reference: bool = False,
           count_flops: bool = True):
    """The case's problem and its step, built from the seed (in float64 for the
    reference): the same inputs in every mode and process. Without `count_flops` the
    setting names no pass to count FLOPs for."""
    setting = Setting(device, case.dtype, seed=measure.seed, reference=reference,
                      passes=(case.pass_,) if count_flops else ())
    problem = get_workload(case.workload).build(case.param_dict, setting)
    return problem, make_step(problem, case.pass_, setting)


def kernel_table(case: Case, measure: Measure, device: Any, who: ModeProcess) -> KernelTable:
    """The case's step built and warmed up again, then its kernels timed by torch.profiler.
    Call it only once every case of the process was timed: CUPTI can stay attached after
    the profiler stops, and every later kernel launch then costs more. A failure, a missing
    profiler (no CUPTI) above all, is a message, never an error of the case."""
    apply_precision(case.precision)
    kernels, message, started = {}, "", time.perf_counter()
    try:
        # no FLOP count: the case's record has it, and counting runs the step once more
        # under FlopCounterMode, most of a model's rebuild
        _, step = _built(case, measure, device, count_flops=False)
        calibrate(step, measure.warmup_ms / 1e3, measure.min_round_ms / 1e3)
        kernels = kernel_times(step, cuda=device.type == "cuda")
    except Exception as exc:
        message = f"no kernel table: {_one_line(exc)}"
    finally:
        step = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return KernelTable(run_id=who.run_id, mode=who.mode, case_id=case.id, process=who.process,
                       kernels_s=kernels, message=message,
                       wall_s=round(time.perf_counter() - started, 4))


def owed_kernel_tables(path: Path, cases: dict[str, Case], measure: Measure | None
                       ) -> list[Case]:
    """The cases of a first process's file that were timed but whose kernel table was never
    written: its worker crashed, or reached the run's time limit, before taking them. The
    worker that resumes the file takes them, after its own cases. `measure` None: this
    mode takes no kernel tables."""
    if measure is None or not path.exists() or not path.stat().st_size:
        return []
    _, records, tables = read_run_items(path, live=True)
    written = {t.case_id for t in tables}
    return [cases[r.case_id] for r in records
            if r.status == "ok" and r.process == 1 and r.case_id in cases
            and r.case_id not in written
            and measure.takes_kernel_table(cases[r.case_id].family,
                                           get_workload(cases[r.case_id].workload).kernel_table)]


def _reference_outputs(case: Case, measure: Measure, device: Any, problem: Problem,
                       measured: list[Any]) -> tuple[list[Any] | None, str]:
    """The step's outputs in float64 on the same (rounded) inputs, or None (and why) where
    the case has no floating-point result or the reference cannot run. A problem that knows
    its own reference (a model: the same step from the same state) computes it; the others
    are built again in float64."""
    try:
        if problem.reference is not None:
            outputs = problem.reference(case.pass_, measured)
        else:
            outputs = _built(case, measure, device, reference=True)[1]()
    except Exception as exc:  # the measurement stands without its reference
        return None, f"no float64 reference: {_one_line(exc)}"
    if not any(t.is_floating_point() for t in outputs):
        return None, ""
    return outputs, ""
