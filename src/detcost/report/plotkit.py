"""What every figure shares: labels escaped for plotly's pseudo-HTML, the filter key each
point carries (so the dashboard's filters can show a subset without rebuilding a figure),
sizes, and the figure shown where there is nothing to plot."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

ROW_PX = 20

CONFIG = {"displaylogo": False, "responsive": True,
          "toImageButtonOptions": {"format": "png", "scale": 2}}

MAX_ROWS = 70  # about two screens of rows: a longer list is cut to its worst


def capped(rows: pd.DataFrame, worst_first: list[str], lanes: int = 1
           ) -> tuple[pd.DataFrame, str]:
    """The rows of the labels that fit about two screens (`lanes` bars a label), taken from
    the front of `worst_first`, and what the title says of the rest."""
    keep = max(1, MAX_ROWS // max(1, lanes))
    if len(worst_first) <= keep:
        return rows, ""
    return (rows[rows["label"].isin(set(worst_first[:keep]))],
            f" (the {keep} highest of {len(worst_first)}: search the case table for the rest)")


def height_for(rows: int, extra: int = 160) -> int:
    return max(320, extra + ROW_PX * rows)

def esc(value: object) -> str:
    """Text for plotly's pseudo-HTML labels: '<', '>' and '&' escaped. Quotes stay as they
    are (plotly shows '&quot;' literally, and no label is an attribute)."""
    return html.escape(str(value), quote=False)

def short_shape(shape: str) -> str:
    """A case's shape without the parameters at its workload's defaults:
    'vit(batch=256,image=224,...)' -> 'vit(batch=256)'. A user's workload stays whole."""
    from ..analysis.answer import shape_params
    from ..workloads import WORKLOADS

    name = shape.split("(", 1)[0]
    if name not in WORKLOADS or "(" not in shape:
        return shape
    defaults = {k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in WORKLOADS[name].defaults.items()}
    kept = [f"{k}={v}" for k, v in shape_params(shape).items() if defaults.get(k) != v]
    return f"{name}({','.join(kept)})" if kept else name

def case_label(row: pd.Series) -> str:
    """A case on an axis: its short shape, pass, and the numerics where they are not a
    facet (the full id is in `full`, which the hover shows)."""
    return f"{esc(short_shape(row['shape']))} · {row['pass_']} · {esc(row['numerics'])}"

def shape_label(row: pd.Series) -> str:
    return f"{esc(short_shape(row['shape']))} · {row['pass_']}"

def labels(rows: pd.DataFrame, label=case_label) -> pd.Series:
    """Axis labels; prefixed with the GPU and torch where rows come from several
    environments, so that two GPUs' cases never share a row."""
    base = rows.apply(label, axis=1)
    if rows["env"].nunique() > 1:
        return esc_series(rows["env"]) + " · " + base
    return base

def esc_series(values: pd.Series) -> pd.Series:
    return values.map(esc)

def filter_key(row: pd.Series) -> str:
    """What the dashboard's filters match (gpu, torch, family, dtype, precision), then the
    environment and case, which make it unique: plotly merges points that share an id."""
    keys = ("gpu", "torch", "family", "dtype", "precision", "env", "case_id")
    return "|".join(f"{k}={row[k]}" for k in keys)

def labelled(rows: pd.DataFrame, label=case_label, per_env: bool = False) -> pd.DataFrame:
    """The rows with their axis label and filter key (see module docstring). `per_env`
    gives each environment its own rows; without it environments share a row."""
    rows = rows.copy()
    rows["label"] = labels(rows, label) if per_env else rows.apply(label, axis=1)
    rows["key"] = rows.apply(filter_key, axis=1)
    rows["full"] = esc_series(rows["case_id"]) if "case_id" in rows else rows["label"]
    return rows

def order_by(rows: pd.DataFrame, value: str) -> list[str]:
    """Labels sorted by their largest `value`, smallest first (plotly draws bottom-up)."""
    return rows.groupby("label")[value].max().sort_values().index.tolist()

def empty_figure(title: str, why: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=esc(why), showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper")
    fig.update_layout(title=title, height=220, xaxis_visible=False, yaxis_visible=False)
    return fig
