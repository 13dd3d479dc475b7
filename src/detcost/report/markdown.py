"""The README's findings, section by section, rendered from one Findings value."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..analysis.findings import Findings
from ..analysis.stats import NOISE_TARGET
from ..analysis.summaries import FAR_BELOW, KNOB_CASES
from ..modes import DETERMINISTIC_MODE
from .text import interval, stability_sentence
from .text import times as _times


def _x(v: float) -> str:
    return _times(v, "")


def md_table(table: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.3g}"
        return html.escape(str(v), quote=False).replace("|", "\\|")  # text, not attributes

    head = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def environments_md(f: Findings) -> str:
    e = f.environments
    return md_table(pd.DataFrame({
        "GPU": e["gpu"], "torch": e["torch"], "driver": e["driver"], "CUDA": e["cuda"],
        "cuDNN": e["cudnn"],
        "bf16 / TF32 / FP32 matmul (TFLOP/s)": [
            " / ".join(f"{v:.0f}" for v in row) for row in
            e[["bf16_tflops", "tf32_tflops", "fp32_tflops"]].itertuples(index=False)],
        "copy (GB/s)": [f"{v:.0f}" for v in e["copy_gbs"]], "runs": e["runs"]}))


def decision_md(f: Findings) -> str:
    table = f.decision
    return md_table(pd.DataFrame({
        "environment": table["env"], "family": table["family"], "verdict": table["verdict"],
        "geomean slowdown": table["geomean_slowdown"].map(_x),
        "worst (steady) slowdown": table["worst_slowdown"].map(_x),
        "nondeterministic by default": [f"{a} of {b}" for a, b in
                                        zip(table["nondeterministic_by_default"],
                                            table["default_measured"], strict=True)],
        "unsupported": table["unsupported"]}))


def costliest_md(f: Findings) -> str:
    wide = f.costliest.map(_x).reset_index().rename(columns={"case_id": "case"})
    return md_table(wide)


def nondeterministic_md(f: Findings) -> str:
    n = f.nondeterminism
    return md_table(pd.DataFrame({
        "GPU": n["gpu"], "family": n["family"],
        "varied within a process": [f"{a} of {b}" for a, b in
                                    zip(n["varied"], n["cases"], strict=True)],
        "workloads": n["workloads"].map(lambda w: ", ".join(w) or "none"),
        "largest ULP difference": n["max_ulp_diff"]}))


def unsupported_md(f: Findings) -> str:
    if f.unsupported.empty:
        return "No case raised."
    return md_table(f.unsupported.rename(columns={
        "op": "op (as torch's alert names it)", "where": "e.g.", "gpus": "GPUs"}))


def gpu_differences_md(f: Findings) -> str:
    d = f.gpu_differences
    if d is None:
        return "One GPU so far (CPU runs are not compared with GPUs)."
    names = [html.escape(g) for g in d.gpus]
    lines = [f"Default-mode time, {names[1]} over {names[0]}: geometric mean "
             f"{d.default_time_ratio:.2f} over {d.default_cases} cases. "
             f"Geometric-mean slowdown {d.geomean_a:.2f}x on {names[0]}, "
             f"{d.geomean_b:.2f}x on {names[1]}."]
    if d.differ.empty:
        lines.append(f"No case's slowdown differs by more than {d.threshold:.0%} outside its "
                     "intervals.")
    else:
        view = pd.DataFrame({"case": d.differ["case_id"], d.gpus[0]: d.differ["slowdown_a"]
                             .map(_x), d.gpus[1]: d.differ["slowdown_b"].map(_x)})
        lines += [f"Cases whose slowdown differs by more than {d.threshold:.0%}, outside both "
                  "intervals:", "", md_table(view)]
    return "\n".join(lines)


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
        if n.spread_median is not None:
            lines.append(
                f"- **Noise on {gpu}**: {n.steady_share:.0%} of default-mode cases have "
                f"IQR/median under {NOISE_TARGET:.0%} (target 90%); two default-mode processes"
                f" differ by a median {n.spread_median:.1%} per case (90th percentile "
                f"{n.spread_p90:.1%}).")
        lines.append(f"- **Baseline efficiency on {gpu}**: default-mode median "
                     f"{n.efficiency_median:.0%} of the bounding ceiling; "
                     + "; ".join(f"{fam} {v:.0%}" for fam, v in n.efficiency_by_family.items())
                     + ".")
    return "\n".join(lines)


def stability_md(f: Findings) -> str:
    """For each environment and profile run two or more times: how the two newest agree."""
    return "\n".join(f"- **Stability on {html.escape(p.env)}**: "
                     f"{html.escape(stability_sentence(p.summary), quote=False)}."
                     for p in f.stability)


def knobs_md(f: Findings) -> str:
    """Geometric-mean slowdown of each mode against default, per family: which knob carries
    the cost. Cases that a mode did not run are left out of its column."""
    table, counts = f.knob_geomeans, f.knob_counts
    if table.empty:
        return "Run the single-knob modes to attribute the cost."
    cells = pd.DataFrame({m: [f"{_x(v)} ({int(n)})" if n == n and n else ""
                              for v, n in zip(table[m], counts[m], strict=True)]
                          for m in table.columns}, index=table.index)
    note = ""
    if f.knob_cross_machine:
        note = (f"\n\n{f.knob_cross_machine} of these comparisons set a mode against "
                "a default measured on another machine start: their ratios carry the "
                "difference between the machines too.")
    return md_table(cells.reset_index()) + note


def knob_cases_md(f: Findings) -> str:
    rows = f.knob_cases
    if rows.empty:
        return ""
    view = pd.DataFrame({
        "GPU": rows["gpu"], "mode": rows["mode"], "case": rows["case_id"],
        "slowdown": [interval(v, lo, hi) for v, lo, hi in
                     zip(rows["slowdown"], rows["slowdown_low"], rows["slowdown_high"],
                         strict=True)],
        # a launch-bound step moves between machine starts by more than a knob can
        "both modes on one machine start": rows["same_machine"].map(
            {True: "yes", False: "no"}).fillna("not recorded")})
    return f"The {KNOB_CASES} cases each single-knob mode slows most:\n\n" + md_table(view)


def compile_md(f: Findings) -> str:
    costs = f.compiled
    if costs.empty:
        return "No model case was measured both eager and under torch.compile."
    return md_table(pd.DataFrame({
        "GPU": costs["env"], "model step": costs["case"] + " " + costs["pass_"],
        "dtype": costs["dtype"],
        "eager slowdown": [interval(v, lo, hi) for v, lo, hi in
                           zip(costs["eager"], costs["eager_low"], costs["eager_high"],
                               strict=True)],
        "compiled slowdown": [interval(v, lo, hi) for v, lo, hi in
                              zip(costs["compiled"], costs["compiled_low"],
                                  costs["compiled_high"], strict=True)],
        "Inductor deterministic (read back)": costs["inductor_deterministic"]}))


def invariance_md(f: Findings) -> str:
    """Per request and mode: one result whatever the batch, or the batch sizes that gave
    another; then the requests that broke it in deterministic mode."""
    table = f.invariance
    if table.empty:
        return "No request of the invariance family was served in two batch sizes."
    table = table.assign(
        result=["same" if inv else "differs at batch " + ", ".join(map(str, at))
                for inv, at in zip(table["invariant"], table["differs_at"], strict=True)],
        request=table["request"] + " " + table["dtype"] + "/" + table["precision"])
    wide = table.pivot_table(index=["env", "request"], columns="mode", values="result",
                             aggfunc="first").reset_index()
    det = table[(table["mode"] == DETERMINISTIC_MODE) & ~table["invariant"]]
    broken = sorted(set(det["workload"]))
    sentence = (f"Not batch-invariant in deterministic mode: {', '.join(broken)}."
                if broken else "Every request served in deterministic mode gave one result "
                "whatever the batch." if (table["mode"] == DETERMINISTIC_MODE).any() else "")
    return md_table(wide.rename(columns={"env": "environment"})) + (
        f"\n\n{sentence}" if sentence else "")


def distributed_md(f: Findings) -> str:
    table = f.distributed
    if table.empty:
        return ("No distributed case was measured (the `distributed` family runs under "
                "torchrun on a host with two or more GPUs).")
    view = table.assign(throughput=[f"{v:.3g} {u}" for v, u in
                                    zip(table["throughput"], table["work_unit"], strict=True)],
                        slowdown=table["slowdown"].map(_x))
    return md_table(view.drop(columns=["work_unit"]).rename(columns={"env": "environment"}))


def promise_md(f: Findings) -> str:
    """Whether deterministic mode gave one output per case, within and across processes."""
    p = f.promise
    broken = p.broken
    if broken:
        head = (f"Deterministic mode broke its promise on {len(broken)} cases: "
                f"{html.escape(', '.join(broken[:5]))}{' ...' if len(broken) > 5 else ''}.")
    else:
        head = (f"Deterministic mode kept its promise: all {len(p.measured)} measurements "
                "gave one digest across their repeats")
        head += (f", and the same digest in two separate processes for "
                 f"{int(p.across['same_digest'].sum())} of {len(p.across)} cases run twice."
                 if len(p.across) else ".")
    differed = int(p.default_across["same_digest"].eq(False).sum())
    tail = (f" In default mode {differed} of {len(p.default_across)} cases differed between "
            "two processes." if len(p.default_across) else "")
    return head + tail


def doc_md(f: Findings) -> str:
    """Where torch's own list and the records agree, per environment, and a row for every
    statement they contradict."""
    table = f.doc
    if table.empty:
        return ("No run here recorded torch's own list: headers carry the statements of "
                "`torch.use_deterministic_algorithms.__doc__` from records of schema 4 on.")
    lines, wrong = [], []
    for env, g in table.groupby("env", sort=True):
        judged = g[g["agrees"].notna()]
        contradicted = judged[~judged["agrees"].astype(bool)]
        wrong.append(contradicted)
        lines.append(f"- **{env}**: {len(judged) - len(contradicted)} of {len(judged)} "
                     f"measured statements hold; {len(g) - len(judged)} are not judged (not "
                     "measured, or the doc says nothing of that variant on CUDA).")
    rows = pd.concat(wrong)
    if rows.empty:
        return "\n".join(lines)
    view = pd.DataFrame({
        "environment": rows["env"], "op": rows["op"], "variant": rows["variant"],
        "the doc says": rows["doc_says"] + " (" + rows["doc_when"] + ")",
        "deterministic mode": rows["observed"],
        "cases": rows["cases"].map(lambda c: ", ".join(c[:2]))})
    return "\n".join(lines) + "\n\n" + md_table(view)


def claims_md(f: Findings) -> str:
    """Each common claim's verdict per environment, over every run (a claim about two
    processes needs a run that had two)."""
    if f.claims.empty:
        return "No records."
    return md_table(f.claims.rename(columns={"env": "environment"}))


def environment_diffs_md(f: Findings, what: str = "torch") -> str:
    """Each pair of environments that differ in `what` only: how many cases became costlier,
    cheaper or stayed the same within their intervals, and the cases that changed."""
    diffs = [d for d in f.environment_diffs if d.what == what]
    if not diffs:
        return ("One torch version per GPU so far: `nox -s matrix -- 2.11.0 2.14.1` measures "
                "the same profile under each.") if what == "torch" else ""
    parts = []
    for d in diffs:
        c = d.counts
        parts.append(f"**{html.escape(d.env_b)}** (B) against **{html.escape(d.env_a)}** (A), "
                     f"{len(d.rows)} cases: {c['costlier']} costlier, {c['cheaper']} cheaper, "
                     f"{c['same']} the same within their 95% intervals.")
        moved = d.rows[d.rows["change"].isin(["costlier", "cheaper"])]
        if len(moved):
            moved = moved.reindex(moved["slowdown_b_over_a"].map(
                lambda r: abs(np.log(r))).sort_values(ascending=False).index).head(10)
            parts.append(md_table(pd.DataFrame({
                "case": moved["case_id"], "A": [interval(v, lo, hi) for v, lo, hi in zip(
                    moved["slowdown_a"], moved["slowdown_low_a"], moved["slowdown_high_a"],
                    strict=True)],
                "B": [interval(v, lo, hi) for v, lo, hi in zip(
                    moved["slowdown_b"], moved["slowdown_low_b"], moved["slowdown_high_b"],
                    strict=True)],
                "B against A": moved["change"]})))
    return "\n\n".join(parts)


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
                     "sqrt(h^2 + (1.96 tau)^2); tau per GPU and family, as a share; a GPU "
                     f"without such a pair takes every GPU's): {spread}.")
    for c in f.coverage:
        start = {True: "one machine start", False: "two machine starts",
                 None: "machine starts not recorded"}[c.pair.same_start]
        lines.append(f"- **Coverage on a pair the estimate did not use** "
                     f"({html.escape(c.pair.run_a)} then {html.escape(c.pair.run_b)}, "
                     f"{start}): {c.inside:.0%} of "
                     f"{c.steady} steady cases of B inside A's widened interval (target "
                     f"95%); {c.inside_run:.0%} inside the bootstrap's own.")
    if len(f.launch_bound):
        lines.append(f"- **Launch-bound**: in {len(f.launch_bound)} default-mode cases the "
                     "host spent 80% or more of the step issuing it, so the GPU idled for "
                     "most of it and the slowdown is the host's as much as the kernels': "
                     + ", ".join(html.escape(c) for c in f.launch_bound["case_id"][:8])
                     + (" ..." if len(f.launch_bound) > 8 else "") + ".")
    if not len(f.unstable):
        return "\n".join(lines)
    view = pd.DataFrame({
        "environment": f.unstable["env"], "case": f.unstable["case_id"],
        "slowdown range": [f"{_x(lo)}-{_x(hi)}" for lo, hi in
                           zip(f.unstable["low"], f.unstable["high"], strict=True)],
        "on one machine start": f.unstable["one_start"].map(
            {True: "yes", False: "no"}).fillna("not recorded"),
        "runs": f.unstable["runs"],
        "what changes (its kernel tables)": _changes_of(f, f.unstable)})
    return "\n".join(lines) + ("\n\nUnstable across runs (never ranked as a worst case): "
                               "the slowdown of one run lies outside another's widened "
                               "interval. What changes: the newest profile of the case in "
                               "both modes, where one was taken (a profile names the "
                               "case's `kernel_tables`).\n\n") + md_table(view)


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


def answer_md(f: Findings) -> str:
    """The first screen's table in markdown: per named workload, each GPU's cost over every
    dtype (the CPU runs show the flow, not a GPU's answer)."""
    a = f.answer
    if not len(a):
        return ""
    a = a[(a["dtype"] == "all") & ~a["env"].str.startswith("CPU")]
    if not len(a):
        return ""

    def cell(r) -> str:
        if not r.cases:  # default measured alone (a run cut short), or nothing
            return "raises: " + r.raised.split(",")[0] if r.raised else "not measured"
        spread = (f"{_x(r.low)}-{_x(r.high)}" if r.cases == 1
                  else f"geomean of {r.cases}, worst {_x(r.worst)}")
        knob = f"; {r.knob} {_x(r.knob_slowdown)}" if r.knob else ""
        buys = f"; default varied in {r.varied} of {r.cases}" if r.varied else ""
        return f"**{_x(r.slowdown)}** ({spread}){buys}{knob}"

    view = a.assign(cell=[cell(r) for r in a.itertuples()]).pivot_table(
        index=["order", "label"], columns="env", values="cell", aggfunc="first")
    view = view.reset_index().drop(columns="order").rename(columns={"label": "workload"})
    return md_table(view.fillna("not measured"))
