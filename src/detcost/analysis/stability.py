"""Two runs of the same cases set side by side: case by case (two GPUs, two torch
versions), how often one lands inside the other's rerun interval, and the regression gate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .compare import compare_modes, per_mode
from .select import run_order
from .stats import NOISE_TARGET, launch_bound_mask


def compare_runs(frame: pd.DataFrame, run_a: str, run_b: str,
                 mode: str = DETERMINISTIC_MODE) -> pd.DataFrame:
    """Case by case between two runs (two GPUs, two torch versions): each run's slowdown
    and the ratio of their default-mode median times (B over A)."""
    comparison = compare_modes(frame[frame["run_id"].isin([run_a, run_b])], mode)
    a = comparison[comparison["run_id"] == run_a]
    b = comparison[comparison["run_id"] == run_b]
    keep = ["case_id", "family", "status", "slowdown", "slowdown_low", "slowdown_high",
            "median_s_base", "env", "noisy_base", "noisy_mode", "spread_class"]
    merged = a[keep].merge(b[keep], on=["case_id", "family"], suffixes=("_a", "_b"))
    merged["default_time_b_over_a"] = merged["median_s_base_b"] / merged["median_s_base_a"]
    merged["slowdown_b_over_a"] = merged["slowdown_b"] / merged["slowdown_a"]
    merged["steady"] = ((merged["status_a"] == "ok") & (merged["status_b"] == "ok")
                        & ~merged[["noisy_base_a", "noisy_mode_a", "noisy_base_b",
                                   "noisy_mode_b"]].astype(bool).any(axis=1))
    merged["inside_a"] = ((merged["slowdown_b"] >= merged["slowdown_low_a"])
                          & (merged["slowdown_b"] <= merged["slowdown_high_a"]))
    merged["abs_log_ratio"] = np.log(merged["slowdown_b_over_a"]).abs()
    merged["change"] = changes(merged)
    return merged


COSTLIER, CHEAPER, SAME = "costlier", "cheaper", "same"


def changes(rows: pd.DataFrame) -> list[str]:
    """Per row of two sides' slowdowns (`_a`, `_b`): costlier or cheaper where B's interval
    lies wholly above or below A's (as `asv compare` marks only significant changes), else
    the same within their intervals; '' where a side was not measured."""
    found = []
    for low_a, high_a, low_b, high_b in zip(rows["slowdown_low_a"], rows["slowdown_high_a"],
                                            rows["slowdown_low_b"], rows["slowdown_high_b"],
                                            strict=True):
        if any(pd.isna(v) for v in (low_a, high_a, low_b, high_b)):
            found.append("")
        elif low_b > high_a:
            found.append(COSTLIER)
        elif high_b < low_a:
            found.append(CHEAPER)
        else:
            found.append(SAME)
    return found

@dataclass(frozen=True)
class Steadiness:
    """How many of a mode's measured cases had steady rounds (IQR/median under
    NOISE_TARGET, the median over each case's processes): all of them, and the GPU-bound
    and the launch-bound apart (host_share at or above LAUNCH_BOUND). A launch-bound step's
    rounds follow the host's speed, which no rule of measuring steadies (docs/method.md),
    so the noise target is read on the GPU-bound cases."""

    share: float
    cases: int
    gpu_bound: float
    gpu_bound_cases: int
    launch_bound: float
    launch_bound_cases: int

    @property
    def unsplit_cases(self) -> int:
        """Cases neither GPU-bound nor launch-bound: on a CPU, or measured before records
        kept the host's time."""
        return self.cases - self.gpu_bound_cases - self.launch_bound_cases

    @property
    def split(self) -> bool:
        """Whether any case is GPU-bound or launch-bound, so that the two can be told."""
        return self.gpu_bound_cases + self.launch_bound_cases > 0


def _share(steady: pd.Series) -> float:
    return float(steady.mean()) if len(steady) else np.nan


def steadiness(frame: pd.DataFrame, mode: str = BASELINE_MODE) -> Steadiness:
    """The one definition of steady that the README, the dashboard and `detcost stability`
    quote."""
    rows = per_mode(frame[frame["mode"] == mode])
    ok = rows[rows["status"] == "ok"] if len(rows) else rows
    if not len(ok):
        return Steadiness(np.nan, 0, np.nan, 0, np.nan, 0)
    steady = ok["iqr_over_median"] < NOISE_TARGET
    # on a CPU every step is the host's: neither bound
    gpu = ok["gpu"] != "CPU" if "gpu" in ok else pd.Series(True, index=ok.index)
    bound = gpu & launch_bound_mask(ok["host_share"])
    free = gpu & ok["host_share"].notna() & ~bound
    return Steadiness(_share(steady), len(ok), _share(steady[free]), int(free.sum()),
                      _share(steady[bound]), int(bound.sum()))

