"""detcost run --executor, with submitit's local executor: the jobs run here, each into its
own results folder, and their runs are merged into the results tree."""

import pytest
from conftest import run_cli

from detcost.analysis.load import load
from detcost.runs.executor import job_names


def test_one_job_per_host_or_per_gpu_type():
    assert job_names("r", 2, ()) == [("r-job1", ""), ("r-job2", "")]
    assert job_names("r", 5, ("h100", "h200")) == [("r-h100", "h100"), ("r-h200", "h200")]


@pytest.mark.slow
def test_local_jobs_run_and_their_results_are_merged(tmp_path, tiny_profile):
    out = tmp_path / "results"
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default,deterministic",
                   "-k", "scatter_add", "--executor", "local", "--jobs", "2", "--out", str(out),
                   "--run-id", "fleet")
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (out / "raw").iterdir()) == ["fleet-job1", "fleet-job2"]
    data = load([out / "raw"])
    assert set(data["run_id"]) == {"fleet-job1", "fleet-job2"}
    assert (data.groupby("run_id")["case_id"].nunique() == 2).all()  # both scatter_add cases
    assert set(data["mode"]) == {"default", "deterministic"}


def test_slurm_without_slurm_is_one_line(tmp_path, tiny_profile, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch on it
    done = run_cli("run", "--profile", str(tiny_profile), "--executor", "slurm",
                   "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "no Slurm here" in done.stderr
    assert done.stderr.strip().count("\n") == 0
