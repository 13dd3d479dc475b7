"""The whole flow on the CPU: `detcost run` of the smoke profile in two modes, each in its
own process, then the records and the page it wrote."""

import json
import math

import pytest
from conftest import run_cli

from detcost.analysis.compare import compare_modes
from detcost.analysis.load import load
from detcost.analysis.tables import kernel_growth
from detcost.failures import STATUSES
from detcost.profile import load_profile

MODES = ("default", "deterministic")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    # smoke touches every workload (models, a detector, torchrun launches): minutes on a CPU,
    # and more on a loaded one
    done = run_cli("run", "--profile", "smoke", "--mode", ",".join(MODES), "--out", str(out),
                   "--run-id", "e2e", timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "raw" / "e2e", done


@pytest.mark.slow
def test_every_case_has_one_record_per_mode(smoke_run):
    run_dir, _ = smoke_run
    data = load([run_dir])
    expected = {c.id for c in load_profile("smoke").cases}
    for mode in MODES:
        ids = data[data["mode"] == mode]["case_id"]
        assert set(ids) == expected and ids.is_unique
    assert set(data["status"]) <= set(STATUSES)


@pytest.mark.slow
def test_numbers_are_internally_consistent(smoke_run):
    data = load([smoke_run[0]])
    ok = data[data["status"] == "ok"]
    assert len(ok) > 0
    for r in ok.itertuples():
        median = sorted(r.times_s)[len(r.times_s) // 2] if len(r.times_s) % 2 else None
        if median is not None:
            assert r.median_s == pytest.approx(median)
        assert r.throughput == pytest.approx(r.work_amount / r.median_s)
        assert 1 <= r.distinct_digests <= r.repeats
        assert r.iterations >= 1 and len(r.times_s) == 3
        # put without accumulate keeps an arbitrary write. A tiny ResNet's training step
        # loses a few % in some gradients in float32 (batch-norm backward over 8 samples
        # cancels: measured loss 3e-5, median gradient 5%, falling with image size). A
        # detector's training step makes discrete choices (which proposals match which
        # boxes, NMS) that float64 can make otherwise: measured 8% on the smoke shape.
        if r.workload not in ("put", "detection") and not (r.workload == "resnet"
                                                            and r.pass_ == "fwdbwd"):
            assert math.isnan(r.error_vs_float64) or r.error_vs_float64 < 1e-2
    # the same inputs in both modes: deterministic CPU kernels give the same bits
    both = compare_modes(data)
    same = both[(both["status"] == "ok") & (both["workload"] == "conv2d")]
    assert (same["digest_base"] == same["digest_mode"]).all()
    assert all(math.isfinite(s) and s > 0 for s in both[both["status"] == "ok"]["slowdown"])


@pytest.mark.slow
def test_statuses_are_what_torch_does(smoke_run):
    data = load([smoke_run[0]]).set_index(["mode", "workload", "status"])
    put = "put(size=4096,bins=64,accumulate=false)-fwd-float32-highest"
    records = load([smoke_run[0]])
    status = records.set_index(["mode", "case_id"])["status"]
    assert status[("default", put)] == "ok"
    assert status[("deterministic", put)] == "unsupported"
    skipped = records[records["status"] == "skipped"]
    assert len(skipped) and skipped["message"].str.len().gt(0).all()
    assert len(data)


@pytest.mark.slow
def test_knobs_in_force_are_recorded_per_mode(smoke_run):
    run_dir, _ = smoke_run
    from detcost.runs.records import read_run_file

    det_header, det_records = read_run_file(run_dir / "deterministic.jsonl")
    default_header, _ = read_run_file(run_dir / "default.jsonl")
    assert det_header.knobs["deterministic_algorithms"] is True
    assert det_header.knobs["cublas_workspace_config"] == ":4096:8"
    assert default_header.knobs["deterministic_algorithms"] is False
    assert det_header.environment["torch"] and det_header.environment["python"]
    assert all(r.knobs["cudnn_deterministic"] for r in det_records if r.status == "ok")


@pytest.mark.slow
def test_page_is_written_and_the_cpu_is_called_out(smoke_run):
    run_dir, done = smoke_run
    page = (run_dir / "report.html").read_text()
    assert "Plotly.newPlot" in page and page.count("plotly.js v") == 1
    assert "Slowdown of deterministic mode" in page
    said = " ".join(done.stderr.split())  # rich wraps lines to the terminal's width
    assert "CPU timings say nothing about deterministic mode on a GPU" in said
    assert "Cases per mode" in done.stdout


@pytest.mark.slow
def test_model_steps_are_profiled_and_their_growth_attributed(smoke_run):
    """Models carry torch.profiler's costliest ops in both modes (here, a CPU's ops); the
    growth table is computed from them; the ops are not profiled."""
    data = load([smoke_run[0]])
    ok = data[data["status"] == "ok"]
    models = ok[ok["family"] == "model"]
    assert len(models) and models["kernels_s"].map(bool).all()
    assert all(any(k.startswith("aten::") for k in r) for r in models["kernels_s"])
    assert not ok[ok["family"] != "model"]["kernels_s"].map(bool).any()
    growth = kernel_growth(data)
    assert set(growth["case_id"]) <= set(models["case_id"])
    assert (growth["growth_ms"] > 0).all()
    for path in smoke_run[0].glob("*.jsonl"):  # profiled after the process timed every case
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        profiles = [i for i, line in enumerate(lines) if line["kind"] == "kernels"]
        timed = [i for i, line in enumerate(lines)  # the torchrun launch's cases come later
                 if line["kind"] == "record" and line["family"] != "distributed"]
        assert not profiles or min(profiles) > max(timed)
