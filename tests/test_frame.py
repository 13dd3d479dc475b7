import math

import pytest
from conftest import ALL_SYNTHETIC_MODES, write_records, write_synthetic_run

from detcost.analysis.compare import (
    across_machines,
    across_processes,
    compare_all_modes,
    compare_modes,
    current_comparisons,
    family_summary,
)
from detcost.analysis.load import load
from detcost.analysis.select import latest, newest_pairs
from detcost.analysis.stability import compare_runs
from detcost.analysis.stats import geomean
from detcost.analysis.tables import batch_invariance, kernel_growth, validation_table


def test_load_derives_statistics_from_raw_times(two_gpu_results):
    data = load([two_gpu_results / "raw"])
    row = data[(data["mode"] == "default") & (data["workload"] == "scatter_add")
               & (data["process"] == 1) & (data["gpu"] == "GPU-A")].iloc[0]
    assert row["median_s"] == pytest.approx(1e-3)
    assert row["iqr_s"] == pytest.approx(0.02e-3)
    assert row["throughput"] == pytest.approx(1.0 / 1e-3)
    assert row["numerics"] == "float32/highest" and not row["noisy"]
    assert set(data["env"]) == {"GPU-A · torch 2.11.0", next(e for e in data["env"]
                                                             if e.startswith("GPU-B"))}


def test_compare_modes_within_each_environment(two_gpu_results):
    comparison = compare_modes(load([two_gpu_results / "raw"]))
    scatter = comparison[comparison["workload"] == "scatter_add"].set_index("gpu")
    assert scatter.loc["GPU-A", "slowdown"] == pytest.approx(2.0)
    assert scatter["slowdown"].max() == pytest.approx(3.0)
    a = scatter.loc["GPU-A"]
    assert a["slowdown_low"] <= a["slowdown"] <= a["slowdown_high"]
    put = comparison[comparison["workload"] == "put"].iloc[0]
    assert put["status"] == "unsupported" and math.isnan(put["slowdown"])
    assert len(comparison) == 2 * 4  # one row per case and environment, process 1 only


def test_family_summary_geomean_and_counts(two_gpu_results):
    summary = family_summary(compare_modes(load([two_gpu_results / "raw"])))
    a = summary[summary["env"].str.startswith("GPU-A")].set_index("family")
    assert a.loc["scatter", "geomean_slowdown"] == pytest.approx(2.0)
    assert a.loc["all", "geomean_slowdown"] == pytest.approx(2.0 ** (1 / 3))
    assert a.loc["all", "unsupported"] == 1 and a.loc["all", "nondeterministic_by_default"] == 1
    assert a.loc["conv", "worst_slowdown"] == pytest.approx(1.0)


def test_across_processes_and_compare_runs(two_gpu_results):
    data = load([two_gpu_results / "raw"])
    default = across_processes(data, "default")
    assert len(default) == 4
    assert not default.set_index("case_id").filter(like="scatter_add", axis=0)["same_digest"].any()
    assert across_processes(data, "deterministic")["same_digest"].all()
    runs = compare_runs(data, "run-a", "run-b").set_index("case_id")
    assert runs.filter(like="scatter_add", axis=0)["slowdown_b_over_a"].iloc[0] == \
        pytest.approx(1.5)


def test_all_modes_and_geomean(two_gpu_results):
    every = compare_all_modes(load([two_gpu_results / "raw"]))
    assert set(every["mode"]) == {"deterministic", "cudnn-deterministic"}
    assert geomean(every[every["mode"] == "cudnn-deterministic"]["slowdown"]) == \
        pytest.approx(1.0)


def test_validation_table_judges_only_long_cases():
    import pandas as pd

    data = pd.DataFrame([
        {"env": "e", "run_id": "r", "case_id": "a", "family": "f", "validation": {
            "suite_median_s": 1.02e-3, "events_median_s": 1e-3, "do_bench_median_s": None}},
        {"env": "e", "run_id": "r", "case_id": "b", "family": "f", "validation": {
            "suite_median_s": 60e-6, "events_median_s": 50e-6, "do_bench_median_s": 50e-6}},
        {"env": "e", "run_id": "r", "case_id": "c", "family": "f", "validation": None}])
    table = validation_table(data).set_index("case_id")
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "within_3pct"] and table.loc["a", "judged"]
    assert not table.loc["b", "within_3pct"] and not table.loc["b", "judged"]