def stability(frame: pd.DataFrame, run_a: str, run_b: str, mode: str = DETERMINISTIC_MODE,
              rows: pd.DataFrame | None = None, widened: pd.Series | None = None
              ) -> tuple[dict, pd.DataFrame]:
    """Two independent runs of the same cases: how often B's slowdown lies inside A's
    interval (among cases steady in both), the median |log(B/A)|, and the cases that
    disagree, worst first. `rows`: compare_runs of the two, where the caller has it;
    `widened`: per row, whether B lies inside A's interval widened for the spread between
    machine starts (calibration.inside_without), which then decides who disagrees."""
    rows = compare_runs(frame, run_a, run_b, mode) if rows is None else rows
    both = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")]
    calm = both[both["steady"]]
    inside = both["inside_a"] if widened is None else widened.loc[both.index].astype(bool)
    summary = {
        "run_a": run_a, "run_b": run_b, "cases": len(both), "steady": len(calm),
        "inside_share": float(calm["inside_a"].mean()) if len(calm) else np.nan,
        "inside_widened": (float(inside.loc[calm.index].mean())
                           if widened is not None and len(calm) else np.nan),
        "median_abs_log_ratio": float(both["abs_log_ratio"].median()) if len(both)
        else np.nan,
        "steadiness_a": steadiness(frame[frame["run_id"] == run_a]),
        "steadiness_b": steadiness(frame[frame["run_id"] == run_b]),
    }
    disagree = both[~inside].sort_values("abs_log_ratio", ascending=False)
    return summary, disagree

@dataclass(frozen=True)
class RunPair:
    """Two runs of one profile in one environment: the newer (B) and, for the cases measured
    alike, the newest earlier one (A) that measured one of them."""

    env: str
    run_a: str
    run_b: str
    same_start: bool | None  # None: a header predates machine ids
    methods: tuple[str, ...] = ()  # the measure settings of the cases they share; (): any

    @property
    def key(self) -> str:
        return f"{self.run_a} / {self.run_b}"

    def cases_of(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The pair's rows of `frame`: its two runs, its environment, its methods."""
        mine = (frame["env"] == self.env) & frame["run_id"].isin([self.run_a, self.run_b])
        if self.methods and "method" in frame:
            mine &= frame["method"].isin(self.methods)
        return frame[mine]


def _pairs_by_group(frame: pd.DataFrame) -> list[list[RunPair]]:
    """Per environment and profile, oldest first: each run paired, for each way of measuring
    its cases, with the newest run before it that measured one of them alike (runs of a
    profile cut with -k may share none)."""
    measured = frame[frame["validation"].isna()] if "validation" in frame else frame
    measured = measured.assign(method=measured.get("method", ""))
    groups = []
    for (env, _), g in measured.groupby(["env", "profile"], sort=True):
        order = list(run_order(g).sort_values().index)
        machines = {run: set(g.loc[g["run_id"] == run, "machine"].dropna()) for run in order}
        found: dict[tuple[str, str], set[str]] = {}
        for method, h in g.groupby("method", sort=True):
            runs = [run for run in order if run in set(h["run_id"])]
            cases = {run: set(h.loc[h["run_id"] == run, "case_id"]) for run in runs}
            for i, newer in enumerate(runs):
                older = next((o for o in reversed(runs[:i]) if cases[o] & cases[newer]), None)
                if older is not None:
                    found.setdefault((older, newer), set()).add(method)
        pairs = []
        for (older, newer), methods in sorted(
                found.items(), key=lambda kv: (order.index(kv[0][1]), order.index(kv[0][0]))):
            known = machines[older] and machines[newer]
            pairs.append(RunPair(str(env), older, newer,
                                 bool(machines[older] & machines[newer]) if known else None,
                                 tuple(sorted(methods))))
        groups.append(pairs)
    return groups


def run_pairs(frame: pd.DataFrame) -> list[RunPair]:
    """Every run paired with the newest earlier run of its profile that shares a case."""
    return [p for pairs in _pairs_by_group(frame) for p in pairs]


def rerun_pairs(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(environment, older run, newer run): per profile and environment, the newest such
    pair, the one whose stability is worth showing."""
    return [(p.env, p.run_a, p.run_b) for pairs in _pairs_by_group(frame) if pairs
            for p in pairs[-1:]]


def regressions(rows: pd.DataFrame, fail_slowdown: float | None,
                fail_time: float | None) -> pd.DataFrame:
    """From compare_runs(BASE, NEW): the steady cases whose determinism slowdown grew by more
    than `fail_slowdown` times, or whose default-mode time grew by more than `fail_time`
    times. Empty when there is nothing to fail on."""
    calm = rows[rows["steady"]].copy()
    calm["why"] = ""
    if fail_slowdown is not None:
        grew = calm["slowdown_b_over_a"] > fail_slowdown
        calm.loc[grew, "why"] = [f"slowdown {a:.2f}x -> {b:.2f}x" for a, b in
                                 zip(calm.loc[grew, "slowdown_a"], calm.loc[grew, "slowdown_b"],
                                     strict=True)]
    if fail_time is not None:
        slower = calm["default_time_b_over_a"] > fail_time
        calm.loc[slower, "why"] = [
            (w + "; " if w else "") + f"default-mode time {r:.2f}x"
            for w, r in zip(calm.loc[slower, "why"], calm.loc[slower, "default_time_b_over_a"],
                            strict=True)]
    return calm[calm["why"] != ""]
