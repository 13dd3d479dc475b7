"""The command line: each subcommand parses its arguments and calls the library."""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .decision import DEFAULT_BUDGET
from .errors import DetcostError, ResultsWarning
from .modes import BASELINE_MODE, DETERMINISTIC_MODE, MODES
from .profile import BUILTIN, Profile, default_profile, load_profile
from .records import check_run_id, new_run_id
from .workloads import WORKLOADS

DEFAULT_RESULTS = Path("results")
CPU_NOTE = ("No CUDA GPU here: running {what} on the CPU to check that the flow works, in the "
            "modes whose knobs act on a CPU unless --mode names others. CPU timings say "
            "nothing about deterministic mode on a GPU.")

console = Console(stderr=True)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _load_profile_for_here(asked: str | None) -> tuple[str, Profile]:
    """The profile asked for, else standard on a GPU and smoke on a CPU. Once it is known
    to be good, says once that CPU numbers are not the point."""
    cuda = _cuda_available()
    name = asked or default_profile(cuda)
    profile = load_profile(name)
    if not cuda:
        what = f"profile {escape(profile.name)!r}" if asked else "the small 'smoke' profile"
        console.print(f"[yellow]{CPU_NOTE.format(what=what)}[/yellow]")
    return name, profile


def _stdout() -> Console:
    """Tables for stdout; wide when piped, so that case ids are not cut."""
    return Console() if sys.stdout.isatty() else Console(width=240)


def _split_modes(values: Sequence[str] | None, cuda: bool = True) -> list[str]:
    """The modes asked for; by default every built-in mode, or on a machine without a CUDA
    GPU those whose knobs act on a CPU."""
    if not values:
        return [name for name, m in MODES.items() if cuda or not m.gpu_only]
    modes = [m for v in values for m in v.split(",") if m]
    for m in modes:
        if m not in MODES:
            raise DetcostError(f"unknown mode {m!r} (allowed: {', '.join(MODES)})")
    return modes


def _job_argv(args: argparse.Namespace) -> list[str]:
    """The `detcost run` arguments a submitted job repeats (paths made absolute: the job
    may start elsewhere); the executor's own, --out and --run-id are the job's."""
    def path(p):
        return str(Path(p).resolve()) if Path(p).exists() else p

    def spec(workload):  # path/to/file.py:NAME (a module:NAME stays as it is)
        file, sep, name = workload.partition(":")
        return path(file) + sep + name

    argv = ["run", "--case-timeout", str(args.case_timeout), "--replica", str(args.replica),
            "--gpus", args.gpus]
    argv += ["--profile", path(args.profile)] if args.profile else []
    argv += [x for m in args.mode or [] for x in ("--mode", m)]
    argv += [x for w in args.workload or [] for x in ("--workload", spec(w))]
    argv += ["-k", args.keyword] if args.keyword else []
    argv += ["--processes", str(args.processes)] if args.processes else []
    argv += ["--bench-dir", path(args.bench_dir)] if args.bench_dir else []
    argv += ["--time-limit", str(args.time_limit)] if args.time_limit else []
    return argv


def cmd_submit(args: argparse.Namespace) -> int:
    from .executor import submit

    run_id = args.run_id or new_run_id("jobs")
    merged = submit(_job_argv(args), run_id, args.out, args.executor, args.jobs,
                    args.gpu_type or (), args.slurm_partition, args.gpus_per_job,
                    args.job_timeout_min)
    print_merged(merged, f"Jobs of {run_id} merged into {args.out / 'raw'}")
    return 0


def print_merged(merged, title: str) -> None:
    """What a merge did: each run folder found, where it went, and whether it was copied."""
    view = Table(title=escape(title))
    for col in ("from", "to", "what"):
        view.add_column(col)
    for m in merged:
        view.add_row(escape(str(m.source)), escape(m.destination.name), m.action)
    _stdout().print(view)


