"""One pure function per figure: frames in, plotly Figure out. Nothing is written here.

Every point carries a filter key in `ids` (and heatmap rows in `meta`), so the dashboard's
filters can show a subset without rebuilding the figure. Strings from result files are
escaped before plotly renders them as (a subset of) HTML.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.stats import NOISY_IQR
from ..modes import knob_columns, mode_colour
from ..workloads.families import family as family_facts
from .plotkit import (
    MAX_ROWS,
    capped,
    empty_figure,
    esc,
    esc_series,
    filter_key,
    height_for,
    labelled,
    labels,
    order_by,
    shape_label,
)


def slowdown_by_case(comparison: pd.DataFrame) -> go.Figure:
    """Deterministic / default median time per case with its bootstrap 95% interval, one
    column per numerics (dtype / float32 precision), cases grouped by family."""
    title = ("Slowdown of deterministic mode per case (median time ratio, 95% interval for a "
             "rerun)")
    ok = comparison[comparison["status"] == "ok"].copy()
    if ok.empty:
        return empty_figure(title, "no case was measured in both modes")
    ok = labelled(ok, shape_label)
    ok, cut = capped(ok, ok.groupby("label")["slowdown"].max()
                     .sort_values(ascending=False).index.tolist())
    title += cut
    columns = sorted(ok["numerics"].unique())
    order = (ok.groupby("label").agg(family=("family", "first"), worst=("slowdown", "max"))
             .sort_values(["family", "worst"], ascending=[False, True]).index.tolist())
    fig = make_subplots(rows=1, cols=len(columns), shared_yaxes=True,
                        subplot_titles=[esc(c) for c in columns], horizontal_spacing=0.01)
    low = min(ok["slowdown_low"].min(), ok["slowdown"].min(), 1.0)
    high = max(ok["slowdown_high"].max(), ok["slowdown"].max(), 1.0)
    span = [np.log10(low) - 0.05, np.log10(high) + 0.05]  # one scale for every column
    for col, numerics in enumerate(columns, start=1):
        part = ok[ok["numerics"] == numerics]
        for family, g in part.groupby("family", sort=True):
            fig.add_trace(go.Scatter(
                x=g["slowdown"], y=g["label"], mode="markers", name=family,
                legendgroup=family, showlegend=col == 1, ids=g["key"],
                marker={"color": family_facts(family).colour, "size": 9},
                error_x={"type": "data", "symmetric": False,
                         "array": (g["slowdown_high"] - g["slowdown"]).clip(lower=0),
                         "arrayminus": (g["slowdown"] - g["slowdown_low"]).clip(lower=0)},
                customdata=np.stack([g["env"].map(esc), g["median_s_base"] * 1e3,
                                     g["median_s_mode"] * 1e3], axis=1),
                hovertext=g["full"],
                hovertemplate="%{hovertext}<br>%{x:.3f}x  (default %{customdata[1]:.3f} ms, "
                              "deterministic %{customdata[2]:.3f} ms)<br>%{customdata[0]}"
                              "<extra></extra>"), row=1, col=col)
        fig.add_vline(x=1.0, line_dash="dot", line_color="black", row=1, col=col)
        fig.update_xaxes(type="log", title_text="slowdown (x, log)", range=span, row=1,
                         col=col)
    fig.update_yaxes(categoryorder="array", categoryarray=order, row=1, col=1)
    fig.update_layout(title=title, height=height_for(len(order)), legend_title="family",
                      margin={"l": 10, "r": 10})
    return fig

def variance_by_mode(frame: pd.DataFrame, modes: tuple[str, ...] = ("default", "deterministic")
                     ) -> go.Figure:
    """Distinct output digests out of N repeats per case, default beside deterministic;
    a deterministic case with more than one is a broken promise and is called out."""
    title = "Run-to-run variance: distinct outputs out of N repeats on identical inputs"
    ok = frame[frame["mode"].isin(modes) & (frame["status"] == "ok")
               & (frame["process"] == 1)].copy()
    if ok.empty:
        return empty_figure(title, "no case was measured")
    ok = labelled(ok, per_env=True)
    broken = ok[(ok["mode"] != "default") & (ok["distinct_digests"] > 1)]
    if len(broken):
        title += f" — {len(broken)} deterministic case(s) varied: a broken promise"
    order = (ok[ok["mode"] == modes[0]].sort_values(["distinct_digests", "max_ulp_diff"])
             ["label"].drop_duplicates().tolist())
    ok, cut = capped(ok, order[::-1], len(modes))
    title += cut
    order = [label for label in order if label in set(ok["label"])]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=("distinct digests out of N",
                                        "max difference to the first run (ULP)"))
    for mode in modes:
        g = ok[ok["mode"] == mode]
        common = {"y": g["label"], "orientation": "h", "name": mode, "legendgroup": mode,
                  "ids": g["key"], "marker_color": mode_colour(mode), "hovertext": g["full"]}
        fig.add_trace(go.Bar(x=g["distinct_digests"], customdata=g["repeats"],
                             hovertemplate="%{hovertext}<br>%{x} distinct of %{customdata}"
                                           "<extra>" + mode + "</extra>", **common),
                      row=1, col=1)
        fig.add_trace(go.Bar(x=g["max_ulp_diff"] + 1, showlegend=False,
                             customdata=g["max_ulp_diff"],
                             hovertemplate="%{hovertext}<br>%{customdata} ULP<extra>" + mode +
                                           "</extra>", **common), row=1, col=2)
    fig.update_xaxes(title_text="distinct digests", row=1, col=1)
    fig.update_xaxes(title_text="max ULP difference + 1 (log)", type="log", row=1, col=2)
    fig.update_yaxes(categoryorder="array", categoryarray=order, row=1, col=1)
    fig.update_layout(title=title, barmode="group", height=height_for(2 * len(order), 120),
                      margin={"l": 10, "r": 10})
    return fig

SHAPES = 8  # subplots in the throughput-by-precision figure


def throughput_by_precision(frame: pd.DataFrame,
                            modes: tuple[str, ...] = ("default", "deterministic")
                            ) -> go.Figure:
    """For every shape measured in more than one numerics: throughput per numerics, default
    beside deterministic, so the precision trade-off sits next to the determinism one."""
    title = "Throughput across float32 matmul precisions and dtypes, by mode"
    ok = frame[frame["mode"].isin(modes) & (frame["status"] == "ok")
               & (frame["process"] == 1)].copy()
    if ok.empty:
        return empty_figure(title, "no shape was measured in more than one precision/dtype")
    ok["label"] = labels(ok, shape_label)
    swept = ok.groupby("label")["numerics"].nunique()
    ok = ok[ok["label"].isin(swept[swept > 1].index)]
    if ok.empty:
        return empty_figure(title, "no shape was measured in more than one precision/dtype")
    ok["key"] = ok.apply(filter_key, axis=1)
    shapes = sorted(ok["label"].unique())
    if len(shapes) > SHAPES:  # about two screens: the shapes whose numerics differ most
        spread = ok.groupby("label")["throughput"].agg(lambda t: t.max() / max(t.min(), 1e-12))
        shapes = sorted(spread.nlargest(SHAPES).index)
        title += f" (the {SHAPES} of {len(swept[swept > 1])} shapes whose numerics differ most)"
        ok = ok[ok["label"].isin(shapes)]
    fig = make_subplots(rows=len(shapes), cols=1, subplot_titles=shapes, vertical_spacing=0.3 /
                        max(1, len(shapes)))
    for row, shape in enumerate(shapes, start=1):
        g = ok[ok["label"] == shape]
        for mode in modes:
            m = g[g["mode"] == mode].sort_values("numerics")
            fig.add_trace(go.Bar(x=m["numerics"], y=m["throughput"], name=mode,
                                 legendgroup=mode, showlegend=row == 1, ids=m["key"],
                                 marker_color=mode_colour(mode),
                                 customdata=m["work_unit"],
                                 hovertemplate="%{x}: %{y:.1f} %{customdata}<extra>" + mode +
                                               "</extra>"), row=row, col=1)
        fig.update_yaxes(title_text=esc(g["work_unit"].iloc[0]), row=row, col=1)
    fig.update_layout(title=title, barmode="group", height=max(360, 230 * len(shapes)))
    return fig

def accuracy_vs_throughput(frame: pd.DataFrame,
                           modes: tuple[str, ...] = ("default", "deterministic")) -> go.Figure:
    """Error against float64 (x) and throughput (y) per case and mode: faster numerics buy
    speed with accuracy; determinism buys reproducibility with speed."""
    title = "Accuracy (error vs float64) against throughput, per case and mode"
    ok = frame[frame["mode"].isin(modes) & (frame["status"] == "ok") & (frame["process"] == 1)
               & (frame["error_vs_float64"] > 0) & (frame["work_unit"] == "TFLOP/s")].copy()
    if ok.empty:
        return empty_figure(title, "no compute-bound case has an error against float64")
    ok = labelled(ok, per_env=True)
    fig = go.Figure()
    symbols = {"default": "circle", "deterministic": "diamond-open"}
    for (numerics, mode), g in ok.groupby(["numerics", "mode"], sort=True):
        fig.add_trace(go.Scatter(
            x=g["error_vs_float64"], y=g["throughput"], mode="markers", ids=g["key"],
            name=f"{esc(numerics)} · {mode}", marker={"symbol": symbols.get(mode, "x"),
                                                     "size": 9},
            text=g["label"], hovertemplate="%{text}<br>error %{x:.2e}<br>%{y:.1f} TFLOP/s"
                                           "<extra></extra>"))
    fig.update_layout(title=title, height=520, xaxis={"type": "log",
                                                      "title": "relative error vs float64"},
                      yaxis={"type": "log", "title": "TFLOP/s"})
    return fig

def knob_attribution(comparisons: pd.DataFrame) -> go.Figure:
    """Slowdown of each single-knob mode against default, per case: which knob costs what.
    The deterministic-nofill column separates the kernels from the memory fill."""
    title = "Cost per knob: slowdown of each mode against default"
    ok = comparisons[(comparisons["status"] == "ok")
                     & comparisons["mode"].isin(knob_columns())].copy()
    if ok.empty:
        return empty_figure(title, "run the single-knob modes to attribute the cost")
    ok = labelled(ok, per_env=True)
    table = ok.pivot_table(index="label", columns="mode", values="slowdown", aggfunc="first")
    keys = ok.groupby("label")["key"].first().reindex(table.index)
    modes = [m for m in knob_columns() if m in table.columns]
    table = table[modes].sort_values(modes[-1])
    if len(table) > MAX_ROWS:  # about two screens: the cases the last mode slows most
        title += (f" (the {MAX_ROWS} highest of {len(table)}: search the case table for "
                  "the rest)")
        table = table.iloc[-MAX_ROWS:]
    keys = keys.reindex(table.index)
    z = np.log2(table.to_numpy(dtype=float))
    text = [[f"{v:.2f}x" if np.isfinite(v) else "" for v in row] for row in table.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=z, x=modes, y=list(table.index), text=text, texttemplate="%{text}", zmid=0,
        colorscale="RdBu_r", zmin=-2, zmax=2, meta={"rowkeys": list(keys)},
        colorbar={"title": "slowdown", "tickvals": [-2, -1, 0, 1, 2],
                  "ticktext": ["0.25x", "0.5x", "1x", "2x", "4x+"]},
        hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, height=height_for(len(table), 180),
                      xaxis={"side": "top"}, margin={"l": 10})
    return fig

def compile_against_eager(costs: pd.DataFrame) -> go.Figure:
    """Deterministic mode's slowdown on each model step eager and under torch.compile, with
    the rerun intervals (frame.compile_costs)."""
    title = "Deterministic mode's cost, eager and under torch.compile"
    if costs.empty:
        return empty_figure(title, "run model cases with compile = eager and inductor")
    label = esc_series(costs["case"] + " " + costs["pass_"] + " " + costs["dtype"])
    fig = go.Figure()
    for name, column in (("eager", "eager"), ("torch.compile", "compiled")):
        fig.add_bar(name=name, y=label, x=costs[column], orientation="h",
                    error_x={"type": "data", "symmetric": False,
                             "array": costs[f"{column}_high"] - costs[column],
                             "arrayminus": costs[column] - costs[f"{column}_low"]},
                    hovertemplate="%{y}<br>" + name + ": %{x:.2f}x<extra></extra>")
    fig.add_vline(x=1.0, line_dash="dot")
    fig.update_layout(title=title, barmode="group", height=height_for(2 * len(costs)),
                      xaxis_title="slowdown (deterministic / default)", margin={"l": 10})
    return fig

def batch_invariance_view(table: pd.DataFrame) -> go.Figure:
    """One request served in batches of several sizes: does its result change with the
    batch (frame.batch_invariance)? Green: one result whatever the batch."""
    title = "Batch invariance: one request's result served in batches of 1, 8 and 64"
    if table.empty:
        return empty_figure(title, "run the invariance family (row_matmul, lm_serve, ...)")
    label = esc_series(table["request"] + " " + table["dtype"] + "/" + table["precision"]
                      + " · " + table["env"])
    wide = table.assign(label=label, value=table["invariant"].astype(float),
                        text=[("same result" if inv else
                               "differs at " + ",".join(map(str, at)))
                              for inv, at in zip(table["invariant"], table["differs_at"],
                                                 strict=True)])
    z = wide.pivot_table(index="label", columns="mode", values="value", aggfunc="first")
    text = wide.pivot_table(index="label", columns="mode", values="text", aggfunc="first")
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype=float), x=list(z.columns), y=list(z.index),
        text=text.reindex_like(z).fillna("").to_numpy(), texttemplate="%{text}",
        colorscale=[[0, "#d6604d"], [1, "#4393c3"]], zmin=0, zmax=1, showscale=False,
        hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, height=height_for(len(z), 180), xaxis={"side": "top"},
                      margin={"l": 10})
    return fig

def slowdown_across_environments(comparison: pd.DataFrame) -> go.Figure:
    """The same cases side by side for each environment (GPU x torch version)."""
    title = "Slowdown per case in each environment"
    ok = comparison[comparison["status"] == "ok"].copy()
    if ok["env"].nunique() < 2:
        return empty_figure(title, "one environment so far: add a run on another GPU or torch")
    ok = labelled(ok)
    ok, cut = capped(ok, order_by(ok, "slowdown")[::-1], ok["env"].nunique())
    title += cut
    order = order_by(ok, "slowdown")
    fig = go.Figure()
    for env, g in ok.groupby("env", sort=True):
        fig.add_trace(go.Bar(x=g["slowdown"], y=g["label"], orientation="h", name=esc(env),
                             ids=g["key"], hovertext=g["full"],
                             hovertemplate="%{hovertext}<br>%{x:.3f}x<extra>" + esc(env)
                             + "</extra>"))
    fig.add_vline(x=1.0, line_dash="dot", line_color="black")
    fig.update_layout(title=title, barmode="group", height=height_for(2 * len(order), 160),
                      xaxis={"type": "log", "title": "slowdown (x, log)"},
                      yaxis={"categoryorder": "array", "categoryarray": order},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      margin={"l": 10})
    return fig

def costliest_cases(comparison: pd.DataFrame, top: int = 15) -> go.Figure:
    """The `top` costliest cases (by their worst environment), each environment's slowdown
    side by side: the figure for a README."""
    title = f"The {top} costliest steady cases under deterministic mode (95% intervals)"
    ok = comparison[comparison["status"] == "ok"].copy()
    if ok.empty:
        return empty_figure(title, "no case was measured in both modes")
    noisy = ok["noisy_base"].astype(bool) | ok["noisy_mode"].astype(bool)
    measured = ok["case_id"].nunique()
    ok = ok[~ok["case_id"].isin(ok.loc[noisy, "case_id"])]  # noisy anywhere: not ranked
    if ok.empty:
        return empty_figure(title, f"{measured} case(s) measured in both modes, none steady: "
                                   f"each had an IQR over {NOISY_IQR:.0%} of its median in a "
                                   "mode (the cases table has them)")
    ok = labelled(ok)
    worst = ok.groupby("label")["slowdown"].max().nlargest(top)
    ok = ok[ok["label"].isin(worst.index)]
    fig = go.Figure()
    for env, g in ok.groupby("env", sort=True):
        fig.add_trace(go.Bar(x=g["slowdown"], y=g["label"], orientation="h", name=esc(env),
                             ids=g["key"], hovertext=g["full"],
                             hovertemplate="%{hovertext}<br>%{x:.2f}x<extra>" + esc(env)
                             + "</extra>",
                             text=[f"{v:.1f}x" for v in g["slowdown"]], textposition="outside",
                             error_x={"type": "data", "symmetric": False,
                                      "array": (g["slowdown_high"] - g["slowdown"]).clip(0),
                                      "arrayminus": (g["slowdown"] - g["slowdown_low"]).clip(0)}))
    fig.add_vline(x=1.0, line_dash="dot", line_color="black")
    fig.update_layout(title=title, barmode="group", height=height_for(2 * len(worst), 140),
                      width=1100, xaxis={"type": "log", "title": "slowdown (x, log; 1x: no cost)"},
                      yaxis={"categoryorder": "array", "categoryarray": list(worst.index[::-1])},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      margin={"l": 10, "r": 40}, template="plotly_white")
    return fig
