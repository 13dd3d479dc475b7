"""Nonsense a user can type, refused in one line that names the value; repeated merges that
change nothing; messages that say what and where; no junk left behind."""

import errno
import json

import pandas as pd
import pytest
from conftest import run_cli, write_records, write_synthetic_run

from detcost.analysis.compare import per_mode
from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.errors import DetcostError, ResultsWarning
from detcost.profile import load_profile, parse_profile
from detcost.report.dashboard import build_dashboard
from detcost.runs import runner
from detcost.runs.folder import LOCK_NAME, RunFolder
from detcost.runs.merge import merge_results
from detcost.worker.timing import calibrate


def _one_error_line(done) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("detcost:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(("modes", "said"), [
    ("", "--mode '' names no mode"),
    ("default,default", "--mode names 'default' twice"),
    ("default,,fastest", "unknown mode 'fastest'"),
])
def test_modes_that_mean_nothing_are_refused(tmp_path, tiny_profile, modes, said):
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", modes, "--out",
                   str(tmp_path))
    assert said in _one_error_line(done)
    assert not (tmp_path / "raw").exists() or not list((tmp_path / "raw").iterdir())


def test_a_size_beyond_any_tensor_is_refused_in_the_profile():
    with pytest.raises(DetcostError, match=r"size = 100000000000000000000 is not allowed: "
                                           "an integer from 1 to 2147483647"):
        parse_profile('[[cases]]\nworkload = "scatter_add"\nparams = { size = 1e20 }\n'
                      .replace("1e20", str(10**20)), "big.toml")


def test_a_record_without_rounds_is_never_steady(tmp_path):
    write_records(tmp_path, [{"mode": "default", "case_id": "c", "times_s": []},
                             {"mode": "deterministic", "case_id": "c"}])
    rows = per_mode(load([tmp_path]))
    assert rows.set_index("mode").loc["default", "noisy"]


def test_two_runs_that_share_no_measured_case_are_no_comparison(tmp_path):
    raw = tmp_path / "results" / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a")
    write_records(raw / "b", [{"mode": "default", "case_id": "other"},
                              {"mode": "deterministic", "case_id": "other"}], run_id="run-b")
    out = str(tmp_path / "results")
    line = _one_error_line(run_cli("compare", "run-a", "run-b", "--out", out,
                                   "--fail-slowdown", "1.1"))
    assert "share no case measured in both default and deterministic mode" in line
    line = _one_error_line(run_cli("stability", "run-a", "run-b", "--out", out))
    assert "share no case" in line
    line = _one_error_line(run_cli("compare", "run-a", "run-a", "--out", out))
    assert "'run-a' is named twice" in line


def test_a_resume_with_another_profile_is_refused(tmp_path, tiny_profile):
    folder = RunFolder(tmp_path / "r", "r")
    write_records(folder.path, [{"mode": "default", "case_id": "c"}], run_id="r")
    with pytest.raises(DetcostError, match=r"was measured with profile None .* this resume "
                                           r"asks for 'tiny'"):
        runner.run(load_profile(str(tiny_profile)), str(tiny_profile), ["default"], folder)
    assert len(load([folder.path])) == 1  # nothing was added under the old header


def test_an_invalid_k_expression_is_one_line_before_any_worker(tmp_path, tiny_profile):
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default", "-k",
                   "scatter and", "--out", str(tmp_path), "--run-id", "r")
    line = _one_error_line(done)
    assert "-k 'scatter and' is not a valid expression" in line and "RROR" not in line
    assert not (tmp_path / "raw" / "r").exists()  # no junk run folder


def test_an_empty_selection_leaves_no_run_folder(tmp_path, tiny_profile):
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default", "-k",
                   "nothing_is_called_this", "--out", str(tmp_path), "--run-id", "r")
    assert "no case matches -k" in _one_error_line(done)
    assert not (tmp_path / "raw" / "r").exists()


def test_a_refused_workload_leaves_no_run_folder(tmp_path):
    done = run_cli("run", "--workload", str(tmp_path / "absent.py") + ":build", "--out",
                   str(tmp_path / "results"))
    _one_error_line(done)
    assert not (tmp_path / "results" / "raw").exists() or not list(
        (tmp_path / "results" / "raw").iterdir())


