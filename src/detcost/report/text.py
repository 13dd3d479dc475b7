"""Numbers in words, the same in every view: slowdowns, shares, durations, and a rerun
comparison in one sentence."""

from __future__ import annotations

import math

from ..analysis.stats import NOISE_TARGET, NOISY_IQR

# Which case an answer's "worst" is, said once for the README and the first screen.
WORST_STEADY = (f"the worst steady one where some are noisy, with an IQR over {NOISY_IQR:.0%} "
                "of the median, or unstable across machine starts")
# Which cases are unstable across runs (analysis.calibration._unstable), said once.
UNSTABLE_RULE = ("the slowdown of one run lies outside another run's interval widened by the "
                 "spread between runs, or, where either run was noisy, the two runs' widened "
                 "intervals lie apart")


def missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def times(value: float | None, blank: str = "-") -> str:
    """A ratio: '1.23x' (`blank` where there is none)."""
    return blank if missing(value) else f"{value:.2f}x"


def interval(value: float | None, low: float | None, high: float | None) -> str:
    """'1.23x (1.20x-1.26x)', blank where there is no value."""
    return f"{times(value, '')} ({times(low, '')}-{times(high, '')})"


def pct(value: float | None) -> str:
    return "-" if missing(value) else f"{value:.0%}"


def microseconds(seconds: float | None) -> str:
    return "-" if missing(seconds) else f"{seconds * 1e6:,.1f} us"


def stability_sentence(summary: dict) -> str:
    """How well a run (B) lands in an earlier run's (A) intervals, in one sentence."""
    a, b = summary["steadiness_a"], summary["steadiness_b"]
    widened = summary.get("inside_widened")
    inside = (f"{pct(summary['inside_share'])} of {summary['steady']} steady cases lie "
              "inside A's bootstrap interval" if missing(widened)  # no other pair
              else f"{pct(widened)} of {summary['steady']} steady cases lie inside A's "
              "interval widened for the spread between machine starts (estimated without "
              f"this pair), {pct(summary['inside_share'])} inside its bootstrap interval "
              "alone")
    return (f"{summary['run_b']} (B) against {summary['run_a']} (A): {inside}; "
            f"median |log(B/A)| {summary['median_abs_log_ratio']:.4f} "
            f"over {summary['cases']} cases; default-mode cases with IQR/median under "
            f"{NOISE_TARGET:.0%}: "
            f"{pct(a.share)} (A), {pct(b.share)} (B)"
            + (f"; of the GPU-bound ones {pct(a.gpu_bound)} (A, {a.gpu_bound_cases}), "
               f"{pct(b.gpu_bound)} (B, {b.gpu_bound_cases})" if a.split and b.split else ""))
