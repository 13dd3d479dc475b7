"""`detcost compare`: the decision table, or two runs case by case with a regression gate."""

from __future__ import annotations

import argparse

from ..analysis.diff import diff_runs
from ..analysis.findings import compute_findings
from ..errors import DetcostError
from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from ..report.text import times
from . import views
from .results import load_with_named, run_id_of


def execute(args: argparse.Namespace) -> int:
    if args.runs and len(args.runs) != 2:
        raise DetcostError("compare takes no run (every run) or two runs (A B)")
    gate = args.fail_slowdown is not None or args.fail_time is not None
    if gate and not args.runs:
        raise DetcostError("--fail-slowdown and --fail-time need two runs: compare BASE NEW")
    data = load_with_named(args.runs or [], args.out)
    if not args.runs:
        findings = compute_findings(data, args.budget)
        if findings.decision.empty:
            raise DetcostError(f"no case was measured in {BASELINE_MODE} or "
                               f"{DETERMINISTIC_MODE} mode: nothing to decide")
        views.decision(findings.decision, args.budget)
        crossed = findings.across_machines
        if crossed:
            views.say(f"{crossed} cases compare modes measured on different machine starts: "
                      "their slowdowns carry the machines' difference too", "yellow")
        return 0
    diff = diff_runs(data, *(run_id_of(data, name) for name in args.runs))
    views.run_diff(diff)
    if not gate:
        return 0
    failed = diff.regressed(args.fail_slowdown, args.fail_time)
    for r in failed.itertuples():
        views.say(f"regression: {r.case_id}: {r.why}", "red")
    views.console.print(f"{len(failed)} of {diff.steady} steady cases regressed "
                        f"(thresholds: slowdown {times(args.fail_slowdown)}, default time "
                        f"{times(args.fail_time)})")
    return 1 if len(failed) else 0
