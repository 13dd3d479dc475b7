"""`detcost report`: the dashboard (and optionally the README's findings) from result files;
needs no GPU and no torch."""

from __future__ import annotations

import argparse

from ..analysis.findings import compute_findings
from ..report.dashboard import build_dashboard
from ..report.readme import update_readme
from . import views
from .results import load_results


def execute(args: argparse.Namespace) -> int:
    findings = compute_findings(load_results(args.paths, args.out), args.budget)
    index = build_dashboard(findings, args.out / "dashboard")
    views.console.print(f"dashboard: {index}")
    if args.readme:
        update_readme(args.readme, findings, args.out / "figures")
        views.console.print(f"findings written into {args.readme}")
    return 0