def cmd_run(args: argparse.Namespace) -> int:
    from . import frame, runner
    from .report.page import write_run_page

    if args.executor:
        return cmd_submit(args)
    deadline = time.time() + args.time_limit if args.time_limit else None

    modes = _split_modes(args.mode, _cuda_available())
    profile_arg, profile = _load_profile_for_here(args.profile)
    if args.workload:
        run_id = args.run_id or new_run_id("user")
        profile_arg, profile = _workloads_profile(args.workload, profile,
                                                  args.out / "raw" / run_id)
    run_id = args.run_id or new_run_id(profile.name)
    out_dir = args.out / "raw" / run_id
    processes = args.processes or profile.measure.processes
    console.print(f"detcost {__version__}: profile [bold]{escape(profile.name)}[/bold] "
                  f"({len(profile.cases)} cases), modes {', '.join(modes)}, {processes} "
                  f"process(es) each, interleaved -> {escape(str(out_dir))}")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("[dim]{task.fields[case]}"),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(mode: str, done: int, total: int, last: str) -> None:
            if mode not in tasks:
                tasks[mode] = bar.add_task(f"{mode:>20}", total=total, case="")
            bar.update(tasks[mode], completed=done, total=total, case=escape(last[:60]))

        options = runner.RunOptions(keyword=args.keyword, case_timeout_s=args.case_timeout,
                                    replica=args.replica, processes=processes,
                                    gpus=runner.gpu_ids(args.gpus), deadline=deadline)
        outcomes = runner.run(profile, profile_arg, modes, out_dir, run_id,
                              bench_dir=args.bench_dir, options=options, progress=progress)
    print_outcomes(outcomes)
    if any(o.stopped for o in outcomes):
        console.print(f"[yellow]stopped at the time limit ({args.time_limit:g} s); what was "
                      f"recorded is kept: run the same command with --run-id {run_id} to go "
                      "on where it stopped[/yellow]", highlight=False)
    data = frame.load([out_dir])
    models = sorted(set(data["gpu"])) if len(data) else []
    if len(models) > 1:
        console.print(f"[yellow]this run mixes GPU models ({escape(', '.join(models))}): "
                      "each case's modes ran on one GPU, and each model is reported as its "
                      "own environment[/yellow]", highlight=False)
    if not data.empty:
        print_top_slowdowns(frame.compare_modes(data))
        page = write_run_page(data, out_dir / "report.html", f"detcost run {run_id}")
        console.print(f"report: {escape(str(page))}")
    return 0


def _workloads_profile(specs: Sequence[str], base: Profile, out_dir: Path
                       ) -> tuple[str, Profile]:
    """The profile of `--workload SPEC ...`, written into the run's folder (so the run can
    be resumed and repeated) and loaded from there."""
    from .profile import workloads_profile_text

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "profile.toml"
    path.write_text(workloads_profile_text(specs, base.measure), encoding="utf-8")
    return str(path), load_profile(str(path))


def print_outcomes(outcomes) -> None:
    from .records import STATUSES

    limited = any(o.stopped for o in outcomes)
    table = Table(title="Cases per mode and process")
    for col in ("mode", "process", "cases", *STATUSES, "restarts", "seconds",
                *(["time limit"] if limited else [])):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for o in outcomes:
        limit = ("not started" if not o.started else "stopped" if o.stopped else "",)
        table.add_row(o.mode, str(o.replica), str(o.planned),
                      *(str(o.statuses.get(s, 0)) for s in STATUSES),
                      str(o.restarts), f"{o.seconds:.0f}", *(limit if limited else ()))
    _stdout().print(table)


