import json

import pytest

from detcost.errors import DetcostError, ResultsWarning
from detcost.runs.folder import ModeProcess
from detcost.runs.records import (
    SCHEMA_VERSION,
    Header,
    KernelTable,
    Record,
    append,
    read_run_file,
    run_files,
)


def header(**over):
    return Header(run_id="r", mode="default", mode_description="d", knobs={}, environment={},
                  profile={}, started_at="t", **over)


def record(case="c1", **over):
    base = dict(run_id="r", mode="default", case_id=case, family="scatter",
                workload="scatter_add", params={"size": 1}, pass_="fwd", dtype="float32",
                precision="highest", status="ok", times_s=[1e-3, 2e-3], iterations=3)
    return Record(**{**base, **over})


def test_round_trip(tmp_path):
    path = tmp_path / "default.jsonl"
    append(path, header())
    append(path, record("a"))
    append(path, record("b", status="unsupported", message="no deterministic kernel"))
    h, records = read_run_file(path)
    assert h.mode == "default" and h.schema_version == SCHEMA_VERSION
    assert [r.case_id for r in records] == ["a", "b"]
    assert records[0].times_s == [1e-3, 2e-3] and records[1].status == "unsupported"


def test_a_profile_line_lands_in_its_cases_record(tmp_path):
    path = tmp_path / "default.jsonl"
    append(path, header())
    append(path, record("a"))
    append(path, record("a", process=2))
    append(path, record("b", message="no float64 reference"))
    for case, process, kernels, why in [("a", 1, {"gemm": 1e-3}, ""), ("b", 1, {}, "no CUPTI"),
                                        ("gone", 1, {"x": 1.0}, "")]:
        append(path, KernelTable(run_id="r", mode="default", case_id=case, process=process,
                                   kernels_s=kernels, message=why))
    _, records = read_run_file(path)
    assert [(r.case_id, r.process, r.kernels_s) for r in records] == [
        ("a", 1, {"gemm": 1e-3}), ("a", 2, {}), ("b", 1, {})]
    assert records[2].message == "no float64 reference; no CUPTI"


def test_a_kernel_table_s_seconds_join_its_record_s_phases_and_a_v6_line_has_none(tmp_path):
    """What a first process spent beyond its cases is accounted for, per case."""
    path = tmp_path / "default.jsonl"
    append(path, header())
    append(path, record("a", phases_s={"timing": 0.5}))
    append(path, record("b"))
    append(path, KernelTable(run_id="r", mode="default", case_id="a", process=1,
                             kernels_s={"gemm": 1e-3}, wall_s=2.5))
    v6 = {**json.loads(json.dumps(KernelTable(run_id="r", mode="default", case_id="b",
                                                process=1, kernels_s={"x": 1.0}).__dict__)),
          "schema_version": 6}
    del v6["wall_s"]
    with path.open("a") as f:
        f.write(json.dumps(v6) + "\n")
    _, records = read_run_file(path)
    assert records[0].phases_s == {"timing": 0.5, "kernel_table": 2.5}
    assert records[1].kernels_s == {"x": 1.0} and "kernel_table" not in records[1].phases_s


def test_status_must_be_known():
    with pytest.raises(ValueError, match="status 'fine'"):
        record(status="fine")


def test_truncated_last_line_is_dropped_and_earlier_records_kept(tmp_path):
    path = tmp_path / "x.jsonl"
    append(path, header())
    append(path, record("a"))
    with path.open("a") as f:
        f.write('{"kind": "record", "case_')  # a worker killed mid-write
    with pytest.warns(ResultsWarning, match=r"x\.jsonl:3: skipped: a torn line"):
        _, records = read_run_file(path)
    assert [r.case_id for r in records] == ["a"]


def test_malformed_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    append(path, header())
    with path.open("a") as f:
        f.write("not json\n")
    append(path, record("a"))
    with pytest.warns(ResultsWarning, match=r"x\.jsonl:2: skipped: not a JSON line"):
        _, records = read_run_file(path)
    assert [r.case_id for r in records] == ["a"]  # the line is skipped, the rest kept


def test_newer_schema_and_missing_header_are_refused(tmp_path):
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps({**json.loads(json.dumps(header().__dict__)),
                                "schema_version": SCHEMA_VERSION + 1}) + "\n")
    with pytest.raises(DetcostError, match="newer than this detcost reads"):
        read_run_file(path)
    path.write_text(json.dumps(record().__dict__) + "\n")
    with pytest.raises(DetcostError, match="first line is not a detcost header"):
        read_run_file(path)


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DetcostError, match=r"bin\.jsonl: .*not a detcost header"):
        read_run_file(tmp_path / "bin.jsonl")
    with pytest.raises(DetcostError, match="cannot read results file"):
        read_run_file(tmp_path)  # a folder where a file was expected
    with pytest.raises(DetcostError, match="no results file or folder"):
        run_files([tmp_path / "absent"])


def test_golden_v1_file_still_reads():
    from pathlib import Path

    golden = Path(__file__).parent / "data" / "golden-v1.jsonl"
    h, records = read_run_file(golden)
    assert h.environment["gpu"] == "NVIDIA H100 80GB HBM3"
    assert {r.status for r in records} == {"ok", "unsupported"}
    assert all(r.process == 1 for r in records)


def test_golden_v4_file_reads_with_processes_and_reasons():
    from pathlib import Path

    golden = Path(__file__).parent / "data" / "golden-v4.jsonl"
    h, records = read_run_file(golden)
    assert h.process == 2 and h.schema_version == SCHEMA_VERSION
    cudnn, linear, vit = records
    assert all(r.process == 2 for r in records)
    # the reason is data now: the op torch named, and a backend left with no kernel
    assert (cudnn.raised_op, cudnn.excluded_backend) == (
        "No available kernel. Aborting execution.", True)
    assert (linear.raised_op, linear.excluded_backend) == (
        "upsample_linear1d_backward_out_cuda", False)
    assert (vit.raised_op, vit.excluded_backend) == ("", False)
    assert vit.kernels_s == {"sm90_gemm": 0.004}  # its kernel table, still attached


def test_mode_file_names():
    assert ModeProcess("r", "deterministic").file_name == "deterministic.jsonl"
    assert ModeProcess("r", "deterministic", 2).file_name == "deterministic.r2.jsonl"
