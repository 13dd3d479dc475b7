"""The parent of a run: worker pytest processes, several per mode (pyperf's worker model).

The parent never touches CUDA. It holds the run folder's lock for the whole run, so a
second writer is refused. It runs the modes interleaved in time (default, deterministic,
..., then each mode's second process, ...), so a drift of clocks or of the host falls on
every mode alike. Each worker starts with its mode's environment; the parent follows its
JSONL file for progress. A worker names the case it is measuring before it starts it: a
worker that dies or hangs there becomes an `error` record for that case, and a new worker
resumes after it. A worker that fails before its first case stops the run with its own
error and blames no case. Records already written are never lost. With a time limit, no
case starts after it: the run stops there, and the same run id resumes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import DetcostError
from ..modes import get_mode, is_knob_mode
from ..profile import Profile
from ..timelimit import OVERRUN_S, past
from ..workloads import DISTRIBUTED_FAMILY, case_calls
from . import children
from .folder import ModeProcess, RunFolder, current_file, log_file, plan_file, shard_file
from .launch import WorkerLaunch, relative, worker_environment, worker_error
from .records import Record, append, read_run_file, run_files
from .selection import keyword_filter

PYTEST_NO_TESTS = 5  # pytest's exit code when nothing was collected
PYTEST_INTERRUPTED = 2  # and when it stopped early: here, at the run's time limit


class NothingSelected(DetcostError):
    """A worker launch selected no case (a -k filter, say)."""


@dataclass
class ModeOutcome:
    mode: str
    path: Path
    process: int = 1
    planned: int = 0
    recorded: int = 0
    restarts: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    # The time limit: stopped this process before it was done, or came before it started.
    stopped: bool = False
    started: bool = True


# (mode, done, total, last case id) -> None
Progress = Callable[[str, int, int, str], None]


def default_bench_dir() -> Path:
    """benchmarks/ of the checkout this package runs from, else of the current folder."""
    here = Path(__file__).resolve().parents[3] / "benchmarks"  # src/detcost/runs/ -> root
    return here if here.is_dir() else Path.cwd() / "benchmarks"


def gpu_ids(spec: str) -> tuple[str, ...]:
    """The GPUs that `--gpus all|N` names: CUDA_VISIBLE_DEVICES where it is set (the ids it
    lists), else every GPU torch counts. The parent never creates a CUDA context."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = tuple(v.strip() for v in visible.split(",") if v.strip())
    else:
        import torch

        ids = tuple(str(i) for i in range(torch.cuda.device_count()))
    if spec == "all":
        wanted = max(len(ids), 1)
    elif spec.isdigit() and int(spec) >= 1:
        wanted = int(spec)
    else:
        raise DetcostError(f"--gpus {spec!r} is not allowed: all, or a number >= 1")
    if wanted == 1:
        return ()  # one worker, on whatever device it sees, as without --gpus
    if wanted > len(ids):
        raise DetcostError(f"--gpus {spec} asks for {wanted} GPUs; this machine shows "
                           f"{len(ids)} ({', '.join(ids) or 'none'})")
    return ids[:wanted]


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


@dataclass(frozen=True)
class RunOptions:
    keyword: str | None = None
    case_timeout_s: float = 600.0
    first_process: int = 1  # the first process's number (2: add processes to a run)
    processes: int = 0  # processes per mode; 0: the profile's
    validate: bool = False
    only: Path | None = None  # JSON list of case ids
    gpus: tuple[str, ...] = ()  # several: one pytest-xdist worker and shard per GPU
    ranks: int = 0  # the distributed family's torchrun ranks; 0: every GPU, or 2 on a CPU
    deadline: float | None = None  # time.time() after which no case starts
    overrun_s: float = OVERRUN_S  # then a case still running is stopped


