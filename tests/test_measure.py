import torch

from detcost.cases import make_case
from detcost.measuring import Measure
from detcost.runs.folder import ModeProcess
from detcost.worker.measure import (
    classify_failure,
    kernel_table,
    owed_kernel_tables,
    run_case,
)

LIGHT = Measure(rounds=2, min_round_ms=0.1, warmup_ms=0.1, repeats=2)


def plain_rounds(step, iterations, measure):
    import time

    from detcost.worker.timing import ROUNDS, Timed

    out = []
    for _ in range(measure.rounds):
        t0 = time.perf_counter()
        for _ in range(iterations):
            step()
        out.append((time.perf_counter() - t0) / iterations)
    return Timed(out, ROUNDS, 0.0)


def test_ok_record_has_times_work_and_variance():
    case = make_case("scatter_add", {"size": 1000, "bins": 10}, "fwd", "float32", "highest")
    r = run_case(case, LIGHT, torch.device("cpu"), plain_rounds, ModeProcess("run", "default"))
    assert r.status == "ok", r.message
    assert len(r.times_s) == 2 and r.iterations >= 1
    assert r.work_unit == "GB/s" and r.work_amount == (1000 * 4 + 1000 * 8 + 2 * 10 * 4) / 1e9
    assert r.repeats == 2 and r.distinct_digests == 1 and len(r.digest) == 64
    assert r.error_vs_float64 < 1e-6
    assert r.knobs["float32_matmul_precision"] == "highest"


def test_an_op_without_deterministic_kernel_is_an_unsupported_record():
    case = make_case("put", {"size": 100, "bins": 10, "accumulate": False}, "fwd",
                     "float32", "highest")
    torch.use_deterministic_algorithms(True)
    try:
        r = run_case(case, LIGHT, torch.device("cpu"), plain_rounds,
                     ModeProcess("run", "deterministic"))
    finally:
        torch.use_deterministic_algorithms(False)
    assert r.status == "unsupported"
    assert "put_ does not have a deterministic implementation" in r.message
    assert r.knobs["deterministic_algorithms"] is True


def test_a_crash_inside_a_case_is_an_error_record():
    case = make_case("conv2d", {"n": 1, "cin": 3, "cout": 3, "hw": 4, "groups": 2}, "fwd",
                     "float32", "highest")  # 3 channels do not split into 2 groups
    r = run_case(case, LIGHT, torch.device("cpu"), plain_rounds, ModeProcess("run", "default"))
    assert r.status == "error" and r.message.startswith("RuntimeError")


def test_skipped_case_does_no_work():
    case = make_case("scatter_add", {}, "fwd", "bfloat16", "high")
    r = run_case(case, LIGHT, torch.device("cpu"), plain_rounds, ModeProcess("run", "default"))
    assert r.status == "skipped" and "no effect on bfloat16" in r.message


def test_classify_failure():
    alert = RuntimeError("put_ does not have a deterministic implementation, but you set ...")
    assert classify_failure(alert, deterministic=True) == "unsupported"
    assert classify_failure(torch.OutOfMemoryError("CUDA out of memory"), True) == "oom"
    no_kernel = RuntimeError("No available kernel. Aborting execution.")
    assert classify_failure(no_kernel, deterministic=True) == "unsupported"
    assert classify_failure(no_kernel, deterministic=False) == "error"
    assert classify_failure(ValueError("bad shape"), deterministic=True) == "error"


TINY_GPT = {"batch": 1, "seq": 8, "new_tokens": 2, "vocab": 32, "hidden": 16, "layers": 1,
            "heads": 2}


def test_a_model_case_is_profiled_apart_and_survives_a_missing_profiler(monkeypatch):
    case = make_case("gpt", TINY_GPT, "fwd", "float32", "highest")
    r = run_case(case, LIGHT, torch.device("cpu"), plain_rounds, ModeProcess("run", "default"))
    assert r.status == "ok" and r.kernels_s == {} and "profile" not in r.phases_s
    profiled = kernel_table(case, LIGHT, torch.device("cpu"), ModeProcess("run", "default"))
    assert profiled.case_id == case.id and profiled.kernels_s and not profiled.message
    assert profiled.wall_s > 0  # what the table cost the process

    def no_profiler(*args, **kwargs):
        raise RuntimeError("CUPTI_ERROR_INSUFFICIENT_PRIVILEGES")

    monkeypatch.setattr("detcost.worker.measure.kernel_times", no_profiler)
    profiled = kernel_table(case, LIGHT, torch.device("cpu"), ModeProcess("run", "default"))
    assert profiled.kernels_s == {}
    assert profiled.message == "no kernel table: RuntimeError: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES"


