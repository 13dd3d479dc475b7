"""The command line's words: every subcommand, its options, and the checks on their values
(a bad value is one line naming it and what is allowed). Imports nothing heavy, so that a
missing package can still be named in one line."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .. import __version__
from ..budget import DEFAULT_BUDGET
from ..errors import DetcostError
from ..modes import MODES
from ..profile import BUILTIN
from ..runs.folder import check_run_id
from ..timelimit import OVERRUN_S

DEFAULT_RESULTS = Path("results")


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


def _run_parser(sub) -> None:
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
    run.add_argument("-k", dest="keyword", help="pytest -k expression over case ids "
                     "(and family names)")
    run.add_argument("--out", type=Path, default=DEFAULT_RESULTS,
                     help="results folder (default: results); the run goes to OUT/raw/RUN_ID")
    run.add_argument("--run-id", type=_run_id, help="name of the run's folder (default: "
                     "time, a random part and the profile); an existing run is resumed")
    run.add_argument("--bench-dir", type=Path, help="the benchmarks folder")
    run.add_argument("--case-timeout", type=_timeout, default=600.0,
                     help="seconds one case may take before its worker is stopped")
    run.add_argument("--time-limit", type=_timeout, metavar="SECONDS",
                     help=f"start no case after this many seconds, and stop one still "
                          f"running {OVERRUN_S:g} s after them: the run stops, keeps what it "
                          "recorded, and the same --run-id resumes it, measuring that case "
                          "again (for jobs with a wall-clock limit: leave room for the "
                          "overrun and the report)")
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
    run.add_argument("--first-process", "--replica", dest="first_process",
                     type=_positive_int, default=1,
                     help="number of the first process (3 adds processes 3, 4, ... to an "
                          "existing run)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="detcost", description="What does deterministic mode cost on this GPU and torch?")
    parser.add_argument("--version", action="version", version=f"detcost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)

    validate = sub.add_parser("validate", help="time a sample of cases with the suite's "
                              "timer, CUDA events and do_bench, in one process")
    validate.add_argument("--profile", help="default: standard with a CUDA GPU, smoke without")
    validate.add_argument("--per-family", type=_positive_int, default=4)
    validate.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    validate.add_argument("--run-id", type=_run_id)
    validate.add_argument("--bench-dir", type=Path)

    report = sub.add_parser("report", help="build the dashboard (OUT/dashboard) from result "
                            "files; needs no GPU")
    report.add_argument("paths", nargs="*", type=Path, help="result files or folders "
                        "(default: OUT/raw)")
    report.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    report.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET,
                        help="slowdown you accept, for the verdicts (default 1.10: 10%%)")
    report.add_argument("--readme", type=Path, help="also rewrite this README's generated "
                        "findings block (needs kaleido and Chrome/Chromium for the figure)")

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

    stable = sub.add_parser("stability", help="two independent runs of the same cases: do "
                            "the slowdowns of one lie inside the other's intervals?")
    stable.add_argument("runs", nargs=2, metavar="RUN", help="two run ids or run folders")
    stable.add_argument("--out", type=Path, default=DEFAULT_RESULTS)

    merge = sub.add_parser("merge", help="gather results folders of several machines into "
                           "one results tree (OUT/raw), never overwriting")
    merge.add_argument("sources", nargs="+", type=Path, help="results trees, raw/ folders or "
                       "run folders, from any machine")
    merge.add_argument("--out", type=Path, default=DEFAULT_RESULTS)

    sub.add_parser("list", help="list workloads, modes and profiles")
    return parser
