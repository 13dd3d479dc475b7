"""Intervals over processes, stability between runs and the regression gate."""

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, write_records, write_synthetic_run

from detcost.analysis.compare import compare_modes
from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.analysis.stability import regressions, rerun_pairs, stability, steadiness
from detcost.analysis.stats import rerun_interval
from detcost.report.trust_markdown import measurement_md


def test_one_process_resamples_rounds_only_and_more_spread_widens_the_interval():
    rng = np.random.default_rng(0)
    rounds = [np.full(8, 1.0) + np.linspace(0, 0.01, 8)]
    low, high = rerun_interval([r * 2 for r in rounds], rounds, rng)
    assert low < 2.0 < high and high - low < 0.05
    # two processes that disagree by 10%: the interval must cover the gap between them
    apart = [np.full(8, 1.0), np.full(8, 1.1)]
    low2, high2 = rerun_interval([p * 2 for p in apart], [np.full(16, 1.0)], rng)
    assert low2 <= 2.0 and high2 >= 2.2 * 0.99
    assert rerun_interval([np.array([1.0])], rounds, rng) == pytest.approx(
        (np.nan, np.nan), nan_ok=True)


def test_slowdown_pools_every_process(tmp_path):
    write_synthetic_run(tmp_path / "a", "GPU-A", "run-a", slow=2.0, processes=2)
    comparison = compare_modes(load([tmp_path]))
    scatter = comparison[comparison["workload"] == "scatter_add"].iloc[0]
    assert scatter["slowdown"] == pytest.approx(2.0)
    assert len(scatter["processes_base"]) == 2 and len(scatter["processes_mode"]) == 2
    assert scatter["slowdown_low"] < 2.0 < scatter["slowdown_high"]


def _two_runs(tmp_path, slow_b: float):
    raw = tmp_path / "results" / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a", slow=2.0, processes=2, started_at="1")
    write_synthetic_run(raw / "b", "GPU-A", "run-b", slow=slow_b, processes=2, started_at="2")
    return raw


def test_stability_counts_cases_inside_the_other_runs_interval(tmp_path):
    data = load([_two_runs(tmp_path, 2.0)])
    summary, disagree = stability(data, "run-a", "run-b")
    assert summary["inside_share"] == 1.0 and summary["median_abs_log_ratio"] == 0.0
    assert disagree.empty
    data = load([_two_runs(tmp_path / "x", 3.0)])
    summary, disagree = stability(data, "run-a", "run-b")
    assert summary["inside_share"] < 1.0
    assert list(disagree["case_id"]) == ["scatter_add(size=8,bins=2)-fwd-float32-highest"]
    assert disagree["abs_log_ratio"].iloc[0] == pytest.approx(np.log(1.5))


