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
its coverage is measured on runs it did not see. Each pair's rows are compared once
(`calibrate`), and every figure here is drawn from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .stability import RunPair, compare_runs, run_pairs

Z = 1.959964
COVERAGE = 0.95  # the share of an independent run's steady cases an interval must hold
FEW = 20  # a family with fewer cases in the pairs takes the pooled estimate
POOLED = "all"


def pair_rows(measured: pd.DataFrame, pairs: list[RunPair]) -> pd.DataFrame:
    """compare_runs of each pair (every case both measured), keyed by `pair`, with the log
    ratio and the log half-width of A's own interval."""
    parts = []
    for p in pairs:
        both = measured[(measured["env"] == p.env) & measured["run_id"].isin([p.run_a, p.run_b])]
        rows = compare_runs(both, p.run_a, p.run_b)
        if rows.empty:
            continue
        rows["pair"] = p.key
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


def spread_of(steady: pd.DataFrame) -> dict[str, float]:
    """Per family, and pooled (POOLED), the extra spread between runs of these steady
    rows."""
    if steady.empty:
        return {}
    found = {POOLED: _tau(steady)}
    for family, g in steady.groupby("family", sort=True):
        if len(g) >= FEW:
            found[family] = _tau(g)
    return {k: v for k, v in found.items() if v == v}


def widened(low: float, point: float, high: float, tau: float) -> tuple[float, float]:
    """An interval (low, point, high) widened by the spread between runs `tau`."""
    if not tau or any(pd.isna(v) for v in (low, point, high)) or point <= 0:
        return low, high
    below = np.sqrt(np.log(point / low) ** 2 + (Z * tau) ** 2)
    above = np.sqrt(np.log(high / point) ** 2 + (Z * tau) ** 2)
    return float(point * np.exp(-below)), float(point * np.exp(above))


def _widened_all(low, point, high, family, spread: dict[str, float]) -> list[tuple]:
    return [widened(lo, pt, hi, spread.get(f, spread.get(POOLED, 0.0)))
            for lo, pt, hi, f in zip(low, point, high, family, strict=True)]


def widen(comparison: pd.DataFrame, spread: dict[str, float]) -> pd.DataFrame:
    """The comparison with every interval widened by its family's spread between runs (the
    pooled one where the family has no pair); the bootstrap's own stays as `_run`."""
    out = comparison.assign(slowdown_low_run=comparison.get("slowdown_low"),
                            slowdown_high_run=comparison.get("slowdown_high"))
    if comparison.empty or not spread:
        return out
    bounds = _widened_all(out["slowdown_low"], out["slowdown"], out["slowdown_high"],
                          out["family"], spread)
    out["slowdown_low"] = [b[0] for b in bounds]
    out["slowdown_high"] = [b[1] for b in bounds]
    return out


def _inside(rows: pd.DataFrame, spread: dict[str, float]) -> list[bool]:
    """Whether each row's B lies inside A's interval widened by `spread`."""
    bounds = _widened_all(rows["slowdown_low_a"], rows["slowdown_a"], rows["slowdown_high_a"],
                          rows["family"], spread)
    return [lo <= b <= hi for (lo, hi), b in zip(bounds, rows["slowdown_b"], strict=True)]


@dataclass(frozen=True)
class Coverage:
    """How often B's slowdown fell inside A's interval, widened by a spread that was
    estimated without this pair."""

    pair: RunPair
    steady: int
    inside_run: float  # inside the bootstrap's own interval
    inside: float  # inside the widened interval


def _unstable(steady: pd.DataFrame, spread: dict[str, float]) -> pd.DataFrame:
    """Cases whose slowdown in one run lies outside another run's widened interval: named
    "unstable across runs" with the range of their slowdowns, and whether the runs were on
    one machine start."""
    columns = ["env", "case_id", "family", "low", "high", "runs", "one_start"]
    if steady.empty:
        return pd.DataFrame(columns=columns)
    moved = steady[[not inside for inside in _inside(steady, spread)]]
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


def _of(rows: pd.DataFrame, pair: RunPair) -> pd.Series:
    """Which rows are this pair's (a run spread over two GPU models is two environments)."""
    return (rows["pair"] == pair.key) & (rows["env_a"] == pair.env)


@dataclass(frozen=True)
class Calibration:
    """Every pair of runs, compared once, and what follows from them."""

    pairs: list[RunPair] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # every pair's cases (pair_rows)
    spread: dict[str, float] = field(default_factory=dict)  # from every pair
    coverage: list[Coverage] = field(default_factory=list)  # each pair, left out
    unstable: pd.DataFrame = field(default_factory=pd.DataFrame)

    def rows_of(self, pair: RunPair) -> pd.DataFrame:
        """compare_runs of one pair, as the calibration computed it."""
        if self.rows.empty:
            return self.rows
        return self.rows[_of(self.rows, pair)].drop(
            columns=["pair", "same_start", "log_ratio", "log_half"])


def calibrate(measured: pd.DataFrame) -> Calibration:
    """The spread between runs from every pair's steady cases, each pair's coverage under
    the spread of the others, and the cases that moved beyond their widened interval."""
    pairs = run_pairs(measured)
    rows = pair_rows(measured, pairs)
    if rows.empty:
        return Calibration(pairs, rows)
    steady = rows[rows["steady"]]
    spread = spread_of(steady)
    coverage = []
    for pair in pairs:
        mine = steady[_of(steady, pair)]
        others = spread_of(steady[~_of(steady, pair)])
        if len(mine) and others:
            coverage.append(Coverage(pair, len(mine), float(mine["inside_a"].mean()),
                                     float(np.mean(_inside(mine, others)))))
    return Calibration(pairs, rows, spread, coverage, _unstable(steady, spread))
