"""Below the first screen, a section per op family: its costliest cases, what each knob
costs on it per GPU, its ops that raise, and (models) compile against eager. A part with
nothing measured says what to run to fill it."""

from __future__ import annotations

import html

import pandas as pd

from ..analysis.findings import Findings
from ..workloads.families import evidence_only
from . import figures
from .html import figure_div, table_html

WORST = 10  # cases in a family's chart


def _empty(what: str, command: str) -> str:
    return (f'<p class="note empty">{html.escape(what)}: run <code>{html.escape(command)}'
            "</code>.</p>")


def _knobs(f: Findings, family: str) -> str:
    table = f.knob_geomeans
    if not len(table) or family not in table.index.get_level_values("family"):
        return _empty("No knob mode on this family yet",
                      f'nox -s bench -- -k "{family}"')
    view = table.xs(family, level="family").dropna(axis=1, how="all").reset_index()
    return ("<h4>Each mode against default (geometric mean)</h4>"
            + table_html(view.rename(columns={"gpu": "GPU"})))


def _raises(rows: pd.DataFrame, family: str) -> str:
    refused = rows[rows["status"] == "unsupported"]
    if not len(refused):
        return '<p class="note">No op of this family raised under deterministic mode.</p>'
    view = (refused.assign(op=refused["raised_op_mode"].fillna(refused["message"]))
            .groupby(["env", "op"]).agg(cases=("case_id", "nunique")).reset_index())
    return "<h4>Ops that raise under deterministic mode</h4>" + table_html(view)


def _compiled(f: Findings) -> str:
    if not len(f.compiled):
        return _empty("No compiled step measured",
                      'nox -s bench -- --profile full -k "compile=inductor"')
    return "<h4>torch.compile against eager</h4>" + table_html(f.compiled)


def family_sections(f: Findings, stem: str) -> list[str]:
    """One section per family of the comparison (the claims' evidence left out)."""
    c = f.comparison
    if not len(c):
        return []
    families = sorted(set(c["family"]) - set(evidence_only()))
    parts = ['<h2 id="families">By family</h2>']
    for family in families:
        rows = c[c["family"] == family]
        ok = rows[rows["status"] == "ok"]
        parts += [f'<h3 id="family-{html.escape(family)}">{html.escape(family)} '
                  f'<small class="note">{len(ok)} cases measured in both modes</small></h3>',
                  figure_div(figures.costliest_cases(rows, top=WORST), f"{stem}-{family}-worst")
                  if len(ok) else _empty("No case measured in both modes",
                                         f'nox -s bench -- -k "{family}"'),
                  _knobs(f, family), _raises(rows, family)]
        if family == "model":
            parts.append(_compiled(f))
    return parts
