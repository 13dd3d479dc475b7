"""Two runs set side by side, case by case, computed once for `detcost compare A B` and
`detcost stability A B`: each run's slowdown, B over A, whether B lies inside A's rerun
interval, and the steady cases that regressed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import DetcostError
from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .stability import compare_runs, regressions, stability


@dataclass(frozen=True)
class RunDiff:
    run_a: str
    run_b: str
    rows: pd.DataFrame  # one row per case both runs measured (compare_runs)
    summary: dict  # stability's figures
    disagree: pd.DataFrame  # cases whose slowdown in B lies outside A's interval

    @property
    def steady(self) -> int:
        return int(self.rows["steady"].sum()) if len(self.rows) else 0

    def regressed(self, fail_slowdown: float | None, fail_time: float | None) -> pd.DataFrame:
        return regressions(self.rows, fail_slowdown, fail_time)


def diff_runs(records: pd.DataFrame, run_a: str, run_b: str) -> RunDiff:
    """The two runs case by case; two names for one run, or runs with no case that both
    measured in both modes, are an error (a gate over nothing would pass)."""
    if run_a == run_b:
        raise DetcostError(f"{run_a!r} is named twice: compare two different runs")
    rows = compare_runs(records, run_a, run_b)
    both = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")] if len(rows) else rows
    if both.empty:
        raise DetcostError(f"{run_a} and {run_b} share no case measured in both "
                           f"{BASELINE_MODE} and {DETERMINISTIC_MODE} mode: nothing to "
                           "compare")
    summary, disagree = stability(records, run_a, run_b, rows=rows)
    return RunDiff(run_a, run_b, rows, summary, disagree)
