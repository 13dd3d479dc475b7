"""The static dashboard: results/dashboard/index.html (every environment), one page per
environment, plotly.js shipped once beside them, and every table as CSV. Works offline
from a file URL."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from ..analysis.findings import Findings
from . import figures, trust_figures
from .controls import FILTER_KEYS, controls_html, script
from .family_sections import family_sections
from .files import recording, write_text
from .first_screen import data_script, diff_html, first_screen_html, views_script
from .html import STYLE, csv_safe, figure_div, page, table_html
from .plotkit import filter_key
from .text import UNSTABLE_RULE, stability_sentence

PLOTLY_FILE = "plotly.min.js"
FILTER_FILE = "filters.js"
VIEWS_FILE = "views.js"
STYLE_FILE = "style.css"
DECISION_COLUMNS = ["env", "family", "verdict", "why", "geomean_slowdown", "worst_slowdown",
                    "measured", "nondeterministic_by_default", "default_measured",
                    "unsupported", "noisy", "worst_case", "runs"]
CASE_COLUMNS = ["env", "run_id", "case_id", "family", "numerics", "status", "slowdown",
                "slowdown_low", "slowdown_high", "unstable", "host_share_base", "median_s_base",
                "median_s_mode",
                "throughput_base", "work_unit", "distinct_digests_base", "distinct_digests_mode",
                "max_ulp_diff_base", "error_vs_float64_base", "noisy_base", "message"]
ENV_COLUMNS = ["env", "gpu", "torch", "driver", "cuda", "cudnn", "commit", "runs"]


SLUG_MAX = 80


def slug(text: str) -> str:
    """A file name for a page: lower-case words joined by '-'; a long one is cut and given a
    short hash of the whole, so that it stays unique and within any file-name limit."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "environment"
    if len(name) <= SLUG_MAX:
        return name
    return f"{name[:SLUG_MAX - 9].rstrip('-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def findings_html(f: Findings) -> str:
    """What a reader must see first: deterministic cases whose output varied within a
    process or across two processes (a broken promise), then what default mode did."""
    p = f.promise
    parts = []
    for r in p.varied.itertuples():
        parts.append(f'<div class="finding">Broken promise: <b>{html.escape(r.case_id)}</b> on '
                     f"{html.escape(r.env)} gave {r.distinct_digests} different outputs in "
                     f"{r.repeats} repeats in deterministic mode.</div>")
    for r in p.differed.itertuples():
        parts.append(f'<div class="finding">Broken promise: <b>{html.escape(r.case_id)}</b> on '
                     f"{html.escape(r.env)} gave different outputs in two deterministic-mode "
                     "processes.</div>")
    if not parts and len(p.measured):
        checked = (f"; and the same digest in two separate processes for all "
                   f"{len(p.across)} cases run twice" if len(p.across) else "")
        parts.append(f'<div class="finding ok">No broken promise: every deterministic-mode '
                     f"measurement ({len(p.measured)}: cases x processes x environments) gave "
                     f"one digest across its repeats{html.escape(checked)}.</div>")
    if len(p.default):
        varied = int((p.default["distinct_digests"] > 1).sum())
        cross = p.default_across
        extra = (f", and {int((~cross['same_digest']).sum())} of {len(cross)} differed "
                 "between two processes" if len(cross) else "")
        parts.append(f'<div class="finding">Default mode: {varied} of {len(p.default)} cases '
                     f"gave different outputs on identical inputs within one process"
                     f"{html.escape(extra)}.</div>")
    return "\n".join(parts)


def _figures(f: Findings) -> list:
    """Several environments: the view that sets them side by side (each environment's
    page has the rest). One environment: every figure. The trust figures are apart."""
    if f.cross_env:
        return [figures.slowdown_across_environments(f.comparison)]
    return [figures.slowdown_by_case(f.comparison), figures.variance_by_mode(f.main),
            figures.knob_attribution(f.knobs), figures.compile_against_eager(f.compiled),
            figures.batch_invariance_view(f.invariance),
            figures.throughput_by_precision(f.main),
            figures.accuracy_vs_throughput(f.main)]


def _trust_figures(f: Findings) -> list:
    """The roofline and the noise: how far to trust a number, in the collapsed checks."""
    return [trust_figures.efficiency_by_case(f.main),
            trust_figures.noise_against_slowdown(f.comparison, f.spread)]


def _section(title: str, note: str, table: pd.DataFrame, folder: Path, csv_name: str,
             keys: pd.Series | None = None) -> list[str]:
    """A titled table with its note and its CSV; nothing where the table is empty. `note`
    is the page's own HTML, never text from results."""
    if not len(table):
        return []
    anchor = csv_name.rsplit("-", 1)[-1].removesuffix(".csv")
    return [f'<h2 id="{html.escape(anchor)}">{html.escape(title)}</h2>',
            *([f'<p class="note">{note}</p>'] if note else []),
            _csv_link(table, folder, csv_name), table_html(table, keys)]


