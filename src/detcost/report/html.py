"""HTML pieces shared by the pages: tables (every cell escaped), figure embeds, the page
shell and the filter script. Only the page writers in this package write files."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from ..environment import label_parts
from .controls import FILTER_KEYS
from .plotkit import CONFIG

STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:.6rem auto;max-width:1440px;
     color:#222;padding:0 1rem;line-height:1.4}
h1{margin:.2rem 0;font-size:1.6rem} h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
td,th{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}
.note{color:#555;font-size:.9rem} .finding{background:#fff4e5;border-left:4px solid #f0a000;
     padding:.5rem .8rem;margin:.5rem 0} .ok{background:#eef8ee;border-left-color:#2ca02c}
.filters{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd;
     z-index:10;display:flex;gap:1rem;flex-wrap:wrap}
.filters label{font-size:.85rem} .figure{margin:1rem 0}
.verdict-ship{color:#1a7f1a;font-weight:600} .verdict-blocked{color:#b00;font-weight:600}
.verdict-over{color:#b06000;font-weight:600}
a.csv{font-size:.85rem;margin-left:.5rem} .scroll{overflow-x:auto;max-width:100%}
td{max-width:44rem}
.first{display:grid;grid-template-columns:minmax(0,1fr) 330px;gap:1rem;margin-top:.6rem}
.answer{overflow-x:auto} .answer-table{font-size:.8rem;margin:0}
.answer-table td,.answer-table th{padding:.15rem .4rem;line-height:1.25}
.answer-table th.label{position:sticky;left:0;background:#fafafa;z-index:1;min-width:9rem}
.answer-table small{color:#444} .bad{color:#b00}
td.green,.sw.green{background:#e3f3e3} td.amber,.sw.amber{background:#fff0d0}
td.red,.sw.red{background:#fbdede} td.grey,.sw.grey{background:#f0f0f0;color:#666}
.sw{display:inline-block;width:.8rem;height:.8rem;border:1px solid #bbb;margin:0 .2rem}
.rail .card{border:1px solid #ddd;border-radius:6px;padding:.45rem .65rem;margin-bottom:.5rem;
     font-size:.8rem;line-height:1.3}
.budget button{border:1px solid #999;border-radius:1rem;background:#fff;padding:0 .5rem;
     margin:0 .1rem;cursor:pointer} .budget button.on{background:#1f5fbf;color:#fff}
.budget input{width:3.5rem} .filters{align-items:center;font-size:.85rem}
th.sortable{cursor:pointer} tr.costlier td{background:#fbdede} tr.cheaper td{background:#e3f3e3}
@media (max-width:900px){.first{grid-template-columns:1fr}}
@media (max-width:600px){.filters{position:static} .answer-table td{min-width:13rem}
     h1{font-size:1.25rem}}
"""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell that a spreadsheet would run as a formula ('=', '+',
    '-', '@', tab, carriage return first) prefixed with a quote. Numbers are left alone."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)
    return safe


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.3g}"
    return str(value)


def row_keys(table: pd.DataFrame) -> list[str]:
    """Each row's filter key: the filtered columns it has (gpu and torch read from its
    environment where it has only that); the search matches the row's text."""
    keys = []
    for row in table.to_dict("records"):
        found = {k: row[k] for k in FILTER_KEYS if k in row and isinstance(row[k], str)}
        env = row.get("env") or row.get("environment")
        parts = label_parts(env) if isinstance(env, str) else None
        if parts:
            found.setdefault("gpu", parts[0])
            found.setdefault("torch", parts[1])
        keys.append("|".join(f"{k}={v}" for k, v in found.items()))
    return keys


def table_html(table: pd.DataFrame, keys: pd.Series | list[str] | None = None) -> str:
    """A DataFrame as an HTML table, every cell escaped, each row keyed for the filters
    (`keys`, or row_keys), with a count of the rows they leave."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    keys = list(keys) if keys is not None else row_keys(table)
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        cells = "".join(f"<td{_verdict_class(table.columns[j], v)}>{html.escape(_cell(v))}</td>"
                        for j, v in enumerate(row))
        rows.append(f'<tr data-key="{html.escape(str(keys[i]))}">{cells}</tr>')
    return (f'<p class="count note"></p><div class="scroll"><table data-keyed><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _verdict_class(column: str, value: object) -> str:
    if column != "verdict":
        return ""
    word = str(value).split(" ")[0].strip(",")
    return {"ship": ' class="verdict-ship"', "blocked": ' class="verdict-blocked"',
            "over": ' class="verdict-over"'}.get(word, "")


def plain_arrays(node: Any) -> Any:
    """The figure's dict with plotly's base64 typed arrays turned back into plain lists,
    which the filter script can slice point by point."""
    if isinstance(node, dict):
        if set(node) >= {"dtype", "bdata"}:
            values = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
            if "shape" in node:
                values = values.reshape([int(n) for n in str(node["shape"]).split(",")])
            return values.tolist()
        return {k: plain_arrays(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain_arrays(v) for v in node]
    return node


def figure_div(fig: go.Figure, div_id: str) -> str:
    """A figure as a div, its space kept, and its data queued for the page's script, which
    draws it with the page's one plotly.js when it comes near the screen (the first screen
    paints before any figure). '<', '>' and '&' are escaped in the JSON, so no string can
    close the script."""
    payload = (json.dumps(plain_arrays(fig.to_plotly_json()), cls=PlotlyJSONEncoder)
               .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    config = json.dumps(CONFIG | {"toImageButtonOptions": CONFIG["toImageButtonOptions"]
                                  | {"filename": div_id}})
    height = int(fig.layout.height or 450)
    return (f'<div class="figure" id="{div_id}" style="min-height:{height}px"></div>\n'
            f'<script>(window.detcostFigures=window.detcostFigures||[]).push(["{div_id}",'
            f"{payload},{config}]);</script>")


def page(title: str, body: str, head: str, tail: str) -> str:
    """`head` brings the style and plotly.js, `tail` the filter script: links to files
    shipped once for the dashboard, inlined for a self-contained page."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>{head}</head>"
            f"<body>\n{body}\n{tail}\n</body></html>\n")
