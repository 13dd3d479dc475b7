"""Two runs, or two environments, set side by side case by case: each side's slowdown, B
over A, whether B is costlier, cheaper or the same within the intervals, whether B lies
inside A's rerun interval, and the steady cases that regressed. Computed once for
`detcost compare A B`, `detcost stability A B`, and the pages' environment diffs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import DetcostError
from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .calibration import Calibration
from .stability import CHEAPER, COSTLIER, SAME, changes, compare_runs, regressions, stability


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


def diff_runs(records: pd.DataFrame, run_a: str, run_b: str,
              calibration: Calibration | None = None) -> RunDiff:
    """The two runs case by case; two names for one run, or runs with no case that both
    measured in both modes, are an error (a gate over nothing would pass). With the
    results' `calibration`, B is judged against A's interval widened by the spread of the
    other pairs (what `detcost stability` shows; `compare` needs none)."""
    if run_a == run_b:
        raise DetcostError(f"{run_a!r} is named twice: compare two different runs")
    rows = compare_runs(records, run_a, run_b)
    both = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")] if len(rows) else rows
    if both.empty:
        raise DetcostError(f"{run_a} and {run_b} share no case measured in both "
                           f"{BASELINE_MODE} and {DETERMINISTIC_MODE} mode: nothing to "
                           "compare")
    widened = calibration.inside_without(rows, run_a, run_b) if calibration is not None else None
    summary, disagree = stability(records, run_a, run_b, rows=rows, widened=widened)
    return RunDiff(run_a, run_b, rows, summary, disagree)


@dataclass(frozen=True)
class EnvironmentDiff:
    """Two environments (two torch versions of one GPU, or two GPUs under one torch), each
    case's slowdown in the run that stands for it there."""

    env_a: str
    env_b: str
    what: str  # "torch" or "gpu": what differs between the two
    rows: pd.DataFrame  # case_id, family, slowdown/_low/_high and run_id _a/_b, change

    def count(self, change: str) -> int:
        return int((self.rows["change"] == change).sum())

    @property
    def counts(self) -> dict[str, int]:
        return {c: self.count(c) for c in (COSTLIER, CHEAPER, SAME)}


def environment_diffs(comparison: pd.DataFrame) -> list[EnvironmentDiff]:
    """Every pair of environments that differ in one thing only (the torch version, or the
    GPU), over the cases both measured in both modes."""
    ok = comparison[comparison["status"] == "ok"]
    envs = ok.groupby("env", sort=True).agg(gpu=("gpu", "first"), torch=("torch", "first"))
    keep = ["case_id", "family", "slowdown", "slowdown_low", "slowdown_high", "run_id"]
    diffs = []
    names = list(envs.index)
    for i, env_a in enumerate(names):
        for env_b in names[i + 1:]:
            a, b = envs.loc[env_a], envs.loc[env_b]
            what = ("torch" if a["gpu"] == b["gpu"] else "gpu" if a["torch"] == b["torch"]
                    else "")
            if not what:
                continue
            rows = ok.loc[ok["env"] == env_a, keep].merge(
                ok.loc[ok["env"] == env_b, keep], on=["case_id", "family"],
                suffixes=("_a", "_b"))
            if rows.empty:
                continue
            rows["change"] = changes(rows)
            rows["slowdown_b_over_a"] = rows["slowdown_b"] / rows["slowdown_a"]
            diffs.append(EnvironmentDiff(env_a, env_b, what, rows))
    return diffs
