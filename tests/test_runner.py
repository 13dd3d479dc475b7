"""The parent process: a worker that dies or hangs becomes a record, and the run goes on."""

import json
import time
from pathlib import Path

import pytest

from detcost.errors import DetcostError
from detcost.profile import load_profile
from detcost.runs import runner
from detcost.runs.folder import ModeProcess, RunFolder
from detcost.runs.launch import DEVICE_CLOCK, WorkerLaunch, bytecode_environment
from detcost.runs.records import read_run_file

# A benchmarks folder whose scatter test misbehaves on purpose for one workload.
MISBEHAVING = '''
import os, time

def test_scatter(detcost_case, detcost_measure):
    if detcost_case.workload == "put":
        if os.environ["MISBEHAVE"] == "crash":
            os._exit(3)
        time.sleep(60)
    detcost_measure(detcost_case)
'''


# One whose first case outlasts the run's time limit (once: a resumed run does not wait).
OUTLASTS_THE_LIMIT = '''
import os, time
from pathlib import Path

def test_scatter(detcost_case, detcost_measure):
    flag = Path(os.environ["WAITED"])
    if not flag.exists():
        flag.touch()
        time.sleep(max(0.0, float(os.environ["DEADLINE"]) - time.time()) + 0.5)
    detcost_measure(detcost_case)
'''


# One whose first case would run for minutes past the limit (once), like a first call
# that compiles.
FAR_PAST_THE_LIMIT = OUTLASTS_THE_LIMIT.replace("+ 0.5)", "+ 300)")


def bench_dir(tmp_path: Path, module: str = MISBEHAVING) -> Path:
    d = tmp_path / "bench"
    d.mkdir()
    (d / "conftest.py").write_text('pytest_plugins = ["detcost.worker.plugin"]\n')
    (d / "test_scatter.py").write_text(module)
    return d


@pytest.mark.slow
@pytest.mark.parametrize(("how", "message"), [
    ("crash", "worker process died (exit code 3) while measuring this case"),
    ("hang", "timed out after 8 s while measuring this case"),
])
def test_a_dead_or_hung_worker_becomes_an_error_record(tmp_path, tiny_profile, monkeypatch,
                                                        how, message):
    monkeypatch.setenv("MISBEHAVE", how)
    profile = load_profile(str(tiny_profile))
    out = tmp_path / "run"
    [outcome] = runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r1"),
                           bench_dir=bench_dir(tmp_path),
                           options=runner.RunOptions(case_timeout_s=8))
    _, records = read_run_file(out / "default.jsonl")
    by_workload = {r.workload: r for r in records}
    assert outcome.planned == 3 and outcome.restarts == 1
    assert by_workload["put"].status == "error" and by_workload["put"].message == message
    # cases before and after the bad one were measured
    assert [r.status for r in records if r.workload == "scatter_add"] == ["ok", "ok"]


@pytest.mark.slow
def test_resume_keeps_what_was_recorded_and_runs_the_rest(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    out = tmp_path / "run"
    real_bench = runner.default_bench_dir()
    runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r1"), bench_dir=real_bench,
               options=runner.RunOptions(keyword="put"))
    first = read_run_file(out / "default.jsonl")[1]
    assert [r.workload for r in first] == ["put"]
    runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r1"), bench_dir=real_bench)
    header, records = read_run_file(out / "default.jsonl")
    assert len(records) == 3 and records[0].digest == first[0].digest
    assert sorted(json.loads((out / "default.plan.json").read_text())) == sorted(
        r.case_id for r in records)
    assert header.environment["device"] == "cpu"


