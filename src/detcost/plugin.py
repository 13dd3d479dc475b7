"""The pytest plugin that turns `benchmarks/` into one worker process of one mode.

Loaded by `benchmarks/conftest.py`. Options (all set by `detcost run`; defaults let a
plain `pytest benchmarks/` work too):

  --detcost-mode NAME       the mode, applied in pytest_configure, before any CUDA call
  --detcost-profile P       a built-in profile name or a TOML path
  --detcost-out FILE        the mode's JSONL file; records are appended, and cases
                            already in it are not run again (resume after a crash)
  --detcost-run-id ID
  --detcost-deadline T      the run's time limit (seconds since the epoch): no case starts
                            after it; the worker stops, and `detcost run` with the same
                            run id resumes at that case
  --detcost-gpus 0,1        with pytest-xdist (`-n 2 --dist each`): worker gwN runs on the
                            N-th GPU (CUDA_VISIBLE_DEVICES) the N-th shard of the cases,
                            into its own file (`<mode>.gpuN.jsonl`); the xdist controller
                            itself measures nothing

Each benchmark module sets FAMILY; its test takes `detcost_case` (parametrised with that
family's cases) and `detcost_measure`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
from pathlib import Path

import pytest

from .cases import Case
from .ceilings import measure_ceilings, roofline
from .environment import capture
from .measure import owed_profiles, profile_case, run_case
from .modes import apply_mode, get_mode, read_knobs
from .profile import default_profile, load_profile
from .records import (
    Header,
    Record,
    append,
    check_run_id,
    current_file,
    mode_file_name,
    new_run_id,
    plan_file,
    read_run_file,
    shard_file,
)
from .timing import past, time_rounds
from .workloads import DISTRIBUTED_FAMILY, FAMILIES, USER_FAMILY, get_workload


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("detcost")
    group.addoption("--detcost-mode", default="default")
    group.addoption("--detcost-profile", default=None)
    group.addoption("--detcost-out", default=None)
    group.addoption("--detcost-run-id", default=None)
    group.addoption("--detcost-replica", type=int, default=1)
    group.addoption("--detcost-processes", type=int, default=1,
                    help="how many processes each mode of this run has (for the header)")
    group.addoption("--detcost-only", default=None,
                    help="a JSON file listing the case ids to run (others are deselected)")
    group.addoption("--detcost-deadline", type=float, default=None,
                    help="seconds since the epoch after which no case starts")
    group.addoption("--detcost-gpus", default=None,
                    help="comma-separated GPU ids, one per xdist worker (see the module doc)")
    group.addoption("--detcost-validate", action="store_true",
                    help="also time every case with CUDA events and do_bench")


class Worker:
    """State of this worker: its mode, profile, output file, and what is already recorded."""

    def __init__(self, config: pytest.Config) -> None:
        opt = config.getoption
        gpus = (opt("--detcost-gpus") or "").split(",") if opt("--detcost-gpus") else []
        # This worker's shard and GPU, before anything can create a CUDA context.
        self.shard, self.shards = (_xdist_index(), len(gpus)) if gpus else (0, 1)
        if gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = gpus[self.shard]
        import torch

        self.mode = get_mode(opt("--detcost-mode"))
        apply_mode(self.mode)  # before anything below can touch CUDA
        self.profile = load_profile(opt("--detcost-profile")
                                    or default_profile(torch.cuda.is_available()))
        self.run_id = check_run_id(opt("--detcost-run-id") or new_run_id(self.profile.name))
        self.replica = int(opt("--detcost-replica"))
        self.processes = int(opt("--detcost-processes"))
        default_out = Path("results/raw") / self.run_id / mode_file_name(self.mode.name,
                                                                          self.replica)
        self.out = Path(opt("--detcost-out") or default_out)
        if gpus:
            self.out = shard_file(self.out, self.shard)
        self.validate = bool(opt("--detcost-validate"))
        self.deadline: float | None = opt("--detcost-deadline")
        only = opt("--detcost-only")
        self.only = set(json.loads(Path(only).read_text(encoding="utf-8"))) if only else None
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        # Under torchrun (the distributed family): a process group of every rank, after the
        # mode (deterministic mode changes how NCCL's group is made); rank 0 writes.
        self.distributed = "WORLD_SIZE" in os.environ
        self.rank, self.cannot = 0, ""
        if self.distributed:
            ranks = int(os.environ["WORLD_SIZE"])
            if self.device.type == "cuda" and torch.cuda.device_count() < ranks:
                # NCCL needs a GPU per rank: rank 0 records why, and the others wait for it
                self.rank = int(os.environ.get("RANK", "0"))
                self.cannot = (f"the distributed family needs one GPU per rank: {ranks} "
                               f"ranks, {torch.cuda.device_count()} GPU(s) here")
            else:
                self.rank, self.device = _join_process_group(self.device)
        # Measured before the first case even when resuming: it also warms the GPU up.
        self.ceilings = measure_ceilings() if self.rank == 0 else {}
        self.done = self._start_file()
        self.families: set[str] = set()  # those with a benchmark module, seen at collection
        # Profiled once every case here was timed; first those that an earlier worker on
        # this file timed but did not live (or have the time) to profile.
        self.to_profile: list[Case] = (
            owed_profiles(self.out, {c.id: c for c in self.profile.cases})
            if self.replica == 1 and not self.distributed else [])

    def _start_file(self) -> set[str]:
        together = self.distributed and not self.cannot
        if self.rank != 0:  # rank 0 writes the header first; then every rank reads
            if not together:
                return set()
            _barrier()
            return {r.case_id for r in read_run_file(self.out)[1]}
        done = self._open_file()
        if together:
            _barrier()
        return done

    def _open_file(self) -> set[str]:
        if self.out.exists() and self.out.stat().st_size:
            _, records = read_run_file(self.out)
            return {r.case_id for r in records}
        self.out.parent.mkdir(parents=True, exist_ok=True)
        header = Header(
            run_id=self.run_id, mode=self.mode.name, mode_description=self.mode.description,
            knobs=read_knobs(), environment=capture(), profile=self.profile.describe(),
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            replica=self.replica, ceilings=self.ceilings, processes=self.processes)
        append(self.out, header)
        return set()


_KEY = pytest.StashKey[Worker]()


def _join_process_group(device):
    """Join torchrun's process group (NCCL on GPUs, gloo on a CPU); this rank's device."""
    import torch
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            device_id=device if device.type == "cuda" else None)
    return dist.get_rank(), device


def _barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _gather(value):
    """Every rank's value, in rank order (all ranks call it)."""
    import torch.distributed as dist

    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def _skipped(case: Case, worker: Worker) -> Record:
    return Record(**case.record_fields(worker.run_id, worker.mode.name, worker.replica),
                  status="skipped", message=worker.cannot)


