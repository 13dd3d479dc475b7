"""Intervals that hold on another run: a run's bootstrap interval sees the spread between
its rounds and its processes, not what moves between runs (a machine start's clocks, its
allocator, its library plans). That extra spread is estimated from pairs of runs of the same
GPU and profile, per family (its launch-bound cases apart: their time follows the host's
speed, which moves between starts more than a busy GPU's), and every interval is widened by
it. A case that moves between runs by more than even the widened interval is named
unstable, with its range.

    log half-width = sqrt(h**2 + (Z * tau)**2)

where h is the bootstrap's own log half-width and tau the family's extra spread between
runs: the least that puts COVERAGE of the pairs' steady cases inside A's widened interval
(each case needs sqrt(z**2 - h**2) / Z, z = log(B/A); tau is their COVERAGE quantile).

tau is estimated per GPU (environment) from pairs of runs on two machine starts: two runs
on one start share its clocks, allocator and library plans, and understate what another
start moves. A family with few cases takes its GPU's pooled estimate, and a GPU without
such a pair takes every GPU's. A case whose slowdown moved by more than FAR between two
starts is left out of the estimate: a few cases that jump between starts (a kernel or a
plan chosen anew) would otherwise widen every interval of their family. Such a case is
named "unstable across machine starts", and its stated interval takes in the range of
slowdowns its runs gave. The estimate can leave a pair out, so that its coverage is
measured on runs it did not see. Each pair's rows are compared once (`calibrate`), and
every figure here is drawn from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .stability import RunPair, compare_runs, run_pairs

Z = 1.959964
COVERAGE = 0.95  # the share of an independent run's steady cases an interval must hold
# The estimate aims above that floor: a held-out run of some 50 cases scatters by a few
# points around what the estimate's own pairs reach.
AIM = 0.975
FAR = np.log(1.10)  # a slowdown that moves by more than 10% between starts is no interval's
FEW = 20  # a family with fewer cases in the pairs takes the pooled estimate
POOLED = "all"
EVERY_GPU = ""  # the key of the estimate pooled over every environment
# environment (EVERY_GPU: all of them) -> family (POOLED: all of them) -> tau
Spread = dict[str, dict[str, float]]


def pair_rows(measured: pd.DataFrame, pairs: list[RunPair]) -> pd.DataFrame:
    """compare_runs of each pair (every case both measured), keyed by `pair`, with the log
    ratio and the log half-width of A's own interval."""
    parts = []
    for p in pairs:
        rows = compare_runs(p.cases_of(measured), p.run_a, p.run_b)
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
    return float(np.quantile(needed, AIM))


def _by_class(steady: pd.DataFrame) -> dict[str, float]:
    """Per spread class (a family, its launch-bound cases apart: compare.spread_classes),
    and pooled (POOLED), the extra spread between runs of these rows (A's class)."""
    if steady.empty:
        return {}
    found = {POOLED: _tau(steady)}
    for spread_class, g in steady.groupby("spread_class_a", sort=True):
        if len(g) >= FEW:
            found[spread_class] = _tau(g)
    return {k: v for k, v in found.items() if v == v}


def spread_of(steady: pd.DataFrame) -> Spread:
    """Per environment and family, the extra spread between machine starts of these steady
    rows (pair_rows): pairs on one start are left out, pairs whose headers predate machine
    ids are kept."""
    across = steady[steady["same_start"].astype(object) != True]  # noqa: E712 (None stays)
    far = _far(across)
    across = across[np.array([(e, c) not in far for e, c in zip(
        across["env_a"], across["case_id"], strict=True)], dtype=bool)]
    found = {env: _by_class(g) for env, g in across.groupby("env_a", sort=True)}
    found[EVERY_GPU] = _by_class(across)
    return {env: taus for env, taus in found.items() if taus}


def _far(rows: pd.DataFrame) -> set[tuple[str, str]]:
    """(environment, case) of the rows whose slowdown moved by more than FAR beyond A's own
    interval."""
    beyond = (rows["log_ratio"].abs() > FAR) & ~rows["inside_a"].astype(bool)
    return set(zip(rows.loc[beyond, "env_a"], rows.loc[beyond, "case_id"], strict=True))


