"""The tables behind the sections beyond the decision: timer validation, compile against
eager, results across a parameter (batch invariance, allocation history), the kernels that
grew, and the distributed family."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .compare import across_processes, compare_modes, current_comparisons
from .select import _newest, latest, newest_pairs

OP_NAME = re.compile(r"^[A-Za-z_][\w.]*::[\w.]+$")  # aten::fill_, torchvision::roi_align


def only_kernels(times: dict[str, float]) -> dict[str, float]:
    """A device profile's kernels without its ops. Profiles taken before kernel_times kept
    device events only (the H100 runs of 2026-11-23) list each op (`aten::fill_`) beside
    the kernels it launched, which counts that time twice. A CPU profile is ops only and
    stays whole."""
    kernels = {k: v for k, v in times.items() if not OP_NAME.match(k)}
    return kernels or times


VALIDATION_TOLERANCE = 0.03  # suite timer vs CUDA events

VALIDATION_MIN_S = 100e-6  # the tolerance is judged on cases at least this long

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
    switched = frame[frame["case_id"].str.contains("compile=", regex=False)] if len(
        frame) else frame
    comparison = compare_modes(switched)
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
               & (frame["process"] == 1)] if len(frame) else frame
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

def profiled_pairs(frame: pd.DataFrame, baseline: str, mode: str):
    """(env, run_id, case_id) and the two first-process rows of each case profiled (kernel
    tables) in both modes by one run: per environment and case, the newest such run, so
    that a newer run that took no kernel tables of the case does not hide an older one's."""
    if frame.empty or "kernels_s" not in frame:
        return []
    profiled = frame[(frame["status"] == "ok") & (frame["process"] == 1)
                     & frame["kernels_s"].map(bool)]
    ok = newest_pairs(profiled, mode, baseline)
    sides = {m: {(r.env, r.run_id, r.case_id): r for r in ok[ok["mode"] == m].itertuples()}
             for m in (baseline, mode)}
    return [(key, sides[baseline][key], row) for key, row in sides[mode].items()
            if key in sides[baseline]]


def kernel_growth(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                  baseline: str = BASELINE_MODE, top: int = 5) -> pd.DataFrame:
    """Per profiled case measured in both modes: the `top` kernels (or ops) whose time per
    step grew the most from baseline to mode, and their share of the step's growth."""
    columns = ["env", "run_id", "case_id", "kernel", "baseline_ms", "mode_ms", "growth_ms",
               "share_of_growth"]
    rows = []
    for key, base, other in profiled_pairs(frame, baseline, mode):
        before, after = only_kernels(base.kernels_s), only_kernels(other.kernels_s)
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
        ok = dist[(dist["mode"] == mode) & (dist["status"] == "ok") & (dist["process"] == 1)]
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
