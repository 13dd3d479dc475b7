"""The command line: each subcommand parses its arguments and calls the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import DetcostError
from .modes import BASELINE_MODE, DETERMINISTIC_MODE, MODES
from .profile import BUILTIN, load_profile
from .workloads import WORKLOADS

DEFAULT_RESULTS = Path("results")
CPU_NOTE = ("No CUDA GPU here: running the small 'smoke' profile on the CPU to check that the "
            "flow works. CPU timings say nothing about deterministic mode on a GPU.")

console = Console(stderr=True)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _split_modes(values: Sequence[str] | None) -> list[str]:
    if not values:
        return list(MODES)
    modes = [m for v in values for m in v.split(",") if m]
    for m in modes:
        if m not in MODES:
            raise DetcostError(f"unknown mode {m!r} (allowed: {', '.join(MODES)})")
    return modes


def cmd_run(args: argparse.Namespace) -> int:
    from . import frame, runner
    from .report.page import write_run_page

    modes = _split_modes(args.mode)
    profile_arg = args.profile
    if profile_arg is None:
        if _cuda_available():
            profile_arg = "standard"
        else:
            console.print(f"[yellow]{CPU_NOTE}[/yellow]")
            profile_arg = "smoke"
    profile = load_profile(profile_arg)
    run_id = args.run_id or runner.new_run_id(profile.name)
    out_dir = args.out / "raw" / run_id
    console.print(f"detcost {__version__}: profile [bold]{profile.name}[/bold] "
                  f"({len(profile.cases)} cases), modes {', '.join(modes)} -> {out_dir}")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("[dim]{task.fields[case]}"),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(mode: str, done: int, total: int, last: str) -> None:
            if mode not in tasks:
                tasks[mode] = bar.add_task(f"{mode:>20}", total=total, case="")
            bar.update(tasks[mode], completed=done, total=total, case=last[:60])

        outcomes = runner.run(profile, profile_arg, modes, out_dir, run_id,
                              bench_dir=args.bench_dir, keyword=args.keyword,
                              case_timeout_s=args.case_timeout, progress=progress)
    print_outcomes(outcomes)
    data = frame.load([out_dir])
    if not data.empty:
        print_top_slowdowns(frame.compare_modes(data))
        page = write_run_page(data, out_dir / "report.html", f"detcost run {run_id}")
        console.print(f"report: {page}")
    return 0


def print_outcomes(outcomes) -> None:
    from .records import STATUSES

    table = Table(title="Cases per mode")
    for col in ("mode", "cases", *STATUSES, "restarts", "seconds"):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for o in outcomes:
        table.add_row(o.mode, str(o.planned), *(str(o.statuses.get(s, 0)) for s in STATUSES),
                      str(o.restarts), f"{o.seconds:.0f}")
    Console().print(table)


def print_top_slowdowns(comparison, top: int = 10) -> None:
    ok = comparison[comparison["status"] == "ok"].nlargest(top, "slowdown")
    if ok.empty:
        return
    table = Table(title=f"Costliest cases ({DETERMINISTIC_MODE} / {BASELINE_MODE})")
    for col in ("case", "slowdown", "95% interval", "default digests"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in ok.itertuples():
        table.add_row(r.case_id, f"{r.slowdown:.2f}x",
                      f"{r.slowdown_low:.2f}-{r.slowdown_high:.2f}",
                      f"{r.distinct_digests_base}/{r.repeats_base}")
    Console().print(table)


def cmd_list(args: argparse.Namespace) -> int:
    out = Console()
    table = Table(title="Workloads")
    for col in ("name", "family", "passes", "parameters (defaults)", "what"):
        table.add_column(col)
    for w in WORKLOADS.values():
        params = ", ".join(f"{k}={v}" for k, v in w.params.items())
        table.add_row(w.name, w.family, ",".join(w.passes), params, w.description)
    out.print(table)
    modes = Table(title="Modes")
    modes.add_column("name")
    modes.add_column("knobs")
    for m in MODES.values():
        modes.add_row(m.name, m.description)
    out.print(modes)
    out.print(f"Built-in profiles: {', '.join(BUILTIN)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import frame
    from .report.page import write_run_page

    data = frame.load(args.paths or [args.out / "raw"])
    if data.empty:
        raise DetcostError("no records found in " + ", ".join(map(str, args.paths)))
    page = write_run_page(data, args.out / "report.html", "detcost report")
    console.print(f"report: {page}")
    return 0


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
                          f"{', '.join(MODES)})")
    run.add_argument("-k", dest="keyword", help="pytest -k expression over case ids")
    run.add_argument("--out", type=Path, default=DEFAULT_RESULTS,
                     help="results folder (default: results); the run goes to OUT/raw/RUN_ID")
    run.add_argument("--run-id", help="name of the run's folder (default: time and profile); "
                     "an existing run is resumed")
    run.add_argument("--bench-dir", type=Path, help="the benchmarks folder")
    run.add_argument("--case-timeout", type=float, default=600.0,
                     help="seconds one case may take before its worker is stopped")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="build the report page from result files")
    report.add_argument("paths", nargs="*", type=Path, help="result files or folders "
                        "(default: OUT/raw)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    report.set_defaults(func=cmd_report)

    lister = sub.add_parser("list", help="list workloads, modes and profiles")
    lister.set_defaults(func=cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DetcostError as exc:
        console.print(f"[red]detcost: {exc}[/red]", highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
