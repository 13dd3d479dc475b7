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

from .. import frame as fr
from ..claims import judge
from ..coverage import doc_against_behaviour
from ..decision import DEFAULT_BUDGET, decision_table
from ..modes import DETERMINISTIC_MODE
from . import figures
from .html import (
    FILTER_KEYS,
    STYLE,
    csv_safe,
    figure_div,
    filter_script,
    filters_html,
    page,
    table_html,
)

PLOTLY_FILE = "plotly.min.js"
FILTER_FILE = "filters.js"
STYLE_FILE = "style.css"
DECISION_COLUMNS = ["env", "family", "verdict", "why", "geomean_slowdown", "worst_slowdown",
                    "measured", "nondeterministic_by_default", "default_measured",
                    "unsupported", "noisy",
                    "worst_case"]
CASE_COLUMNS = ["env", "case_id", "family", "numerics", "status", "slowdown", "slowdown_low",
                "slowdown_high", "median_s_base", "median_s_mode", "throughput_base",
                "work_unit", "distinct_digests_base", "distinct_digests_mode",
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


def findings_html(frame: pd.DataFrame, all_modes: pd.DataFrame | None = None) -> str:
    """What a reader must see first: deterministic cases whose output varied within a
    process or across two processes (a broken promise), then what default mode did, then
    comparisons whose two modes ran on different machine starts."""
    det = frame[(frame["mode"] == DETERMINISTIC_MODE) & (frame["status"] == "ok")]
    within = det[det["distinct_digests"] > 1]
    across = fr.across_processes(frame, DETERMINISTIC_MODE)
    broken_across = across[~across["same_digest"]]
    parts = []
    for r in within.itertuples():
        parts.append(f'<div class="finding">Broken promise: <b>{html.escape(r.case_id)}</b> on '
                     f"{html.escape(r.env)} gave {r.distinct_digests} different outputs in "
                     f"{r.repeats} repeats in deterministic mode.</div>")
    for r in broken_across.itertuples():
        parts.append(f'<div class="finding">Broken promise: <b>{html.escape(r.case_id)}</b> on '
                     f"{html.escape(r.env)} gave different outputs in two deterministic-mode "
                     "processes.</div>")
    if not parts and len(det):
        checked = (f"; and the same digest in two separate processes for all {len(across)} "
                   f"cases run twice" if len(across) else "")
        parts.append(f'<div class="finding ok">No broken promise: every deterministic-mode '
                     f"measurement ({len(det)}: cases x processes x environments) gave one "
                     f"digest across its repeats{html.escape(checked)}.</div>")
    default = frame[(frame["mode"] == "default") & (frame["status"] == "ok")
                    & (frame["replica"] == 1)]
    if len(default):
        varied = int((default["distinct_digests"] > 1).sum())
        cross = fr.across_processes(frame, "default")
        extra = (f", and {int((~cross['same_digest']).sum())} of {len(cross)} differed "
                 "between two processes" if len(cross) else "")
        parts.append(f'<div class="finding">Default mode: {varied} of {len(default)} cases '
                     f"gave different outputs on identical inputs within one process"
                     f"{html.escape(extra)}.</div>")
    return "\n".join(parts)


def _figures(frame: pd.DataFrame, comparison: pd.DataFrame, all_modes: pd.DataFrame,
             compiled: pd.DataFrame, cross_env: bool) -> list:
    """Several environments: the views that set them side by side (each environment's
    page has the rest). One environment: every figure."""
    spread = fr.across_processes(frame, "default")
    shared = [figures.efficiency_by_case(frame),
              figures.noise_against_slowdown(comparison, spread)]
    if cross_env:
        return [figures.slowdown_across_environments(comparison), *shared]
    return [figures.slowdown_by_case(comparison), figures.variance_by_mode(frame),
            figures.knob_attribution(all_modes),
            figures.compile_against_eager(compiled),
            figures.batch_invariance_view(fr.batch_invariance(frame)),
            figures.throughput_by_precision(frame),
            figures.accuracy_vs_throughput(frame), *shared]


def _csv_link(table: pd.DataFrame, folder: Path, name: str) -> str:
    csv_safe(table).to_csv(folder / name, index=False)
    return f'<a class="csv" href="{html.escape(name)}" download>CSV</a>'


def _environments(frame: pd.DataFrame) -> pd.DataFrame:
    envs = frame.groupby("env", sort=True).agg(
        gpu=("gpu", "first"), torch=("torch", "first"), driver=("driver", "first"),
        cuda=("cuda", "first"), cudnn=("cudnn", "first"), commit=("commit", "first"),
        runs=("run_id", lambda s: ", ".join(sorted(set(s))))).reset_index()
    return envs[ENV_COLUMNS]


def build_page(frame: pd.DataFrame, folder: Path, stem: str, title: str, budget: float,
               links: str = "", head: str = "", tail: str = "") -> str:
    """One page's HTML; writes its CSV files into `folder`."""
    validation = fr.validation_table(frame)
    measured = frame[frame["validation"].isna()]  # timer-validation runs feed only their table
    frame = fr.latest(measured)  # the newest run of each case stands for it
    comparison = fr.compare_modes(frame)
    all_modes = fr.current_comparisons(measured)  # each mode against its own run's default
    decision = decision_table(comparison, budget)
    cross_env = frame["env"].nunique() > 1
    values = {k: sorted(map(str, frame[k].dropna().unique())) for k in FILTER_KEYS}
    body = [f"<h1>{html.escape(title)}</h1>",
            '<p class="note">What does <code>torch.use_deterministic_algorithms(True)</code> '
            "cost on each GPU (or CPU) and torch, and what does it buy? Slowdown = "
            "deterministic / default median time over every process of each mode; its "
            "interval is where a rerun would land 95% of the time. The newest run that "
            "measured a case in both modes stands for it; each single-knob mode is set "
            "against the default of its own newest run. Budget for the verdicts: "
            f"{budget:.2f}x.</p>", links,
            filters_html(values), "<h2>Findings</h2>", findings_html(frame, all_modes),
            "<h2>Decision</h2>"]
    if len(decision):
        shown = [c for c in DECISION_COLUMNS if cross_env or c != "env"]
        body += ['<p class="note">worst = the costliest case whose rounds were steady (IQR '
                 "under 10% of the median in both modes); noisy cases are counted apart.</p>",
                 _csv_link(decision[DECISION_COLUMNS], folder, f"{stem}-decision.csv"),
                 table_html(decision[shown])]
    else:
        body.append("<p>No comparison: run both the default and the deterministic mode.</p>")
    body.append("<h2>Figures</h2>")
    body += [figure_div(f, f"{stem}-fig{i}")
             for i, f in enumerate(_figures(frame, comparison, all_modes,
                                               fr.compile_costs(measured), cross_env))]
    if len(validation):
        body += ["<h2>Timer validation</h2>", '<p class="note">The suite\'s timer against '
                 "CUDA events (and triton's do_bench, which flushes L2 before every call) on "
                 "the same steps, in one process.</p>",
                 _csv_link(validation, folder, f"{stem}-validation.csv"),
                 table_html(validation)]
    if len(comparison):
        cases = comparison[CASE_COLUMNS]
        keys = comparison.apply(figures.filter_key, axis=1)
        body += ["<h2>Cases</h2>", _csv_link(cases, folder, f"{stem}-cases.csv"),
                 table_html(cases, keys)]
    growth = fr.kernel_growth(frame)
    if len(growth):
        body += ["<h2>Where the time went</h2>", '<p class="note">Model steps profiled with '
                 "torch.profiler in both modes: per case, the five kernels (or ops) whose "
                 "time per step grew the most under deterministic mode, and their share of "
                 "the step's growth.</p>", _csv_link(growth, folder, f"{stem}-kernels.csv"),
                 table_html(growth)]
    claims = judge(measured)
    if len(claims):
        body += ["<h2>Claims, tested</h2>", '<p class="note">Common claims about '
                 "determinism, each judged from the records of every run: the verdict, the "
                 "figures behind it, and cases that show it.</p>",
                 _csv_link(claims, folder, f"{stem}-claims.csv"), table_html(claims)]
    against = doc_against_behaviour(frame)
    if len(against):
        shown = against.assign(cases=against["cases"].map(lambda c: ", ".join(c[:2])))
        body += ["<h2>Torch's own list against what it does</h2>", '<p class="note">Each op '
                 "that <code>torch.use_deterministic_algorithms</code>'s doc names, as the "
                 "running torch states it, against what its workload did in deterministic "
                 "mode (agrees is empty where nothing was measured or the doc says nothing "
                 "of the variant on CUDA).</p>",
                 _csv_link(shown, folder, f"{stem}-doc.csv"), table_html(shown)]
    body += stability_html(measured, folder, stem)
    body += ["<h2>Environments</h2>", table_html(_environments(frame))]
    return page(title, "\n".join(body), head, tail)


def stability_html(frame: pd.DataFrame, folder: Path, stem: str) -> list[str]:
    """Per environment and profile measured in two or more runs: how well the two newest
    runs agree (`detcost stability` on them), a figure and the cases that disagree."""
    parts: list[str] = []
    for env, run_a, run_b in fr.rerun_pairs(frame):
        pair = frame[frame["run_id"].isin([run_a, run_b]) & (frame["env"] == env)]
        rows = fr.compare_runs(pair, run_a, run_b)
        summary, disagree = fr.stability(pair, run_a, run_b, rows=rows)
        if not summary["cases"]:
            continue
        name = f"{stem}-{slug(run_b)[:40]}-stability.csv"
        shown = disagree[["case_id", "slowdown_a", "slowdown_low_a", "slowdown_high_a",
                          "slowdown_b", "abs_log_ratio", "steady"]]
        parts += [f"<h3>{html.escape(env)}</h3>",
                  f'<p class="note">{html.escape(fr.stability_sentence(summary))}</p>',
                  figure_div(figures.stability_between_runs(rows, run_a, run_b),
                             f"{stem}-stability-{len(parts)}"),
                  _csv_link(shown, folder, name), table_html(shown)]
    return ["<h2>Stability between runs</h2>", *parts] if parts else []


def build_dashboard(frame: pd.DataFrame, out: Path, budget: float = DEFAULT_BUDGET) -> Path:
    """Write the whole site under `out`; return the index."""
    out.mkdir(parents=True, exist_ok=True)
    (out / PLOTLY_FILE).write_text(get_plotlyjs(), encoding="utf-8")
    (out / FILTER_FILE).write_text(filter_script(), encoding="utf-8")
    (out / STYLE_FILE).write_text(STYLE, encoding="utf-8")
    head = (f'<link rel="stylesheet" href="{STYLE_FILE}">'
            f'<script src="{PLOTLY_FILE}"></script>')
    tail = f'<script src="{FILTER_FILE}"></script>'
    envs = sorted(frame["env"].unique())
    links = "<p>Environments: " + " · ".join(
        f'<a href="{slug(e)}.html">{html.escape(e)}</a>' for e in envs) + "</p>"
    for env in envs:
        (out / f"{slug(env)}.html").write_text(
            build_page(frame[frame["env"] == env], out, slug(env), f"detcost: {env}", budget,
                       '<p><a href="index.html">All environments</a></p>', head, tail),
            encoding="utf-8")
    index = out / "index.html"
    index.write_text(build_page(frame, out, "all", "detcost: deterministic mode, measured",
                                budget, links, head, tail), encoding="utf-8")
    return index
