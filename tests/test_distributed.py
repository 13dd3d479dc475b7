"""The distributed family as a user runs it, on a CPU: torchrun starts two ranks (gloo),
every rank runs the cases in step, rank 0 writes the records with every rank's digest."""

import pytest
from conftest import run_cli

from detcost.analysis.load import load
from detcost.analysis.tables import distributed_table
from detcost.runs.records import read_run_file

DEFAULTS = """
[defaults]
dtypes = ["float32"]
precisions = ["highest"]
passes = ["fwd"]
"""
PROFILE = """
name = "dist"
[measure]
rounds = 2
min_round_ms = 0.2
warmup_ms = 0.5
repeats = 2
""" + DEFAULTS + """
[[cases]]
workload = "collective"
params = { op = ["all_reduce", "reduce_scatter", "all_gather"], mb = 1 }
[[cases]]
workload = "ddp"
params = { batch = 2, seq = 8, hidden = 32, heads = 2 }
passes = ["fwdbwd"]
[[cases]]
workload = "fsdp"
params = { batch = 2, seq = 8, hidden = 32, heads = 2 }
passes = ["fwdbwd"]
[[cases]]
workload = "scatter_add"
params = { size = 256, bins = 8 }
"""


@pytest.mark.slow
def test_collectives_and_data_parallel_steps_under_torchrun(tmp_path):
    profile = tmp_path / "dist.toml"
    profile.write_text(PROFILE)
    done = run_cli("run", "--profile", str(profile), "--mode", "default,nccl-ring",
                   "--out", str(tmp_path), "--run-id", "d")
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "raw" / "d"
    header, records = read_run_file(run / "default.jsonl")
    by_workload = {r.case_id.split("-")[0]: r for r in records}
    assert all(r.status == "ok" for r in records), [(r.case_id, r.message) for r in records]
    assert "scatter_add(size=256,bins=8)" in by_workload  # the local case, in its own launch
    agree = {name.split("(")[0] + (name.split("op=")[1].split(",")[0] if "op=" in name else ""):
             len(set(r.rank_digests)) == 1 for name, r in by_workload.items() if r.rank_digests}
    assert agree == {"collectiveall_reduce": True, "collectiveall_gather": True,
                     "collectivereduce_scatter": False, "ddp": True, "fsdp": False}
    all_reduce = by_workload["collective(op=all_reduce,mb=1)"]
    assert all_reduce.work_unit == "GB/s" and len(all_reduce.rank_digests) == 2
    # the NCCL knob runs only where it can act, and the knobs read back say what was in force
    ring_header, ring = read_run_file(run / "nccl-ring.jsonl")
    assert {r.family for r in ring} == {"distributed"}
    assert ring_header.knobs["nccl_algo"] == "Ring"
    assert ring_header.knobs["nccl_nvls_enable"] == header.knobs["nccl_nvls_enable"] == "0"
    table = distributed_table(load([run]))
    assert set(table["mode"]) == {"default", "nccl-ring"} and len(table) == 10


def test_a_later_nccl_run_adds_its_slowdown_without_hiding_deterministic_mode(tmp_path):
    from conftest import write_records

    case = "collective(op=all_reduce,mb=1)-fwd-float32-highest"

    def run(name, start, slow):
        write_records(tmp_path / name, [
            {"mode": mode, "case_id": case, "family": "distributed", "workload": "collective",
             "times_s": [slow.get(mode, 1.0)] * 3} for mode in ("default", *slow)],
            run_id=name, started_at=start)

    run("old", "1", {"deterministic": 2.0})
    run("new", "2", {"nccl-ring": 3.0})
    table = distributed_table(load([tmp_path])).set_index("mode")
    assert table.loc["deterministic", "slowdown"] == pytest.approx(2.0)
    assert table.loc["nccl-ring", "slowdown"] == pytest.approx(3.0)
    assert table.loc["default", "throughput"] == pytest.approx(1.0)  # one default row


SLOWER = """
name = "slower"
[measure]
rounds = 5
min_round_ms = 20.0
warmup_ms = 20.0
max_warmup_ms = 200.0
target = 0.001
max_time_s = 0.5
repeats = 2
""" + DEFAULTS + """
[[cases]]
workload = "collective"
params = { op = ["all_reduce", "reduce_scatter", "all_gather"], mb = 4 }
"""


@pytest.mark.slow
def test_ranks_run_the_same_steps_under_slower_settings(tmp_path):
    # Each rank timed on its own would warm up, iterate and stop its rounds at its own
    # counts, and a collective would then wait for ever for the rank that stopped first.
    profile = tmp_path / "slower.toml"
    profile.write_text(SLOWER)
    done = run_cli("run", "--profile", str(profile), "--mode", "default", "--out",
                   str(tmp_path), "--run-id", "s", "--case-timeout", "120")
    assert done.returncode == 0, done.stderr[-3000:]
    _, records = read_run_file(tmp_path / "raw" / "s" / "default.jsonl")
    assert [r.status for r in records] == ["ok"] * 3, [r.message for r in records]
    assert all(r.stopped in ("precise", "time cap") for r in records)
