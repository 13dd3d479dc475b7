"""`detcost stability A B`: do the slowdowns of one run lie inside the other's intervals?"""

from __future__ import annotations

import argparse

from ..analysis.calibration import calibrate
from ..analysis.diff import diff_runs
from . import views
from .results import load_with_named, run_id_of


def execute(args: argparse.Namespace) -> int:
    data = load_with_named(args.runs, args.out)
    run_a, run_b = (run_id_of(data, name) for name in args.runs)
    views.stability(diff_runs(data, run_a, run_b, calibrate(data)))  # every pair of runs
    return 0