def _runs_here(worker: Worker, family: str) -> bool:
    """The distributed family runs in a torchrun launch, every other family outside one."""
    return (family == DISTRIBUTED_FAMILY) == worker.distributed


def _xdist_index() -> int:
    """This xdist worker's number: gw3 -> 3."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (getattr(config.option, "dist", "no") != "no"
            and "PYTEST_XDIST_WORKER" not in os.environ)


def pytest_configure(config: pytest.Config) -> None:
    if not _is_xdist_controller(config):  # the controller only hands out the workers
        config.stash[_KEY] = Worker(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest-benchmark turns itself off under xdist, because processes that share a CPU
    time each other's noise. Here each worker owns a GPU and times it with the device
    clock, so a sharded worker turns it back on, with a JSON file of its own."""
    config = session.config
    worker = config.stash.get(_KEY, None)
    bench = getattr(config, "_benchmarksession", None)
    if worker is None or worker.shards == 1 or bench is None:
        return
    bench.disabled = bench.xdist_warning = False
    if bench.json:
        bench.json = shard_file(Path(bench.json).with_suffix(".jsonl"), worker.shard
                                ).with_suffix(".json")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The first process profiles its profiled cases last, after every case was timed:
    the profiler would slow the launches of the cases timed after it. Past the time limit
    it leaves them to the worker that resumes the file, and exits as interrupted."""
    worker = session.config.stash.get(_KEY, None)
    if worker is None:
        return
    while worker.to_profile:
        if past(worker.deadline):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            _say(session, f"detcost: time limit reached; {len(worker.to_profile)} profile(s) "
                          "left for the run that resumes this one")
            return
        case = worker.to_profile.pop(0)
        append(worker.out, profile_case(case, worker.profile.measure, worker.device,
                                        worker.run_id, worker.mode.name, worker.replica))


def _say(session: pytest.Session, line: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "detcost_case" not in metafunc.fixturenames:
        return
    worker = metafunc.config.stash[_KEY]
    family = metafunc.module.FAMILY
    worker.families.add(family)
    # Each GPU's worker takes every shards-th case of the profile: the same cases in every
    # mode, so a case's modes are all measured on one GPU.
    cases = [c for i, c in enumerate(worker.profile.cases)
             if _module_family(c.family) == family and i % worker.shards == worker.shard
             and _runs_here(worker, c.family)
             and (worker.only is None or c.id in worker.only)]
    metafunc.parametrize("detcost_case", cases, ids=[c.id for c in cases])


def _module_family(family: str) -> str:
    """The benchmark module that runs a family: its own, or the user module for families
    that only a user's workloads have."""
    return family if family in FAMILIES else USER_FAMILY


