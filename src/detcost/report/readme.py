"""The README's generated section (the answer per workload and the trust in it) and the
whole findings with one figure in docs/findings.md, rendered from one Findings value. Only
the README's text between the markers is rewritten."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..analysis.findings import Findings
from ..errors import DetcostError
from . import figures
from . import markdown as md
from . import trust_markdown as trust
from .files import write_text
from .text import WORST_STEADY

START = "<!-- detcost:findings:start -->"
END = "<!-- detcost:findings:end -->"


FINDINGS_DOC = Path("docs") / "findings.md"


def readme_markdown(f: Findings) -> str:
    """The README's short part: the answer per named workload and how far to trust it."""
    return "\n\n".join(filter(None, [
        "### The answer per workload",
        "Deterministic over default median time on each GPU, every dtype together: one case "
        f"with its 95% rerun interval, or the geometric mean and the worst of several "
        f"({WORST_STEADY}); what default mode's variance was; the single knob that costs most "
        "where one does.",
        md.answer_md(f),
        "### How far to trust the numbers", trust.steadiness_md(f), trust.between_runs_md(f),
        f"Every other table (decision per family, costliest cases, ops that raise, knobs, "
        f"compile, claims, collectives, batch invariance, GPUs and torch versions side by "
        f"side): [{FINDINGS_DOC.as_posix()}]({FINDINGS_DOC.as_posix()})."]))


def findings_markdown(f: Findings, figure_path: str) -> str:
    return "\n\n".join(filter(None, [
        "### Environments", md.environments_md(f),
        f"### Decision (budget {f.budget:.2f}x)", md.decision_md(f),
        "### What deterministic mode buys", md.promise_md(f), md.nondeterministic_md(f),
        "### The costliest cases",
        "Ranked among cases whose rounds were steady in both modes on every GPU.",
        md.costliest_md(f),
        f"![The costliest cases]({figure_path})",
        "### Unsupported under deterministic mode", md.unsupported_md(f),
        "### Torch's own list against what it does",
        "Each op that `torch.use_deterministic_algorithms`'s doc names, as the running torch "
        "states it (recorded in every header), against what its workload did in "
        "deterministic mode: raised, gave one result, or varied.", md.doc_md(f),
        "### Which knob carries the cost",
        "Geometric-mean slowdown against default per family (cases in brackets), each mode "
        "against the default of its own run; a blank cell: the mode has not run on that "
        "family.",
        md.knobs_md(f), md.knob_cases_md(f),
        "### What changes, kernel by kernel",
        "Cases profiled (torch.profiler) in both modes: the median step, the device's time "
        "(its kernels summed), the host's time to issue a step, and what changed: another "
        "kernel, the same kernels issued more slowly, or a step so launch-bound that its "
        "time is the host's and moves with the host from one machine start to the next.",
        trust.what_changed_md(f),
        "### Under torch.compile", md.compile_md(f),
        "### Claims, tested",
        "Common claims about determinism, each judged from the records (every run, not only "
        "the newest): the verdict, the figures behind it and up to five cases that show it.",
        md.claims_md(f),
        "### Collectives and data-parallel training",
        "Per case and mode: throughput (bus bandwidth for a collective), slowdown against "
        "default, and whether the result was the same across repeats, across ranks (all_reduce,"
        " all_gather and DDP should agree; reduce_scatter and FSDP keep a shard each) and "
        "across two launches.", md.distributed_md(f),
        "### Batch invariance",
        "One request served in batches of several sizes: does its result change with the "
        "batch? Deterministic mode does not promise it.", md.invariance_md(f),
        "### Across GPUs", md.gpu_differences_md(f),
        "### Across torch versions", md.environment_diffs_md(f, "torch"),
        "### How far to trust the numbers", trust.measurement_md(f), trust.between_runs_md(f),
        trust.stability_md(f),
        trust.noise_md(f), trust.efficiency_md(f)]))


def write_svg(fig, path: Path) -> None:
    """Static export through kaleido, which drives an installed Chrome or Chromium."""
    try:
        fig.write_image(path)
    except Exception as exc:  # kaleido missing, or no browser for it to drive
        raise DetcostError(f"cannot write {path}: {' '.join(str(exc).split())[:200]} "
                           "(pip install kaleido; it needs Chrome or Chromium)") from None


def update_readme(readme: Path, findings: Findings, figure_dir: Path,
                  write_figure=write_svg) -> Path:
    """Rewrite the generated block of `readme` and write its figure."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise DetcostError(f"{readme} has no {START} ... {END} block to fill")
    figure_dir.mkdir(parents=True, exist_ok=True)
    svg = figure_dir / "costliest-cases.svg"
    write_figure(figures.costliest_cases(findings.comparison), svg)
    doc = readme.parent / FINDINGS_DOC
    doc.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(svg.resolve(), doc.resolve().parent).replace(os.sep, "/")
    write_text(doc, "# Findings\n\n<!-- generated by `detcost report --readme`; do not edit "
               f"by hand -->\n\n{findings_markdown(findings, relative)}\n")
    block = (f"{START}\n<!-- generated by `detcost report --readme`; do not edit by hand -->"
             f"\n\n{readme_markdown(findings)}\n\n{END}")
    write_text(readme, re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block,
                              text, flags=re.S))
    return readme
