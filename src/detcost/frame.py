"""Records to pandas: one tidy row per record, and the comparisons between modes.

Nothing here touches torch: a report is built from result files alone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .environment import label, machine
from .errors import DetcostError, ResultsWarning
from .kernels import only_kernels
from .modes import BASELINE_MODE, DETERMINISTIC_MODE
from .records import read_run_file, run_files
from .timing import median_iqr

NOISY_IQR = 0.10  # IQR/median above this flags a case as noisy (as torch's Measurement does)
NOISE_TARGET = 0.02  # a steady measurement: IQR/median under 2%
NOT_MEASURED = "not measured"
CASE_KEY = ["env", "run_id", "case_id"]
BOOTSTRAP = 1000
VALIDATION_TOLERANCE = 0.03  # suite timer vs CUDA events
VALIDATION_MIN_S = 100e-6  # the tolerance is judged on cases at least this long


def load(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Every record under the given files or folders, one row each."""
    rows = []
    for path in run_files(paths):
        try:
            header, records = read_run_file(path)
        except DetcostError as exc:  # one bad file does not hide the others
            warnings.warn(f"{exc}: file skipped", ResultsWarning, stacklevel=2)
            continue
        env = header.environment
        for r in records:
            rows.append({
                "env": label(env), "gpu": env.get("gpu") or "CPU", "torch": env.get("torch"),
                "host": env.get("host"), "machine": machine(env), "run_id": r.run_id,
                "mode": r.mode, "case_id": r.case_id, "family": r.family, "workload": r.workload,
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
                "started_at": header.started_at, "phases_s": r.phases_s,
                "profile": str((header.profile or {}).get("name") or ""),
                "inductor_deterministic": (r.knobs or {}).get("inductor_deterministic"),
                "kernels_s": r.kernels_s, "determinism_doc": env.get("determinism_doc"),
                "ranks_agree": len(set(r.rank_digests)) == 1 if r.rank_digests else None,
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


def _resampled_medians(processes: list[np.ndarray], rng: np.random.Generator,
                       draws: int = BOOTSTRAP) -> np.ndarray:
    """Medians of `draws` hierarchical resamples: the processes with replacement, then the
    rounds of each chosen process with replacement (each keeps its own count of rounds)."""
    lengths = np.array([len(p) for p in processes])
    width = int(lengths.max())
    table = np.full((len(processes), width), np.nan)
    for i, p in enumerate(processes):
        table[i, :len(p)] = p
    pick = rng.integers(0, len(processes), size=(draws, len(processes)))
    counts = lengths[pick][..., None]
    rounds = (rng.random((draws, len(processes), width)) * counts).astype(int)
    values = table[pick[..., None], rounds]
    values[np.arange(width) >= counts] = np.nan
    return np.nanmedian(values.reshape(draws, -1), axis=1)


def rerun_interval(num: list[np.ndarray], den: list[np.ndarray], rng: np.random.Generator
                   ) -> tuple[float, float]:
    """A 95% interval for what a rerun would measure as median(num)/median(den), where each
    side is a list of processes' rounds.

    The hierarchical bootstrap resamples processes, then rounds, so the spread between
    processes (a worker's clocks, its allocator, its cuDNN plan choices) counts, not only
    the spread between rounds. A rerun's ratio carries its own error as well as this one's:
    the interval is the bootstrap's 2.5-97.5% spread of the log ratio, widened by sqrt(2)
    (the spread of a difference of two independent estimates), around this run's ratio.
    With k processes the bootstrap sees only (k-1)/k of the spread between them, so the
    spread is also widened by sqrt(k/(k-1)) (the usual small-sample correction)."""
    if sum(map(len, num)) < 2 or sum(map(len, den)) < 2:
        return np.nan, np.nan
    point = np.median(np.concatenate(num)) / np.median(np.concatenate(den))
    ratios = _resampled_medians(num, rng) / _resampled_medians(den, rng)
    k = min(len(num), len(den))
    widen = math.sqrt(2) * (math.sqrt(k / (k - 1)) if k > 1 else 1.0)
    low, high = np.percentile(np.log(ratios / point), [2.5, 97.5]) * widen
    return float(point * np.exp(low)), float(point * np.exp(high))


def per_mode(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (environment, run, case, mode) over all of that mode's processes: the
    median of every round of every process, the within-process noise (the median of the
    processes' IQR/median), the largest variance any process saw, and the processes' round
    lists for the bootstrap. `ok` where any process measured it."""
    rows = []
    for _, g in frame.sort_values("replica").groupby(["env", "run_id", "case_id", "mode"],
                                                      sort=False):
        ok = g[g["status"] == "ok"]
        first = (ok if len(ok) else g).iloc[0]
        times = [np.asarray(t, dtype=float) for t in ok["times_s"] if len(t)]
        median = float(np.median(np.concatenate(times))) if times else np.nan
        noise = float(ok["iqr_over_median"].median()) if len(ok) else np.nan
        rows.append({
            **first.to_dict(), "processes": times, "process_count": len(ok),
            "median_s": median, "iqr_over_median": noise, "noisy": noise > NOISY_IQR,
            "throughput": first["work_amount"] / median if median else np.nan,
            "distinct_digests": int(ok["distinct_digests"].max()) if len(ok) else 0,
            "max_ulp_diff": int(ok["max_ulp_diff"].max()) if len(ok) else 0,
            "max_rel_diff": float(ok["max_rel_diff"].max()) if len(ok) else 0.0,
            "same_digest_across": bool(ok["digest"].nunique() <= 1),
            "machines": tuple(sorted(set(ok["machine"].dropna()))) if "machine" in ok else (),
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
               "status_mode", "same_machine"]


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
    rng = np.random.default_rng(seed)
    both_ok = (merged["status_base"] == "ok") & (merged["status_mode"] == "ok")
    merged["slowdown"] = np.where(both_ok, merged["median_s_mode"] / merged["median_s_base"],
                                  np.nan)
    intervals = [rerun_interval(m, b, rng) if ok else (np.nan, np.nan)
                 for m, b, ok in zip(merged["processes_mode"], merged["processes_base"],
                                     both_ok, strict=True)]
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
    return merged[_COMPARISON].reset_index(drop=True)


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


def _newest_run_mask(frame: pd.DataFrame, modes: tuple[str, ...]) -> pd.Series:
    """Per environment and case, the rows of the newest run that measured every one of
    `modes`, or, where no run did, of the newest run."""
    keys = [frame["env"], frame["case_id"], frame["run_id"]]
    has_all = (frame["mode"].where(frame["mode"].isin(modes))
               .groupby(keys).transform("nunique") == len(set(modes)))
    return _newest(frame, has_all.map({True: "1 ", False: "0 "}))


def _newest(rows: pd.DataFrame, preferred: pd.Series | str = "", runs=None) -> pd.Series:
    """Per environment and case, the rows of the newest run (by `runs`' start times, `rows`
    by default), among those `preferred` ranks first."""
    rank = preferred + rows["run_id"].map(run_order(rows if runs is None else runs))
    return rank == rank.groupby([rows["env"], rows["case_id"]]).transform("max")


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The records of the run that stands for each case in each environment: the newest run
    that measured it in both default and deterministic mode (else the newest run). The
    headline views show one measurement per case; older runs feed the stability view, and
    a newer run of single-knob modes alone feeds newest_pairs without hiding the older
    run's deterministic mode."""
    if frame.empty:
        return frame
    return frame[_newest_run_mask(frame, (BASELINE_MODE, DETERMINISTIC_MODE))]


def newest_pairs(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                 baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """The records behind comparing `mode` with `baseline`: per environment and case, both
    modes from the newest run that measured both, so that the two sides share one run
    (one machine start) and a run of a few modes adds its comparisons without hiding the
    others."""
    pair = frame[frame["mode"].isin([mode, baseline])] if len(frame) else frame
    if pair.empty:
        return pair
    return pair[_newest_run_mask(pair, (baseline, mode))]


def current_comparisons(frame: pd.DataFrame, baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """compare_all_modes over every run, each mode against the baseline of its newest run
    that has both (see newest_pairs)."""
    return compare_all_modes(frame, baseline, pick=newest_pairs)


def run_order(frame: pd.DataFrame) -> pd.Series:
    """Per run id, a key that sorts runs by when they started (the run id breaks ties)."""
    start = frame.groupby("run_id")["started_at"].min()
    return start.astype(str) + " " + start.index.to_series()


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


def compare_all_modes(frame: pd.DataFrame, baseline: str = BASELINE_MODE,
                      pick=lambda frame, mode, baseline: frame) -> pd.DataFrame:
    """compare_modes for every other mode present: the cost of each knob on its own.
    `pick` chooses each comparison's records (newest_pairs: from the run that has both)."""
    modes = [m for m in dict.fromkeys(frame["mode"]) if m != baseline] if len(frame) else []
    parts = [compare_modes(pick(frame, m, baseline), m, baseline) for m in modes]
    parts = [p for p in parts if len(p)]
    return (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=_COMPARISON))


def across_processes(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Per case measured in two processes of one mode (replicas 1 and 2): whether the output
    digests match across the processes, and how far the two medians are apart."""
    columns = [*CASE_KEY, "gpu", "torch", "family", "shape", "pass_", "dtype", "precision",
               "numerics", "mode", "same_digest", "spread", "digest", "digest_2",
               "distinct_digests", "iqr_over_median", "iqr_over_median_2"]
    ok = frame[(frame["mode"] == mode) & (frame["status"] == "ok")] if len(frame) else frame
    one, two = (ok[ok["replica"] == r] for r in (1, 2)) if len(ok) else (ok, ok)
    if one.empty or two.empty:
        return pd.DataFrame(columns=columns)
    merged = one.merge(two, on=CASE_KEY, suffixes=("", "_2"))
    merged["same_digest"] = merged["digest"] == merged["digest_2"]
    merged["spread"] = (merged["median_s_2"] / merged["median_s"] - 1).abs()
    merged["mode"] = mode
    return merged[columns]


def compare_runs(frame: pd.DataFrame, run_a: str, run_b: str,
                 mode: str = DETERMINISTIC_MODE) -> pd.DataFrame:
    """Case by case between two runs (two GPUs, two torch versions): each run's slowdown
    and the ratio of their default-mode median times (B over A)."""
    comparison = compare_modes(frame[frame["run_id"].isin([run_a, run_b])], mode)
    a = comparison[comparison["run_id"] == run_a]
    b = comparison[comparison["run_id"] == run_b]
    keep = ["case_id", "family", "status", "slowdown", "slowdown_low", "slowdown_high",
            "median_s_base", "env", "noisy_base", "noisy_mode"]
    merged = a[keep].merge(b[keep], on=["case_id", "family"], suffixes=("_a", "_b"))
    merged["default_time_b_over_a"] = merged["median_s_base_b"] / merged["median_s_base_a"]
    merged["slowdown_b_over_a"] = merged["slowdown_b"] / merged["slowdown_a"]
    merged["steady"] = ((merged["status_a"] == "ok") & (merged["status_b"] == "ok")
                        & ~merged[["noisy_base_a", "noisy_mode_a", "noisy_base_b",
                                   "noisy_mode_b"]].astype(bool).any(axis=1))
    merged["inside_a"] = ((merged["slowdown_b"] >= merged["slowdown_low_a"])
                          & (merged["slowdown_b"] <= merged["slowdown_high_a"]))
    merged["abs_log_ratio"] = np.log(merged["slowdown_b_over_a"]).abs()
    return merged


def steady_share(frame: pd.DataFrame, mode: str = BASELINE_MODE) -> float:
    """Share of the measured cases in `mode` whose rounds were steady: IQR/median under
    NOISE_TARGET, taken as the median over each case's processes (the one definition the
    README, the dashboard and `detcost stability` quote)."""
    rows = per_mode(frame[frame["mode"] == mode])
    ok = rows[rows["status"] == "ok"] if len(rows) else rows
    return float((ok["iqr_over_median"] < NOISE_TARGET).mean()) if len(ok) else np.nan


def stability(frame: pd.DataFrame, run_a: str, run_b: str, mode: str = DETERMINISTIC_MODE,
              rows: pd.DataFrame | None = None) -> tuple[dict, pd.DataFrame]:
    """Two independent runs of the same cases: how often B's slowdown lies inside A's
    rerun interval (among cases steady in both), the median |log(B/A)|, and the cases that
    disagree, worst first. `rows`: compare_runs of the two, where the caller has it."""
    rows = compare_runs(frame, run_a, run_b, mode) if rows is None else rows
    both = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")]
    calm = both[both["steady"]]
    summary = {
        "run_a": run_a, "run_b": run_b, "cases": len(both), "steady": len(calm),
        "inside_share": float(calm["inside_a"].mean()) if len(calm) else np.nan,
        "median_abs_log_ratio": float(both["abs_log_ratio"].median()) if len(both)
        else np.nan,
        "steady_share_a": steady_share(frame[frame["run_id"] == run_a]),
        "steady_share_b": steady_share(frame[frame["run_id"] == run_b]),
    }
    disagree = both[~both["inside_a"]].sort_values("abs_log_ratio", ascending=False)
    return summary, disagree


def rerun_pairs(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(environment, older run, newer run): per profile and environment, the newest run and
    the newest run before it that measured a case in common (runs of a profile cut with -k
    may share none), the pairs whose stability is worth showing."""
    pairs = []
    measured = frame[frame["validation"].isna()] if "validation" in frame else frame
    for (env, _), g in measured.groupby(["env", "profile"], sort=True):
        runs = list(run_order(g).sort_values().index)
        cases = {run: set(g.loc[g["run_id"] == run, "case_id"]) for run in runs}
        pair = next(((older, newer) for i in range(len(runs) - 1, 0, -1)
                     for newer in [runs[i]] for older in reversed(runs[:i])
                     if cases[older] & cases[newer]), None)
        if pair:
            pairs.append((str(env), *pair))
    return pairs


def stability_sentence(summary: dict) -> str:
    """The stability of two runs in one sentence (the CLI's and the dashboard's)."""
    def pct(v: float) -> str:
        return "-" if v != v else f"{v:.0%}"

    return (f"{summary['run_b']} (B) against {summary['run_a']} (A): "
            f"{pct(summary['inside_share'])} of {summary['steady']} steady cases lie inside "
            f"A's rerun interval; median |log(B/A)| {summary['median_abs_log_ratio']:.4f} "
            f"over {summary['cases']} cases; default-mode cases with IQR/median under 2%: "
            f"{pct(summary['steady_share_a'])} (A), {pct(summary['steady_share_b'])} (B)")


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
            # its denominator: every case default mode measured, deterministic mode or not
            "default_measured": int((g["status_base"] == "ok").sum()),
            "unsupported": int((g["status_mode"] == "unsupported").sum()),
            "not_measured": int((g["status"] == NOT_MEASURED).sum()),
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


COMPILE_SWITCH = ("compile=eager", "compile=inductor")


def _flag(value: Any) -> bool | None:
    """A knob read back as True/False, or None where the record has none (NaN in a frame)."""
    return None if value is None or value != value else bool(value)


def compile_costs(frame: pd.DataFrame) -> pd.DataFrame:
    """Deterministic mode's cost on each case measured both eager and under torch.compile
    (the case ids differ only in `compile=`): the two slowdowns side by side, with the
    Inductor deterministic flag that deterministic mode's compiled records read back.

    Eager and compiled pair within one run (one machine start), and the newest run that
    measured both stands for the case: give it every run, not `latest`, which can take
    the eager case from a newer run than the compiled one."""
    columns = ["env", "run_id", "case", "pass_", "dtype", "eager", "eager_low", "eager_high",
               "compiled", "compiled_low", "compiled_high", "inductor_deterministic"]
    comparison = compare_modes(frame)
    ok = comparison[comparison["status"] == "ok"]
    eager = ok[ok["case_id"].str.contains(COMPILE_SWITCH[0], regex=False)]
    compiled = ok[ok["case_id"].str.contains(COMPILE_SWITCH[1], regex=False)].assign(
        case_id=lambda d: d["case_id"].str.replace(*COMPILE_SWITCH[::-1], regex=False))
    pairs = eager.merge(compiled, on=["env", "run_id", "case_id"], suffixes=("", "_c"))
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    pairs = pairs[_newest(pairs, runs=frame)]
    flags = frame[(frame["mode"] == DETERMINISTIC_MODE) & (frame["status"] == "ok")]
    flag = {(r.env, r.run_id, r.case_id.replace(*COMPILE_SWITCH[::-1])): r.inductor_deterministic
            for r in flags.itertuples()}
    return pd.DataFrame({
        "env": pairs["env"], "run_id": pairs["run_id"],
        "case": pairs["shape"].str.replace(f",{COMPILE_SWITCH[0]}", "", regex=False),
        "pass_": pairs["pass_"], "dtype": pairs["dtype"],
        "eager": pairs["slowdown"], "eager_low": pairs["slowdown_low"],
        "eager_high": pairs["slowdown_high"], "compiled": pairs["slowdown_c"],
        "compiled_low": pairs["slowdown_low_c"], "compiled_high": pairs["slowdown_high_c"],
        "inductor_deterministic": [_flag(flag.get(k)) for k in zip(pairs["env"], pairs["run_id"],
                                                             pairs["case_id"], strict=True)],
    })[columns]


def same_result_across(frame: pd.DataFrame, family: str, param: str) -> pd.DataFrame:
    """Per request (the cases of a workload that differ only in `param`), mode and
    environment: whether the result had one digest whatever `param` was, and which values
    gave another result than the first (in sorted order). The question behind batch
    invariance (param `batch`) and behind the allocation-history claim (`history`)."""
    columns = ["env", "run_id", "mode", "workload", "request", "dtype", "precision",
               "values", "invariant", "differs_at", "repeatable"]
    ok = frame[(frame["family"] == family) & (frame["status"] == "ok")
               & (frame["replica"] == 1)] if len(frame) else frame
    ok = ok[ok["params"].map(lambda p: param in p)] if len(ok) else ok
    if ok.empty:
        return pd.DataFrame(columns=columns)
    ok = ok.assign(
        value=ok["params"].map(lambda p: p[param]),
        request=[f"{w}({','.join(f'{k}={v}' for k, v in p.items() if k != param)})"
                 for w, p in zip(ok["workload"], ok["params"], strict=True)])
    rows = []
    keys = ["env", "run_id", "mode", "workload", "request", "dtype", "precision"]
    for key, g in ok.sort_values("value").groupby(keys, sort=True):
        if g["value"].nunique() < 2:
            continue
        first = g["digest"].iloc[0]
        rows.append({**dict(zip(keys, key, strict=True)),
                     "values": list(g["value"]),
                     "invariant": bool(g["digest"].nunique() == 1),
                     "differs_at": [v for v, d in zip(g["value"], g["digest"], strict=True)
                                    if d != first],
                     "repeatable": bool((g["distinct_digests"] <= 1).all())})
    return pd.DataFrame(rows, columns=columns)


def batch_invariance(frame: pd.DataFrame) -> pd.DataFrame:
    """One request served in batches of several sizes: the invariance family by `batch`."""
    return same_result_across(frame, "invariance", "batch")


def kernel_growth(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                  baseline: str = BASELINE_MODE, top: int = 5) -> pd.DataFrame:
    """Per profiled case measured in both modes: the `top` kernels (or ops) whose time per
    step grew the most from baseline to mode, and their share of the step's growth."""
    columns = ["env", "run_id", "case_id", "kernel", "baseline_ms", "mode_ms", "growth_ms",
               "share_of_growth"]
    if frame.empty or "kernels_s" not in frame:
        return pd.DataFrame(columns=columns)
    ok = frame[(frame["status"] == "ok") & (frame["replica"] == 1)
               & frame["kernels_s"].map(bool)]
    sides = {m: {(r.env, r.run_id, r.case_id): only_kernels(r.kernels_s)
                 for r in ok[ok["mode"] == m].itertuples()} for m in (baseline, mode)}
    rows = []
    for key, after in sides[mode].items():
        before = sides[baseline].get(key)
        if before is None:
            continue
        growth = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in {*before, *after}}
        total = sum(after.values()) - sum(before.values())
        for kernel, grew in sorted(growth.items(), key=lambda kv: kv[1], reverse=True)[:top]:
            if grew <= 0:
                break
            rows.append({"env": key[0], "run_id": key[1], "case_id": key[2],
                         "kernel": kernel, "baseline_ms": 1e3 * before.get(kernel, 0.0),
                         "mode_ms": 1e3 * after.get(kernel, 0.0), "growth_ms": 1e3 * grew,
                         "share_of_growth": grew / total if total > 0 else np.nan})
    return pd.DataFrame(rows, columns=columns)


def distributed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The distributed family per case and mode: throughput (bus GB/s or tokens/s), the
    slowdown against default, and whether the result was the same across repeats, across
    ranks (where every rank should hold it: all_reduce, all_gather, DDP) and across two
    launches of the mode. Give it every run: default and deterministic mode come from
    `latest`, every other mode from its own newest run with default (newest_pairs), as
    in the knob table."""
    columns = ["env", "case_id", "mode", "throughput", "work_unit", "slowdown",
               "same_across_repeats", "ranks_agree", "same_across_launches"]
    every_run = frame[frame["family"] == "distributed"] if len(frame) else frame
    if every_run.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    every = current_comparisons(every_run)
    for mode in dict.fromkeys(every_run["mode"]):
        dist = (latest(every_run) if mode in (BASELINE_MODE, DETERMINISTIC_MODE)
                else newest_pairs(every_run, mode))  # the run its slowdown comes from
        ok = dist[(dist["mode"] == mode) & (dist["status"] == "ok") & (dist["replica"] == 1)]
        launches = across_processes(dist, mode).set_index(["env", "case_id"])["same_digest"]
        ratio = every[every["mode"] == mode].set_index(["env", "case_id"])["slowdown"]
        for r in ok.itertuples():
            key = (r.env, r.case_id)
            rows.append({"env": r.env, "case_id": r.case_id, "mode": mode,
                         "throughput": r.throughput, "work_unit": r.work_unit,
                         "slowdown": 1.0 if mode == BASELINE_MODE else ratio.get(key),
                         "same_across_repeats": r.distinct_digests <= 1,
                         "ranks_agree": r.ranks_agree,
                         "same_across_launches": launches.get(key)})
    return pd.DataFrame(rows, columns=columns)
