"""Records to pandas: one tidy row per record, and the comparisons between modes.

Nothing here touches torch: a report is built from result files alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .environment import label
from .modes import BASELINE_MODE, DETERMINISTIC_MODE
from .records import read_run_file, run_files

NOISY_IQR = 0.10  # IQR/median above this flags a case as noisy (as torch's Measurement does)
CASE_KEY = ["env", "run_id", "case_id"]
BOOTSTRAP = 1000
VALIDATION_TOLERANCE = 0.03  # suite timer vs CUDA events
VALIDATION_MIN_S = 100e-6  # the tolerance is judged on cases at least this long


def load(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Every record under the given files or folders, one row each."""
    rows = []
    for path in run_files(paths):
        header, records = read_run_file(path)
        env = header.environment
        for r in records:
            rows.append({
                "env": label(env), "gpu": env.get("gpu") or "CPU", "torch": env.get("torch"),
                "host": env.get("host"), "run_id": r.run_id, "mode": r.mode,
                "case_id": r.case_id, "family": r.family, "workload": r.workload,
                "shape": r.case_id.rsplit("-", 3)[0], "params": r.params, "pass_": r.pass_,
                "dtype": r.dtype, "precision": r.precision, "status": r.status,
                "message": r.message, "times_s": r.times_s, "iterations": r.iterations,
                "work_unit": r.work_unit, "work_amount": r.work_amount, "repeats": r.repeats,
                "distinct_digests": r.distinct_digests, "digest": r.digest,
                "max_abs_diff": r.max_abs_diff, "max_rel_diff": r.max_rel_diff,
                "max_ulp_diff": r.max_ulp_diff, "error_vs_float64": r.error_vs_float64,
                "replica": r.replica, "validation": r.validation, "file": str(path),
                "ceilings": header.ceilings,
            })
    frame = pd.DataFrame(rows)
    return add_statistics(frame) if len(frame) else frame


def add_statistics(frame: pd.DataFrame) -> pd.DataFrame:
    """Median, IQR, noise flag and throughput from the raw round times."""
    frame = frame.copy()
    arrays = frame["times_s"].map(lambda t: np.asarray(t, dtype=float))
    frame["median_s"] = arrays.map(lambda a: float(np.median(a)) if a.size else np.nan)
    frame["iqr_s"] = arrays.map(
        lambda a: float(np.subtract(*np.percentile(a, [75, 25]))) if a.size else np.nan)
    frame["iqr_over_median"] = frame["iqr_s"] / frame["median_s"]
    frame["noisy"] = frame["iqr_over_median"] > NOISY_IQR
    frame["throughput"] = frame["work_amount"] / frame["median_s"]
    frame["nondeterministic"] = frame["distinct_digests"] > 1
    return frame


def _bootstrap_ratio(num: np.ndarray, den: np.ndarray, rng: np.random.Generator
                     ) -> tuple[float, float]:
    """95% interval of median(num)/median(den), resampling the rounds of each."""
    if num.size < 2 or den.size < 2:
        return np.nan, np.nan
    a = np.median(rng.choice(num, (BOOTSTRAP, num.size)), axis=1)
    b = np.median(rng.choice(den, (BOOTSTRAP, den.size)), axis=1)
    low, high = np.percentile(a / b, [2.5, 97.5])
    return float(low), float(high)


