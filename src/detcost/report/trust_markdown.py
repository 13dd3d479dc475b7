"""The findings' trust sections in markdown: how far to trust the numbers (coverage between
machine starts, launch-bound and unstable cases, noise, timer checks, the roofline) and what
changes, kernel by kernel, in a profiled case."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..analysis.calibration import COVERAGE
from ..analysis.findings import Findings
from ..analysis.stability import Steadiness
from ..analysis.stats import LAUNCH_BOUND, NOISE_TARGET, STEADY_TARGET
from ..analysis.summaries import FAR_BELOW, GpuNoise
from .markdown import md_table
from .text import UNSTABLE_RULE, pct, stability_sentence, times


def efficiency_md(f: Findings) -> str:
    rows = f.below_ceiling
    if rows.empty:
        return f"Every default-mode case reaches {FAR_BELOW:.0%} of its roofline floor."
    view = pd.DataFrame({"case": rows["case_id"],
                         "best fraction of floor": rows["fraction"].map(lambda v: f"{v:.1%}"),
                         "what bounds it": rows["why"]})
    return "\n".join([f"Default-mode cases under {FAR_BELOW:.0%} of their roofline floor "
                      "(the larger of FLOPs over the matmul rate and bytes over the copy "
                      "bandwidth) on every GPU, and why:", "", md_table(view)])


def noise_md(f: Findings) -> str:
    rows = f.noisy
    if rows.empty:
        return ""
    view = pd.DataFrame({"case": rows["case_id"], "GPUs (processes)": rows["gpus"],
                         "worst IQR/median": rows["worst"].map(lambda v: f"{v:.1%}"),
                         "median step": rows["median"].map(lambda v: f"{v * 1e6:.0f} us")})
    return "\n".join([
        f"Default-mode cases at or above {NOISE_TARGET:.0%} IQR/median in any process; "
        f"{f.noisy_short_share:.0%} of these measurements are of steps under 500 us. Their "
        "rounds run at a steady level with bursts of slower rounds (interference on the "
        "shared host, or clock changes under tensor-core load); the timer itself agrees with "
        "CUDA events, so the slowdowns of these cases carry wider intervals rather than a "
        "bias:", "", md_table(view)])


def measurement_md(f: Findings) -> str:
    """Timer validation, noise (IQR and two processes) and baseline efficiency."""
    lines = []
    for c in f.timer_checks:
        how = ("clock and event rounds alternating" if c.interleaved else
               "pytest-benchmark's rounds, then event rounds after them")
        lines.append(f"- **Timer** ({html.escape(c.run_id)}, {how}): on {html.escape(c.envs)}, "
                     f"{c.agree} of {c.judged} sampled cases of 100 us or more agree with "
                     f"CUDA events within 3% (worst {c.worst:.1%}).")
    for n in f.gpu_noise:
        gpu = html.escape(n.gpu)
        lines.append(_noise_line(n))
        lines.append(f"- **Baseline efficiency on {gpu}**: default-mode median "
                     f"{n.efficiency_median:.0%} of the bounding ceiling; "
                     + "; ".join(f"{fam} {v:.0%}" for fam, v in n.efficiency_by_family.items())
                     + ".")
    return "\n".join(filter(None, lines))


def steadiness_md(f: Findings) -> str:
    """Each GPU's noise line alone (the README's): how many cases had steady rounds."""
    return "\n".join(filter(None, (_noise_line(n) for n in f.gpu_noise if n.gpu != "CPU")))


def _noise_line(n: GpuNoise) -> str:
    """Steady rounds and the spread between two default-mode processes ('' with one)."""
    if n.spread_median is None:
        return ""
    s = n.steadiness
    return (f"- **Noise on {html.escape(n.gpu)}**: {pct(s.share)} of default-mode cases have "
            f"IQR/median under {NOISE_TARGET:.0%}{_bound_apart(s)}; two default-mode "
            f"processes differ by a median {n.spread_median:.1%} per case (90th percentile "
            f"{n.spread_p90:.1%}).")


def _bound_apart(s: Steadiness) -> str:
    """The GPU-bound cases' share, which the target is read on, and the launch-bound
    cases' apart; on a CPU, or where host times were not recorded, the target on all."""
    if not s.split:
        return f" (target {STEADY_TARGET:.0%})"
    unsplit = (f", and {s.unsplit_cases} measured before records kept the host's time"
               if s.unsplit_cases else "")
    return (f": {pct(s.gpu_bound)} of the {s.gpu_bound_cases} GPU-bound ones (target "
            f"{STEADY_TARGET:.0%}), "
            f"{pct(s.launch_bound)} of the {s.launch_bound_cases} launch-bound ones, whose "
            f"rounds follow the host's speed{unsplit}")