def test_a_comparison_says_when_its_modes_ran_on_different_machine_starts(tmp_path):
    """A run resumed on another lease compares modes measured on two machines: the ratio
    carries the machines' difference, and the comparison says so. Headers from before boot
    ids were recorded say nothing."""
    write_synthetic_run(tmp_path / "same", "GPU-A", "same",
                        boot_ids=dict.fromkeys(ALL_SYNTHETIC_MODES, "boot-1"))
    write_synthetic_run(tmp_path / "split", "GPU-A", "split", boot_ids={
        "default": "boot-1", "deterministic": "boot-2", "cudnn-deterministic": "boot-2"})
    write_synthetic_run(tmp_path / "old", "GPU-A", "old")
    for run, expected, count in (("same", {True}, 0), ("split", {False}, 3),
                                 ("old", {None}, 0)):
        comparison = compare_modes(load([tmp_path / run]))
        measured = comparison[comparison["status"] == "ok"]
        assert set(measured["same_machine"]) == expected
        assert across_machines(comparison) == count


def test_batch_invariance_compares_one_request_across_batch_sizes(tmp_path):
    digests = {"default": {1: "a", 8: "a", 64: "b"}, "deterministic": {1: "c", 8: "c", 64: "c"}}
    write_records(tmp_path, [
        {"mode": mode, "case_id": f"row_matmul(batch={batch},k=4)-fwd-float32-high",
         "family": "invariance", "workload": "row_matmul", "params": {"batch": batch, "k": 4},
         "precision": "high", "digest": digest}
        for mode, by_batch in digests.items() for batch, digest in by_batch.items()])
    table = batch_invariance(load([tmp_path])).set_index("mode")
    assert table.loc["default", "request"] == "row_matmul(k=4)"
    assert not table.loc["default", "invariant"] and table.loc["default", "differs_at"] == [64]
    assert table.loc["deterministic", "invariant"]
    assert table.loc["deterministic", "values"] == [1, 8, 64]


def test_kernel_growth_names_what_grew_and_its_share(tmp_path):
    kernels = {"default": {"gemm": 0.010, "scatter_atomic": 0.002, "copy": 0.001},
               "deterministic": {"gemm": 0.010, "sort": 0.004, "segment_reduce": 0.002,
                                 "copy": 0.001}}
    write_records(tmp_path, [
        {"mode": mode, "case_id": "gpt(b=1)-fwdbwd-bfloat16-highest", "family": "model",
         "workload": "gpt", "pass_": "fwdbwd", "dtype": "bfloat16", "kernels_s": table}
        for mode, table in kernels.items()])
    growth = kernel_growth(load([tmp_path]))
    assert list(growth["kernel"]) == ["sort", "segment_reduce"]  # grew; gemm and copy did not
    assert growth["growth_ms"].tolist() == pytest.approx([4.0, 2.0])
    assert growth["share_of_growth"].tolist() == pytest.approx([1.0, 0.5])  # total grew 4 ms


def test_a_newer_run_of_knob_modes_adds_its_comparisons_and_hides_none(tmp_path):
    """An older run measured default, deterministic and cudnn-deterministic; a newer one
    only default and cudnn-deterministic. The headline stays on the older run (the only
    one with deterministic mode); the knob's comparison comes from the newer run, each
    side from one run."""
    write_synthetic_run(tmp_path / "old", "GPU-A", "old", slow=2.0, started_at="1")
    write_synthetic_run(tmp_path / "new", "GPU-A", "new", started_at="2",
                        modes=("default", "cudnn-deterministic"))
    data = load([tmp_path])
    assert set(latest(data)["run_id"]) == {"old"}
    assert set(compare_modes(latest(data))["status"]) >= {"ok"}
    every = current_comparisons(data).set_index(["mode", "case_id"])
    assert set(every.loc["deterministic", "run_id"]) == {"old"}
    assert set(every.loc["cudnn-deterministic", "run_id"]) == {"new"}
    pairs = newest_pairs(data, "cudnn-deterministic")
    assert pairs.groupby("case_id")["run_id"].nunique().eq(1).all()  # never two runs mixed
    assert newest_pairs(data).equals(latest(data)[
        latest(data)["mode"].isin(["default", "deterministic"])])


def test_a_backend_left_without_a_kernel_is_named_by_its_backend(tmp_path):
    from detcost.failures import named_refusal

    assert named_refusal("index_add_cuda_", False, "index_add", {}) == "index_add_cuda_"
    write_records(tmp_path, [{"mode": "deterministic", "case_id": "sdpa(backend=cudnn)-fwd",
                              "workload": "sdpa", "params": {"backend": "cudnn"},
                              "status": "unsupported", "excluded_backend": True,
                              "raised_op": "No available kernel. Aborting execution."}])
    assert list(load([tmp_path])["raised_op"]) == [
        "sdpa backend=cudnn: no kernel in deterministic mode"]