def tau_of(spread: Spread, env: str, family: str) -> float:
    """The spread that widens a case's interval: its GPU's family estimate, else its GPU's
    pooled one, else every GPU's (family, then pooled); 0 where there is none."""
    for taus in (spread.get(env, {}), spread.get(EVERY_GPU, {})):
        if family in taus:
            return taus[family]
        if POOLED in taus:
            return taus[POOLED]
    return 0.0


def widened(low: float, point: float, high: float, tau: float) -> tuple[float, float]:
    """An interval (low, point, high) widened by the spread between runs `tau`."""
    if not tau or any(pd.isna(v) for v in (low, point, high)) or point <= 0:
        return low, high
    below = np.sqrt(np.log(point / low) ** 2 + (Z * tau) ** 2)
    above = np.sqrt(np.log(high / point) ** 2 + (Z * tau) ** 2)
    return float(point * np.exp(-below)), float(point * np.exp(above))


def _widened_all(low, point, high, env, family, spread: Spread) -> list[tuple]:
    return [widened(lo, pt, hi, tau_of(spread, e, f))
            for lo, pt, hi, e, f in zip(low, point, high, env, family, strict=True)]


def _ranges(unstable: pd.DataFrame | None) -> dict[tuple[str, str], tuple[float, float]]:
    if unstable is None or unstable.empty:
        return {}
    return {(e, c): (lo, hi) for e, c, lo, hi in zip(
        unstable["env"], unstable["case_id"], unstable["low"], unstable["high"], strict=True)}


def _stated(low, point, high, env, case, family, spread: Spread,
            unstable: pd.DataFrame | None) -> list[tuple[float, float]]:
    """Each interval widened by its spread, and an unstable case's stretched over the range
    of slowdowns its runs gave."""
    ranges = _ranges(unstable)
    bounds = []
    for (lo, hi), e, c in zip(_widened_all(low, point, high, env, family, spread), env, case,
                              strict=True):
        seen = ranges.get((e, c))
        bounds.append((min(lo, seen[0]), max(hi, seen[1])) if seen else (lo, hi))
    return bounds


def widen(comparison: pd.DataFrame, spread: Spread,
          unstable: pd.DataFrame | None = None) -> pd.DataFrame:
    """The comparison with every interval widened by its GPU's and family's spread between
    machine starts (tau_of), and an unstable case's taking in its range; the bootstrap's
    own stays as `_run`."""
    out = comparison.assign(slowdown_low_run=comparison.get("slowdown_low"),
                            slowdown_high_run=comparison.get("slowdown_high"))
    if comparison.empty or not (spread or _ranges(unstable)):
        return out
    bounds = _stated(out["slowdown_low"], out["slowdown"], out["slowdown_high"], out["env"],
                     out["case_id"], out["spread_class"], spread, unstable)
    out["slowdown_low"] = [b[0] for b in bounds]
    out["slowdown_high"] = [b[1] for b in bounds]
    return out


def _stated_of(rows: pd.DataFrame, side: str, spread: Spread,
               unstable: pd.DataFrame | None = None) -> list[tuple[float, float]]:
    """The stated interval of one run ('a' or 'b') of each pair row."""
    return _stated(rows[f"slowdown_low_{side}"], rows[f"slowdown_{side}"],
                   rows[f"slowdown_high_{side}"], rows[f"env_{side}"], rows["case_id"],
                   rows[f"spread_class_{side}"], spread, unstable)


def _inside(rows: pd.DataFrame, spread: Spread,
            unstable: pd.DataFrame | None = None) -> list[bool]:
    """Whether each row's B lies inside A's interval as stated (widened by `spread`, an
    unstable case's over its range)."""
    bounds = _stated_of(rows, "a", spread, unstable)
    return [lo <= b <= hi for (lo, hi), b in zip(bounds, rows["slowdown_b"], strict=True)]


