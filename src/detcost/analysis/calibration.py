"""Intervals that hold on another run: a run's bootstrap interval sees the spread between
its rounds and its processes, not what moves between runs (a machine start's clocks, its
allocator, its library plans). That extra spread is estimated from pairs of runs of the same
GPU and profile, per family, and every interval is widened by it. A case that moves between
runs by more than even the widened interval is named unstable, with its range.

    log half-width = sqrt(h**2 + (Z * tau)**2)

where h is the bootstrap's own log half-width and tau the family's extra spread between
runs: the least that puts COVERAGE of the pairs' steady cases inside A's widened interval
(each case needs sqrt(z**2 - h**2) / Z, z = log(B/A); tau is their COVERAGE quantile). A
family with few cases takes the pooled estimate. The estimate can leave a pair out, so that
its coverage is measured on runs it did not see."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .select import run_order
from .stability import compare_runs

Z = 1.959964
COVERAGE = 0.95  # the share of an independent run's steady cases an interval must hold
FEW = 20  # a family with fewer cases in the pairs takes the pooled estimate
POOLED = "all"


@dataclass(frozen=True)
class RunPair:
    env: str
    run_a: str
    run_b: str
    same_start: bool | None  # None: a header predates machine ids


def run_pairs(measured: pd.DataFrame) -> list[RunPair]:
    """Every two consecutive runs of one profile, measured alike, in one environment, that
    share a case."""
    pairs = []
    for (env, _, _), g in measured.assign(method=measured.get("method", "")).groupby(
            ["env", "profile", "method"], sort=True):
        runs = list(run_order(g).sort_values().index)
        cases = {run: set(g.loc[g["run_id"] == run, "case_id"]) for run in runs}
        machines = {run: set(g.loc[g["run_id"] == run, "machine"].dropna()) for run in runs}
        for older, newer in itertools.pairwise(runs):
            if cases[older] & cases[newer]:
                known = machines[older] and machines[newer]
                pairs.append(RunPair(str(env), older, newer,
                                     bool(machines[older] & machines[newer]) if known
                                     else None))
    return pairs


def pair_rows(measured: pd.DataFrame, pairs: Iterable[RunPair]) -> pd.DataFrame:
    """compare_runs of each pair, its steady cases measured in both, with the log ratio and
    the log half-width of A's own interval."""
    parts = []
    for p in pairs:
        both = measured[(measured["env"] == p.env) & measured["run_id"].isin([p.run_a, p.run_b])]
        rows = compare_runs(both, p.run_a, p.run_b)
        rows = rows[rows["steady"]].copy()
        if rows.empty:
            continue
        rows["pair"] = f"{p.run_a} / {p.run_b}"
        rows["same_start"] = p.same_start
        rows["log_ratio"] = np.log(rows["slowdown_b"] / rows["slowdown_a"])
        rows["log_half"] = np.log(rows["slowdown_high_a"] / rows["slowdown_low_a"]) / 2
        parts.append(rows)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _tau(rows: pd.DataFrame) -> float:
    """The spread between runs beyond the intervals' own, in log units (0 where none)."""
    ok = rows.dropna(subset=["log_ratio", "log_half"])
    if len(ok) < 3:
        return np.nan
    needed = np.sqrt(np.maximum(0.0, ok["log_ratio"] ** 2 - ok["log_half"] ** 2)) / Z
    return float(np.quantile(needed, COVERAGE))


def between_runs(measured: pd.DataFrame, leave_out: Iterable[RunPair] = ()
                 ) -> dict[str, float]:
    """Per family, and pooled (POOLED), the extra spread between runs, from every pair but
    those left out."""
    skip = {(p.env, p.run_a, p.run_b) for p in leave_out}
    pairs = [p for p in run_pairs(measured) if (p.env, p.run_a, p.run_b) not in skip]
    rows = pair_rows(measured, pairs)
    if rows.empty:
        return {}
    found = {POOLED: _tau(rows)}
    for family, g in rows.groupby("family", sort=True):
        tau = _tau(g) if len(g) >= FEW else np.nan
        if tau == tau:
            found[family] = tau
    return {k: v for k, v in found.items() if v == v}