def test_k_without_distributed_cases_starts_no_torchrun(tmp_path):
    profile = parse_profile(
        '[[cases]]\nworkload = "scatter_add"\nparams = { size = 64, bins = 8 }\n'
        '[[cases]]\nworkload = "collective"\nparams = { op = "all_reduce", mb = 1 }\n',
        "mixed.toml")
    folder = RunFolder(tmp_path / "r", "r")
    everything = runner._workers(profile, "default", folder, runner.RunOptions())
    assert [launch["ranks"] > 0 for launch in everything] == [False, True]
    only_local = runner._workers(profile, "default", folder,
                                 runner.RunOptions(keyword="scatter"))
    assert [launch["ranks"] for launch in only_local] == [0]


def test_rank_zero_decides_the_warm_up_and_the_iterations():
    steps = []
    decisions = iter([False, False, True])  # rank 0 says: two warm-up blocks, then stop

    def agree(value):
        return next(decisions) if isinstance(value, bool) else 7  # and 7 iterations

    cal = calibrate(lambda: steps.append(1), warmup_s=60.0, min_round_s=1e-9, agree=agree)
    # three first steps, two blocks of rank 0's 7 steps; this rank alone would warm up 60 s
    assert cal.warmup_runs == 3 + 2 * 7 and cal.iterations == 7
    assert len(steps) == 3 + 2 * 7


def test_merging_the_same_results_twice_changes_nothing(tmp_path):
    source = write_synthetic_run(tmp_path / "host" / "raw" / "run-a", "GPU-A", "run-a")
    (source / LOCK_NAME).write_text("")  # the host's run is still locked
    first = merge_results([tmp_path / "host"], tmp_path / "results")
    again = merge_results([tmp_path / "host"], tmp_path / "results")
    assert [m.action for m in first] == ["copied"] and [m.action for m in again] == [
        "already there"]
    assert sorted(p.name for p in (tmp_path / "results" / "raw").iterdir()) == ["run-a"]


def test_merging_a_tree_into_itself_says_so(tmp_path):
    write_synthetic_run(tmp_path / "results" / "raw" / "run-a", "GPU-A", "run-a")
    done = run_cli("merge", str(tmp_path / "results"), "--out", str(tmp_path / "results"))
    assert "nothing to merge" in _one_error_line(done)


def test_a_full_disk_names_the_file_and_keeps_the_last_good_page(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a")
    findings = compute_findings(load([raw]))
    index = build_dashboard(findings, tmp_path / "dash")
    good = index.read_text()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("detcost.report.files.os.replace", full)
    with pytest.raises(DetcostError, match=r"cannot write .*plotly.min.js: No space left"):
        build_dashboard(findings, tmp_path / "dash")
    assert index.read_text() == good  # never truncated
    assert not list((tmp_path / "dash").glob(".*.tmp"))


@pytest.mark.slow
def test_a_torn_line_is_reported_once_in_a_resume(tmp_path, tiny_profile):
    out = tmp_path / "results"
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default", "--out",
                   str(out), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    mode_file = out / "raw" / "r" / "default.jsonl"
    lines = mode_file.read_text().splitlines()
    mode_file.write_text("\n".join([lines[0], lines[1][:40], *lines[3:]]) + "\n")
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default", "--out",
                   str(out), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "default.jsonl:2" in line]
    assert len(warned) == 1, done.stderr
    assert json.loads(mode_file.read_text().splitlines()[-1])["status"] == "ok"


def test_each_results_file_is_parsed_once_and_its_warnings_kept(tmp_path, monkeypatch):
    from detcost.analysis import load as loading

    raw = tmp_path / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a")
    with (raw / "a" / "default.jsonl").open("a") as f:
        f.write('{"torn')  # a writer killed mid-line
    parsed = []
    real = loading._parse
    monkeypatch.setattr(loading, "_parse", lambda path: parsed.append(path) or real(path))
    cache = tmp_path / "cache"
    with pytest.warns(ResultsWarning, match="torn line"):
        first = loading.load([raw], cache=cache)
    files = len(parsed)
    with pytest.warns(ResultsWarning, match="torn line"):  # said again, from the cache
        again = loading.load([raw], cache=cache)
    assert len(parsed) == files  # nothing parsed twice
    pd.testing.assert_frame_equal(first, again)
    (raw / "a" / "default.jsonl").write_text("")  # new bytes: parsed again
    with pytest.warns(ResultsWarning):
        loading.load([raw], cache=cache)
    assert len(parsed) == files + 1
