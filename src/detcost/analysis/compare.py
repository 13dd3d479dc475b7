"""Modes compared case by case: each mode's rounds pooled over its processes, the
slowdown against the baseline with its rerun interval, each side's variance, and the
summaries per family."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .select import newest_pairs
from .stats import NOISY_IQR, case_rng, geomean, launch_bound_mask, rerun_interval

NOT_MEASURED = "not measured"

CASE_KEY = ["env", "run_id", "case_id"]

def per_mode(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (environment, run, case, mode) over all of that mode's processes: the
    median of every round of every process, the within-process noise (the median of the
    processes' IQR/median), the largest variance any process saw, and the processes' round
    lists for the bootstrap. `ok` where any process measured it."""
    rows = []
    for _, g in frame.sort_values("process").groupby(["env", "run_id", "case_id", "mode"],
                                                      sort=False):
        ok = g[g["status"] == "ok"]
        first = (ok if len(ok) else g).iloc[0]
        times = [np.asarray(t, dtype=float) for t in ok["times_s"] if len(t)]
        median = float(np.median(np.concatenate(times))) if times else np.nan
        noise = float(ok["iqr_over_median"].median()) if len(ok) else np.nan
        rows.append({
            **first.to_dict(), "processes": times, "process_count": len(ok),
            "median_s": median, "iqr_over_median": noise, "noisy": not noise <= NOISY_IQR,
            "throughput": first["work_amount"] / median if median else np.nan,
            "distinct_digests": int(ok["distinct_digests"].max()) if len(ok) else 0,
            "max_ulp_diff": int(ok["max_ulp_diff"].max()) if len(ok) else 0,
            "max_rel_diff": float(ok["max_rel_diff"].max()) if len(ok) else 0.0,
            "same_digest_across": bool(ok["digest"].nunique() <= 1),
            "machines": tuple(sorted(set(ok["machine"].dropna()))) if "machine" in ok else (),
            "host_share": (float(ok["host_share"].median())
                           if len(ok) and "host_share" in ok else np.nan),
        })
    return pd.DataFrame(rows)

_COMPARISON_CASE = ["env", "gpu", "torch", "run_id", "case_id", "family", "workload", "shape",
                    "pass_", "dtype", "precision", "numerics"]

_COMPARISON = [*_COMPARISON_CASE, "mode", "baseline", "status", "message", "slowdown",
               "slowdown_low", "slowdown_high", "throughput_ratio", "median_s_base",
               "median_s_mode", "throughput_base", "throughput_mode", "work_unit",
               "noisy_base", "noisy_mode", "iqr_over_median_base", "iqr_over_median_mode",
               "processes_base", "processes_mode", "distinct_digests_base",
               "distinct_digests_mode", "repeats_base", "max_ulp_diff_base",
               "max_rel_diff_base", "max_ulp_diff_mode", "error_vs_float64_base",
               "error_vs_float64_mode", "digest_base", "digest_mode", "status_base",
               "status_mode", "raised_op_mode", "excluded_backend_mode", "same_machine",
               "host_share_base", "spread_class"]

def compare_modes(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                  baseline: str = BASELINE_MODE, seed: int = 0) -> pd.DataFrame:
    """One row per case of a run that either mode measured: the slowdown (mode / baseline
    median time over all processes) with its rerun interval, the throughput ratio, and each
    mode's variance. A case that one side lacks has status 'not measured'."""
    if frame.empty:
        return pd.DataFrame(columns=_COMPARISON)
    modes = per_mode(frame[frame["mode"].isin([mode, baseline])])
    if modes.empty:
        return pd.DataFrame(columns=_COMPARISON)
    base = modes[modes["mode"] == baseline]
    other = modes[modes["mode"] == mode]
    merged = base.merge(other, on=CASE_KEY, how="outer", suffixes=("_base", "_mode"))
    for c in _COMPARISON_CASE:
        if c not in CASE_KEY:
            merged[c] = merged[f"{c}_base"].where(merged[f"{c}_base"].notna(),
                                                  merged[f"{c}_mode"])
    for side in ("_base", "_mode"):
        merged[f"status{side}"] = merged[f"status{side}"].fillna(NOT_MEASURED)
        merged[f"processes{side}"] = merged[f"processes{side}"].map(
            lambda p: p if isinstance(p, list) else [])
        merged[f"noisy{side}"] = merged[f"noisy{side}"].fillna(False).astype(bool)
        merged[f"excluded_backend{side}"] = (merged[f"excluded_backend{side}"]
                                             .fillna(False).astype(bool))
        merged[f"raised_op{side}"] = merged[f"raised_op{side}"].fillna("")
    both_ok = (merged["status_base"] == "ok") & (merged["status_mode"] == "ok")
    merged["slowdown"] = np.where(both_ok, merged["median_s_mode"] / merged["median_s_base"],
                                  np.nan)
    # Each case draws from a generator of its own, seeded by what it is: its interval is
    # the same whichever other cases are compared beside it (a page of one environment,
    # the index, the README, a run's own page).
    intervals = [rerun_interval(m, b, case_rng(seed, env, run, case, mode, baseline))
                 if ok else (np.nan, np.nan)
                 for m, b, ok, env, run, case in zip(
                     merged["processes_mode"], merged["processes_base"], both_ok,
                     merged["env"], merged["run_id"], merged["case_id"], strict=True)]
    merged["slowdown_low"] = [i[0] for i in intervals]
    merged["slowdown_high"] = [i[1] for i in intervals]
    merged["throughput_ratio"] = merged["throughput_mode"] / merged["throughput_base"]
    merged["mode"] = mode
    merged["baseline"] = baseline
    merged["status"] = np.where(both_ok, "ok", np.where(
        merged["status_base"] != "ok", merged["status_base"], merged["status_mode"]))
    lacking = np.where(merged["status_base"] == NOT_MEASURED, baseline, mode)
    merged["message"] = np.where(
        merged["status"] == NOT_MEASURED, [f"{m} mode was not run" for m in lacking],
        np.where(merged["status_mode"] != "ok", merged["message_mode"],
                 merged["message_base"]))
    merged["work_unit"] = merged["work_unit_base"].where(merged["work_unit_base"].notna(),
                                                         merged["work_unit_mode"])
    merged["same_machine"] = [_same_machine(b, m) for b, m in
                              zip(merged["machines_base"], merged["machines_mode"], strict=True)]
    merged["spread_class"] = spread_classes(merged["family"], merged["host_share_base"])
    return merged[_COMPARISON].reset_index(drop=True)


