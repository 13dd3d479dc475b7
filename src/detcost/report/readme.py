"""The README's generated section: findings, decision table and one figure, computed from
the committed results. Only the text between the markers is rewritten."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import frame as fr
from ..claims import judge
from ..coverage import doc_against_behaviour
from ..decision import EVIDENCE_FAMILIES, decision_table
from ..errors import DetcostError
from ..modes import DETERMINISTIC_MODE
from . import figures

START = "<!-- detcost:findings:start -->"
END = "<!-- detcost:findings:end -->"
NOISE_TARGET = fr.NOISE_TARGET  # one definition, in the frame


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


def _x(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.2f}x"


def environments_md(frame: pd.DataFrame) -> str:
    rows = []
    for _, g in frame.groupby("env", sort=True):
        c = g["ceilings"].iloc[0] or {}
        rows.append({"GPU": g["gpu"].iloc[0], "torch": g["torch"].iloc[0],
                     "driver": g["driver"].iloc[0], "CUDA": g["cuda"].iloc[0],
                     "cuDNN": g["cudnn"].iloc[0],
                     "bf16 / TF32 / FP32 matmul (TFLOP/s)": " / ".join(
                         f"{c.get(k, np.nan):.0f}" for k in
                         ("bf16_tflops", "tf32_tflops", "fp32_tflops")),
                     "copy (GB/s)": f"{c.get('copy_gbs', np.nan):.0f}",
                     "runs": ", ".join(sorted(set(g["run_id"])))})
    return md_table(pd.DataFrame(rows))


def decision_md(comparison: pd.DataFrame, budget: float) -> str:
    table = decision_table(comparison, budget)
    view = pd.DataFrame({
        "environment": table["env"], "family": table["family"], "verdict": table["verdict"],
        "geomean slowdown": table["geomean_slowdown"].map(_x),
        "worst (steady) slowdown": table["worst_slowdown"].map(_x),
        "nondeterministic by default": [f"{a} of {b}" for a, b in
                                        zip(table["nondeterministic_by_default"],
                                            table["default_measured"], strict=True)],
        "unsupported": table["unsupported"]})
    return md_table(view)


def costliest_md(comparison: pd.DataFrame, top: int = 10) -> str:
    ok = comparison[comparison["status"] == "ok"]
    noisy = set(ok["case_id"]) - set(fr.steady(comparison)["case_id"])
    ok = ok[~ok["case_id"].isin(noisy)]
    wide = ok.pivot_table(index="case_id", columns="gpu", values="slowdown", aggfunc="first")
    wide = wide.loc[wide.max(axis=1).nlargest(top).index]
    wide = wide.map(_x).reset_index().rename(columns={"case_id": "case"})
    return md_table(wide)


def nondeterministic_md(frame: pd.DataFrame) -> str:
    default = frame[(frame["mode"] == "default") & (frame["status"] == "ok")
                    & (frame["replica"] == 1)]
    rows = []
    for (gpu, family), g in default.groupby(["gpu", "family"], sort=True):
        varied = g[g["distinct_digests"] > 1]
        rows.append({"GPU": gpu, "family": family,
                     "varied within a process": f"{len(varied)} of {len(g)}",
                     "workloads": ", ".join(sorted(set(varied["workload"]))) or "none",
                     "largest ULP difference": int(g["max_ulp_diff"].max())})
    return md_table(pd.DataFrame(rows))


def raising_op(message: str) -> str:
    """The name torch's alert gives the op ('upsample_linear1d_backward_out_cuda'), or the
    message's start where it names none (SDPA's 'No available kernel', say)."""
    found = re.search(r"(?:RuntimeError: )?(.+?) (?:with .+ )?does not have a deterministic",
                      message)
    return found.group(1) if found else message.removeprefix("RuntimeError: ")[:60]


def unsupported_md(frame: pd.DataFrame) -> str:
    """One row per op that raised under deterministic mode: which cases reached it."""
    det = frame[(frame["mode"] == DETERMINISTIC_MODE) & (frame["status"] == "unsupported")
                & (frame["replica"] == 1)]
    if det.empty:
        return "No case raised."
    rows = (det.assign(op=det["message"].map(raising_op), shape_pass=det["shape"] + " "
                       + det["pass_"])
            .groupby("op").agg(cases=("case_id", "nunique"),
                               where=("shape_pass", lambda s: ", ".join(sorted(set(s))[:3])),
                               gpus=("gpu", lambda s: ", ".join(sorted(set(s)))))
            .reset_index())
    return md_table(rows.rename(columns={"op": "op (as torch's alert names it)", "where": "e.g.",
                                         "gpus": "GPUs"}))


def gpu_differences_md(comparison: pd.DataFrame, threshold: float = 0.25) -> str:
    """Cases whose slowdown differs between the GPUs by more than `threshold` and by more
    than both bootstrap intervals."""
    ok = comparison[(comparison["status"] == "ok") & (comparison["gpu"] != "CPU")]
    if ok["gpu"].nunique() < 2:
        return "One GPU so far (CPU runs are not compared with GPUs)."
    gpus = sorted(ok["gpu"].unique())[:2]
    names = [html.escape(g) for g in gpus]
    a = ok[ok["gpu"] == gpus[0]].set_index("case_id")
    b = ok[ok["gpu"] == gpus[1]].set_index("case_id")
    both = a.merge(b, left_index=True, right_index=True, suffixes=("_a", "_b"))
    apart = (both["slowdown_low_b"] > both["slowdown_high_a"]) | (
        both["slowdown_high_b"] < both["slowdown_low_a"])
    ratio = both["slowdown_b"] / both["slowdown_a"]
    differ = both[apart & ((ratio - 1).abs() > threshold)]
    default_speed = (b["median_s_base"] / a["median_s_base"]).dropna()
    lines = [f"Default-mode time, {names[1]} over {names[0]}: geometric mean "
             f"{fr.geomean(default_speed):.2f} over {len(default_speed)} cases. "
             f"Geometric-mean slowdown {fr.geomean(both['slowdown_a']):.2f}x on {names[0]}, "
             f"{fr.geomean(both['slowdown_b']):.2f}x on {names[1]}."]
    if differ.empty:
        lines.append(f"No case's slowdown differs by more than {threshold:.0%} outside its "
                     "intervals.")
    else:
        view = pd.DataFrame({"case": differ.index, gpus[0]: differ["slowdown_a"].map(_x),
                             gpus[1]: differ["slowdown_b"].map(_x)})
        lines += [f"Cases whose slowdown differs by more than {threshold:.0%}, outside both "
                  "intervals:", "", md_table(view)]
    return "\n".join(lines)


# Why a default-mode case sits far below its roofline floor: what bounds these kernels
# instead of streaming bandwidth or the matmul rate (reading of the kernels, not measured).
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


def why_below(row: pd.Series) -> str:
    backend = (row["params"] or {}).get("backend")
    return BELOW_CEILING.get((row["workload"], backend)) or BELOW_CEILING.get(
        row["workload"], "")


def efficiency_md(frame: pd.DataFrame) -> str:
    """Default-mode cases under FAR_BELOW of their roofline floor, with what bounds them."""
    default = frame[(frame["mode"] == "default") & (frame["status"] == "ok")
                    & (frame["replica"] == 1) & frame["validation"].isna()]
    low = default[default["fraction_of_ceiling"] < FAR_BELOW]
    if low.empty:
        return f"Every default-mode case reaches {FAR_BELOW:.0%} of its roofline floor."
    rows = (low.assign(why=low.apply(why_below, axis=1))
            .groupby("case_id").agg(fraction=("fraction_of_ceiling", "max"),
                                    why=("why", "first")).reset_index()
            .sort_values("fraction"))
    view = pd.DataFrame({"case": rows["case_id"],
                         "best fraction of floor": rows["fraction"].map(lambda v: f"{v:.1%}"),
                         "what bounds it": rows["why"]})
    return "\n".join([f"Default-mode cases under {FAR_BELOW:.0%} of their roofline floor "
                      "(the larger of FLOPs over the matmul rate and bytes over the copy "
                      "bandwidth) on every GPU, and why:", "", md_table(view)])


def noise_md(frame: pd.DataFrame) -> str:
    """Which default-mode cases miss the IQR/median target, on which GPU."""
    default = frame[(frame["mode"] == "default") & (frame["status"] == "ok")
                    & (frame["validation"].isna())]
    noisy = default[default["iqr_over_median"] >= NOISE_TARGET]
    if noisy.empty:
        return ""
    short = (noisy["median_s"] < 500e-6).mean()
    rows = (noisy.groupby("case_id")
            .agg(gpus=("gpu", lambda s: ", ".join(sorted(set(s)))),
                 worst=("iqr_over_median", "max"), median=("median_s", "median"))
            .reset_index().sort_values("worst", ascending=False))
    view = pd.DataFrame({"case": rows["case_id"], "GPUs (processes)": rows["gpus"],
                         "worst IQR/median": rows["worst"].map(lambda v: f"{v:.1%}"),
                         "median step": rows["median"].map(lambda v: f"{v * 1e6:.0f} us")})
    return "\n".join([
        f"Default-mode cases at or above {NOISE_TARGET:.0%} IQR/median in any process; "
        f"{short:.0%} of these measurements are of steps under 500 us. Their rounds run at a "
        "steady level with bursts of slower rounds (interference on the shared host, or clock "
        "changes under tensor-core load); the timer itself agrees with CUDA events, so the "
        "slowdowns of these cases carry wider intervals rather than a bias:", "",
        md_table(view)])


def measurement_md(frame: pd.DataFrame, comparison: pd.DataFrame) -> str:
    """Timer validation, noise (IQR and two processes) and baseline efficiency."""
    lines = []
    validation = fr.validation_table(frame)
    for run_id, judged in validation[validation["judged"]].groupby("run_id", sort=True):
        worst = (judged["suite_over_events"] - 1).abs().max()
        envs = html.escape(", ".join(sorted(set(judged["env"]))))
        interleaved = judged["clock_median_s"].ne(judged["suite_median_s"]).any()
        how = ("clock and event rounds alternating" if interleaved else
               "pytest-benchmark's rounds, then event rounds after them")
        lines.append(f"- **Timer** ({html.escape(run_id)}, {how}): on {envs}, "
                     f"{int(judged['within_3pct'].sum())} of {len(judged)} sampled cases of "
                     f"100 us or more agree with CUDA events within 3% (worst {worst:.1%}).")
    main = frame[frame["validation"].isna() & (frame["status"] == "ok")]
    for name, g in main.groupby("gpu", sort=True):
        gpu = html.escape(name)
        default = g[(g["mode"] == "default") & (g["replica"] == 1)]
        steady = fr.steady_share(g)
        spread = fr.across_processes(g, "default")
        lines.append(
            f"- **Noise on {gpu}**: {steady:.0%} of default-mode cases have IQR/median under "
            f"{NOISE_TARGET:.0%} (target 90%); two default-mode processes differ by a median "
            f"{spread['spread'].median():.1%} per case (90th percentile "
            f"{spread['spread'].quantile(0.9):.1%})." if len(spread) else "")
        eff = default.dropna(subset=["fraction_of_ceiling"])
        lines.append(f"- **Baseline efficiency on {gpu}**: default-mode median "
                     f"{eff['fraction_of_ceiling'].median():.0%} of the bounding ceiling; "
                     + "; ".join(f"{fam} {e['fraction_of_ceiling'].median():.0%}"
                                 for fam, e in eff.groupby("family", sort=True)) + ".")
    return "\n".join(line for line in lines if line)


def stability_md(frame: pd.DataFrame) -> str:
    """For each environment and profile run two or more times: how the two newest agree."""
    lines = []
    for env, run_a, run_b in fr.rerun_pairs(frame):
        summary, _ = fr.stability(frame[frame["env"] == env], run_a, run_b)
        lines.append(f"- **Stability on {html.escape(env)}**: "
                     f"{html.escape(fr.stability_sentence(summary), quote=False)}.")
    return "\n".join(lines)


def knobs_md(all_modes: pd.DataFrame) -> str:
    """Geometric-mean slowdown of each mode against default, per family: which knob carries
    the cost. Cases that a mode did not run are left out of its column."""
    ok = all_modes[(all_modes["status"] == "ok")
                   & ~all_modes["family"].isin(EVIDENCE_FAMILIES)]
    if ok.empty:
        return "Run the single-knob modes to attribute the cost."
    table = ok.pivot_table(index=["gpu", "family"], columns="mode", values="slowdown",
                           aggfunc=fr.geomean)
    counts = ok.pivot_table(index=["gpu", "family"], columns="mode", values="slowdown",
                            aggfunc="count")
    cells = pd.DataFrame({m: [f"{_x(v)} ({int(n)})" if n == n and n else ""
                              for v, n in zip(table[m], counts[m], strict=True)]
                          for m in table.columns}, index=table.index)
    note = ""
    if fr.across_machines(all_modes):
        note = (f"\n\n{fr.across_machines(all_modes)} of these comparisons set a mode against "
                "a default measured on another machine start: their ratios carry the "
                "difference between the machines too.")
    return md_table(cells.reset_index()) + note


def knob_cases_md(all_modes: pd.DataFrame, top: int = 3) -> str:
    """The cases each single knob slows most, per GPU (steady in both modes): a family's
    mean can hide one shape that a knob makes several times slower."""
    knobs = all_modes[(all_modes["mode"] != DETERMINISTIC_MODE)
                      & ~all_modes["family"].isin(EVIDENCE_FAMILIES)]
    rows = fr.steady(knobs).sort_values(["gpu", "mode", "slowdown"],
                                        ascending=[True, True, False])
    rows = rows.groupby(["gpu", "mode"], sort=False).head(top)
    if rows.empty:
        return ""
    view = pd.DataFrame({
        "GPU": rows["gpu"], "mode": rows["mode"], "case": rows["case_id"],
        "slowdown": [f"{_x(v)} ({_x(lo)}-{_x(hi)})" for v, lo, hi in
                     zip(rows["slowdown"], rows["slowdown_low"], rows["slowdown_high"],
                         strict=True)],
        # a launch-bound step moves between machine starts by more than a knob can
        "both modes on one machine start": rows["same_machine"].map(
            {True: "yes", False: "no"}).fillna("not recorded")})
    return f"The {top} cases each single-knob mode slows most:\n\n" + md_table(view)


def compile_md(frame: pd.DataFrame) -> str:
    costs = fr.compile_costs(frame)
    if costs.empty:
        return "No model case was measured both eager and under torch.compile."
    view = pd.DataFrame({
        "GPU": costs["env"], "model step": costs["case"] + " " + costs["pass_"],
        "dtype": costs["dtype"],
        "eager slowdown": [f"{_x(v)} ({_x(lo)}-{_x(hi)})" for v, lo, hi in
                           zip(costs["eager"], costs["eager_low"], costs["eager_high"],
                               strict=True)],
        "compiled slowdown": [f"{_x(v)} ({_x(lo)}-{_x(hi)})" for v, lo, hi in
                              zip(costs["compiled"], costs["compiled_low"],
                                  costs["compiled_high"], strict=True)],
        "Inductor deterministic (read back)": costs["inductor_deterministic"]})
    return md_table(view)


def invariance_md(main: pd.DataFrame) -> str:
    """Per request and mode: one result whatever the batch, or the batch sizes that gave
    another; then the requests that broke it in deterministic mode."""
    table = fr.batch_invariance(main)
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


def distributed_md(measured: pd.DataFrame) -> str:
    table = fr.distributed_table(measured)
    if table.empty:
        return ("No distributed case was measured (the `distributed` family runs under "
                "torchrun on a host with two or more GPUs).")
    view = table.assign(throughput=[f"{v:.3g} {u}" for v, u in
                                    zip(table["throughput"], table["work_unit"], strict=True)],
                        slowdown=table["slowdown"].map(_x))
    return md_table(view.drop(columns=["work_unit"]).rename(columns={"env": "environment"}))


def promise_md(main: pd.DataFrame) -> str:
    """Whether deterministic mode gave one output per case, within and across processes."""
    det = main[(main["mode"] == DETERMINISTIC_MODE) & (main["status"] == "ok")]
    within = det[det["distinct_digests"] > 1]
    across = fr.across_processes(main, DETERMINISTIC_MODE)
    default_across = fr.across_processes(main, "default")
    differed = across.loc[across["same_digest"].eq(False), "case_id"]
    broken = sorted(set(within["case_id"]) | set(differed))
    if broken:
        head = (f"Deterministic mode broke its promise on {len(broken)} cases: "
                f"{html.escape(', '.join(broken[:5]))}{' ...' if len(broken) > 5 else ''}.")
    else:
        head = (f"Deterministic mode kept its promise: all {len(det)} measurements gave one "
                "digest across their repeats")
        head += (f", and the same digest in two separate processes for "
                 f"{int(across['same_digest'].sum())} of {len(across)} cases run twice."
                 if len(across) else ".")
    tail = (f" In default mode {int(default_across['same_digest'].eq(False).sum())} of "
            f"{len(default_across)} cases differed between two processes."
            if len(default_across) else "")
    return head + tail


def doc_md(frame: pd.DataFrame) -> str:
    """Where torch's own list (use_deterministic_algorithms.__doc__) and the records agree,
    per environment, and a row for every statement they contradict."""
    table = doc_against_behaviour(frame)
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


def claims_md(measured: pd.DataFrame) -> str:
    """Each common claim's verdict per environment, over every run (a claim about two
    processes needs a run that had two)."""
    table = judge(measured)
    if table.empty:
        return "No records."
    return md_table(table.rename(columns={"env": "environment"}))


def findings_markdown(frame: pd.DataFrame, budget: float, figure_path: str) -> str:
    measured = frame[frame["validation"].isna()]  # every run: the views that pick per pair
    stability = stability_md(frame)
    claims = claims_md(measured)
    compiled = compile_md(measured)
    current = fr.current_comparisons(measured)
    knobs = knobs_md(current)
    knob_cases = knob_cases_md(current)
    main = fr.latest(measured)
    frame = pd.concat([frame[frame["validation"].notna()], main])
    comparison = fr.compare_modes(main)
    return "\n\n".join(filter(None, [
        "### Environments", environments_md(main),
        f"### Decision (budget {budget:.2f}x)", decision_md(comparison, budget),
        "### What deterministic mode buys", promise_md(main), nondeterministic_md(main),
        "### The costliest cases",
        "Ranked among cases whose rounds were steady in both modes on every GPU.",
        costliest_md(comparison),
        f"![The costliest cases]({figure_path})",
        "### Unsupported under deterministic mode", unsupported_md(main),
        "### Torch's own list against what it does",
        "Each op that `torch.use_deterministic_algorithms`'s doc names, as the running torch "
        "states it (recorded in every header), against what its workload did in "
        "deterministic mode: raised, gave one result, or varied.", doc_md(main),
        "### Which knob carries the cost",
        "Geometric-mean slowdown against default per family (cases in brackets), each mode "
        "against the default of its own run; a blank cell: the mode has not run on that "
        "family.",
        knobs, knob_cases,
        "### Under torch.compile", compiled,
        "### Claims, tested",
        "Common claims about determinism, each judged from the records (every run, not only "
        "the newest): the verdict, the figures behind it and up to five cases that show it.",
        claims,
        "### Collectives and data-parallel training",
        "Per case and mode: throughput (bus bandwidth for a collective), slowdown against "
        "default, and whether the result was the same across repeats, across ranks (all_reduce,"
        " all_gather and DDP should agree; reduce_scatter and FSDP keep a shard each) and "
        "across two launches.", distributed_md(measured),
        "### Batch invariance",
        "One request served in batches of several sizes: does its result change with the "
        "batch? Deterministic mode does not promise it.", invariance_md(main),
        "### Across GPUs", gpu_differences_md(comparison),
        "### How far to trust the numbers", measurement_md(frame, comparison), stability,
        noise_md(frame), efficiency_md(frame)]))


def write_svg(fig, path: Path) -> None:
    """Static export through kaleido, which drives an installed Chrome or Chromium."""
    try:
        fig.write_image(path)
    except Exception as exc:  # kaleido missing, or no browser for it to drive
        raise DetcostError(f"cannot write {path}: {' '.join(str(exc).split())[:200]} "
                           "(pip install kaleido; it needs Chrome or Chromium)") from None


def update_readme(readme: Path, frame: pd.DataFrame, budget: float, figure_dir: Path,
                  write_figure=write_svg) -> Path:
    """Rewrite the generated block of `readme` and write its figure."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise DetcostError(f"{readme} has no {START} ... {END} block to fill")
    figure_dir.mkdir(parents=True, exist_ok=True)
    svg = figure_dir / "costliest-cases.svg"
    main = fr.latest(frame[frame["validation"].isna()])
    write_figure(figures.costliest_cases(fr.compare_modes(main)), svg)
    relative = svg.resolve().relative_to(readme.resolve().parent).as_posix()
    block = (f"{START}\n<!-- generated by `detcost report --readme`; do not edit by hand -->"
             f"\n\n{findings_markdown(frame, budget, relative)}\n\n{END}")
    readme.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text,
                             flags=re.S), encoding="utf-8")
    return readme