@pytest.mark.slow
def test_a_filter_matching_nothing_is_an_error(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    with pytest.raises(DetcostError, match="no case matches -k 'nothing_like_this'"):
        runner.run(profile, str(tiny_profile), ["default"], RunFolder(tmp_path / "o", "r"),
                   options=runner.RunOptions(keyword="nothing_like_this"))


def test_unknown_mode_and_missing_bench_dir_fail_before_running(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    with pytest.raises(DetcostError, match="unknown mode 'fastest'"):
        runner.run(profile, str(tiny_profile), ["default", "fastest"], RunFolder(tmp_path, "r"))
    with pytest.raises(DetcostError, match="no benchmarks folder"):
        runner.run(profile, str(tiny_profile), ["default"], RunFolder(tmp_path, "r"),
                   bench_dir=tmp_path / "nowhere")
    assert not (tmp_path / "default.jsonl").exists()


def test_a_worker_launch_passes_everything_through(tmp_path):
    who = ModeProcess("r", "tuned", 2)
    launch = WorkerLaunch(who, tmp_path / "tuned.r2.jsonl", "smoke", Path("b"),
                          keyword="conv", validate=True)
    cmd = launch.command(attempt=1)
    assert cmd[cmd.index("--detcost-mode") + 1] == "tuned"
    assert cmd[cmd.index("-k") + 1] == "conv"
    assert cmd[cmd.index("--benchmark-timer") + 1] == DEVICE_CLOCK
    assert cmd[cmd.index("--detcost-process") + 1] == "2" and "--detcost-validate" in cmd
    assert cmd[cmd.index("--benchmark-json") + 1].endswith("tuned.r2.benchmark.1.json")
    assert "--detcost-deadline" not in cmd
    limited = WorkerLaunch(who, tmp_path / "t.jsonl", "smoke", Path("b"), deadline=1234.5)
    cmd = limited.command()
    assert cmd[cmd.index("--detcost-deadline") + 1] == "1234.500"


def test_the_device_clock_the_launch_names_is_the_worker_s():
    from detcost.worker import timing

    module, _, name = DEVICE_CLOCK.rpartition(".")
    assert module == timing.__name__ and callable(getattr(timing, name))


@pytest.mark.slow
def test_a_time_limit_stops_before_the_next_case_and_the_same_run_id_resumes(
        tmp_path, tiny_profile, monkeypatch):
    profile = load_profile(str(tiny_profile))
    out, bench = tmp_path / "run", bench_dir(tmp_path, OUTLASTS_THE_LIMIT)
    # room for the worker to start (importing torch on a busy CPU), then the first case
    # sleeps past the limit
    deadline = time.time() + 30
    monkeypatch.setenv("DEADLINE", str(deadline))
    monkeypatch.setenv("WAITED", str(tmp_path / "waited"))
    first, second = runner.run(profile, str(tiny_profile), ["default", "deterministic"],
                               RunFolder(out, "r1"), bench_dir=bench,
                               options=runner.RunOptions(deadline=deadline))
    # the case in progress at the limit finished; none started after it
    assert (first.mode, first.stopped, first.started) == ("default", True, True)
    assert first.planned == 3 and first.recorded == 1 and first.restarts == 0
    assert (second.mode, second.stopped, second.started) == ("deterministic", True, False)
    assert not (out / "deterministic.jsonl").exists()
    [kept] = read_run_file(out / "default.jsonl")[1]

    outcomes = runner.run(profile, str(tiny_profile), ["default", "deterministic"],
                          RunFolder(out, "r1"), bench_dir=bench)
    assert [(o.recorded, o.stopped) for o in outcomes] == [(3, False), (3, False)]
    records = read_run_file(out / "default.jsonl")[1]
    assert records[0] == kept and len({r.case_id for r in records}) == 3


@pytest.mark.slow
def test_a_case_still_running_past_the_time_limit_s_overrun_is_stopped_and_resumed(
        tmp_path, tiny_profile, monkeypatch):
    profile = load_profile(str(tiny_profile))
    out, bench = tmp_path / "run", bench_dir(tmp_path, FAR_PAST_THE_LIMIT)
    deadline = time.time() + 30  # room for the worker to start
    monkeypatch.setenv("DEADLINE", str(deadline))
    monkeypatch.setenv("WAITED", str(tmp_path / "waited"))
    [first] = runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r1"),
                         bench_dir=bench,
                         options=runner.RunOptions(deadline=deadline, overrun_s=2.0))
    assert time.time() < deadline + 60  # not the case's five minutes
    # stopped, not blamed: no record of the case cut off, and no restart
    assert (first.stopped, first.recorded, first.restarts) == (True, 0, 0)
    assert not read_run_file(out / "default.jsonl")[1]
    [resumed] = runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r1"),
                           bench_dir=bench)
    assert (resumed.recorded, resumed.stopped) == (3, False)
    assert {r.status for r in read_run_file(out / "default.jsonl")[1]} == {"ok"}


