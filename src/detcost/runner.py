"""The parent of a run: worker pytest processes, several per mode (pyperf's worker model).

The parent never touches CUDA. It holds the run folder's lock for the whole run, so a
second writer is refused. It runs the modes interleaved in time (default, deterministic,
..., then each mode's second process, ...), so a drift of clocks or of the host falls on
every mode alike. Each worker starts with its mode's environment; the parent follows its
JSONL file for progress. A worker names the case it is measuring before it starts it: a
worker that dies or hangs there becomes an `error` record for that case, and a new worker
resumes after it. A worker that fails before its first case stops the run with its own
error and blames no case. Records already written are never lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from filelock import FileLock, Timeout

from .cases import Case
from .errors import DetcostError
from .modes import get_mode, mode_environment
from .profile import Profile
from .records import (
    Record,
    append,
    current_file,
    mode_file_name,
    plan_file,
    read_run_file,
)
from .timing import TIMER_PATH

PYTEST_NO_TESTS = 5  # pytest's exit code when nothing was collected
LOCK_NAME = ".lock"


@dataclass
class ModeOutcome:
    mode: str
    path: Path
    replica: int = 1
    planned: int = 0
    recorded: int = 0
    restarts: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


# (mode, done, total, last case id) -> None
Progress = Callable[[str, int, int, str], None]


def default_bench_dir() -> Path:
    """benchmarks/ of the checkout this package runs from, else of the current folder."""
    here = Path(__file__).resolve().parents[2] / "benchmarks"
    return here if here.is_dir() else Path.cwd() / "benchmarks"


def worker_command(bench_dir: Path, mode: str, profile: str, out: Path, run_id: str,
                   keyword: str | None, attempt: int, replica: int = 1,
                   validate: bool = False, only: Path | None = None,
                   processes: int = 1) -> list[str]:
    suffix = f".{attempt}" if attempt else ""
    cmd = [sys.executable, "-m", "pytest", str(bench_dir), "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "-W", "default", "--rootdir", str(bench_dir),
           "--benchmark-timer", TIMER_PATH, "--benchmark-disable-gc",
           "--benchmark-sort", "name",
           "--benchmark-json", str(out.with_suffix(f".benchmark{suffix}.json")),
           "--detcost-mode", mode, "--detcost-profile", profile, "--detcost-out", str(out),
           "--detcost-run-id", run_id, "--detcost-replica", str(replica),
           "--detcost-processes", str(processes)]
    if validate:
        cmd.append("--detcost-validate")
    if only:
        cmd += ["--detcost-only", str(only)]
    if keyword:
        cmd += ["-k", keyword]
    return cmd


def _relative(arg: str) -> str:
    """A path argument as seen from the working folder, for logs that travel with results."""
    try:
        return str(Path(arg).relative_to(Path.cwd())) if Path(arg).is_absolute() else arg
    except ValueError:
        return arg


def _recorded(path: Path, live: bool = False) -> list[Record]:
    if not path.exists() or not path.stat().st_size:
        return []
    return read_run_file(path, live=live)[1]


def _plan(path: Path) -> list[str] | None:
    plan = plan_file(path)
    try:
        return json.loads(plan.read_text(encoding="utf-8")) if plan.exists() else None
    except json.JSONDecodeError:  # being written at this instant
        return None


def _current(path: Path) -> str | None:
    marker = current_file(path)
    if not marker.exists():
        return None
    return marker.read_text(encoding="utf-8").strip() or None


def worker_error(log_text: str) -> str:
    """The line of a worker's log that says why it failed: pytest's own ERROR line, an
    exception's `E` line, or the last line of a traceback."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    for prefix in ("ERROR:", "E   ", "E "):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return " ".join(found[-1].removeprefix("E").split())[:300]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["no output"])[-1][:300]


def _failure_record(case: Case, run_id: str, mode: str, message: str, replica: int) -> Record:
    return Record(run_id=run_id, mode=mode, case_id=case.id, family=case.family,
                  workload=case.workload, params=case.param_dict, pass_=case.pass_,
                  dtype=case.dtype, precision=case.precision, status="error", message=message,
                  replica=replica)


@dataclass(frozen=True)
class RunOptions:
    keyword: str | None = None
    case_timeout_s: float = 600.0
    replica: int = 1  # the first process's number (2: add processes to an existing run)
    processes: int = 0  # processes per mode; 0: the profile's
    validate: bool = False
    only: Path | None = None  # JSON list of case ids


