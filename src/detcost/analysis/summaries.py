"""Summaries over the cases that stand for each environment: what default mode varied,
what deterministic mode kept, the costliest cases, the ops that raise, what each knob
costs, how GPUs differ, and how far to trust the numbers. Numbers only: the views format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from ..workloads.families import evidence_only
from .compare import across_machines, across_processes, steady
from .stability import Steadiness, steadiness
from .stats import NOISE_TARGET, geomean, launch_bound_mask
from .tables import validation_table


def _default_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Default mode's measured records of each case's first process."""
    return frame[(frame["mode"] == BASELINE_MODE) & (frame["status"] == "ok")
                 & (frame["process"] == 1)]


ENVIRONMENT_COLUMNS = ["env", "gpu", "torch", "driver", "cuda", "cudnn", "commit", "runs",
                       "bf16_tflops", "tf32_tflops", "fp32_tflops", "copy_gbs"]


def environments(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per environment: its versions, the ceilings its first header measured, and
    every run it has."""
    rows = []
    for env, g in frame.groupby("env", sort=True):
        ceilings = g["ceilings"].iloc[0] or {}
        first = g.iloc[0]
        rows.append({"env": env, **{k: first[k] for k in ("gpu", "torch", "driver", "cuda",
                                                         "cudnn", "commit")},
                     "runs": ", ".join(sorted(set(g["run_id"]))),
                     **{k: ceilings.get(k, np.nan) for k in
                        ("bf16_tflops", "tf32_tflops", "fp32_tflops", "copy_gbs")}})
    return pd.DataFrame(rows, columns=ENVIRONMENT_COLUMNS)


@dataclass(frozen=True)
class Promise:
    """Whether deterministic mode gave one output per case, within and across processes,
    beside what default mode did."""

    measured: pd.DataFrame  # deterministic-mode records that ran (every process)
    varied: pd.DataFrame  # ... of them whose repeats gave more than one digest
    across: pd.DataFrame  # deterministic cases run in two processes (across_processes)
    default: pd.DataFrame  # default-mode first-process records that ran
    default_across: pd.DataFrame

    @property
    def differed(self) -> pd.DataFrame:
        return self.across[self.across["same_digest"].eq(False)]

    @property
    def broken(self) -> list[str]:
        """Cases whose deterministic output varied, within a process or between two."""
        return sorted(set(self.varied["case_id"]) | set(self.differed["case_id"]))


def promise(main: pd.DataFrame) -> Promise:
    det = main[(main["mode"] == DETERMINISTIC_MODE) & (main["status"] == "ok")]
    default = _default_first(main)
    return Promise(det, det[det["distinct_digests"] > 1],
                   across_processes(main, DETERMINISTIC_MODE), default,
                   across_processes(main, BASELINE_MODE))


def nondeterminism_by_family(main: pd.DataFrame) -> pd.DataFrame:
    """Per GPU and family: how many default-mode cases varied on identical inputs within a
    process, which workloads, and the largest ULP difference."""
    default = _default_first(main)
    rows = []
    for (gpu, family), g in default.groupby(["gpu", "family"], sort=True):
        varied = g[g["distinct_digests"] > 1]
        rows.append({"gpu": gpu, "family": family, "varied": len(varied), "cases": len(g),
                     "workloads": sorted(set(varied["workload"])),
                     "max_ulp_diff": int(g["max_ulp_diff"].max())})
    return pd.DataFrame(rows, columns=["gpu", "family", "varied", "cases", "workloads",
                                       "max_ulp_diff"])


def costliest(comparison: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The `top` costliest cases by their worst GPU, one slowdown column per GPU; a case
    noisy in either mode on any GPU is not ranked."""
    ok = comparison[comparison["status"] == "ok"]
    noisy = set(ok["case_id"]) - set(steady(comparison)["case_id"])
    ok = ok[~ok["case_id"].isin(noisy)]
    wide = ok.pivot_table(index="case_id", columns="gpu", values="slowdown", aggfunc="first")
    return wide.loc[wide.max(axis=1).nlargest(top).index]


def unsupported_ops(main: pd.DataFrame) -> pd.DataFrame:
    """One row per op that raised under deterministic mode (as torch's alert names it):
    how many cases reached it, a few of them, and on which GPUs."""
    det = main[(main["mode"] == DETERMINISTIC_MODE) & (main["status"] == "unsupported")
               & (main["process"] == 1)]
    columns = ["op", "cases", "where", "gpus"]
    if det.empty:
        return pd.DataFrame(columns=columns)
    return (det.assign(op=det["raised_op"], shape_pass=det["shape"] + " " + det["pass_"])
            .groupby("op").agg(cases=("case_id", "nunique"),
                               where=("shape_pass", lambda s: ", ".join(sorted(set(s))[:3])),
                               gpus=("gpu", lambda s: ", ".join(sorted(set(s)))))
            .reset_index())[columns]


@dataclass(frozen=True)
class GpuDifferences:
    """Two GPUs' slowdowns on the cases both measured (the first two GPUs by name)."""

    gpus: tuple[str, str]
    default_time_ratio: float  # geometric mean of B's default-mode time over A's
    default_cases: int
    geomean_a: float
    geomean_b: float
    threshold: float
    differ: pd.DataFrame = field(default_factory=pd.DataFrame)  # case_id, slowdown_a/_b


def gpu_differences(comparison: pd.DataFrame, threshold: float = 0.25
                    ) -> GpuDifferences | None:
    """Cases whose slowdown differs between the GPUs by more than `threshold` and by more
    than both bootstrap intervals; None with fewer than two GPUs (CPUs are not compared)."""
    ok = comparison[(comparison["status"] == "ok") & (comparison["gpu"] != "CPU")]
    if ok["gpu"].nunique() < 2:
        return None
    gpus = sorted(ok["gpu"].unique())[:2]
    a = ok[ok["gpu"] == gpus[0]].set_index("case_id")
    b = ok[ok["gpu"] == gpus[1]].set_index("case_id")
    both = a.merge(b, left_index=True, right_index=True, suffixes=("_a", "_b"))
    apart = (both["slowdown_low_b"] > both["slowdown_high_a"]) | (
        both["slowdown_high_b"] < both["slowdown_low_a"])
    ratio = both["slowdown_b"] / both["slowdown_a"]
    differ = both[apart & ((ratio - 1).abs() > threshold)]
    default_speed = (b["median_s_base"] / a["median_s_base"]).dropna()
    return GpuDifferences(
        (gpus[0], gpus[1]), geomean(default_speed), len(default_speed),
        geomean(both["slowdown_a"]), geomean(both["slowdown_b"]), threshold,
        pd.DataFrame({"case_id": differ.index, "slowdown_a": differ["slowdown_a"].to_numpy(),
                      "slowdown_b": differ["slowdown_b"].to_numpy()}))


def knob_costs(all_modes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Geometric-mean slowdown of each mode against default per GPU and family (evidence
    families left out), the count of cases behind each, and how many comparisons set a mode
    against a default of another machine start."""
    ok = all_modes[(all_modes["status"] == "ok")
                   & ~all_modes["family"].isin(evidence_only())]
    if ok.empty:
        return pd.DataFrame(), pd.DataFrame(), 0
    table = ok.pivot_table(index=["gpu", "family"], columns="mode", values="slowdown",
                           aggfunc=geomean)
    counts = ok.pivot_table(index=["gpu", "family"], columns="mode", values="slowdown",
                            aggfunc="count")
    return table, counts, across_machines(all_modes)


KNOB_CASES = 3  # the cases named per single-knob mode


def knob_cases(all_modes: pd.DataFrame, top: int = KNOB_CASES) -> pd.DataFrame:
    """The cases each single knob slows most, per GPU (steady in both modes): a family's
    mean can hide one shape that a knob makes several times slower."""
    knobs = all_modes[(all_modes["mode"] != DETERMINISTIC_MODE)
                      & ~all_modes["family"].isin(evidence_only())]
    rows = steady(knobs).sort_values(["gpu", "mode", "slowdown"],
                                     ascending=[True, True, False])
    return rows.groupby(["gpu", "mode"], sort=False).head(top)


# Why a default-mode case sits far below its roofline floor: what bounds these kernels
# instead of streaming bandwidth or the matmul rate (a reading of the kernels, not measured).
BELOW_CEILING = {
    "index_put": "CUDA index_put_(accumulate=True) always sorts the indices first (it is "
                 "deterministic already), so it moves many times the minimal bytes",
    "scatter_add": "atomic adds into few destinations collide and serialise",
    "scatter_reduce": "atomic updates into few destinations collide and serialise",
    "put": "atomic or racing writes into few destinations serialise",
    "index_add": "atomic row updates: they collide where rows are few, and bfloat16 atomics "
                 "are compare-and-swap loops",
    "bincount": "atomic increments into few bins collide",
    "embedding": "the backward accumulates many gradients into few rows",
    ("sdpa", "math"): "MATH materialises the seq x seq score matrix and runs an unfused "
                      "softmax: it is the unaffected control, not a fast path",
    ("sdpa", "efficient"): "the memory-efficient kernel has no tensor-core path for float32",
}
FAR_BELOW = 0.10


def _why_below(row: pd.Series) -> str:
    backend = (row["params"] or {}).get("backend")
    return BELOW_CEILING.get((row["workload"], backend)) or BELOW_CEILING.get(
        row["workload"], "")


def below_ceiling(frame: pd.DataFrame) -> pd.DataFrame:
    """Default-mode cases under FAR_BELOW of their roofline floor on every GPU (the best
    fraction any reached), lowest first, with what bounds them."""
    default = _default_first(frame)
    default = default[default["validation"].isna()]
    low = default[default["fraction_of_ceiling"] < FAR_BELOW]
    if low.empty:
        return pd.DataFrame(columns=["case_id", "fraction", "why"])
    return (low.assign(why=low.apply(_why_below, axis=1))
            .groupby("case_id").agg(fraction=("fraction_of_ceiling", "max"),
                                    why=("why", "first")).reset_index()
            .sort_values("fraction"))


def noisy_cases(frame: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Default-mode cases at or above NOISE_TARGET IQR/median in any process (their GPUs,
    worst IQR/median and median step), worst first; and the share of those measurements
    that time steps under 500 us."""
    default = frame[(frame["mode"] == BASELINE_MODE) & (frame["status"] == "ok")
                    & (frame["validation"].isna())]
    noisy = default[default["iqr_over_median"] >= NOISE_TARGET]
    if noisy.empty:
        return pd.DataFrame(columns=["case_id", "gpus", "worst", "median"]), np.nan
    short = float((noisy["median_s"] < 500e-6).mean())
    rows = (noisy.groupby("case_id")
            .agg(gpus=("gpu", lambda s: ", ".join(sorted(set(s)))),
                 worst=("iqr_over_median", "max"), median=("median_s", "median"))
            .reset_index().sort_values("worst", ascending=False))
    return rows, short


@dataclass(frozen=True)
class TimerCheck:
    """One timer-validation run: how many judged cases agree with CUDA events."""

    run_id: str
    envs: str
    interleaved: bool  # clock and event rounds alternated (else events were taken after)
    agree: int
    judged: int
    worst: float  # largest |suite / events - 1|


@dataclass(frozen=True)
class GpuNoise:
    gpu: str
    steadiness: Steadiness  # default-mode cases with IQR/median under NOISE_TARGET
    spread_median: float | None  # two default-mode processes apart, per case (None: one)
    spread_p90: float | None
    efficiency_median: float  # default-mode fraction of the roofline floor
    efficiency_by_family: dict[str, float]


def timer_checks(frame: pd.DataFrame) -> list[TimerCheck]:
    validation = validation_table(frame)
    checks = []
    for run_id, judged in validation[validation["judged"]].groupby("run_id", sort=True):
        checks.append(TimerCheck(
            run_id, ", ".join(sorted(set(judged["env"]))),
            bool(judged["clock_median_s"].ne(judged["suite_median_s"]).any()),
            int(judged["within_3pct"].sum()), len(judged),
            float((judged["suite_over_events"] - 1).abs().max())))
    return checks


def gpu_noise(frame: pd.DataFrame) -> list[GpuNoise]:
    """Per GPU: the steady share, the spread between two default-mode processes, and how
    near the default-mode cases run to their roofline floor."""
    main = frame[frame["validation"].isna() & (frame["status"] == "ok")]
    found = []
    for name, g in main.groupby("gpu", sort=True):
        default = g[(g["mode"] == BASELINE_MODE) & (g["process"] == 1)]
        spread = across_processes(g, BASELINE_MODE)
        eff = default.dropna(subset=["fraction_of_ceiling"])
        found.append(GpuNoise(
            name, steadiness(g),
            float(spread["spread"].median()) if len(spread) else None,
            float(spread["spread"].quantile(0.9)) if len(spread) else None,
            float(eff["fraction_of_ceiling"].median()),
            {fam: float(e["fraction_of_ceiling"].median())
             for fam, e in eff.groupby("family", sort=True)}))
    return found


def launch_bound(main: pd.DataFrame) -> pd.DataFrame:
    """Default-mode cases whose host spends at least LAUNCH_BOUND of the step issuing it:
    the GPU waits for launches, so their slowdown is the host's as much as the kernels'."""
    default = _default_first(main)
    default = default[default["gpu"] != "CPU"]  # on a CPU every step is the host's
    bound = default[launch_bound_mask(default["host_share"])]
    return bound[["env", "run_id", "case_id", "host_share", "median_s"]].sort_values(
        "host_share", ascending=False).reset_index(drop=True)
