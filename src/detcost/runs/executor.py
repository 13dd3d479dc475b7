"""`detcost run --executor slurm|local`: the same run submitted as jobs through submitit
(an optional extra: `pip install detcost[cluster]`), one per host asked for (`--jobs N`) or
per GPU type (`--gpu-type`, a Slurm constraint each), then each job's results folder merged
into this results tree. submitit's local executor runs the same jobs on this machine, which
is how the flow is tested without a cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import DetcostError
from .merge import Merged, merge_results
from .request import RunRequest

# One job: measure a request into its own results tree; returns that tree. The caller
# passes it (the CLI's also writes the run's page), so that this module names no caller.
Job = Callable[[RunRequest], Path]


def job_names(run_id: str, jobs: int, gpu_types: Sequence[str]) -> list[tuple[str, str]]:
    """(run id of the job, Slurm constraint or '') per job: one per GPU type if named,
    else `jobs` alike."""
    if gpu_types:
        return [(f"{run_id}-{t}", t) for t in gpu_types]
    return [(f"{run_id}-job{k}", "") for k in range(1, jobs + 1)]


def submit(job: Job, request: RunRequest, run_id: str, cluster: str, jobs: int = 1,
           gpu_types: Sequence[str] = (), partition: str | None = None,
           gpus_per_node: int = 1, timeout_min: int = 60) -> list[Merged]:
    """Submit the jobs, wait for them, merge their results into `request.out`. Each job
    measures the same request into a results folder of its own, as its own run."""
    out = request.out
    try:
        import submitit
    except ImportError:
        raise DetcostError("--executor needs submitit: pip install 'detcost[cluster]'") from None
    folder = out / "jobs" / run_id
    executor = submitit.AutoExecutor(folder=folder / "submitit",
                                     cluster="local" if cluster == "local" else None)
    if cluster == "slurm" and executor.cluster != "slurm":
        raise DetcostError("--executor slurm: no Slurm here (sbatch not found); "
                           "--executor local runs the jobs on this machine")
    executor.update_parameters(timeout_min=timeout_min, gpus_per_node=gpus_per_node,
                               name=f"detcost-{run_id}")
    submitted = []
    for job_run_id, constraint in job_names(run_id, jobs, gpu_types):
        if cluster == "slurm":
            executor.update_parameters(slurm_partition=partition,
                                       slurm_constraint=constraint or None)
        submitted.append(executor.submit(
            job, replace(request, out=folder / job_run_id, run_id=job_run_id)))
    finished, failures = [], []
    for submission in submitted:
        try:
            finished.append(Path(submission.result()))
        except Exception as exc:  # one failed job: the others' results are still merged
            failures.append(f"job {submission.job_id}: {' '.join(str(exc).split())[:200]}")
    merged = merge_results(finished, out) if finished else []
    if failures:
        raise DetcostError(f"{len(failures)} of {len(submitted)} jobs failed ("
                           f"{'; '.join(failures)}); {len(merged)} run folder(s) of the others "
                           f"merged into {out / 'raw'}; logs in {folder}")
    return merged