def run_mode(profile: Profile, profile_arg: str, who: ModeProcess, folder: RunFolder,
             bench_dir: Path, options: RunOptions = RunOptions(),
             progress: Progress | None = None, poll_s: float = 0.5) -> ModeOutcome:
    """Run one process of one mode to its end (restarting after a crash); return what
    was recorded. Over several GPUs the process is a pytest-xdist session whose workers
    each write a shard file; each shard is followed, blamed and resumed on its own."""
    mode = get_mode(who.mode).name
    keyword, case_timeout_s = options.keyword, options.case_timeout_s
    out = folder.mode_file(who)
    shards = ([shard_file(out, i) for i in range(len(options.gpus))]
              if len(options.gpus) > 1 else [out])
    outcome = ModeOutcome(mode, out, who.process)
    by_id = {c.id: c for c in profile.cases}
    launch = WorkerLaunch(who, out, profile_arg, bench_dir, options.processes, keyword,
                          options.only, options.gpus, options.ranks, options.deadline,
                          options.validate)
    env = worker_environment(get_mode(mode), folder.bytecode_cache, os.environ)
    started = time.monotonic()
    stop_at = None if options.deadline is None else options.deadline + options.overrun_s
    log = log_file(out)
    for attempt in range(len(by_id) + 1):
        cmd = launch.command(attempt)
        for shard in shards:
            current_file(shard).unlink(missing_ok=True)
        before = sum(len(_recorded(shard)) for shard in shards)
        with log.open("a", encoding="utf-8") as log_out:
            log_start = log_out.tell()
            log_out.write(f"$ {' '.join(map(relative, cmd))}\n")
            log_out.flush()
            proc = children.start(cmd, log_out, env)
            try:
                stalled = _follow(proc, shards, case_timeout_s, mode, progress, poll_s,
                                  stop_at)
            except BaseException:  # interrupted or stopped: the worker goes first
                children.stop(proc)
                raise
        plans = [_plan(shard) for shard in shards]
        done = {r.case_id for shard in shards for r in _recorded(shard)}
        planned = [cid for plan in plans if plan for cid in plan]
        complete = (all(plan is not None for plan in plans) and planned
                    and all(cid in done for cid in planned))
        if (all(plan == [] for plan in plans)  # -k left this launch nothing to measure
                or (proc.returncode == PYTEST_NO_TESTS and not any(plans))):
            raise NothingSelected(f"no case matches -k {keyword!r}" if keyword
                                  else "the profile selects no case")
        # stopped by a signal past the overrun: by the parent, even if its cases were done
        # (the kernel tables it still owed go to the resumed run)
        cut = past(stop_at) and proc.returncode is not None and proc.returncode < 0
        if complete and proc.returncode != PYTEST_INTERRUPTED and not cut:
            break
        if past(options.deadline) and not stalled:
            # It stopped at the time limit (before a case, or before its profiles); a case
            # that failed after the limit is not blamed: the resumed run measures it again.
            outcome.stopped = True
            break
        if complete:
            break
        culprits = [(shard, _current(shard)) for shard in shards]
        blamed = [(shard, culprit) for shard, culprit in culprits
                  if culprit in by_id and culprit not in done
                  and (not stalled or shard in stalled)]
        if not blamed and (not any(plans) or proc.returncode not in (0, 1)):
            # Nothing was being measured: the worker failed on its own (a bad -k, a broken
            # install, an unwritable file). That is the run's error, not a case's.
            with log.open(encoding="utf-8", errors="replace") as f:
                f.seek(log_start)
                why = worker_error(f.read())
            raise DetcostError(f"the {mode} worker failed before its first case (exit code "
                               f"{proc.returncode}): {why}; full log: {log}")
        for shard, culprit in blamed:
            why = (f"timed out after {case_timeout_s:.0f} s" if stalled
                   else f"worker process died (exit code {proc.returncode})")
            append(shard, Record.of(by_id[culprit], who, "error",
                                    message=f"{why} while measuring this case"))
        if not blamed and sum(len(_recorded(shard)) for shard in shards) == before:
            raise DetcostError(f"the {mode} worker stopped without progress (exit code "
                               f"{proc.returncode}); see {log}")
        outcome.restarts += 1
    records, planned = [], set()
    for shard in shards:
        current_file(shard).unlink(missing_ok=True)  # nothing is being measured any more
        records += _recorded(shard)
        planned |= set(_plan(shard) or [])
    records = [r for r in records if r.case_id in planned]  # not another launch's cases
    outcome.planned = len(planned)
    outcome.recorded = len(records)
    outcome.seconds = time.monotonic() - started
    for r in records:
        outcome.statuses[r.status] = outcome.statuses.get(r.status, 0) + 1
    return outcome


