"""The faults a user meets, each tried as they would meet it: colliding runs, torn lines,
a worker that fails before its first case, partial mode sets, bad profile values, an
unwritable disk, hostile strings. Nothing gives a traceback; nothing recorded is lost."""

import errno
import json
import warnings
from pathlib import Path

import pytest
from conftest import run_cli, write_synthetic_run
from filelock import FileLock

from detcost import cli
from detcost.analysis.compare import compare_modes
from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.errors import DetcostError, ResultsWarning
from detcost.profile import load_profile, parse_profile
from detcost.report.dashboard import build_dashboard, slug
from detcost.report.html import csv_safe
from detcost.runs import runner
from detcost.runs.folder import LOCK_NAME, RunFolder, check_run_id, new_run_id
from detcost.runs.records import Header, Record, append, read_run_file


def _header(run_id: str = "r") -> Header:
    return Header(run_id=run_id, mode="default", mode_description="", knobs={},
                  environment={"gpu": "G", "torch": "2"}, profile={}, started_at="t")


def _record(case: str, run_id: str = "r") -> Record:
    return Record(run_id=run_id, mode="default", case_id=case, family="scatter",
                  workload="put", params={}, pass_="fwd", dtype="float32",
                  precision="highest", status="ok", times_s=[1e-3, 1.1e-3], iterations=1,
                  work_unit="GB/s", work_amount=1.0, repeats=2, distinct_digests=1)


# 1. run ids never collide; a second writer is refused

def test_run_ids_started_in_the_same_instant_differ():
    ids = {new_run_id("standard") for _ in range(2000)}
    assert len(ids) == 2000
    assert all(check_run_id(i) == i for i in ids)


@pytest.mark.parametrize("bad", ["../../x", "a/b", "..", ".hidden", "", "x" * 121, "a b"])
def test_run_ids_cannot_leave_the_results_folder(bad):
    with pytest.raises(DetcostError, match="is not allowed"):
        check_run_id(bad)


def test_cli_refuses_a_climbing_run_id(tmp_path):
    done = run_cli("run", "--run-id", "../../x", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "is not allowed" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "raw").exists()


def test_a_second_writer_to_a_live_run_is_refused(tmp_path, tiny_profile):
    out = tmp_path / "run"
    out.mkdir()
    # another detcost holds the run
    with (FileLock(out / LOCK_NAME),
          pytest.raises(DetcostError, match="being written by another detcost process")):
        runner.run(load_profile(str(tiny_profile)), str(tiny_profile), ["default"],
                   RunFolder(out, "run"))
    assert not (out / "default.jsonl").exists()


# 2. torn and corrupt lines are contained

def test_append_after_a_torn_line_keeps_both_sides(tmp_path):
    path = tmp_path / "default.jsonl"
    append(path, _header())
    append(path, _record("a"))
    with path.open("a") as f:
        f.write('{"run_id": "r", "mode": "def')  # a kill in the middle of a write
    append(path, _record("b"))  # the resume
    with pytest.warns(ResultsWarning, match=r"default\.jsonl:3: skipped: not a JSON line"):
        _, records = read_run_file(path)
    assert [r.case_id for r in records] == ["a", "b"]