def _csv_link(table: pd.DataFrame, folder: Path, name: str) -> str:
    write_text(folder / name, csv_safe(table).to_csv(index=False))
    return f'<a class="csv" href="{html.escape(name)}" download>CSV</a>'


def build_page(f: Findings, folder: Path, stem: str, title: str, links: str = "",
               head: str = "", tail: str = "") -> str:
    """One page's HTML; writes its CSV files into `folder`."""
    values = {k: sorted(map(str, f.main[k].dropna().unique())) for k in FILTER_KEYS}
    body = [f"<h1>{html.escape(title)}</h1>",
            '<p class="note">What <code>torch.use_deterministic_algorithms(True)</code> costs '
            "(deterministic / default median time, with the interval a rerun lands in 95% of "
            "the time) and what it buys, per workload, GPU and torch version. "
            f'<a href="#method">method</a> · <a href="{html.escape(stem)}-cases.csv">raw CSV'
            "</a></p>",
            controls_html(values, f.budget), first_screen_html(f), data_script(f),
            diff_html(), links, "<h2>Findings</h2>", findings_html(f),
            "<h2>Decision</h2>"]
    if len(f.decision):
        shown = [c for c in DECISION_COLUMNS if f.cross_env or c != "env"]
        body += [f'<p class="note">Verdicts against the report\'s budget, {f.budget:.2f}x '
                 "(<code>nox -s report -- --budget 1.25</code> for another); worst = the "
                 "costliest case whose rounds were steady (IQR under 10% of the median in both "
                 "modes); noisy cases are counted apart.</p>",
                 _csv_link(f.decision[DECISION_COLUMNS], folder, f"{stem}-decision.csv"),
                 table_html(f.decision[shown])]
    else:
        body.append("<p>No comparison: run both the default and the deterministic mode.</p>")
    body += family_sections(f, stem)
    body.append("<h2>Figures</h2>")
    body += [figure_div(fig, f"{stem}-fig{i}") for i, fig in enumerate(_figures(f))]
    doc = f.doc.assign(cases=f.doc["cases"].map(lambda c: ", ".join(c[:2])))
    sections = [
        ("Cases", "", f.comparison[CASE_COLUMNS] if len(f.comparison) else f.comparison,
         "cases", f.comparison.apply(filter_key, axis=1) if len(f.comparison) else None),
        ("Where the time went", "Model steps profiled with torch.profiler in both modes: "
         "per case, the five kernels (or ops) whose time per step grew the most under "
         "deterministic mode, and their share of the step's growth.", f.kernel_growth,
         "kernels", None),
        ("What changes, kernel by kernel", "Cases profiled in both modes: the median step, "
         "the device's time (kernels summed) and the host's time to issue a step, in ms, "
         "and what changed: another kernel, the same kernels issued more slowly, or a "
         "launch-bound step whose time is the host's.", f.what_changed, "changed", None),
        ("Claims, tested", "Common claims about determinism, each judged from the records "
         "of every run: the verdict, the figures behind it, and cases that show it.",
         f.claims, "claims", None),
        ("Torch's own list against what it does", "Each op that "
         "<code>torch.use_deterministic_algorithms</code>'s doc names, as the running torch "
         "states it, against what its workload did in deterministic mode (agrees is empty "
         "where nothing was measured or the doc says nothing of the variant on CUDA).",
         doc, "doc", None),
        ("Unstable across runs", f"Cases where {UNSTABLE_RULE}: never ranked as a "
         "family's worst case.", f.unstable, "unstable", None),
        ("Ops that raise under deterministic mode", "Each op that torch refused to run in "
         "deterministic mode, as its alert names it: <code>warn_only=True</code> runs it "
         "as it is, with a warning.", f.unsupported, "unsupported", None),
    ]
    for title, note, table, name, keys in sections:
        body += _section(title, note, table, folder, f"{stem}-{name}.csv", keys)
    body += diffs_html(f, folder, stem)
    body += ['<details id="trust"><summary><b>Trust checks</b>: the timer against CUDA '
             "events, stability between runs, noise, the roofline, the environments"
             "</summary>",
             *[figure_div(fig, f"{stem}-trust{i}") for i, fig in enumerate(_trust_figures(f))],
             *_section("Timer validation", "The suite's timer against CUDA events (and "
                       "triton's do_bench, which flushes L2 before every call) on the same "
                       "steps, in one process.", f.validation, folder,
                       f"{stem}-validation.csv"),
             *stability_html(f, folder, stem),
             "<h2>Environments</h2>", table_html(f.environments[ENV_COLUMNS]), "</details>",
             METHOD]
    return page(title, "\n".join(body), head, tail)