def _case_of(item: pytest.Item) -> Case | None:
    """The item's case; None for other tests and for the empty-parameter-set item that a
    family without cases in the profile collects."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("detcost_case") if callspec else None
    return case if isinstance(case, Case) else None


@pytest.hookimpl(trylast=True)  # after -k has deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Write the selected case ids so the parent knows what to expect, then leave out the
    cases this run already recorded (a resume runs only the rest)."""
    if _KEY not in config.stash:
        return
    worker = config.stash[_KEY]
    unmeasured = {_module_family(c.family) for c in worker.profile.cases
                  if _runs_here(worker, c.family)} - worker.families
    if unmeasured:  # a family's cases would be silently dropped
        raise pytest.UsageError(f"no benchmark module sets FAMILY = {sorted(unmeasured)[0]!r} "
                                f"(the profile has cases of it)")
    ids = [case.id for case in map(_case_of, items) if case is not None]
    if worker.rank == 0:
        plan_file(worker.out).write_text(json.dumps(ids), encoding="utf-8")
    done = [item for item in items if (c := _case_of(item)) is not None and c.id in worker.done]
    if done:
        config.hook.pytest_deselected(items=done)
        items[:] = [item for item in items if item not in done]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> bool | None:
    """No case starts after the run's time limit: the worker stops before it (pytest then
    exits as interrupted), and the run that resumes this one starts with it. The ranks of
    a torchrun launch decide together, so that none waits in a collective for the others."""
    worker = item.config.stash.get(_KEY, None)
    case = _case_of(item)
    if worker is None or case is None or worker.deadline is None:
        return None
    stop = past(worker.deadline)
    if worker.distributed and not worker.cannot:
        stop = any(_gather(stop))
    if not stop:
        return None
    item.session.shouldstop = f"detcost: time limit reached before {case.id}"
    return True


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Name the case before its test starts: a crash or hang from here on is blamed on it,
    and a worker that dies before naming any case blames none."""
    case = _case_of(item)  # recorded cases were deselected at collection
    worker = item.config.stash.get(_KEY, None)
    if case is not None and worker is not None and worker.rank == 0:
        current_file(worker.out).write_text(case.id, encoding="utf-8")


@pytest.fixture
def detcost_measure(request: pytest.FixtureRequest, benchmark):
    worker = request.config.stash[_KEY]

    def measure(case) -> Record:
        benchmark.extra_info.update({"case_id": case.id, "mode": worker.mode.name,
                                     "family": case.family})
        if worker.cannot:
            if worker.rank == 0:
                append(worker.out, _skipped(case, worker))
            pytest.skip(worker.cannot)
        record = run_case(case, worker.profile.measure, worker.device,
                          lambda step, rounds, its: time_rounds(benchmark, step, rounds, its),
                          worker.run_id, worker.mode.name, worker.replica, worker.validate)
        if record.status == "ok":
            median = statistics.median(record.times_s)
            record.bound, record.fraction_of_ceiling = roofline(
                worker.ceilings, record.work_flops, record.work_bytes, record.dtype,
                record.precision, median)
        if worker.distributed:  # do the ranks agree? (all_reduce and DDP gradients should)
            digests = _gather(record.digest)  # every rank, every case: they stay in step
            record.rank_digests = digests if record.status == "ok" else []
        if worker.rank == 0:
            append(worker.out, record)
        if (record.status == "ok" and worker.replica == 1 and worker.rank == 0
                and get_workload(case.workload).profiled):
            worker.to_profile.append(case)
        worker.done.add(case.id)
        if record.status in ("skipped", "unsupported"):
            pytest.skip(f"{record.status}: {record.message}")
        if record.status != "ok":
            pytest.fail(f"{record.status}: {record.message}", pytrace=False)
        return record

    return measure

