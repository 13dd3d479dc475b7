"""The parent of a run: one pytest worker process per mode (pyperf's worker model).

The parent never touches CUDA. It starts each mode's worker with the mode's environment,
follows the worker's JSONL file for progress, and turns a worker that dies or hangs into
an `error` record for the case it was measuring, then starts a new worker that resumes
after it. Records already written are never lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cases import Case
from .errors import DetcostError
from .modes import get_mode, mode_environment
from .profile import Profile
from .records import Record, append, mode_file_name, plan_file, read_run_file
from .timing import TIMER_PATH

PYTEST_NO_TESTS = 5  # pytest's exit code when nothing was collected


@dataclass
class ModeOutcome:
    mode: str
    path: Path
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
                   validate: bool = False, only: Path | None = None) -> list[str]:
    suffix = f".{attempt}" if attempt else ""
    cmd = [sys.executable, "-m", "pytest", str(bench_dir), "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "-W", "default", "--rootdir", str(bench_dir),
           "--benchmark-timer", TIMER_PATH, "--benchmark-disable-gc",
           "--benchmark-sort", "name",
           "--benchmark-json", str(out.with_suffix(f".benchmark{suffix}.json")),
           "--detcost-mode", mode, "--detcost-profile", profile, "--detcost-out", str(out),
           "--detcost-run-id", run_id, "--detcost-replica", str(replica)]
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


def _recorded(path: Path) -> list[Record]:
    if not path.exists() or not path.stat().st_size:
        return []
    return read_run_file(path)[1]


def _plan(path: Path) -> list[str] | None:
    plan = plan_file(path)
    return json.loads(plan.read_text(encoding="utf-8")) if plan.exists() else None


def _failure_record(case: Case, run_id: str, mode: str, message: str, replica: int) -> Record:
    return Record(run_id=run_id, mode=mode, case_id=case.id, family=case.family,
                  workload=case.workload, params=case.param_dict, pass_=case.pass_,
                  dtype=case.dtype, precision=case.precision, status="error", message=message,
                  replica=replica)


@dataclass(frozen=True)
class RunOptions:
    keyword: str | None = None
    case_timeout_s: float = 600.0
    replica: int = 1
    validate: bool = False
    only: Path | None = None  # JSON list of case ids


def run_mode(profile: Profile, profile_arg: str, mode: str, out_dir: Path, run_id: str,
             bench_dir: Path, options: RunOptions = RunOptions(),
             progress: Progress | None = None, poll_s: float = 0.5) -> ModeOutcome:
    """Run one mode to its end in worker processes; return what was recorded."""
    get_mode(mode)
    keyword, case_timeout_s, replica = options.keyword, options.case_timeout_s, options.replica
    out = out_dir / mode_file_name(mode, replica)
    outcome = ModeOutcome(mode, out)
    by_id = {c.id: c for c in profile.cases}
    env = {**os.environ, **mode_environment(get_mode(mode)), "PYTHONUNBUFFERED": "1"}
    if "CUBLAS_WORKSPACE_CONFIG" not in mode_environment(get_mode(mode)):
        env.pop("CUBLAS_WORKSPACE_CONFIG", None)
    started = time.monotonic()
    log = out.with_suffix(".log")
    for attempt in range(len(by_id) + 1):
        cmd = worker_command(bench_dir, mode, profile_arg, out, run_id, keyword, attempt,
                             replica, options.validate, options.only)
        with log.open("a", encoding="utf-8") as log_file:
            log_file.write(f"$ {' '.join(map(_relative, cmd))}\n")
            log_file.flush()
            proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env)
            timed_out = _follow(proc, out, case_timeout_s, mode, progress, poll_s)
        plan = _plan(out)
        if not plan:
            if plan == [] or proc.returncode == PYTEST_NO_TESTS:
                raise DetcostError(f"no case matches -k {keyword!r}" if keyword
                                   else "the profile selects no case")
            raise DetcostError(f"the {mode} worker failed before it collected any case "
                               f"(exit code {proc.returncode}); see {log}")
        done = {r.case_id for r in _recorded(out)}
        missing = [cid for cid in plan if cid not in done]
        if not missing:
            break
        # The first unrecorded case in plan order is the one the worker was measuring.
        culprit = by_id[missing[0]]
        why = (f"timed out after {case_timeout_s:.0f} s" if timed_out
               else f"worker process died (exit code {proc.returncode})")
        append(out, _failure_record(culprit, run_id, mode, f"{why} while measuring this case",
                                    replica))
        outcome.restarts += 1
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
        return _recorded(out)
    except DetcostError:  # a line half-written at this instant: read it next time
        return []


def run(profile: Profile, profile_arg: str, modes: Sequence[str], out_dir: Path, run_id: str,
        bench_dir: Path | None = None, options: RunOptions = RunOptions(),
        progress: Progress | None = None) -> list[ModeOutcome]:
    for mode in modes:  # every name is checked before anything runs
        get_mode(mode)
    bench_dir = bench_dir or default_bench_dir()
    if not (bench_dir / "conftest.py").is_file():
        raise DetcostError(f"no benchmarks folder at {bench_dir} (expected conftest.py there)")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [run_mode(profile, profile_arg, mode, out_dir, run_id, bench_dir, options, progress)
            for mode in modes]
