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
from .timing import median_iqr

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
                "bound": r.bound, "fraction_of_ceiling": r.fraction_of_ceiling,
                "ceilings": header.ceilings, "driver": env.get("smi_driver_version"),
                "cuda": env.get("cuda"), "cudnn": env.get("cudnn"),
                "commit": (env.get("git") or {}).get("commit"),
            })
    frame = pd.DataFrame(rows)
    return add_statistics(frame) if len(frame) else frame


def add_statistics(frame: pd.DataFrame) -> pd.DataFrame:
    """Median, IQR, noise flag and throughput from the raw round times."""
    frame = frame.copy()
    stats = frame["times_s"].map(lambda t: median_iqr(t) if len(t) else (np.nan, np.nan))
    frame["median_s"] = stats.map(lambda s: s[0])
    frame["iqr_s"] = stats.map(lambda s: s[1])
    frame["iqr_over_median"] = frame["iqr_s"] / frame["median_s"]
    frame["noisy"] = frame["iqr_over_median"] > NOISY_IQR
    frame["throughput"] = frame["work_amount"] / frame["median_s"]
    frame["nondeterministic"] = frame["distinct_digests"] > 1
    frame["numerics"] = [numerics(d, p) for d, p in zip(frame["dtype"], frame["precision"],
                                                          strict=True)]
    return frame


def numerics(dtype: str, precision: str) -> str:
    """'float32/high', or the dtype alone where the matmul precision has no effect."""
    return f"{dtype}/{precision}" if dtype == "float32" else dtype


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
            "pass_", "dtype", "precision", "numerics"]
    first = frame[frame["replica"] == 1] if "replica" in frame else frame
    base = first[first["mode"] == baseline]
    other = first[first["mode"] == mode]
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
    """Per validated case: the suite's clock against CUDA events (in alternating rounds
    where the record has them, else pytest-benchmark's rounds against events taken after),
    and against do_bench."""
    rows = []
    for r in frame[frame["validation"].notna()].itertuples():
        v = r.validation
        suite, events, bench = (v.get("suite_median_s"), v.get("events_median_s"),
                                v.get("do_bench_median_s"))
        clock = v.get("clock_median_s") or suite
        rows.append({"env": r.env, "run_id": r.run_id, "case_id": r.case_id,
                     "family": r.family, "suite_median_s": suite, "clock_median_s": clock,
                     "events_median_s": events, "do_bench_median_s": bench,
                     "suite_over_events": clock / events if events else np.nan,
                     "suite_over_do_bench": suite / bench if bench else np.nan})
    table = pd.DataFrame(rows, columns=[
        "env", "run_id", "case_id", "family", "suite_median_s", "clock_median_s",
        "events_median_s",
        "do_bench_median_s", "suite_over_events", "suite_over_do_bench"])
    table["within_3pct"] = (table["suite_over_events"] - 1).abs() <= VALIDATION_TOLERANCE
    table["judged"] = table["events_median_s"] >= VALIDATION_MIN_S
    return table


def compare_all_modes(frame: pd.DataFrame, baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """compare_modes for every other mode present: the cost of each knob on its own."""
    modes = [m for m in dict.fromkeys(frame["mode"]) if m != baseline]
    parts = [compare_modes(frame, m, baseline) for m in modes]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def across_processes(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Per case measured in two processes of one mode (replicas 1 and 2): whether the output
    digests match across the processes, and how far the two medians are apart."""
    ok = frame[(frame["mode"] == mode) & (frame["status"] == "ok")]
    one, two = ok[ok["replica"] == 1], ok[ok["replica"] == 2]
    if one.empty or two.empty:
        return pd.DataFrame(columns=[*CASE_KEY, "same_digest", "spread"])
    merged = one.merge(two, on=CASE_KEY, suffixes=("", "_2"))
    merged["same_digest"] = merged["digest"] == merged["digest_2"]
    merged["spread"] = (merged["median_s_2"] / merged["median_s"] - 1).abs()
    merged["mode"] = mode
    return merged[[*CASE_KEY, "gpu", "torch", "family", "shape", "pass_", "dtype",
                   "precision", "numerics", "mode", "same_digest", "spread", "digest",
                   "digest_2", "distinct_digests", "iqr_over_median", "iqr_over_median_2"]]


def compare_runs(frame: pd.DataFrame, run_a: str, run_b: str,
                 mode: str = DETERMINISTIC_MODE) -> pd.DataFrame:
    """Case by case between two runs (two GPUs, two torch versions): each run's slowdown
    and the ratio of their default-mode median times (B over A)."""
    comparison = compare_modes(frame[frame["run_id"].isin([run_a, run_b])], mode)
    a = comparison[comparison["run_id"] == run_a]
    b = comparison[comparison["run_id"] == run_b]
    keep = ["case_id", "family", "status", "slowdown", "median_s_base", "env"]
    merged = a[keep].merge(b[keep], on=["case_id", "family"], suffixes=("_a", "_b"))
    merged["default_time_b_over_a"] = merged["median_s_base_b"] / merged["median_s_base_a"]
    merged["slowdown_b_over_a"] = merged["slowdown_b"] / merged["slowdown_a"]
    return merged


def steady(comparison: pd.DataFrame) -> pd.DataFrame:
    """Measured cases whose rounds were steady in both modes (not flagged noisy)."""
    ok = comparison[comparison["status"] == "ok"]
    return ok[~(ok["noisy_base"].astype(bool) | ok["noisy_mode"].astype(bool))]


def geomean(values: pd.Series) -> float:
    v = values.dropna()
    v = v[v > 0]
    return float(np.exp(np.log(v).mean())) if len(v) else np.nan


def family_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per environment and family, and overall: geometric-mean and worst slowdown, and how
    many cases were nondeterministic by default or unsupported when deterministic."""
    def summarize(g: pd.DataFrame) -> pd.Series:
        ok = g[g["status"] == "ok"]
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
            "unsupported": int((g["status_mode"] == "unsupported").sum()),
            "noisy": len(ok) - len(calm),
        })

    if comparison.empty:
        return pd.DataFrame()
    parts = []
    for env, g in comparison.groupby("env", sort=True):
        for family, fg in g.groupby("family", sort=True):
            parts.append({"env": env, "family": family, **summarize(fg)})
        parts.append({"env": env, "family": "all", **summarize(g)})
    return pd.DataFrame(parts)