def compare_modes(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                  baseline: str = BASELINE_MODE, seed: int = 0) -> pd.DataFrame:
    """One row per case present in both modes of one run: slowdown (mode / baseline median
    time) with a bootstrap interval, throughput ratio, and what each mode's variance was."""
    cols = ["env", "gpu", "torch", "run_id", "case_id", "family", "workload", "shape",
            "pass_", "dtype", "precision"]
    base = frame[frame["mode"] == baseline]
    other = frame[frame["mode"] == mode]
    if base.empty or other.empty:
        return pd.DataFrame(columns=[*cols, "slowdown"])
    merged = base.merge(other, on=CASE_KEY, suffixes=("_base", "_mode"))
    for c in cols:
        if c not in CASE_KEY:
            merged[c] = merged[f"{c}_base"]
    rng = np.random.default_rng(seed)
    both_ok = (merged["status_base"] == "ok") & (merged["status_mode"] == "ok")
    merged["slowdown"] = np.where(both_ok, merged["median_s_mode"] / merged["median_s_base"],
                                  np.nan)
    intervals = [
        _bootstrap_ratio(np.asarray(m), np.asarray(b), rng) if ok else (np.nan, np.nan)
        for m, b, ok in zip(merged["times_s_mode"], merged["times_s_base"], both_ok,
                            strict=True)]
    merged["slowdown_low"] = [i[0] for i in intervals]
    merged["slowdown_high"] = [i[1] for i in intervals]
    merged["throughput_ratio"] = merged["throughput_mode"] / merged["throughput_base"]
    merged["mode"] = mode
    merged["baseline"] = baseline
    merged["status"] = np.where(both_ok, "ok", np.where(
        merged["status_base"] != "ok", merged["status_base"], merged["status_mode"]))
    merged["message"] = np.where(merged["status_mode"] != "ok", merged["message_mode"],
                                 merged["message_base"])
    keep = [*cols, "mode", "baseline", "status", "message", "slowdown", "slowdown_low",
            "slowdown_high", "throughput_ratio", "median_s_base", "median_s_mode",
            "throughput_base", "throughput_mode", "work_unit_base", "noisy_base",
            "noisy_mode", "distinct_digests_base", "distinct_digests_mode", "repeats_base",
            "max_ulp_diff_base", "max_rel_diff_base", "max_ulp_diff_mode",
            "error_vs_float64_base", "error_vs_float64_mode", "digest_base", "digest_mode",
            "status_base", "status_mode"]
    return merged[keep].rename(columns={"work_unit_base": "work_unit"})


def validation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per validated case: the suite's median against CUDA events' and do_bench's."""
    rows = []
    for r in frame[frame["validation"].notna()].itertuples():
        v = r.validation
        suite, events, bench = (v.get("suite_median_s"), v.get("events_median_s"),
                                v.get("do_bench_median_s"))
        rows.append({"env": r.env, "case_id": r.case_id, "family": r.family,
                     "suite_median_s": suite, "events_median_s": events,
                     "do_bench_median_s": bench,
                     "suite_over_events": suite / events if events else np.nan,
                     "suite_over_do_bench": suite / bench if bench else np.nan})
    table = pd.DataFrame(rows, columns=[
        "env", "case_id", "family", "suite_median_s", "events_median_s", "do_bench_median_s",
        "suite_over_events", "suite_over_do_bench"])
    table["within_3pct"] = (table["suite_over_events"] - 1).abs() <= VALIDATION_TOLERANCE
    table["judged"] = table["events_median_s"] >= VALIDATION_MIN_S
    return table


def geomean(values: pd.Series) -> float:
    v = values.dropna()
    v = v[v > 0]
    return float(np.exp(np.log(v).mean())) if len(v) else np.nan


def family_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per environment and family, and overall: geometric-mean and worst slowdown, and how
    many cases were nondeterministic by default or unsupported when deterministic."""
    def summarize(g: pd.DataFrame) -> pd.Series:
        ok = g[g["status"] == "ok"]
        worst = ok.loc[ok["slowdown"].idxmax()] if len(ok) else None
        return pd.Series({
            "cases": len(g),
            "measured": len(ok),
            "geomean_slowdown": geomean(ok["slowdown"]),
            "worst_slowdown": float(worst["slowdown"]) if worst is not None else np.nan,
            "worst_case": worst["case_id"] if worst is not None else "",
            "nondeterministic_by_default": int((g["distinct_digests_base"] > 1).sum()),
            "unsupported": int((g["status_mode"] == "unsupported").sum()),
        })

    if comparison.empty:
        return pd.DataFrame()
    parts = []
    for env, g in comparison.groupby("env", sort=True):
        for family, fg in g.groupby("family", sort=True):
            parts.append({"env": env, "family": family, **summarize(fg)})
        parts.append({"env": env, "family": "all", **summarize(g)})
    return pd.DataFrame(parts)
