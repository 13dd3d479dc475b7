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

from .plotkit import CONFIG

STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:1.5rem auto;max-width:1400px;
     color:#222;padding:0 1rem;line-height:1.4}
h1{margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #ddd}
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
"""

FILTER_KEYS = ("gpu", "torch", "family", "dtype", "precision")

# Filters every figure (per point, through `ids`; heatmap rows through meta.rowkeys) and
# every table row (through data-key) by the chosen gpu / torch / family / dtype / precision.
FILTER_JS = """
(function(){
  const keys = %(keys)s;
  function parse(k){const o={};(k||'').split('|').forEach(p=>{const i=p.indexOf('=');
    if(i>0)o[p.slice(0,i)]=p.slice(i+1);});return o;}
  function wanted(){const w={};keys.forEach(k=>{const s=document.getElementById('f-'+k);
    if(s&&s.value)w[k]=s.value;});return w;}
  function match(key,w){const o=parse(key);return Object.keys(w).every(k=>!(k in o)||o[k]===w[k]);}
  const perPoint=['x','y','ids','text','customdata','z'];
  const isArr=a=>Array.isArray(a)||ArrayBuffer.isView(a);
  function filterTrace(t,w){
    if(t.type==='heatmap'&&t.meta&&t.meta.rowkeys){const keep=t.meta.rowkeys.map(k=>match(k,w));
      return Object.assign({},t,{z:t.z.filter((_,i)=>keep[i]),y:t.y.filter((_,i)=>keep[i]),
        text:t.text?t.text.filter((_,i)=>keep[i]):t.text});}
    if(!t.ids)return t;
    const keep=t.ids.map(k=>match(k,w)),c=Object.assign({},t);
    perPoint.forEach(p=>{if(isArr(t[p])&&t[p].length===keep.length)
      c[p]=t[p].filter((_,i)=>keep[i]);});
    ['error_x','error_y'].forEach(e=>{if(t[e]){c[e]=Object.assign({},t[e]);
      ['array','arrayminus'].forEach(a=>{if(isArr(t[e][a]))
        c[e][a]=t[e][a].filter((_,i)=>keep[i]);});}});
    if(t.marker&&isArr(t.marker.color)){c.marker=Object.assign({},t.marker,
      {color:t.marker.color.filter((_,i)=>keep[i])});}
    return c;}
  function apply(){const w=wanted();
    document.querySelectorAll('.js-plotly-plot').forEach(div=>{
      if(!div._original)div._original=JSON.parse(JSON.stringify(div.data));
      Plotly.react(div,div._original.map(t=>filterTrace(t,w)),div.layout);});
    document.querySelectorAll('tr[data-key]').forEach(tr=>{
      tr.style.display=match(tr.dataset.key,w)?'':'none';});}
  document.querySelectorAll('.filters select').forEach(s=>s.addEventListener('change',apply));
})();
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


def table_html(table: pd.DataFrame, keys: pd.Series | None = None) -> str:
    """A DataFrame as an HTML table, every cell escaped; `keys` (filter keys per row) lets
    the filters hide rows."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        attr = f' data-key="{html.escape(str(keys.iloc[i]))}"' if keys is not None else ""
        cells = "".join(f"<td{_verdict_class(table.columns[j], v)}>{html.escape(_cell(v))}</td>"
                        for j, v in enumerate(row))
        rows.append(f"<tr{attr}>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


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
    """A figure as a div and the script that draws it with the page's one plotly.js.
    '<', '>' and '&' are escaped in the JSON, so no string can close the script."""
    payload = (json.dumps(plain_arrays(fig.to_plotly_json()), cls=PlotlyJSONEncoder)
               .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    config = json.dumps(CONFIG | {"toImageButtonOptions": CONFIG["toImageButtonOptions"]
                                  | {"filename": div_id}})
    return (f'<div class="figure" id="{div_id}"></div>\n<script>(function(){{'
            f'const f={payload};Plotly.newPlot("{div_id}",f.data,f.layout,{config});'
            f'}})();</script>')


def filters_html(values: dict[str, list[str]]) -> str:
    parts = []
    for key in FILTER_KEYS:
        options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>'
                          for v in values.get(key, []))
        parts.append(f'<label>{key} <select id="f-{key}"><option value="">all</option>'
                     f'{options}</select></label>')
    return f'<div class="filters">{"".join(parts)}</div>'


def filter_script() -> str:
    return FILTER_JS % {"keys": json.dumps(FILTER_KEYS)}


def page(title: str, body: str, head: str, tail: str) -> str:
    """`head` brings the style and plotly.js, `tail` the filter script: links to files
    shipped once for the dashboard, inlined for a self-contained page."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>{head}</head>"
            f"<body>\n{body}\n{tail}\n</body></html>\n")