def test_a_torn_last_line_is_named_and_the_rest_read(tmp_path):
    path = tmp_path / "default.jsonl"
    append(path, _header())
    append(path, _record("a"))
    with path.open("a") as f:
        f.write('{"kind": "rec')
    with pytest.warns(ResultsWarning, match=r"default\.jsonl:3: skipped: a torn line"):
        assert [r.case_id for r in read_run_file(path)[1]] == ["a"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a live reader (a worker still writing) is quiet
        assert len(read_run_file(path, live=True)[1]) == 1


@pytest.mark.parametrize(("field", "value", "why"), [
    ("times_s", "fast", "times_s = 'fast' is not a list of numbers"),
    ("times_s", ["a", "b"], r"times_s = \"\['a', 'b'\]\" is not a list of numbers"),
    ("times_s", [1.0, -1.0], "negative or NaN"),
    ("status", "great", "status 'great' is not one of"),
    ("iterations", True, "iterations = 'True' is not an integer"),
    ("params", [1], "params"),
])
def test_a_record_of_wrong_types_is_skipped_not_fatal(tmp_path, field, value, why):
    path = tmp_path / "default.jsonl"
    append(path, _header())
    bad = {**json.loads(json.dumps(_record("bad").__dict__)), field: value}
    with path.open("a") as f:
        f.write(json.dumps(bad) + "\n")
    append(path, _record("good"))
    with pytest.warns(ResultsWarning, match=why):
        assert [r.case_id for r in read_run_file(path)[1]] == ["good"]


def test_a_bad_file_does_not_hide_the_others(tmp_path):
    write_synthetic_run(tmp_path / "good", "GPU-A", "run-a")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "default.jsonl").write_text("{not json}\n")
    with pytest.warns(ResultsWarning, match=r"bad/default\.jsonl.*file skipped"):
        data = load([tmp_path])
    assert set(data["run_id"]) == {"run-a"}
    done = run_cli("report", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "bad/default.jsonl" in done.stderr
    assert "Traceback" not in done.stderr


# 3. a worker that fails before its first case stops the run with its own error

@pytest.mark.slow
def test_a_worker_failing_before_any_case_blames_none(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    out = tmp_path / "run"
    bench = tmp_path / "bench"  # a benchmarks folder whose plugin cannot load
    bench.mkdir()
    (bench / "conftest.py").write_text('raise ImportError("the plugin is broken here")\n')
    with pytest.raises(DetcostError, match=r"failed before its first case.*plugin is broken"):
        runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r"),
                   bench_dir=bench)
    path = out / "default.jsonl"
    assert not path.exists() or read_run_file(path)[1] == []


# 4. any subset of modes reports

@pytest.mark.parametrize("modes", [("default",), ("cudnn-deterministic",),
                                   ("default", "cudnn-deterministic"), ("deterministic",)])
def test_every_mode_subset_reports(tmp_path, modes):
    raw = tmp_path / "results" / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a", modes=modes)
    data = load([raw])
    comparison = compare_modes(data)
    if not {"default", "deterministic"} <= set(modes) and len(comparison):
        assert set(comparison["status"]) <= {"not measured"}
    index = build_dashboard(compute_findings(data), tmp_path / "dash")
    assert index.is_file()
    done = run_cli("report", "--out", str(tmp_path / "results"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    done = run_cli("compare", "--out", str(tmp_path / "results"))
    assert "Traceback" not in done.stderr
    if "default" in modes or "deterministic" in modes:
        assert done.returncode == 0 and "not measured" in done.stdout
    else:
        assert done.returncode == 2 and "nothing to decide" in done.stderr


# 5. profile values are checked before any worker starts

@pytest.mark.parametrize(("params", "message"), [
    ('workload = "conv2d"\nparams = { layout = "nhwc" }',
     "(conv2d): layout = 'nhwc' is not allowed: one of: nchw, channels_last"),
    ('workload = "sdpa"\nparams = { backend = "fastest" }',
     "(sdpa): backend = 'fastest' is not allowed: one of: flash, efficient, cudnn, math"),
    ('workload = "conv2d"\nparams = { n = -2 }',
     "n = -2 is not allowed: an integer from 1 to 2147483647"),
    ('workload = "scatter_add"\nparams = { bins = 0 }', "bins = 0 is not allowed"),
    ('workload = "conv2d"\nparams = { n = "two" }', "n = 'two' is not allowed"),
    ('workload = "conv2d"\nparams = { n = 1.5 }', "n = 1.5 is not allowed"),
    ('workload = "sdpa"\nparams = { causal = "yes" }', "causal = 'yes' is not allowed: true"),
    ('workload = "scatter_add"\nparams = { size = 0 }', "size = 0 is not allowed"),
    ('workload = "conv2d"\nparams = { n = [] }', "n = [] sweeps nothing"),
    ('workload = "conv2d"\nparams = { groups = 3 }', "groups = 3 must divide cin = 64"),
    ('workload = "mha"\nparams = { heads = 5 }', "must be a multiple of heads = 5"),
])
def test_bad_profile_values_name_file_case_key_value_and_allowed(tmp_path, params, message):
    path = tmp_path / "mine.toml"
    path.write_text(f"[[cases]]\n{params}\n")
    with pytest.raises(DetcostError) as info:
        load_profile(str(path))
    text = str(info.value)
    assert f"profile {path} [[cases]] #1" in text and message in text and "\n" not in text
    done = run_cli("run", "--profile", str(path), "--out", str(tmp_path))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize(("text", "message"), [
    ('[defaults]\ndtype = ["bfloat16"]\n', "[defaults]: unknown key 'dtype'"),
    ('[measure]\nrounds = 1.5\n', "rounds = 1.5 is not allowed: an integer >= 1"),
    ('[measure]\nprocesses = 0\n', "processes = 0 is not allowed"),
    ('[measure]\nwarmup_ms = -1\n', "warmup_ms = -1 is not allowed"),
    ('name = 3\n', "name must be a string"),
])
def test_every_table_is_checked(text, message):
    with pytest.raises(DetcostError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_profile(text + '[[cases]]\nworkload = "put"\n', "p.toml")


# 6. environment errors are one line, exit 2, and keep what was written

def test_an_unwritable_results_folder_is_one_line(tmp_path):
    done = run_cli("run", "--profile", "smoke", "--out", "/dev/null/results", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("detcost:")]
    assert len(errors) == 1 and "Not a directory: /dev/null/results" in errors[0]


def test_a_read_only_disk_is_one_line(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "raw"))

    monkeypatch.setattr(Path, "mkdir", refuse)
    code = cli.main(["run", "--profile", "smoke", "--out", str(tmp_path), "-k", "put"])
    err = capsys.readouterr().err
    assert code == 2 and "Read-only file system" in err and "Traceback" not in err


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_the_workers_error(tmp_path, tiny_profile):
    out = tmp_path / "results" / "raw" / "full"
    out.mkdir(parents=True)
    (out / "default.jsonl").symlink_to("/dev/full")  # every write: no space left
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default", "--out",
                   str(tmp_path / "results"), "--run-id", "full")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "before its first case" in done.stderr and "No space left" in done.stderr


def test_a_very_long_gpu_name_still_reports(tmp_path):
    name = "NVIDIA " + "H" * 300
    write_synthetic_run(tmp_path / "results" / "raw" / "a", name, "run-a")
    done = run_cli("report", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    pages = [p.name for p in (tmp_path / "results" / "dashboard").glob("*.html")]
    assert len(pages) == 2 and all(len(p) <= 90 for p in pages)
    assert slug(name) != slug(name + "x")  # cut names stay unique


@pytest.mark.parametrize("args", [["report", "--budget", "nan"], ["report", "--budget", "inf"],
                                  ["run", "--processes", "0"], ["run", "--process", "0"],
                                  ["run", "--case-timeout", "-1"],
                                  ["compare", "--fail-slowdown", "1.2"]])
def test_nonsense_numbers_are_refused(tmp_path, args):
    done = run_cli(*args, "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (tmp_path / "raw").exists()


# 7. exports are safe, labels are text

def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    import pandas as pd

    table = pd.DataFrame({"case": ["=HYPERLINK(\"x\")", "+1", "-cmd", "@SUM(A1)", "plain"],
                          "slowdown": [-1.5, 1.0, 2.0, 3.0, 4.0]})
    safe = csv_safe(table)
    assert list(safe["case"]) == ["'=HYPERLINK(\"x\")", "'+1", "'-cmd", "'@SUM(A1)", "plain"]
    assert list(safe["slowdown"]) == [-1.5, 1.0, 2.0, 3.0, 4.0]


def test_dashboard_csv_and_labels_from_hostile_names(tmp_path):
    raw = tmp_path / "raw"
    write_synthetic_run(raw / "a", '=cmd|"/c calc"!A0', "run-a")
    build_dashboard(compute_findings(load([raw])), tmp_path / "dash")
    csvs = list((tmp_path / "dash").glob("*.csv"))
    assert csvs
    for path in csvs:
        for cell in (c for line in path.read_text().splitlines() for c in line.split(",")):
            assert not cell.strip('"').startswith("=")
    page = next(p for p in (tmp_path / "dash").glob("cmd*.html")).read_text()
    payloads = [part.split("]);</script>", 1)[0]
                for part in page.split("window.detcostFigures||[]).push([")[1:]]
    assert payloads and '/c calc\\"' in "".join(payloads)  # the quote shows as a quote
    assert not any("&quot;" in p or "&#x27;" in p for p in payloads)


# 8. the CPU is called CPU

def test_a_cpu_run_is_labelled_cpu(tmp_path):
    from detcost.environment import label

    assert label({"gpu": None, "cpu": "AMD EPYC", "torch": "2.14"}).startswith("CPU (AMD EPYC)")
    assert "CPU" not in label({"gpu": "NVIDIA H100", "torch": "2.14"})