METHOD = ('<details id="method"><summary><b>Method</b></summary><p class="note">Each mode '
          "runs in worker processes of its own (some knobs are read once per process), two "
          "processes per mode, interleaved. A case is warmed up until its step time settles, "
          "then timed in rounds until the 95% interval of its median is within the profile's "
          "target or its time cap; the device is waited for before every clock read. Its "
          "slowdown is the ratio of the two modes' medians over every round of every process, "
          "with a hierarchical bootstrap interval (processes, then rounds) widened by the "
          "spread between machine starts that pairs of runs of the same GPU showed. Variance "
          "is measured by repeating the step on identical inputs and comparing digests, "
          "within a process and across two, and against a float64 reference. The whole "
          "method: <code>docs/method.md</code> in the repository.</p></details>")


DIFF_COLUMNS = ["case_id", "family", "change", "slowdown_a", "slowdown_low_a",
                "slowdown_high_a", "run_id_a", "slowdown_b", "slowdown_low_b",
                "slowdown_high_b", "run_id_b"]


def diffs_html(f: Findings, folder: Path, stem: str) -> list[str]:
    """Each pair of environments that differ in the torch version (or the GPU) only: the
    cases costlier, cheaper and the same within their intervals, as `asv compare` does."""
    parts: list[str] = []
    for n, d in enumerate(f.environment_diffs):
        c = d.counts
        rows = d.rows.sort_values(["change", "slowdown_b_over_a"], ascending=[True, False])
        parts += [f"<h3>{html.escape(d.env_b)} against {html.escape(d.env_a)}</h3>",
                  f'<p class="note">{len(d.rows)} cases measured in both: '
                  f"<b>{c['costlier']} costlier</b>, <b>{c['cheaper']} cheaper</b>, "
                  f"{c['same']} the same within their 95% intervals (B against A).</p>",
                  _csv_link(rows[DIFF_COLUMNS], folder, f"{stem}-diff-{n}.csv"),
                  table_html(rows[DIFF_COLUMNS])]
    if not parts:
        return []
    return ["<h2>Across torch versions and GPUs</h2>", *parts]


def stability_html(f: Findings, folder: Path, stem: str) -> list[str]:
    """Per environment and profile measured in two or more runs: how well the two newest
    runs agree (`detcost stability` on them), a figure and the cases that disagree."""
    parts: list[str] = []
    for pair in f.stability:
        if not pair.summary["cases"]:
            continue
        name = f"{stem}-{slug(pair.run_b)[:40]}-stability.csv"
        shown = pair.disagree[["case_id", "slowdown_a", "slowdown_low_a", "slowdown_high_a",
                               "slowdown_b", "abs_log_ratio", "steady"]]
        parts += [f"<h3>{html.escape(pair.env)}</h3>",
                  f'<p class="note">{html.escape(stability_sentence(pair.summary))}</p>',
                  figure_div(trust_figures.stability_between_runs(pair.rows, pair.run_a,
                                                                  pair.run_b),
                             f"{stem}-stability-{len(parts)}"),
                  _csv_link(shown, folder, name), table_html(shown)]
    return ['<h2 id="stability">Stability between runs</h2>', *parts] if parts else []


def build_dashboard(f: Findings, out: Path) -> Path:
    """Write the whole site under `out`; return the index. Pages and tables of an earlier
    build that this one did not write again (an environment no longer measured) go."""
    with recording() as written:
        index = _build(f, out)
    for stale in [*out.glob("*.html"), *out.glob("*.csv")]:
        if stale.resolve() not in written:
            stale.unlink()
    return index


def _build(f: Findings, out: Path) -> Path:
    write_text(out / PLOTLY_FILE, get_plotlyjs())
    write_text(out / FILTER_FILE, script())
    write_text(out / VIEWS_FILE, views_script())
    write_text(out / STYLE_FILE, STYLE)
    head = (f'<link rel="stylesheet" href="{STYLE_FILE}">'
            f'<script src="{PLOTLY_FILE}"></script>')
    tail = f'<script src="{VIEWS_FILE}"></script><script src="{FILTER_FILE}"></script>'
    envs = sorted(f.records["env"].unique())
    links = "<p>Environments: " + " · ".join(
        f'<a href="{slug(e)}.html">{html.escape(e)}</a>' for e in envs) + "</p>"
    for env in envs:
        write_text(out / f"{slug(env)}.html",
                   build_page(f.only(env), out, slug(env), f"detcost: {env}",
                              '<p><a href="index.html">All environments</a></p>', head, tail))
    index = out / "index.html"
    write_text(index, build_page(f, out, "all", "Does deterministic mode fit my budget?",
                                 links, head, tail))
    return index