def test_kernel_tables_never_taken_are_owed_to_the_worker_that_resumes(tmp_path):
    from conftest import write_records

    from detcost.runs.records import KernelTable, append

    fwd, fwdbwd = (make_case("gpt", TINY_GPT, p, "float32", "highest") for p in ("fwd", "fwdbwd"))
    scatter = make_case("scatter_add", {"size": 64, "bins": 8}, "fwd", "float32", "highest")
    cases = {c.id: c for c in (fwd, fwdbwd, scatter)}
    path = write_records(tmp_path, [
        {"mode": "default", "case_id": c.id, "workload": c.workload} for c in cases.values()
    ] + [{"mode": "default", "case_id": "gpt-failed", "workload": "gpt", "status": "error"}]
    ) / "default.jsonl"
    # a worker that stopped after timing both model cases owes both profiles, and no other
    models = Measure(kernel_tables=True)
    assert owed_kernel_tables(path, cases, models) == [fwd, fwdbwd]
    assert owed_kernel_tables(path, cases, None) == []  # a mode that takes none
    # a profile that asks for scatter's tables owes that case too
    scatter_too = Measure(kernel_tables=True,
                          families=(("scatter", (("kernel_tables", True),)),))
    assert owed_kernel_tables(path, cases, scatter_too) == [fwd, fwdbwd, scatter]
    append(path, KernelTable(run_id="r", mode="default", case_id=fwd.id, process=1,
                               kernels_s={"aten::mm": 1e-3}))
    assert owed_kernel_tables(path, cases, models) == [fwdbwd]
    # a failed profile was written too (with why): it is not owed again
    append(path, KernelTable(run_id="r", mode="default", case_id=fwdbwd.id, process=1,
                               message="no kernel table: RuntimeError: no CUPTI"))
    assert owed_kernel_tables(path, cases, models) == []
    assert owed_kernel_tables(tmp_path / "absent.jsonl", cases, models) == []


def test_only_default_and_deterministic_compare_with_float64():
    case = make_case("scatter_add", {"size": 1000, "bins": 10}, "fwd", "float32", "highest")
    knob = run_case(case, LIGHT, torch.device("cpu"), plain_rounds,
                    ModeProcess("run", "deterministic-nofill"))
    second = run_case(case, LIGHT, torch.device("cpu"), plain_rounds,
                      ModeProcess("run", "default", process=2))
    assert knob.status == second.status == "ok"
    assert knob.error_vs_float64 is None and second.error_vs_float64 is None
    assert knob.distinct_digests == 1 and knob.repeats == LIGHT.repeats


def test_a_family_table_asks_for_the_kernel_tables_of_all_its_cases():
    from detcost.measuring import parse_measure

    measure = parse_measure("p", {"kernel_tables": False,
                                  "family": {"scatter": {"kernel_tables": True}}},
                            ("scatter", "model"))
    assert measure.takes_kernel_table("scatter", declared=False)
    assert not measure.takes_kernel_table("model", declared=True)  # the profile said no
    assert Measure().takes_kernel_table("model", declared=True)
    assert not Measure().takes_kernel_table("matmul", declared=False)


def test_a_step_slower_than_the_time_cap_allows_is_timed_in_fewer_rounds():
    measure = Measure(rounds=8, target=0.01, max_time_s=0.5)
    assert measure.fitted_to(0.01) is measure  # 8 rounds of 10 ms fit in 0.5 s
    assert measure.fitted_to(0.1).rounds == 5
    assert measure.fitted_to(0.8).rounds == 3  # never under three
    exact = Measure(rounds=8, target=0.0, max_time_s=0.5)
    assert exact.fitted_to(0.8).rounds == 8  # target 0 asks for exactly `rounds`


def test_run_case_times_a_slow_step_in_the_rounds_that_fit(monkeypatch):
    from detcost.worker import measure as worker_measure
    from detcost.worker.timing import Calibration

    asked = []
    monkeypatch.setattr(worker_measure, "calibrate",
                        lambda *a, **k: Calibration(iterations=1, single_s=0.8, warmup_runs=3))

    def rounds(step, iterations, measure):
        asked.append(measure.rounds)
        return plain_rounds(step, iterations, measure)

    case = make_case("scatter_add", {"size": 1000, "bins": 10}, "fwd", "float32", "highest")
    slow = Measure(rounds=8, min_round_ms=0.1, warmup_ms=0.1, repeats=2, target=0.01,
                   max_time_s=0.5)
    r = run_case(case, slow, torch.device("cpu"), rounds, ModeProcess("run", "default"))
    assert r.status == "ok" and asked == [3] and len(r.times_s) == 3