def _follow(proc: subprocess.Popen, shards: list[Path], case_timeout_s: float, mode: str,
            progress: Progress | None, poll_s: float, stop_at: float | None = None
            ) -> set[Path]:
    """Wait for the worker(s), reporting progress; kill them when a case outlasts the
    timeout, or at `stop_at` (time.time(); the run's time limit and its overrun). A case's
    time counts from when its worker named it (or from its last record, if later): starting
    a worker (imports, the ceilings) and finishing one are not a case, and get a longer
    allowance. Returns the shards that stalled (empty unless killed for a timeout)."""
    started = time.time()
    counts = dict.fromkeys(shards, -1)
    changed = dict.fromkeys(shards, started)
    while proc.poll() is None:
        time.sleep(poll_s)
        now = time.time()
        moved = False
        for shard in shards:
            records = _recorded_quietly(shard)
            if len(records) != counts[shard]:
                counts[shard], changed[shard], moved = len(records), now, True
        if moved and progress:
            plans = [_plan(shard) for shard in shards]
            if all(plan is not None for plan in plans):
                last = _recorded_quietly(max(shards, key=lambda sh: changed[sh]))
                progress(mode, sum(counts.values()), sum(len(p) for p in plans),
                         last[-1].case_id if last else "")
        stalled = {shard for shard in shards
                   if _stalled(shard, changed[shard], now, case_timeout_s)}
        if stalled:
            children.stop(proc, grace_s=0)  # the ranks of a distributed case too
            return stalled
        if past(stop_at):  # the case in progress goes to the resumed run, unblamed
            children.stop(proc)
            return set()
    return set()


OUTSIDE_CASES_S = 900.0  # a worker starting or finishing, with no case named: its allowance


def _stalled(shard: Path, last_record: float, now: float, case_timeout_s: float) -> bool:
    """Whether the case this shard's worker measures has outlasted the timeout (or the
    worker has spent far too long outside any case)."""
    marker = current_file(shard)
    try:
        named_at = marker.stat().st_mtime
        naming = marker.read_text(encoding="utf-8").strip()
    except OSError:  # no case named yet: starting up
        return now - last_record > max(case_timeout_s, OUTSIDE_CASES_S)
    recorded = {r.case_id for r in _recorded_quietly(shard)}
    if naming in recorded:  # between cases, or finishing
        return now - last_record > max(case_timeout_s, OUTSIDE_CASES_S)
    return now - max(named_at, last_record) > case_timeout_s


def _recorded_quietly(out: Path) -> list[Record]:
    try:
        return _recorded(out, live=True)
    except DetcostError:  # the header half-written at this instant: read it next time
        return []


def run(profile: Profile, profile_arg: str, modes: Sequence[str], folder: RunFolder,
        bench_dir: Path | None = None, options: RunOptions = RunOptions(),
        progress: Progress | None = None) -> list[ModeOutcome]:
    """Every mode in `options.processes` (else the profile's) processes each, a knob mode in
    at most the profile's `knob_processes`, interleaved: one process of every mode, then the
    next process of every mode that has one."""
    for mode in modes:  # every name is checked before anything runs
        get_mode(mode)
    bench_dir = bench_dir or default_bench_dir()
    if not (bench_dir / "conftest.py").is_file():
        raise DetcostError(f"no benchmarks folder at {bench_dir} (expected conftest.py there)")
    launches = {mode: _workers(profile, mode, folder, options) for mode in modes}
    if not any(launches.values()):
        raise NothingSelected(f"no case matches -k {options.keyword!r}" if options.keyword
                              else "the profile selects no case for these modes")
    with folder.locked(), children.terminated_as_interrupt():
        _same_profile(folder, profile)
        return _run_locked(profile, profile_arg, modes, folder, bench_dir, options,
                           progress, launches)


