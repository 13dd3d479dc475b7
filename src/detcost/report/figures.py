"""One pure function per figure: frame in, plotly Figure out. No file is written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FAMILY_COLORS = {"conv": "#1f77b4", "attention": "#d62728", "scatter": "#2ca02c",
                 "other": "#9467bd"}
_BAR_HEIGHT = 22


def _height(rows: int) -> int:
    return max(320, 140 + _BAR_HEIGHT * rows)


def case_label(row: pd.Series) -> str:
    """Case name on an axis: the shape, then pass/dtype/precision."""
    precision = f"/{row['precision']}" if row["dtype"] == "float32" else ""
    return f"{row['shape']} · {row['pass_']} · {row['dtype']}{precision}"


def empty_figure(title: str, why: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=why, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, height=240, xaxis_visible=False, yaxis_visible=False)
    return fig


def slowdown_by_case(comparison: pd.DataFrame) -> go.Figure:
    """Deterministic / default median time per case, with its bootstrap 95% interval,
    coloured by family, costliest on top."""
    title = "Slowdown of deterministic mode, per case (median time ratio, 95% interval)"
    ok = comparison[comparison["status"] == "ok"].copy()
    if ok.empty:
        return empty_figure(title, "no case was measured in both modes")
    ok["label"] = ok.apply(case_label, axis=1)
    ok = ok.sort_values("slowdown")
    fig = go.Figure()
    for family, g in ok.groupby("family", sort=False):
        fig.add_trace(go.Bar(
            x=g["slowdown"], y=g["label"], orientation="h", name=family,
            marker_color=FAMILY_COLORS.get(family, "#7f7f7f"),
            error_x={"type": "data", "symmetric": False,
                     "array": (g["slowdown_high"] - g["slowdown"]).clip(lower=0),
                     "arrayminus": (g["slowdown"] - g["slowdown_low"]).clip(lower=0)},
            customdata=np.stack([g["case_id"], g["median_s_base"] * 1e3,
                                 g["median_s_mode"] * 1e3], axis=1),
            hovertemplate="%{customdata[0]}<br>slowdown %{x:.3f}x<br>default "
                          "%{customdata[1]:.3f} ms, deterministic %{customdata[2]:.3f} ms"
                          "<extra></extra>"))
    fig.add_vline(x=1.0, line_dash="dot", line_color="black")
    fig.update_layout(title=title, barmode="overlay", height=_height(len(ok)),
                      xaxis_title="slowdown (x, log scale)", xaxis_type="log",
                      yaxis={"categoryorder": "array", "categoryarray": list(ok["label"])},
                      legend_title="family", margin={"l": 10})
    return fig


def default_variance_by_case(frame: pd.DataFrame, mode: str = "default") -> go.Figure:
    """Run-to-run variance in one mode: distinct output digests out of N repeats, and the
    largest difference from the first run in units in the last place."""
    title = f"Run-to-run variance in {mode} mode (same inputs, repeated)"
    ok = frame[(frame["mode"] == mode) & (frame["status"] == "ok")].copy()
    if ok.empty:
        return empty_figure(title, f"no case was measured in {mode} mode")
    ok["label"] = ok.apply(case_label, axis=1)
    ok = ok.sort_values(["distinct_digests", "max_ulp_diff", "label"])
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=("distinct outputs out of N repeats",
                                        "max difference to the first run (ULP)"))
    colors = np.where(ok["distinct_digests"] > 1, "#d62728", "#2ca02c")
    fig.add_trace(go.Bar(x=ok["distinct_digests"], y=ok["label"], orientation="h",
                         marker_color=colors, name="distinct digests",
                         customdata=ok["repeats"],
                         hovertemplate="%{y}<br>%{x} distinct of %{customdata}<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=ok["max_ulp_diff"].clip(lower=0) + 1, y=ok["label"],
                         orientation="h", marker_color=colors, name="max ULP + 1",
                         customdata=ok["max_ulp_diff"],
                         hovertemplate="%{y}<br>%{customdata} ULP<extra></extra>"),
                  row=1, col=2)
    fig.update_xaxes(title_text="distinct digests", row=1, col=1)
    fig.update_xaxes(title_text="max ULP difference + 1 (log)", type="log", row=1, col=2)
    fig.update_layout(title=title, showlegend=False, height=_height(len(ok)),
                      yaxis={"categoryorder": "array", "categoryarray": list(ok["label"])})
    return fig
