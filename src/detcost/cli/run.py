"""`detcost run`: measure a profile in every mode asked for, here or as submitted jobs."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import __version__
from ..analysis.findings import compute_findings
from ..analysis.load import load
from ..modes import is_knob_mode
from ..report.page import write_run_page
from ..runs.executor import submit
from ..runs.folder import new_run_id
from ..runs.request import PlannedRun, RunRequest, perform, plan, portable
from . import views


def request_of(args: argparse.Namespace) -> RunRequest:
    return RunRequest(
        out=args.out, profile=args.profile, modes=tuple(args.mode) if args.mode else None,
        workloads=tuple(args.workload or ()), keyword=args.keyword, run_id=args.run_id,
        bench_dir=args.bench_dir, case_timeout_s=args.case_timeout,
        time_limit_s=args.time_limit, processes=args.processes, gpus=args.gpus,
        first_process=args.first_process)


def execute(args: argparse.Namespace) -> int:
    request = request_of(args)
    if args.executor:
        return _submit(args, request)
    planned = plan(request)
    views.cpu_note(planned.cuda, planned.request.profile, planned.profile.name)
    views.console.print(
        f"detcost {__version__}: profile [bold]{escape(planned.profile.name)}[/bold] "
        f"({len(planned.profile.cases)} cases), modes {', '.join(planned.modes)}, "
        f"{_processes(planned)}, interleaved -> {escape(str(planned.folder.path))}")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("[dim]{task.fields[case]}"),
                  console=views.console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(mode: str, done: int, total: int, last: str) -> None:
            if mode not in tasks:
                tasks[mode] = bar.add_task(f"{mode:>20}", total=total, case="")
            bar.update(tasks[mode], completed=done, total=total, case=escape(last[:60]))

        result = perform(planned, progress)
    views.outcomes(result.outcomes)
    if result.stopped:
        views.say(f"stopped at the time limit ({request.time_limit_s:g} s); what was recorded "
                  f"is kept: run the same command with --run-id {planned.folder.run_id} to "
                  "go on where it stopped", "yellow")
    _summarise(planned)
    return 0


def _processes(planned: PlannedRun) -> str:
    """'2 process(es) each', and the knob modes' own count where the profile gives fewer."""
    each = f"{planned.processes} process(es) each"
    knobs = [m for m in planned.modes if is_knob_mode(m)]
    fewer = planned.profile.measure.processes_of(True, planned.processes)
    if not knobs or fewer == planned.processes:
        return each
    return f"{each} ({', '.join(knobs)}: {fewer})"


def _summarise(planned: PlannedRun) -> Path | None:
    """The run's costliest cases in the terminal, and its own page beside its records."""
    if not planned.folder.path.exists():
        return None  # nothing started (a time limit already past)
    data = load([planned.folder.path])
    if data.empty:
        return None
    models = sorted(set(data["gpu"]))
    if len(models) > 1:
        views.say(f"this run mixes GPU models ({', '.join(models)}): each case's modes ran on "
                  "one GPU, and each model is reported as its own environment", "yellow")
    findings = compute_findings(data)
    views.top_slowdowns(findings.comparison)
    page = write_run_page(findings, planned.folder.report_file,
                          f"detcost run {planned.folder.run_id}")
    views.console.print(f"report: {escape(str(page))}")
    return page


def run_job(request: RunRequest) -> Path:
    """One submitted job: the request measured into its own results tree, with its page."""
    planned = plan(request)
    perform(planned)
    _summarise(planned)
    return request.out


def _submit(args: argparse.Namespace, request: RunRequest) -> int:
    run_id = args.run_id or new_run_id("jobs")
    merged = submit(run_job, portable(replace(request, run_id=None)), run_id, args.executor,
                    args.jobs, args.gpu_type or (), args.slurm_partition, args.gpus_per_job,
                    args.job_timeout_min)
    views.merged(merged, f"Jobs of {run_id} merged into {args.out / 'raw'}")
    return 0