def _run_locked(profile: Profile, profile_arg: str, modes: Sequence[str], folder: RunFolder,
                bench_dir: Path, options: RunOptions, progress: Progress | None,
                launches: dict[str, list[dict]]) -> list[ModeOutcome]:
    processes = options.processes or profile.measure.processes
    first = options.first_process
    outcomes, nothing = [], None
    for process in range(first, first + processes):
        for mode in modes:
            count = profile.measure.processes_of(is_knob_mode(mode), processes)
            if process >= first + count:  # a knob mode's processes are done
                continue
            who = folder.process(mode, process)
            for worker_options in launches[mode]:
                if past(options.deadline):  # what is left goes to the resumed run
                    outcomes.append(ModeOutcome(mode, folder.mode_file(who), process,
                                                stopped=True, started=False))
                    continue
                try:
                    outcomes.append(run_mode(
                        profile, profile_arg, who, folder, bench_dir,
                        replace(options, processes=count, **worker_options), progress))
                except NothingSelected as exc:  # -k may match one launch's cases only
                    nothing = exc
    if not outcomes and nothing:
        raise nothing
    return outcomes


def _same_profile(folder: RunFolder, profile: Profile) -> None:
    """A resume must measure what the run measured: records under another profile's
    header would mix two measurements in one run."""
    asked = json.loads(json.dumps(profile.describe()))  # as a header stores it
    for path in run_files([folder.path]) if folder.path.exists() else []:
        try:
            header = read_run_file(path, live=True)[0]
        except DetcostError:
            continue  # an unreadable file is the reader's to report
        recorded = {k: header.profile.get(k) for k in ("name", "measure", "cases")}
        if recorded != {k: asked[k] for k in ("name", "measure", "cases")}:
            raise DetcostError(
                f"run {folder.run_id} was measured with profile {recorded['name']!r} "
                f"({recorded['cases']} cases, {recorded['measure']}); this resume asks for "
                f"{asked['name']!r} ({asked['cases']} cases, {asked['measure']}): resume "
                "with the same profile, or choose another --run-id")


def _workers(profile: Profile, mode: str, folder: RunFolder, options: RunOptions
             ) -> list[dict]:
    """The worker launches one process of a mode needs: one for the families that run in a
    single process, one torchrun launch for the distributed family, each given only its
    cases (only those that call what the mode changes, and that the profile measures in it)."""
    acts_on = get_mode(mode).acts_on
    selects = keyword_filter(options.keyword)
    wanted = None
    if options.only:
        wanted = set(json.loads(options.only.read_text(encoding="utf-8")))
    launches = []
    for distributed in (False, True):
        mine = [c for c in profile.cases if (c.family == DISTRIBUTED_FAMILY) == distributed
                and acts_on(case_calls(c.family, c.workload)) and profile.measures(c, mode)
                and (wanted is None or c.id in wanted)]
        if not any(map(selects, mine)):  # -k leaves this launch nothing: never start it
            continue
        ids = [c.id for c in mine]
        kind = "distributed" if distributed else "local"
        everything = len(ids) == len(profile.cases) and wanted is None
        only = options.only
        if not everything:
            folder.create()
            only = folder.cases_file(mode, kind)
            only.write_text(json.dumps(ids), encoding="utf-8")
        launches.append({"only": only, "ranks": (options.ranks or default_ranks())
                         if distributed else 0,
                         "gpus": () if distributed else options.gpus})
    return launches  # none: the mode acts on no family of this profile (NCCL, say)


def default_ranks() -> int:
    """Every GPU of this host (at least 2: a collective needs two ranks); 2 on a CPU."""
    import torch

    return max(torch.cuda.device_count(), 2)
