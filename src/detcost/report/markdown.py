"""The README's findings, section by section, rendered from one Findings value."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..analysis.findings import Findings
from ..analysis.summaries import KNOB_CASES
from ..modes import DETERMINISTIC_MODE
from .text import interval, missing
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
        worst = "worst" if r.steady == r.cases else "worst steady"
        # every case unstable or noisy: no steady one to call the worst
        worst = "" if missing(r.worst) else f", {worst} {_x(r.worst)}"
        spread = (f"{_x(r.low)}-{_x(r.high)}" if r.cases == 1
                  else f"geomean of {r.cases}{worst}")
        if r.unstable:  # the worst is of the steady cases: say why some are apart
            spread += f"; {r.unstable} unstable across machine starts"
        if r.noisy and r.cases > 1:
            spread += f"; {r.noisy} noisy"
        knob = f"; {r.knob} {_x(r.knob_slowdown)}" if r.knob else ""
        buys = f"; default varied in {r.varied} of {r.cases}" if r.varied else ""
        return f"**{_x(r.slowdown)}** ({spread}){buys}{knob}"

    view = a.assign(cell=[cell(r) for r in a.itertuples()]).pivot_table(
        index=["order", "label"], columns="env", values="cell", aggfunc="first")
    view = view.reset_index().drop(columns="order").rename(columns={"label": "workload"})
    return md_table(view.fillna("not measured"))