def test_stability_command_and_dashboard_view(tmp_path):
    _two_runs(tmp_path, 3.0)
    done = run_cli("stability", "run-a", "run-b", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    assert "steady cases lie inside A's bootstrap interval" in done.stdout  # no other pair
    assert "scatter_add(size=8,bins=2)" in done.stdout
    done = run_cli("report", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    page = next((tmp_path / "results" / "dashboard").glob("gpu-a*.html")).read_text()
    assert "Stability between runs" in page and "Stability: slowdown in run-b" in page
    # the newest run stands for each case in the headline views
    assert page.count("run-a") < page.count("run-b")


@pytest.mark.parametrize(("slow_b", "args", "code"), [
    (2.0, ["--fail-slowdown", "1.25"], 0),
    (3.0, ["--fail-slowdown", "1.25"], 1),
    (3.0, ["--fail-slowdown", "1.6"], 0),
    (3.0, ["--fail-time", "1.05"], 0),
])
def test_the_regression_gate_exits_one_on_growth_past_the_threshold(tmp_path, slow_b, args,
                                                                     code):
    _two_runs(tmp_path, slow_b)
    done = run_cli("compare", "run-a", "run-b", *args, "--out", str(tmp_path / "results"))
    assert done.returncode == code, done.stderr
    assert ("regression: scatter_add" in done.stderr) == (code == 1)
    assert "steady cases regressed" in done.stderr


def test_regressions_name_slowdown_growth_and_slower_default_time():
    import pandas as pd

    rows = pd.DataFrame({
        "case_id": ["a", "b", "c", "noisy"], "steady": [True, True, True, False],
        "slowdown_a": [2.0, 1.0, 1.0, 1.0], "slowdown_b": [3.0, 1.0, 1.0, 9.0],
        "slowdown_b_over_a": [1.5, 1.0, 1.0, 9.0],
        "default_time_b_over_a": [1.0, 1.3, 1.0, 9.0]})
    failed = regressions(rows, fail_slowdown=1.25, fail_time=1.2)
    assert dict(zip(failed["case_id"], failed["why"], strict=True)) == {
        "a": "slowdown 2.00x -> 3.00x", "b": "default-mode time 1.30x"}
    assert regressions(rows, None, None).empty


def test_runs_are_paired_within_a_profile(tmp_path):
    raw = tmp_path / "raw"
    write_synthetic_run(raw / "s1", "GPU-A", "std-1", started_at="1", profile="standard")
    write_synthetic_run(raw / "s2", "GPU-A", "std-2", started_at="2", profile="standard")
    write_synthetic_run(raw / "f1", "GPU-A", "full-1", started_at="3", profile="full")
    write_synthetic_run(raw / "b1", "GPU-B", "other", started_at="4", profile="standard")
    assert rerun_pairs(load([raw])) == [("GPU-A · torch 2.11.0", "std-1", "std-2")]


def test_a_newer_run_with_no_case_in_common_is_not_paired(tmp_path):
    raw = tmp_path / "raw"
    write_synthetic_run(raw / "s1", "GPU-A", "std-1", started_at="1", profile="standard")
    write_synthetic_run(raw / "s2", "GPU-A", "std-2", started_at="2", profile="standard")
    data = load([raw])
    other = data[data["run_id"] == "std-2"].assign(run_id="std-3", started_at="3",
                                                   case_id=lambda d: "other-" + d["case_id"])
    both = pd.concat([data, other], ignore_index=True)
    assert rerun_pairs(both) == [("GPU-A · torch 2.11.0", "std-1", "std-2")]


STEADY, SHIFTED = [1.0, 1.0, 1.005, 0.995, 1.0], [1.0, 1.2, 0.8, 1.15, 0.85]


def _bound_and_steady(tmp_path, run_id: str = "r", started_at: str = "t"):
    """Default mode in two processes: three GPU-bound cases (the host took a tenth of each
    step), two of them steady, and two launch-bound ones (the host took the whole step)
    whose rounds shift, as the H200's pooling steps' did."""
    cases = [("gpu-a", STEADY, 0.1), ("gpu-b", STEADY, 0.1), ("gpu-c", SHIFTED, 0.1),
             ("host-a", SHIFTED, 1.0), ("host-b", SHIFTED, 0.9)]
    return write_records(tmp_path, [
        {"mode": mode, "process": process, "case_id": case, "times_s": times, "host_s": host}
        for case, times, host in cases for mode in ("default", "deterministic")
        for process in (1, 2)], run_id=run_id, started_at=started_at)


def test_steadiness_reads_the_gpu_bound_cases_apart_from_the_launch_bound(tmp_path):
    s = steadiness(load([_bound_and_steady(tmp_path)]))
    assert s.share == pytest.approx(2 / 5)
    assert (s.gpu_bound, s.gpu_bound_cases) == (pytest.approx(2 / 3), 3)
    assert (s.launch_bound, s.launch_bound_cases) == (0.0, 2) and s.split
    # on a CPU every step is the host's: no case is either, and the target reads on all
    cpu = write_records(tmp_path / "cpu", [{"mode": "default", "case_id": "c", "host_s": 1.0}],
                        gpu="CPU")
    assert not steadiness(load([cpu])).split and steadiness(load([cpu])).unsplit_cases == 1


def test_the_noise_line_gives_the_gpu_bound_share_against_the_target(tmp_path):
    line = measurement_md(compute_findings(load([_bound_and_steady(tmp_path)])))
    assert ("**Noise on GPU-A**: 40% of default-mode cases have IQR/median under 2%: 67% "
            "of the 3 GPU-bound ones (target 90%), 0% of the 2 launch-bound ones") in line


def test_the_stability_command_gives_each_runs_gpu_bound_share(tmp_path):
    raw = tmp_path / "results" / "raw"
    _bound_and_steady(raw / "a", "run-a", "1")
    _bound_and_steady(raw / "b", "run-b", "2")
    done = run_cli("stability", "run-a", "run-b", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert ("default-mode cases with IQR/median under 2%: 40% (A), 40% (B); of the "
            "GPU-bound ones 67% (A, 3), 67% (B, 3)") in said