def print_top_slowdowns(comparison, top: int = 10) -> None:
    ok = comparison[comparison["status"] == "ok"]
    if ok.empty:
        console.print(f"No case was measured in both {BASELINE_MODE} and "
                      f"{DETERMINISTIC_MODE} mode: no slowdown to show.")
        return
    ok = ok.astype({"slowdown": float}).nlargest(top, "slowdown")
    table = Table(title=f"Costliest cases ({DETERMINISTIC_MODE} / {BASELINE_MODE})")
    for col in ("case", "slowdown", "95% rerun interval", "default digests"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in ok.itertuples():
        table.add_row(escape(r.case_id), f"{r.slowdown:.2f}x",
                      f"{r.slowdown_low:.2f}-{r.slowdown_high:.2f}",
                      f"{r.distinct_digests_base}/{r.repeats_base}")
    _stdout().print(table)


def cmd_validate(args: argparse.Namespace) -> int:
    import json

    from . import frame, runner

    profile_arg, profile = _load_profile_for_here(args.profile)
    run_id = args.run_id or new_run_id(f"validate-{profile.name}")
    out_dir = args.out / "raw" / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    only = out_dir / "validate.cases.json"
    only.write_text(json.dumps([c.id for c in profile.sample(args.per_family)]))
    console.print(f"validating the timer on {only} -> {out_dir}")
    runner.run(profile, profile_arg, [BASELINE_MODE], out_dir, run_id, args.bench_dir,
               runner.RunOptions(validate=True, only=only))
    table = frame.validation_table(frame.load([out_dir]))
    out = Table(title="Timer validation: the suite's synchronised clock against CUDA events "
                      "(alternating rounds), and pytest-benchmark's run against do_bench")
    for col in ("case", "pytest-benchmark", "clock", "events", "clock/events", "do_bench",
                "pytest-benchmark/do_bench"):
        out.add_column(col, justify="left" if col == "case" else "right")
    for r in table.itertuples():
        out.add_row(r.case_id, _us(r.suite_median_s), _us(r.clock_median_s),
                    _us(r.events_median_s), f"{r.suite_over_events:.3f}",
                    _us(r.do_bench_median_s), f"{r.suite_over_do_bench:.3f}")
    _stdout().print(out)
    judged = table[table["judged"]]
    console.print(f"{int(judged['within_3pct'].sum())} of {len(judged)} cases of 100 us or "
                  "more agree with CUDA events within 3%")
    return 0


def _us(seconds: float | None) -> str:
    return "-" if seconds is None or seconds != seconds else f"{seconds * 1e6:,.1f} us"


def cmd_list(args: argparse.Namespace) -> int:
    out = _stdout()
    table = Table(title="Workloads")
    for col in ("name", "family", "passes", "parameters: default (allowed)", "what"):
        table.add_column(col)
    from .workloads.user import entry_point_workloads

    for w in [*WORKLOADS.values(), *entry_point_workloads().values()]:
        params = ", ".join(f"{k}={spec.default} ({spec.allowed()})"
                           for k, spec in w.params.items())
        table.add_row(w.name, w.family, ",".join(w.passes), params, w.description)
    out.print(table)
    modes = Table(title="Modes")
    modes.add_column("name")
    modes.add_column("knobs")
    for m in MODES.values():
        modes.add_row(m.name, m.description + (" [GPU only]" if m.gpu_only else ""))
    out.print(modes)
    out.print(f"Built-in profiles: {', '.join(BUILTIN)}")
    out.print("Your own step: --workload path/to/file.py:NAME (or package.module:NAME), or "
              "workload = \"path/to/file.py:NAME\" in a profile")
    return 0


def _load(paths: Sequence[Path], out: Path):
    from . import frame

    where = list(paths) or [out / "raw"]
    data = frame.load(where)
    if data.empty:
        raise DetcostError("no records found in " + ", ".join(map(str, where)))
    return data


def cmd_report(args: argparse.Namespace) -> int:
    from .report.dashboard import build_dashboard

    data = _load(args.paths, args.out)
    index = build_dashboard(data, args.out / "dashboard", args.budget)
    console.print(f"dashboard: {index}")
    if args.readme:
        from .report.readme import update_readme

        update_readme(args.readme, data, args.budget, args.out / "figures")
        console.print(f"findings written into {args.readme}")
    return 0


def _load_with_named(runs: Sequence[str], out: Path):
    """OUT/raw, and any run given as a folder or file outside it."""
    named = [p for p in map(Path, runs) if p.exists()]
    raw = out / "raw"
    return _load([raw, *named] if raw.exists() else named, out)


def _run_ids(data, name: str) -> str:
    """A run named by its id, or by a folder or file of it."""
    if name in set(data["run_id"]):
        return name
    path = Path(name)
    ids = set(data[data["file"].map(lambda f: Path(f).is_relative_to(path.resolve())
                                    or Path(f) == path)]["run_id"]) if path.exists() else set()
    if len(ids) != 1:
        raise DetcostError(f"{name!r} names no single run (runs: "
                           f"{', '.join(sorted(set(data['run_id'])))})")
    return ids.pop()


def cmd_compare(args: argparse.Namespace) -> int:
    from . import frame
    from .decision import decision_table

    if args.runs and len(args.runs) != 2:
        raise DetcostError("compare takes no run (every run) or two runs (A B)")
    data = _load_with_named(args.runs or [], args.out)
    out = _stdout()
    if not args.runs:
        comparison = frame.compare_modes(frame.latest(data))
        table = decision_table(comparison, args.budget)
        if table.empty:
            raise DetcostError(f"no case was measured in {BASELINE_MODE} or "
                               f"{DETERMINISTIC_MODE} mode: nothing to decide")
        view = Table(title=f"Deterministic mode: cost and verdict (budget {args.budget:.2f}x)")
        for col in ("environment", "family", "verdict", "geomean", "worst", "worst case",
                    "nondet. by default", "unsupported"):
            view.add_column(col)
        for r in table.itertuples():
            view.add_row(escape(r.env), r.family, r.verdict, _x(r.geomean_slowdown),
                         _x(r.worst_slowdown), escape(r.worst_case),
                         f"{r.nondeterministic_by_default}/{r.default_measured}",
                         str(r.unsupported))
        out.print(view)
        if frame.across_machines(comparison):
            console.print(f"[yellow]{frame.across_machines(comparison)} cases compare modes "
                          "measured on different machine starts: their slowdowns carry the "
                          "machines' difference too[/yellow]", highlight=False)
        return 0
    run_a, run_b = (_run_ids(data, name) for name in args.runs)
    rows = frame.compare_runs(data, run_a, run_b)
    view = Table(title=f"{escape(run_a)} (A) against {escape(run_b)} (B)")
    for col in ("case", "slowdown A", "slowdown B", "B/A slowdown", "B/A default time",
                "steady"):
        view.add_column(col, justify="left" if col == "case" else "right")
    for r in rows.sort_values("slowdown_b_over_a", ascending=False).itertuples():
        view.add_row(escape(r.case_id), _x(r.slowdown_a), _x(r.slowdown_b),
                     _x(r.slowdown_b_over_a), _x(r.default_time_b_over_a),
                     "yes" if r.steady else "no")
    out.print(view)
    if args.fail_slowdown is None and args.fail_time is None:
        return 0
    failed = frame.regressions(rows, args.fail_slowdown, args.fail_time)
    for r in failed.itertuples():
        console.print(f"[red]regression: {escape(r.case_id)}: {escape(r.why)}[/red]",
                      highlight=False, soft_wrap=True)
    checked = int(rows["steady"].sum())
    console.print(f"{len(failed)} of {checked} steady cases regressed "
                  f"(thresholds: slowdown {_x(args.fail_slowdown)}, default time "
                  f"{_x(args.fail_time)})")
    return 1 if len(failed) else 0


def cmd_merge(args: argparse.Namespace) -> int:
    from .merge import merge_results

    print_merged(merge_results(args.sources, args.out), f"Merged into {args.out / 'raw'}")
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    from . import frame

    data = _load_with_named(args.runs, args.out)
    run_a, run_b = (_run_ids(data, name) for name in args.runs)
    if run_a == run_b:
        raise DetcostError("stability compares two different runs")
    summary, disagree = frame.stability(data, run_a, run_b)
    out = _stdout()
    out.print(escape(frame.stability_sentence(summary)))
    view = Table(title="Cases whose slowdown in B lies outside A's rerun interval")
    for col in ("case", "slowdown A", "A's interval", "slowdown B", "|log B/A|", "steady"):
        view.add_column(col, justify="left" if col == "case" else "right")
    for r in disagree.itertuples():
        view.add_row(escape(r.case_id), _x(r.slowdown_a),
                     f"{r.slowdown_low_a:.2f}-{r.slowdown_high_a:.2f}", _x(r.slowdown_b),
                     f"{r.abs_log_ratio:.3f}", "yes" if r.steady else "no")
    out.print(view)
    return 0


def _x(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.2f}x"


def _number(text: str, least: float, words: str, kind: type = float) -> float:
    """An argument that must be a finite number >= least (nan, inf and words refused)."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < least:
        raise argparse.ArgumentTypeError(f"must be {words}, not {text!r}")
    return value


def _budget(text: str) -> float:
    return _number(text, 1.0, "a slowdown >= 1.0 (1.10 accepts 10%)")


def _ratio(text: str) -> float:
    return _number(text, 1.0, "a ratio >= 1.0 (1.25 fails on growth past 25%)")


def _positive_int(text: str) -> int:
    return int(_number(text, 1, "an integer >= 1", int))


def _timeout(text: str) -> float:
    return _number(text, 1e-3, "a number of seconds > 0")


def _run_id(text: str) -> str:
    try:
        return check_run_id(text)
    except DetcostError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"run id {text!r} ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="detcost", description="What does deterministic mode cost on this GPU and torch?")
    parser.add_argument("--version", action="version", version=f"detcost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="benchmark every case in each mode, one process per mode")
    run.add_argument("--profile", help=f"built-in ({', '.join(BUILTIN)}) or a TOML path; "
                     "default: standard with a CUDA GPU, smoke without")
    run.add_argument("--mode", action="append",
                     help=f"mode(s), repeatable or comma-separated (default: all: "
                          f"{', '.join(MODES)}; without a CUDA GPU only those whose knobs "
                          "act on a CPU)")
    run.add_argument("--workload", action="append", metavar="SPEC",
                     help="your own step: path/to/file.py:NAME or package.module:NAME (a "
                          "build function or a Workload), repeatable; measured at its "
                          "defaults in float32 and bfloat16, as --profile measures")
    run.add_argument("-k", dest="keyword", help="pytest -k expression over case ids")
    run.add_argument("--out", type=Path, default=DEFAULT_RESULTS,
                     help="results folder (default: results); the run goes to OUT/raw/RUN_ID")
    run.add_argument("--run-id", type=_run_id, help="name of the run's folder (default: "
                     "time, a random part and the profile); an existing run is resumed")
    run.add_argument("--bench-dir", type=Path, help="the benchmarks folder")
    run.add_argument("--case-timeout", type=_timeout, default=600.0,
                     help="seconds one case may take before its worker is stopped")
    run.add_argument("--time-limit", type=_timeout, metavar="SECONDS",
                     help="start no case after this many seconds: the run stops, keeps what "
                          "it recorded, and the same --run-id resumes it (for jobs with a "
                          "wall-clock limit: leave room for the longest case and the report)")
    run.add_argument("--processes", type=_positive_int,
                     help="worker processes per mode, interleaved across modes (default: "
                          "the profile's [measure] processes)")
    run.add_argument("--gpus", default="1", metavar="all|N",
                     help="spread the cases over this host's GPUs (all, or the first N), one "
                          "pytest-xdist worker each; every case's modes run on one GPU")
    run.add_argument("--executor", choices=("slurm", "local"),
                     help="submit the run as jobs through submitit (pip install "
                          "'detcost[cluster]'), then merge their results here; local runs "
                          "the jobs on this machine")
    run.add_argument("--jobs", type=_positive_int, default=1,
                     help="with --executor: how many hosts to run on, one job each")
    run.add_argument("--gpu-type", action="append", metavar="CONSTRAINT",
                     help="with --executor slurm: one job per GPU type (a Slurm constraint), "
                          "repeatable; replaces --jobs")
    run.add_argument("--slurm-partition", help="with --executor slurm: the partition")
    run.add_argument("--gpus-per-job", type=_positive_int, default=1,
                     help="with --executor: GPUs each job asks for (use with --gpus all)")
    run.add_argument("--job-timeout-min", type=_positive_int, default=120,
                     help="with --executor: each job's time limit in minutes")
    run.add_argument("--replica", type=_positive_int, default=1,
                     help="number of the first process (3 adds processes 3, 4, ... to an "
                          "existing run)")
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="time a sample of cases with the suite's "
                              "timer, CUDA events and do_bench, in one process")
    validate.add_argument("--profile", help="default: standard with a CUDA GPU, smoke without")
    validate.add_argument("--per-family", type=_positive_int, default=4)
    validate.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    validate.add_argument("--run-id", type=_run_id)
    validate.add_argument("--bench-dir", type=Path)
    validate.set_defaults(func=cmd_validate)

    report = sub.add_parser("report", help="build the dashboard (OUT/dashboard) from result "
                            "files; needs no GPU")
    report.add_argument("paths", nargs="*", type=Path, help="result files or folders "
                        "(default: OUT/raw)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    report.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET,
                        help="slowdown you accept, for the verdicts (default 1.10: 10%%)")
    report.add_argument("--readme", type=Path, help="also rewrite this README's generated "
                        "findings block (needs kaleido and Chrome/Chromium for the figure)")
    report.set_defaults(func=cmd_report)

    compare = sub.add_parser("compare", help="the decision table in the terminal, or two runs "
                             "case by case (compare A B)")
    compare.add_argument("runs", nargs="*", help="two run ids or run folders")
    compare.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    compare.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET)
    compare.add_argument("--fail-slowdown", type=_ratio, metavar="RATIO",
                         help="with A B: exit 1 when a steady case's determinism slowdown in "
                              "B exceeds RATIO times its slowdown in A")
    compare.add_argument("--fail-time", type=_ratio, metavar="RATIO",
                         help="with A B: exit 1 when a steady case's default-mode time in B "
                              "exceeds RATIO times A's")
    compare.set_defaults(func=cmd_compare)

    stable = sub.add_parser("stability", help="two independent runs of the same cases: do "
                            "the slowdowns of one lie inside the other's intervals?")
    stable.add_argument("runs", nargs=2, metavar="RUN", help="two run ids or run folders")
    stable.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    stable.set_defaults(func=cmd_stability)

    merge = sub.add_parser("merge", help="gather results folders of several machines into "
                           "one results tree (OUT/raw), never overwriting")
    merge.add_argument("sources", nargs="+", type=Path, help="results trees, raw/ folders or "
                       "run folders, from any machine")
    merge.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    merge.set_defaults(func=cmd_merge)

    lister = sub.add_parser("list", help="list workloads, modes and profiles")
    lister.set_defaults(func=cmd_list)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Skipped results are one line each, not a Python warning with its source line."""
    if issubclass(category, ResultsWarning):
        console.print(f"[yellow]detcost: warning: {escape(str(message))}[/yellow]",
                      highlight=False, soft_wrap=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def _error(text: str) -> int:
    console.print(f"[red]detcost: {escape(text)}[/red]", highlight=False, soft_wrap=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (args.command == "compare" and (args.fail_slowdown or args.fail_time)
            and len(args.runs) != 2):
        return _error("--fail-slowdown and --fail-time need two runs: compare BASE NEW")
    with warnings.catch_warnings():
        warnings.simplefilter("always", ResultsWarning)
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except DetcostError as exc:
            return _error(str(exc))
        except OSError as exc:  # a read-only or full disk, a name too long, a missing path
            where = f": {exc.filename}" if exc.filename else ""
            return _error(f"{exc.strerror or exc}{where}")
        except KeyboardInterrupt:
            return _error("interrupted; records written so far are kept (resume with "
                          "--run-id)")


if __name__ == "__main__":
    sys.exit(main())