def spread_classes(family: pd.Series, host_share: pd.Series) -> list[str]:
    """The class whose spread between machine starts widens a case's interval: its family,
    with its launch-bound cases apart (their time follows the host's speed, which moves
    between starts by more than a busy GPU's does)."""
    return [f"{f} · launch-bound" if bound else f
            for f, bound in zip(family, launch_bound_mask(host_share), strict=True)]

def _same_machine(base: Any, mode: Any) -> bool | None:
    """Whether both modes ran on the same machine starts (None: a side is unknown)."""
    if not isinstance(base, tuple) or not isinstance(mode, tuple) or not base or not mode:
        return None
    return set(base) == set(mode)

def across_machines(comparison: pd.DataFrame) -> int:
    """Measured cases whose two modes ran on different machine starts: their ratio carries
    the difference between the machines as well as between the modes."""
    if "same_machine" not in comparison:
        return 0
    return int(((comparison["status"] == "ok") & (comparison["same_machine"] == False)).sum())  # noqa: E712

def compare_all_modes(frame: pd.DataFrame, baseline: str = BASELINE_MODE,
                      pick=lambda frame, mode, baseline: frame) -> pd.DataFrame:
    """compare_modes for every other mode present: the cost of each knob on its own.
    `pick` chooses each comparison's records (newest_pairs: from the run that has both)."""
    modes = [m for m in dict.fromkeys(frame["mode"]) if m != baseline] if len(frame) else []
    parts = [compare_modes(pick(frame, m, baseline), m, baseline) for m in modes]
    parts = [p for p in parts if len(p)]
    return (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=_COMPARISON))

def current_comparisons(frame: pd.DataFrame, baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """compare_all_modes over every run, each mode against the baseline of its newest run
    that has both (see newest_pairs)."""
    return compare_all_modes(frame, baseline, pick=newest_pairs)

def across_processes(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Per case measured in two processes of one mode (processes 1 and 2): whether the output
    digests match across the processes, and how far the two medians are apart."""
    columns = [*CASE_KEY, "gpu", "torch", "family", "shape", "pass_", "dtype", "precision",
               "numerics", "mode", "same_digest", "spread", "digest", "digest_2",
               "distinct_digests", "iqr_over_median", "iqr_over_median_2"]
    ok = frame[(frame["mode"] == mode) & (frame["status"] == "ok")] if len(frame) else frame
    one, two = (ok[ok["process"] == r] for r in (1, 2)) if len(ok) else (ok, ok)
    if one.empty or two.empty:
        return pd.DataFrame(columns=columns)
    merged = one.merge(two, on=CASE_KEY, suffixes=("", "_2"))
    merged["same_digest"] = merged["digest"] == merged["digest_2"]
    merged["spread"] = (merged["median_s_2"] / merged["median_s"] - 1).abs()
    merged["mode"] = mode
    return merged[columns]

def steady(comparison: pd.DataFrame) -> pd.DataFrame:
    """Measured cases whose rounds were steady in both modes (not flagged noisy), and that
    did not move between runs beyond their intervals (where `unstable` says so)."""
    ok = comparison[comparison["status"] == "ok"]
    calm = ~(ok["noisy_base"].astype(bool) | ok["noisy_mode"].astype(bool))
    if "unstable" in ok:
        calm &= ~ok["unstable"].fillna(False).astype(bool)
    return ok[calm]

def family_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per environment and family, and overall: geometric-mean and worst slowdown, and how
    many cases were nondeterministic by default or unsupported when deterministic."""
    def summarize(g: pd.DataFrame) -> pd.Series:
        ok = g[g["status"] == "ok"]
        moved = int(ok["unstable"].fillna(False).astype(bool).sum()) if "unstable" in ok else 0
        # The worst case is taken among steady measurements: a noisy one is counted apart.
        calm = steady(g)
        worst = calm.loc[calm["slowdown"].idxmax()] if len(calm) else None
        return pd.Series({
            "cases": len(g),
            "measured": len(ok),
            "geomean_slowdown": geomean(ok["slowdown"]),
            "worst_slowdown": float(worst["slowdown"]) if worst is not None else np.nan,
            "worst_case": worst["case_id"] if worst is not None else "",
            "nondeterministic_by_default": int((g["distinct_digests_base"] > 1).sum()),
            # its denominator: every case default mode measured, deterministic mode or not
            "default_measured": int((g["status_base"] == "ok").sum()),
            "unsupported": int((g["status_mode"] == "unsupported").sum()),
            "not_measured": int((g["status"] == NOT_MEASURED).sum()),
            "noisy": len(ok) - len(calm) - moved,
            "unstable": moved,
        })

    if comparison.empty:
        return pd.DataFrame()
    parts = []
    for env, g in comparison.groupby("env", sort=True):
        for family, fg in g.groupby("family", sort=True):
            parts.append({"env": env, "family": family, **summarize(fg)})
        parts.append({"env": env, "family": "all", **summarize(g)})
    return pd.DataFrame(parts)