def _held_out(steady: pd.DataFrame, left_out: pd.Series, rows: pd.DataFrame
              ) -> list[bool] | None:
    """Whether each of `rows` has B inside A's interval widened by the spread of the steady
    pair rows not `left_out` (None: they leave no spread to estimate)."""
    rest = steady[~left_out]
    spread = spread_of(rest) if len(rest) else {}
    return _inside(rows, spread, _unstable(rest, spread)) if spread else None


@dataclass(frozen=True)
class Coverage:
    """How often B's slowdown fell inside A's interval, widened by a spread that was
    estimated without this pair."""

    pair: RunPair
    steady: int
    inside_run: float  # inside the bootstrap's own interval
    inside: float  # inside the widened interval


def _apart(rows: pd.DataFrame, spread: Spread) -> list[bool]:
    """Whether each row's two runs' widened intervals do not overlap: a noisy run's interval
    is wide, yet a move between runs beyond both intervals is no noise of either."""
    return [hi_a < lo_b or hi_b < lo_a
            for (lo_a, hi_a), (lo_b, hi_b) in zip(_stated_of(rows, "a", spread),
                                                  _stated_of(rows, "b", spread), strict=True)]


def _unstable(rows: pd.DataFrame, spread: Spread) -> pd.DataFrame:
    """Cases that moved between runs beyond their intervals: where both runs were steady,
    B outside A's widened interval; where either was noisy, the two widened intervals apart.
    Named "unstable across runs" with the range of their slowdowns, and whether the runs
    were on one machine start."""
    columns = ["env", "case_id", "family", "low", "high", "runs", "one_start"]
    rows = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    calm, noisy = rows[rows["steady"]], rows[~rows["steady"]]
    moved = pd.concat([
        calm[np.array([not inside for inside in _inside(calm, spread, None)], dtype=bool)],
        noisy[np.array(_apart(noisy, spread), dtype=bool)]])
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
    spread: Spread = field(default_factory=dict)  # from every pair of two starts
    coverage: list[Coverage] = field(default_factory=list)  # each pair, left out
    unstable: pd.DataFrame = field(default_factory=pd.DataFrame)

    def inside_without(self, rows: pd.DataFrame, run_a: str, run_b: str) -> pd.Series | None:
        """For compare_runs of A and B (`rows`): whether each case's B lies inside A's
        interval as stated, widened by the spread that every other pair showed (what a
        rerun on another start can expect of A). None: no other pair to estimate it from."""
        if self.rows.empty or rows.empty:
            return None
        keys = {RunPair("", run_a, run_b, None).key, RunPair("", run_b, run_a, None).key}
        steady = self.rows[self.rows["steady"]]
        inside = _held_out(steady, steady["pair"].isin(keys), rows)
        return None if inside is None else pd.Series(inside, index=rows.index)

    def rows_of(self, pair: RunPair) -> pd.DataFrame:
        """compare_runs of one pair, as the calibration computed it."""
        if self.rows.empty:
            return self.rows
        return self.rows[_of(self.rows, pair)].drop(
            columns=["pair", "same_start", "log_ratio", "log_half"])


def calibrate(records: pd.DataFrame) -> Calibration:
    """The spread between runs from every pair's steady cases, each pair's coverage under
    the spread of the others, and the cases that moved beyond their widened interval. The
    records of validation runs (which time the timer) are no run's measurement."""
    measured = records[records["validation"].isna()] if "validation" in records else records
    pairs = run_pairs(measured)
    rows = pair_rows(measured, pairs)
    if rows.empty:
        return Calibration(pairs, rows)
    steady = rows[rows["steady"]]
    spread = spread_of(steady)
    coverage = []
    for pair in pairs:
        mine = steady[_of(steady, pair)]
        inside = _held_out(steady, _of(steady, pair), mine) if len(mine) else None
        if inside is not None:
            coverage.append(Coverage(pair, len(mine), float(mine["inside_a"].mean()),
                                     float(np.mean(inside))))
    return Calibration(pairs, rows, spread, coverage, _unstable(rows, spread))
