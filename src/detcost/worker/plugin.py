"""The pytest plugin that turns `benchmarks/` into one worker process of one mode.

Loaded by `benchmarks/conftest.py`. Options (all set by `detcost run`; defaults let a
plain `pytest benchmarks/` work too):

  --detcost-mode NAME       the mode, applied in pytest_configure, before any CUDA call
  --detcost-profile P       a built-in profile name or a TOML path
  --detcost-out FILE        the mode's JSONL file; records are appended, and cases
                            already in it are not run again (resume after a crash)
  --detcost-run-id ID
  --detcost-process N       which process of the mode this is (1, 2, ...)
  --detcost-deadline T      the run's time limit (seconds since the epoch): no case starts
                            after it; the worker stops, and `detcost run` with the same
                            run id resumes at that case
  --detcost-gpus 0,1        with pytest-xdist (`-n 2 --dist each`): worker gwN runs on the
                            N-th GPU (CUDA_VISIBLE_DEVICES) the N-th shard of the cases,
                            into its own file (`<mode>.gpuN.jsonl`); the xdist controller
                            itself measures nothing

The one benchmark test takes `detcost_case` (parametrised with this worker's cases, each
item also matching `-k FAMILY`) and `detcost_measure`.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import pytest

from ..cases import Case
from ..measuring import Measure
from ..runs.folder import current_file, plan_file, shard_benchmark_file
from ..runs.records import Record, append
from ..timelimit import past
from ..workloads import get_workload
from .ceilings import roofline
from .measure import kernel_table, run_case
from .session import Worker, WorkerOptions, gather
from .timing import Timed, time_to_target


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("detcost")
    group.addoption("--detcost-mode", default="default")
    group.addoption("--detcost-profile", default=None)
    group.addoption("--detcost-out", default=None)
    group.addoption("--detcost-run-id", default=None)
    group.addoption("--detcost-process", type=int, default=1)
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


def _options(config: pytest.Config) -> WorkerOptions:
    opt = config.getoption
    gpus = opt("--detcost-gpus")
    return WorkerOptions(
        mode=opt("--detcost-mode"), profile=opt("--detcost-profile"),
        out=opt("--detcost-out"), run_id=opt("--detcost-run-id"),
        process=int(opt("--detcost-process")), processes=int(opt("--detcost-processes")),
        only=opt("--detcost-only"), deadline=opt("--detcost-deadline"),
        gpus=tuple(gpus.split(",")) if gpus else (), validate=bool(opt("--detcost-validate")))


_KEY = pytest.StashKey[Worker]()


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (getattr(config.option, "dist", "no") != "no"
            and "PYTEST_XDIST_WORKER" not in os.environ)


def pytest_configure(config: pytest.Config) -> None:
    if not _is_xdist_controller(config):  # the controller only hands out the workers
        config.stash[_KEY] = Worker(_options(config))


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
        bench.json = shard_benchmark_file(Path(bench.json), worker.shard)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The first process takes its kernel tables last, after every case was timed: the
    profiler would slow the launches of the cases timed after it. Past the time limit it
    leaves them to the worker that resumes the file, and exits as interrupted."""
    worker = session.config.stash.get(_KEY, None)
    if worker is None:
        return
    while worker.kernel_tables:
        if past(worker.deadline):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            _say(session, f"detcost: time limit reached; {len(worker.kernel_tables)} kernel "
                          "table(s) left for the run that resumes this one")
            return
        case = worker.kernel_tables.pop(0)
        append(worker.out, kernel_table(case, worker.profile.measure, worker.device,
                                        worker.who))


def _say(session: pytest.Session, line: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "detcost_case" not in metafunc.fixturenames:
        return
    cases = metafunc.config.stash[_KEY].cases_here()
    metafunc.parametrize("detcost_case", cases, ids=[c.id for c in cases])


def _case_of(item: pytest.Item) -> Case | None:
    """The item's case; None for other tests and for the empty-parameter-set item that a
    worker without cases collects."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("detcost_case") if callspec else None
    return case if isinstance(case, Case) else None


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every case's item also answers to its family's name, before -k selects: `-k conv`
    selects the conv family, as the one module per family used to."""
    case = _case_of(item)
    if case is not None:
        item.extra_keyword_matches.add(case.family)


@pytest.hookimpl(trylast=True)  # after -k has deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Write the selected case ids so the parent knows what to expect, then leave out the
    cases this run already recorded (a resume runs only the rest)."""
    worker = config.stash.get(_KEY, None)
    if worker is None:
        return
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
    if worker.together:
        stop = any(gather(stop))
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
    worker: Worker = request.config.stash[_KEY]

    def measure(case: Case) -> Record:
        benchmark.extra_info.update({"case_id": case.id, "mode": worker.mode.name,
                                     "family": case.family})
        if worker.cannot:
            if worker.rank == 0:
                append(worker.out, worker.skipped(case))
            pytest.skip(worker.cannot)
        def time_rounds(step, iterations: int, measure: Measure) -> Timed:
            return time_to_target(benchmark, step, iterations, measure.rounds,
                                  measure.target, measure.max_time_s, worker.agree)

        record = run_case(case, worker.profile.measure, worker.device, time_rounds,
                          worker.who, worker.validate, worker.agree)
        if record.status == "ok":
            median = statistics.median(record.times_s)
            record.bound, record.fraction_of_ceiling = roofline(
                worker.ceilings, record.work_flops, record.work_bytes, record.dtype,
                record.precision, median)
        if worker.distributed:  # do the ranks agree? (all_reduce and DDP gradients should)
            digests = gather(record.digest)  # every rank, every case: they stay in step
            record.rank_digests = digests if record.status == "ok" else []
        if worker.rank == 0:
            append(worker.out, record)
        if (record.status == "ok" and worker.who.process == 1 and worker.rank == 0
                and worker.mode.kernel_tables and worker.profile.measure.takes_kernel_table(
                    case.family, get_workload(case.workload).kernel_table)):
            worker.kernel_tables.append(case)
        worker.done.add(case.id)
        if record.status in ("skipped", "unsupported"):
            pytest.skip(f"{record.status}: {record.message}")
        if record.status != "ok":
            pytest.fail(f"{record.status}: {record.message}", pytrace=False)
        return record

    return measure