def widened(low: float, point: float, high: float, tau: float) -> tuple[float, float]:
    """An interval (low, point, high) widened by the spread between runs `tau`."""
    if not tau or any(pd.isna(v) for v in (low, point, high)) or point <= 0:
        return low, high
    below = np.sqrt(np.log(point / low) ** 2 + (Z * tau) ** 2)
    above = np.sqrt(np.log(high / point) ** 2 + (Z * tau) ** 2)
    return float(point * np.exp(-below)), float(point * np.exp(above))


def widen(comparison: pd.DataFrame, spread: dict[str, float]) -> pd.DataFrame:
    """The comparison with every interval widened by its family's spread between runs (the
    pooled one where the family has no pair); the bootstrap's own stays as `_run`."""
    if comparison.empty or not spread:
        return comparison.assign(slowdown_low_run=comparison.get("slowdown_low"),
                                 slowdown_high_run=comparison.get("slowdown_high"))
    out = comparison.copy()
    out["slowdown_low_run"], out["slowdown_high_run"] = out["slowdown_low"], out["slowdown_high"]
    pairs = [widened(lo, pt, hi, spread.get(f, spread.get(POOLED, 0.0)))
             for lo, pt, hi, f in zip(out["slowdown_low"], out["slowdown"],
                                      out["slowdown_high"], out["family"], strict=True)]
    out["slowdown_low"] = [p[0] for p in pairs]
    out["slowdown_high"] = [p[1] for p in pairs]
    return out


@dataclass(frozen=True)
class Coverage:
    """How often B's slowdown fell inside A's interval, widened by a spread that was
    estimated without this pair."""

    pair: RunPair
    steady: int
    inside_run: float  # inside the bootstrap's own interval
    inside: float  # inside the widened interval


def held_out_coverage(measured: pd.DataFrame) -> list[Coverage]:
    """Each pair's coverage under the spread estimated from every other pair."""
    found = []
    for pair in run_pairs(measured):
        spread = between_runs(measured, leave_out=[pair])
        rows = pair_rows(measured, [pair])
        if rows.empty or not spread:
            continue
        wide = [widened(lo, pt, hi, spread.get(f, spread.get(POOLED, 0.0)))
                for lo, pt, hi, f in zip(rows["slowdown_low_a"], rows["slowdown_a"],
                                         rows["slowdown_high_a"], rows["family"],
                                         strict=True)]
        inside = [lo <= b <= hi for (lo, hi), b in zip(wide, rows["slowdown_b"], strict=True)]
        found.append(Coverage(pair, len(rows), float(rows["inside_a"].mean()),
                              float(np.mean(inside))))
    return found


def unstable_cases(measured: pd.DataFrame, spread: dict[str, float]) -> pd.DataFrame:
    """Cases whose slowdown in one run lies outside another run's widened interval: named
    "unstable across runs" with the range of their slowdowns, and whether the runs were on
    one machine start."""
    columns = ["env", "case_id", "family", "low", "high", "runs", "one_start"]
    rows = pair_rows(measured, run_pairs(measured))
    if rows.empty:
        return pd.DataFrame(columns=columns)
    bounds = [widened(lo, pt, hi, spread.get(f, spread.get(POOLED, 0.0)))
              for lo, pt, hi, f in zip(rows["slowdown_low_a"], rows["slowdown_a"],
                                       rows["slowdown_high_a"], rows["family"], strict=True)]
    rows["outside"] = [not lo <= b <= hi for (lo, hi), b in zip(bounds, rows["slowdown_b"],
                                                                strict=True)]
    moved = rows[rows["outside"]]
    found = []
    for (env, case), g in moved.groupby(["env_a", "case_id"], sort=True):
        values = [*g["slowdown_a"], *g["slowdown_b"]]
        found.append({"env": env, "case_id": case, "family": g["family"].iloc[0],
                      "low": float(min(values)), "high": float(max(values)),
                      "runs": ", ".join(sorted(set(g["pair"]))),
                      # True: every pair ran on one machine start; False: some did not;
                      # None: headers too old to say
                      "one_start": (None if g["same_start"].isna().any()
                                    else bool(g["same_start"].all()))})
    return pd.DataFrame(found, columns=columns)
