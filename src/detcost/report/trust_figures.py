"""Figures of how far to trust the numbers: baseline efficiency against the roofline, each
slowdown against the noise between processes, and two runs' agreement. Pure functions:
frames in, plotly Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .plotkit import capped, empty_figure, esc, height_for, labelled, order_by


def efficiency_by_case(frame: pd.DataFrame, mode: str = "default") -> go.Figure:
    """Default-mode floor time over measured time: the roofline floor is the larger of FLOPs
    over the matmul rate of the case's numerics and bytes over the copy bandwidth, both
    measured on the same GPU in the same run."""
    title = f"Baseline efficiency: {mode}-mode time against its roofline floor"
    ok = frame[(frame["mode"] == mode) & (frame["status"] == "ok") & (frame["process"] == 1)
               & frame["fraction_of_ceiling"].notna()].copy()
    if ok.empty:
        return empty_figure(title, "no ceiling was measured (a GPU run measures them)")
    ok = labelled(ok)
    ok, cut = capped(ok, order_by(ok, "fraction_of_ceiling"), ok["env"].nunique())
    title += cut.replace("highest", "furthest below their floor")
    order = order_by(ok, "fraction_of_ceiling")
    fig = go.Figure()
    for env, g in ok.groupby("env", sort=True):
        fig.add_trace(go.Bar(x=g["fraction_of_ceiling"], y=g["label"], orientation="h",
                             name=esc(env), ids=g["key"],
                             customdata=np.stack([g["bound"], g["throughput"],
                                                  g["work_unit"]], axis=1),
                             hovertext=g["full"],
                             hovertemplate="%{hovertext}<br>%{x:.0%} of the floor, bound by "
                                           "%{customdata[0]} (%{customdata[1]:.1f} "
                                           "%{customdata[2]})"
                                           "<extra></extra>"))
    fig.update_layout(title=title, barmode="group", height=height_for(len(order) * max(
        1, ok["env"].nunique()), 160), xaxis={"title": "floor time / measured time",
                                              "tickformat": ".0%"},
                      yaxis={"categoryorder": "array", "categoryarray": order},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      margin={"l": 10})
    return fig

def noise_against_slowdown(comparison: pd.DataFrame, spread: pd.DataFrame) -> go.Figure:
    """Each case's slowdown against the spread between two default-mode processes: a
    slowdown is only a finding where it is well outside that noise."""
    title = "Slowdown against run-to-run noise (two default-mode processes)"
    if spread.empty:
        return empty_figure(title, "run each mode in 2 or more processes to measure noise")
    ok = comparison[comparison["status"] == "ok"].merge(
        spread[["env", "run_id", "case_id", "spread"]], on=["env", "run_id", "case_id"])
    if ok.empty:
        return empty_figure(title, "no case has both a slowdown and a second process")
    ok = labelled(ok)
    ok["effect"] = (ok["slowdown"] - 1).abs()
    fig = go.Figure()
    for env, g in ok.groupby("env", sort=True):
        fig.add_trace(go.Scatter(x=g["spread"] * 100, y=g["effect"] * 100, mode="markers",
                                 name=esc(env), ids=g["key"], text=g["label"],
                                 hovertemplate="%{text}<br>noise %{x:.1f}%, "
                                               "|slowdown - 1| %{y:.1f}%<extra></extra>"))
    top = max(ok["spread"].max(), ok["effect"].max()) * 100
    fig.add_trace(go.Scatter(x=[0.01, top], y=[0.01, top], mode="lines", name="effect = noise",
                             line={"dash": "dot", "color": "black"}, hoverinfo="skip"))
    fig.update_layout(title=title, height=520,
                      xaxis={"type": "log", "title": "spread between two processes (%, log)"},
                      yaxis={"type": "log", "title": "|slowdown - 1| (%, log)"})
    return fig

def stability_between_runs(rows: pd.DataFrame, run_a: str, run_b: str) -> go.Figure:
    """Two independent runs: each case's slowdown in B against A, with A's rerun interval.
    A case is stable where its point sits on the diagonal within its bar."""
    title = f"Stability: slowdown in {esc(run_b)} against {esc(run_a)} (A's 95% rerun interval)"
    both = rows[(rows["status_a"] == "ok") & (rows["status_b"] == "ok")].copy()
    if both.empty:
        return empty_figure(title, "the two runs share no case measured in both modes")
    both["label"] = both["case_id"].map(esc)
    fig = go.Figure()
    for inside, g in both.groupby("inside_a", sort=True):
        fig.add_trace(go.Scatter(
            x=g["slowdown_a"], y=g["slowdown_b"], mode="markers", text=g["label"],
            name="inside A's interval" if inside else "outside A's interval",
            marker={"color": "#2ca02c" if inside else "#d62728", "size": 8},
            error_x={"type": "data", "symmetric": False,
                     "array": (g["slowdown_high_a"] - g["slowdown_a"]).clip(lower=0),
                     "arrayminus": (g["slowdown_a"] - g["slowdown_low_a"]).clip(lower=0)},
            hovertemplate="%{text}<br>A %{x:.3f}x, B %{y:.3f}x<extra></extra>"))
    span = [both[["slowdown_a", "slowdown_b"]].min().min() * 0.9,
            both[["slowdown_a", "slowdown_b"]].max().max() * 1.1]
    fig.add_trace(go.Scatter(x=span, y=span, mode="lines", name="B = A", hoverinfo="skip",
                             line={"dash": "dot", "color": "black"}))
    fig.update_layout(title=title, height=560,
                      xaxis={"type": "log", "title": f"slowdown in {esc(run_a)} (A, log)"},
                      yaxis={"type": "log", "title": f"slowdown in {esc(run_b)} (B, log)"})
    return fig