def test_a_time_limit_already_past_starts_no_worker(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    outcomes = runner.run(profile, str(tiny_profile), ["default", "deterministic"],
                          RunFolder(tmp_path / "o", "r"),
                          options=runner.RunOptions(deadline=time.time() - 1, processes=2))
    assert [(o.mode, o.process, o.started, o.stopped) for o in outcomes] == [
        ("default", 1, False, True), ("deterministic", 1, False, True),
        ("default", 2, False, True), ("deterministic", 2, False, True)]
    assert not list((tmp_path / "o").glob("*.jsonl"))


def test_workers_keep_bytecode_in_the_results_tree_only_where_packages_lack_it(
        tmp_path, monkeypatch):
    """Packages installed without bytecode, beside an interpreter that cannot write there,
    are compiled again by every worker: the workers then share a cache of their own."""
    package = tmp_path / "site" / "bare_package_for_detcost"
    package.mkdir(parents=True)
    source = package / "__init__.py"
    source.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    cache = RunFolder.of(tmp_path / "results", "r1").bytecode_cache
    assert cache == tmp_path / "results" / ".cache" / "bytecode"
    bare = bytecode_environment(cache, {}, package="bare_package_for_detcost")
    assert bare == {"PYTHONPYCACHEPREFIX": str(cache)}
    # the user's own cache folder wins
    assert bytecode_environment(cache, {"PYTHONPYCACHEPREFIX": "/x"},
                                package="bare_package_for_detcost") == {}
    import py_compile
    py_compile.compile(str(source))  # now compiled beside its source, as pip does
    assert bytecode_environment(cache, {}, package="bare_package_for_detcost") == {}
    assert bytecode_environment(cache, {}, package="no_such_package_for_detcost") == {}


@pytest.mark.slow
def test_a_run_started_inside_pytest_xdist_still_times_its_cases(tmp_path, tiny_profile,
                                                                 monkeypatch):
    """An xdist worker's variables, inherited by the measuring worker, turned pytest-benchmark
    off there: every case became an error record."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    profile = load_profile(str(tiny_profile))
    runner.run(profile, str(tiny_profile), ["default"], RunFolder(tmp_path / "run", "r1"))
    _, records = read_run_file(tmp_path / "run" / "default.jsonl")
    assert [r.status for r in records] == ["ok"] * 3


@pytest.mark.slow
def test_a_group_s_scope_leaves_its_cases_out_of_other_modes_and_later_processes(
        tmp_path, tiny_profile):
    """`full` times its model variants in default and deterministic mode only, and its
    batch-invariance cases in a mode's first process: the workers measure exactly that."""
    text = tiny_profile.read_text().replace(
        "params = { size = 256, bins = [8, 256] }",
        "params = { size = 256, bins = [8, 256] }\nprocesses = 1").replace(
        "accumulate = false }", 'accumulate = false }\nmodes = ["default"]')
    scoped = tmp_path / "scoped.toml"
    scoped.write_text(text)
    profile = load_profile(str(scoped))
    out = tmp_path / "run"
    runner.run(profile, str(scoped), ["default", "deterministic-nofill"], RunFolder(out, "r1"),
               options=runner.RunOptions(processes=2))

    def measured(name: str) -> list[str]:
        path = out / name
        return sorted(r.workload for r in read_run_file(path)[1]) if path.exists() else []

    assert measured("default.jsonl") == ["put", "scatter_add", "scatter_add"]
    assert measured("default.r2.jsonl") == ["put"]
    assert measured("deterministic-nofill.jsonl") == ["scatter_add", "scatter_add"]
    assert measured("deterministic-nofill.r2.jsonl") == []


@pytest.mark.slow
def test_a_knob_mode_runs_in_the_profile_s_knob_processes_and_the_cli_says_so(
        tmp_path, tiny_profile):
    """`full`'s knob_processes = 1: default mode in both processes, the knob mode in the
    first only, and no worker started for a process it does not have."""
    from conftest import run_cli

    profile = tmp_path / "knobs.toml"
    profile.write_text(tiny_profile.read_text().replace(
        "[measure]\n", "[measure]\nprocesses = 2\nknob_processes = 1\n"))
    done = run_cli("run", "--profile", str(profile), "--mode", "default,deterministic-nofill",
                   "--run-id", "k", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "2 process(es) each (deterministic-nofill: 1), interleaved" in said
    run = tmp_path / "results" / "raw" / "k"
    assert sorted(p.name for p in run.glob("*.jsonl")) == [
        "default.jsonl", "default.r2.jsonl", "deterministic-nofill.jsonl"]
    header, records = read_run_file(run / "deterministic-nofill.jsonl")
    assert header.processes == 1 and len(records) == 3
    assert read_run_file(run / "default.r2.jsonl")[0].processes == 2
