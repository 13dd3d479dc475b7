"""`--gpus`: one pytest-xdist worker per GPU, each with its own shard of the cases, every
case's modes on one GPU. On a CPU the GPUs are the ids CUDA_VISIBLE_DEVICES lists."""

import pytest
from test_runner import bench_dir

from detcost.errors import DetcostError
from detcost.profile import load_profile
from detcost.runs import runner
from detcost.runs.folder import RunFolder
from detcost.runs.records import read_run_file


def test_gpu_ids_come_from_the_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert runner.gpu_ids("all") == ("3", "5") and runner.gpu_ids("2") == ("3", "5")
    assert runner.gpu_ids("1") == ()  # one worker, as without --gpus
    with pytest.raises(DetcostError, match=r"asks for 4 GPUs; this machine shows 2 \(3, 5\)"):
        runner.gpu_ids("4")
    with pytest.raises(DetcostError, match="'two' is not allowed: all, or a number >= 1"):
        runner.gpu_ids("two")


def _shards(out, mode):
    """case id -> (shard, CUDA_VISIBLE_DEVICES of that shard's worker)."""
    where = {}
    for shard in (0, 1):
        header, records = read_run_file(out / f"{mode}.gpu{shard}.jsonl")
        for r in records:
            assert r.case_id not in where  # each case in one shard only
            where[r.case_id] = (shard, header.environment["cuda_visible_devices"])
    return where


@pytest.mark.slow
def test_two_gpus_split_the_cases_and_keep_each_cases_modes_on_one(tmp_path, tiny_profile):
    profile = load_profile(str(tiny_profile))
    out = tmp_path / "run"
    outcomes = runner.run(profile, str(tiny_profile), ["default", "deterministic"],
                          RunFolder(out, "r"),
                          bench_dir=runner.default_bench_dir(),
                          options=runner.RunOptions(gpus=("4", "7")))
    assert [o.planned for o in outcomes] == [3, 3]
    default, deterministic = _shards(out, "default"), _shards(out, "deterministic")
    assert set(default) == {c.id for c in profile.cases} and default == deterministic
    assert set(default.values()) == {(0, "4"), (1, "7")}


@pytest.mark.slow
def test_a_crash_on_one_gpu_blames_its_case_and_the_other_gpu_finishes(tmp_path,
                                                                       tiny_profile,
                                                                       monkeypatch):
    monkeypatch.setenv("MISBEHAVE", "crash")
    profile = load_profile(str(tiny_profile))
    out = tmp_path / "run"
    [outcome] = runner.run(profile, str(tiny_profile), ["default"], RunFolder(out, "r"),
                           bench_dir=bench_dir(tmp_path),
                           options=runner.RunOptions(gpus=("0", "1"), case_timeout_s=60))
    records = {r.workload + str(r.params.get("bins")): r
               for shard in (0, 1) for r in read_run_file(out / f"default.gpu{shard}.jsonl")[1]}
    assert outcome.planned == 3 and outcome.restarts == 1
    assert records["put8"].status == "error" and "worker process died" in records["put8"].message
    assert records["scatter_add8"].status == records["scatter_add256"].status == "ok"