def run_mode(profile: Profile, profile_arg: str, mode: str, out_dir: Path, run_id: str,
             bench_dir: Path, options: RunOptions = RunOptions(),
             progress: Progress | None = None, poll_s: float = 0.5) -> ModeOutcome:
    """Run one process of one mode to its end (restarting after a crash); return what
    was recorded."""
    get_mode(mode)
    keyword, case_timeout_s, replica = options.keyword, options.case_timeout_s, options.replica
    out = out_dir / mode_file_name(mode, replica)
    outcome = ModeOutcome(mode, out, replica)
    by_id = {c.id: c for c in profile.cases}
    env = {**os.environ, **mode_environment(get_mode(mode)), "PYTHONUNBUFFERED": "1"}
    if "CUBLAS_WORKSPACE_CONFIG" not in mode_environment(get_mode(mode)):
        env.pop("CUBLAS_WORKSPACE_CONFIG", None)
    started = time.monotonic()
    log = out.with_suffix(".log")
    for attempt in range(len(by_id) + 1):
        cmd = worker_command(bench_dir, mode, profile_arg, out, run_id, keyword, attempt,
                             replica, options.validate, options.only, options.processes)
        current_file(out).unlink(missing_ok=True)
        before = len(_recorded(out))
        with log.open("a", encoding="utf-8") as log_file:
            log_start = log_file.tell()
            log_file.write(f"$ {' '.join(map(_relative, cmd))}\n")
            log_file.flush()
            proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env)
            timed_out = _follow(proc, out, case_timeout_s, mode, progress, poll_s)
        plan = _plan(out)
        culprit = _current(out)
        recorded = _recorded(out)
        done = {r.case_id for r in recorded}
        if plan and not [cid for cid in plan if cid not in done]:
            break
        if culprit is None and (not plan or proc.returncode not in (0, 1)):
            # Nothing was being measured: the worker failed on its own (a bad -k, a broken
            # install, an unwritable file). That is the run's error, not a case's.
            if plan == [] or proc.returncode == PYTEST_NO_TESTS:
                raise DetcostError(f"no case matches -k {keyword!r}" if keyword
                                   else "the profile selects no case")
            with log.open(encoding="utf-8", errors="replace") as f:
                f.seek(log_start)
                why = worker_error(f.read())
            raise DetcostError(f"the {mode} worker failed before its first case (exit code "
                               f"{proc.returncode}): {why}; full log: {log}")
        if culprit in by_id and culprit not in done:
            why = (f"timed out after {case_timeout_s:.0f} s" if timed_out
                   else f"worker process died (exit code {proc.returncode})")
            append(out, _failure_record(by_id[culprit], run_id, mode,
                                        f"{why} while measuring this case", replica))
        elif len(recorded) == before:
            raise DetcostError(f"the {mode} worker stopped without progress (exit code "
                               f"{proc.returncode}); see {log}")
        outcome.restarts += 1
    current_file(out).unlink(missing_ok=True)  # nothing is being measured any more
    records = _recorded(out)
    outcome.planned = len(_plan(out) or [])
    outcome.recorded = len(records)
    outcome.seconds = time.monotonic() - started
    for r in records:
        outcome.statuses[r.status] = outcome.statuses.get(r.status, 0) + 1
    return outcome


def _follow(proc: subprocess.Popen, out: Path, case_timeout_s: float, mode: str,
            progress: Progress | None, poll_s: float) -> bool:
    """Wait for the worker, reporting progress; kill it if one case outlasts the timeout.
    Returns whether it was killed for time."""
    last_count, last_change = -1, time.monotonic()
    while proc.poll() is None:
        time.sleep(poll_s)
        records = _recorded_quietly(out)
        if len(records) != last_count:
            last_count, last_change = len(records), time.monotonic()
            plan = _plan(out)
            if progress and plan is not None:
                progress(mode, len(records), len(plan), records[-1].case_id if records else "")
        elif time.monotonic() - last_change > case_timeout_s:
            proc.kill()
            proc.wait()
            return True
    return False


def _recorded_quietly(out: Path) -> list[Record]:
    try:
        return _recorded(out, live=True)
    except DetcostError:  # the header half-written at this instant: read it next time
        return []


def run(profile: Profile, profile_arg: str, modes: Sequence[str], out_dir: Path, run_id: str,
        bench_dir: Path | None = None, options: RunOptions = RunOptions(),
        progress: Progress | None = None) -> list[ModeOutcome]:
    """Every mode in `options.processes` (else the profile's) processes each, interleaved:
    one process of every mode, then the next process of every mode."""
    for mode in modes:  # every name is checked before anything runs
        get_mode(mode)
    bench_dir = bench_dir or default_bench_dir()
    if not (bench_dir / "conftest.py").is_file():
        raise DetcostError(f"no benchmarks folder at {bench_dir} (expected conftest.py there)")
    processes = options.processes or profile.measure.processes
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out_dir / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise DetcostError(f"run {run_id} is being written by another detcost process "
                           f"(lock {out_dir / LOCK_NAME}): wait for it, or choose another "
                           "--run-id") from None
    try:
        first = options.replica
        return [run_mode(profile, profile_arg, mode, out_dir, run_id, bench_dir,
                         replace(options, replica=replica, processes=processes), progress)
                for replica in range(first, first + processes) for mode in modes]
    finally:
        lock.release()
