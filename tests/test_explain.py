"""What changes in a profiled case between default and deterministic mode."""

import pytest
from conftest import write_records

from detcost.analysis.explain import kernel_label, what_changed
from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.runs.records import KernelTable, append


def _profiled(folder, case_id, mode, seconds, host_s, kernels):
    path = write_records(folder, [{"mode": mode, "case_id": case_id, "times_s": [seconds] * 3,
                                   "host_s": host_s}], run_id="r", gpu="GPU-A")
    append(path / f"{mode}.jsonl", KernelTable(run_id="r", mode=mode, case_id=case_id,
                                               process=1, kernels_s=kernels))


def test_kernel_labels_drop_templates_and_signatures():
    assert kernel_label("void at::native::indexFuncLargeIndex<float, long>(at::Tensor)") == \
        "at::native::indexFuncLargeIndex"
    assert kernel_label("nvjet_sm90_tst_64x8_splitK_TNT") == "nvjet_sm90_tst_64x8_splitK_TNT"
    assert kernel_label("void (anonymous namespace)::indexing_backward_kernel<float, 4>(long)") \
        == "indexing_backward_kernel"


def test_a_kernel_choice_is_named_by_what_left_and_what_came_whatever_is_costliest(tmp_path):
    # attention: a GEMM costs most in both modes; cuDNN's attention gives way to flash's
    _profiled(tmp_path, "mha", "default", 392e-6, 160e-6,
              {"nvjet_gemm": 195e-6, "cudnn_generated_sdpa_flash_fprop": 164e-6, "memset": 2e-6})
    _profiled(tmp_path, "mha", "deterministic", 494e-6, 200e-6,
              {"void pytorch_flash::flash_fwd_kernel<traits>(params)": 251e-6,
               "nvjet_gemm": 195e-6, "FillFunctor": 11e-6})
    changed = what_changed(load([tmp_path]))["what_changed"].iloc[0]
    assert changed == ("kernel choice: cudnn_generated_sdpa_flash_fprop → "
                       "pytorch_flash::flash_fwd_kernel")


def test_three_answers_kernel_choice_host_time_and_launch_bound(tmp_path):
    # another kernel: atomics in default, a sort-based kernel in deterministic mode
    _profiled(tmp_path, "index_add", "default", 130e-6, 25e-6,
              {"void indexFuncLargeIndex<float>(...)": 120e-6})
    _profiled(tmp_path, "index_add", "deterministic", 200e-6, 190e-6,
              {"void indexing_backward_kernel<float, 4>(...)": 45e-6, "radix_sort": 17e-6})
    # the same kernels, issued more slowly: the step is the host's
    _profiled(tmp_path, "mm", "default", 28e-6, 27e-6, {"nvjet_splitK": 5e-6, "reduce": 3e-6})
    _profiled(tmp_path, "mm", "deterministic", 60e-6, 60e-6,
              {"nvjet_splitK": 5e-6, "reduce": 3e-6})
    # the same kernel for longer, on a busy GPU
    _profiled(tmp_path, "conv", "default", 1e-3, 1e-4, {"conv_kernel": 0.9e-3})
    _profiled(tmp_path, "conv", "deterministic", 2e-3, 1e-4, {"conv_kernel": 1.9e-3})
    changed = what_changed(load([tmp_path])).set_index("case_id")["what_changed"]
    assert changed["index_add"].startswith("kernel choice: indexFuncLargeIndex → "
                                           "indexing_backward_kernel")
    assert changed["index_add"].endswith("launch-bound in deterministic mode (its time is "
                                         "the host's)")
    assert changed["mm"].startswith("same kernels, same device time; the host took 27 → 60 us")
    assert "launch-bound" in changed["mm"]
    assert changed["conv"] == "same kernels, 2.11x the device time"


def test_a_run_that_did_not_time_the_host_says_nothing_of_it(tmp_path):
    _profiled(tmp_path, "mm", "default", 28e-6, None, {"nvjet_splitK": 5e-6})
    _profiled(tmp_path, "mm", "deterministic", 60e-6, None, {"nvjet_splitK": 5e-6})
    changed = what_changed(load([tmp_path]))
    assert list(changed["what_changed"]) == ["same kernels, same device time"]


def test_a_newer_run_without_kernel_tables_keeps_the_older_run_s_answer(tmp_path):
    """The audit of 2026-12-03 measured index_add again without profiling it: the answer
    stays the one its profiled run gave, and where two runs profiled a case the newer
    one's stands."""
    for run, started, device_s in (("old", "2026-12-01", 45e-6), ("new", "2026-12-02", 90e-6)):
        for mode, kernels in (("default", {"indexFuncLargeIndex": 120e-6}),
                              ("deterministic", {"indexing_backward_kernel": device_s})):
            path = write_records(tmp_path / run, [{"mode": mode, "case_id": "index_add",
                                                   "times_s": [2e-4] * 3, "host_s": 2e-5}],
                                 run_id=run, started_at=started)
            append(path / f"{mode}.jsonl", KernelTable(run_id=run, mode=mode,
                                                       case_id="index_add", process=1,
                                                       kernels_s=kernels))
    write_records(tmp_path / "newest", [{"mode": m, "case_id": "index_add"}
                                        for m in ("default", "deterministic")],
                  run_id="newest", started_at="2026-12-03")
    records = load([tmp_path])
    [row] = what_changed(records).itertuples()
    assert list(compute_findings(records).what_changed["run_id"]) == ["new"]
    assert row.run_id == "new" and row.device_mode_ms == pytest.approx(90e-3)
    assert row.what_changed.startswith("kernel choice: indexFuncLargeIndex")