def stability_md(f: Findings) -> str:
    """For each environment and profile run two or more times: how the two newest agree."""
    return "\n".join(f"- **Stability on {html.escape(p.env)}**: "
                     f"{html.escape(stability_sentence(p.summary), quote=False)}."
                     for p in f.stability)


def between_runs_md(f: Findings) -> str:
    """How far an interval must widen to hold on another run, whether it then held on runs
    the estimate did not see, and the cases that moved beyond it anyway."""
    lines = []
    if f.between_runs:
        spread = "; ".join(
            f"{html.escape(env) or 'every GPU'}: " + ", ".join(
                f"{family} {np.expm1(tau):.1%}" for family, tau in sorted(taus.items()))
            for env, taus in sorted(f.between_runs.items(), key=lambda kv: kv[0] == ""))
        lines.append(f"- **Between machine starts**: every interval is widened by the spread "
                     "tau that pairs of runs of one GPU and profile on two machine starts, "
                     "measured alike, showed beyond their own intervals (log half-width "
                     "sqrt(h^2 + (1.96 tau)^2); tau per GPU and family, launch-bound cases "
                     "apart, as a share; a GPU without such a pair takes every GPU's): "
                     f"{spread}.")
    for c in f.coverage:
        start = {True: "one machine start", False: "two machine starts",
                 None: "machine starts not recorded"}[c.pair.same_start]
        lines.append(f"- **Coverage on a pair the estimate did not use** "
                     f"({html.escape(c.pair.run_a)} then {html.escape(c.pair.run_b)}, "
                     f"{start}): {c.inside:.0%} of "
                     f"{c.steady} steady cases of B inside A's widened interval (target "
                     f"{COVERAGE:.0%}); {c.inside_run:.0%} inside the bootstrap's own.")
    if len(f.launch_bound):
        lines.append(f"- **Launch-bound**: in {len(f.launch_bound)} default-mode cases the "
                     f"host spent {LAUNCH_BOUND:.0%} or more of the step issuing it, so the "
                     "GPU idled for most of it and the slowdown is the host's as much as the "
                     "kernels': "
                     + ", ".join(html.escape(c) for c in f.launch_bound["case_id"][:8])
                     + (" ..." if len(f.launch_bound) > 8 else "") + ".")
    if not len(f.unstable):
        return "\n".join(lines)
    view = pd.DataFrame({
        "environment": f.unstable["env"], "case": f.unstable["case_id"],
        "slowdown range": [f"{times(lo, '')}-{times(hi, '')}" for lo, hi in
                           zip(f.unstable["low"], f.unstable["high"], strict=True)],
        "on one machine start": f.unstable["one_start"].map(
            {True: "yes", False: "no"}).fillna("not recorded"),
        "runs": f.unstable["runs"],
        "what changes (its kernel tables)": _changes_of(f, f.unstable)})
    return "\n".join(lines) + (f"\n\nUnstable across runs (never ranked as a worst case): "
                               f"{UNSTABLE_RULE}. What changes: the newest profile of the "
                               "case in both modes, where one was taken (a profile names "
                               "the case's `kernel_tables`).\n\n") + md_table(view)


def _changes_of(f: Findings, cases: pd.DataFrame) -> list[str]:
    """What deterministic mode changed in each case, from its newest profile in both modes."""
    said = {(r.env, r.case_id): r.what_changed for r in f.what_changed.itertuples()}
    return [said.get((e, c), "not profiled") for e, c in zip(
        cases["env"], cases["case_id"], strict=True)]


def what_changed_md(f: Findings) -> str:
    """Per case profiled in both modes: what deterministic mode changed in it."""
    w = f.what_changed
    if not len(w):
        return ("No case was profiled in both modes: a family's `kernel_tables = true` "
                "takes them (docs/profiles/unstable.toml).")
    view = w.assign(**{
        "default ms": w["default_ms"], "deterministic ms": w["mode_ms"],
        "device ms (default / det.)": [f"{a:.3f} / {b:.3f}" for a, b in zip(
            w["device_default_ms"], w["device_mode_ms"], strict=True)],
        "host ms (default / det.)": [f"{a:.3f} / {b:.3f}" if a == a and b == b
                                     else "not timed" for a, b in zip(
            w["host_default_ms"], w["host_mode_ms"], strict=True)]})
    return md_table(view[["env", "case_id", "default ms", "deterministic ms",
                          "device ms (default / det.)", "host ms (default / det.)",
                          "what_changed"]])
