"""The one-run HTML page that `detcost run` writes: self-contained (plotly.js inlined once),
every string from a results file escaped."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from .. import frame as fr
from . import figures

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
table{border-collapse:collapse;font-size:.9rem;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f3f3f3} .note{color:#555;font-size:.9rem}
"""


NO_COMPARISON = "<p>No comparison: run both the default and the deterministic mode.</p>"


def table_html(table: pd.DataFrame) -> str:
    """A DataFrame as an HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.3g}"
    return str(value)


def figures_html(figs: list[go.Figure], inline_plotlyjs: bool = True) -> str:
    parts = []
    for i, fig in enumerate(figs):
        include = inline_plotlyjs and i == 0
        parts.append(fig.to_html(full_html=False, include_plotlyjs=include,
                                 config={"responsive": True, "displaylogo": False}))
    return "\n".join(parts)


def run_page(frame: pd.DataFrame, title: str) -> str:
    comparison = fr.compare_modes(frame)
    summary = fr.family_summary(comparison)
    envs = sorted(frame["env"].unique()) if len(frame) else []
    statuses = (frame.groupby(["mode", "status"]).size().unstack(fill_value=0).reset_index()
                if len(frame) else pd.DataFrame())
    figs = [figures.slowdown_by_case(comparison), figures.default_variance_by_case(frame)]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="note">Environment: {html.escape("; ".join(envs))}</p>
<h2>Cost per family</h2>{table_html(summary) if len(summary) else NO_COMPARISON}
<h2>Cases per mode and status</h2>{table_html(statuses)}
{figures_html(figs)}
</body></html>
"""


def write_run_page(frame: pd.DataFrame, path: Path, title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run_page(frame, title), encoding="utf-8")
    return path
