"""The answer a team asks for first: per named workload (each model step, then each op
family) and per environment, what deterministic mode costs, what it buys, and which single
knob costs most. One row per workload, environment and dtype ('all' for every dtype), so
that a page can switch the dtype without computing anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..modes import MODES
from ..workloads.families import evidence_only
from .compare import steady
from .stats import geomean

ALL_DTYPES = "all"
# The knobs set one at a time (their modes change one library's setting each).
SINGLE_KNOBS = tuple(m.name for m in MODES.values() if m.library in ("cublas", "cudnn")
                     and not m.cudnn_benchmark)
KNOB_SHOWN = 1.05  # a knob costing less than this explains nothing


@dataclass(frozen=True)
class Named:
    """A workload as a team names it: the cases of one workload, pass and parameters."""

    label: str
    workload: str
    pass_: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def keyword(self) -> str:
        """The -k expression that measures it."""
        return f"{self.workload} and {self.pass_}"

    def matches(self, workload: str, pass_: str, shape: str) -> bool:
        params = shape_params(shape)
        return (workload == self.workload and pass_ == self.pass_
                and params.get("compile", "eager") == "eager"
                and all(params.get(k) == str(v) for k, v in self.params.items()))


def shape_params(shape: str) -> dict[str, str]:
    """A case's parameters as its id spells them: 'gpt(phase=decode,batch=1)' ->
    {'phase': 'decode', 'batch': '1'}."""
    inside = shape[shape.find("(") + 1:shape.rfind(")")] if "(" in shape else ""
    return dict(part.split("=", 1) for part in inside.split(",") if "=" in part)


NAMED = (
    Named("ViT-B/16 training step", "vit", "fwdbwd", {"patch": 16, "hidden": 768}),
    Named("ViT-B/16 inference", "vit", "fwd", {"patch": 16, "hidden": 768}),
    Named("ResNet-50 training step", "resnet", "fwdbwd", {"depth": 50}),
    Named("ResNet-50 inference", "resnet", "fwd", {"depth": 50}),
    Named("Language model prefill", "gpt", "fwd", {"phase": "prefill"}),
    Named("Language model decode", "gpt", "fwd", {"phase": "decode"}),
    Named("Language model training step", "gpt", "fwdbwd"),
    Named("Faster R-CNN training step", "detection", "fwdbwd"),
    Named("Faster R-CNN inference", "detection", "fwd"),
)
COLUMNS = ["order", "label", "kind", "keyword", "env", "dtype", "cases", "slowdown", "low",
           "high", "worst", "steady", "unstable", "noisy", "varied", "max_rel_diff", "knob",
           "knob_slowdown", "raised", "runs"]


def _costliest_knob(knobs: pd.DataFrame, env: str, cases: set[str]) -> tuple[str, float]:
    """The single knob whose mode costs most on these cases (geometric mean), or '' where
    none costs KNOB_SHOWN or more (the algorithms flag itself carries the cost)."""
    mine = knobs[(knobs["env"] == env) & knobs["case_id"].isin(cases)
                 & knobs["mode"].isin(SINGLE_KNOBS) & (knobs["status"] == "ok")]
    if mine.empty:
        return "", np.nan
    by_knob = mine.groupby("mode")["slowdown"].apply(geomean).dropna()
    if by_knob.empty or by_knob.max() < KNOB_SHOWN:
        return "", float(by_knob.max()) if len(by_knob) else np.nan
    return str(by_knob.idxmax()), float(by_knob.max())


def _cell(rows: pd.DataFrame, knobs: pd.DataFrame, varied_across: set) -> dict:
    """One cell: the cases of one named workload in one environment and dtype."""
    env = rows["env"].iloc[0]
    ok = rows[(rows["status"] == "ok") & rows["slowdown"].notna()]
    raised = sorted({str(op) for op in rows.loc[rows["status"] == "unsupported",
                                                 "raised_op_mode"].dropna() if op})
    calm = steady(ok)  # the worst as the decision table takes it: noisy and unstable apart
    single = len(ok) == 1
    varied = ((ok["distinct_digests_base"].fillna(1).to_numpy() > 1)
              | np.array([(env, c) in varied_across for c in ok["case_id"]], dtype=bool))
    knob, knob_slowdown = _costliest_knob(knobs, env, set(ok["case_id"]))
    return {
        "env": env, "cases": len(ok), "slowdown": geomean(ok["slowdown"]),
        "low": float(ok["slowdown_low"].iloc[0]) if single else np.nan,
        "high": float(ok["slowdown_high"].iloc[0]) if single else np.nan,
        "worst": float(calm["slowdown"].max()) if len(calm) else np.nan,
        "steady": len(calm),  # the cases the worst is taken over
        "unstable": int(ok["unstable"].astype(bool).sum()),
        "noisy": int((ok["noisy_base"].astype(bool) | ok["noisy_mode"].astype(bool)).sum()),
        "varied": int(varied.sum()), "max_rel_diff": float(ok["max_rel_diff_base"].max())
        if len(ok) else np.nan,
        "knob": knob, "knob_slowdown": knob_slowdown, "raised": ", ".join(raised),
        "runs": ", ".join(sorted(set(rows["run_id"]))),
    }


def _groups(comparison: pd.DataFrame):
    """(order, label, kind, keyword, rows) per named workload, then per op family."""
    keys = list(zip(comparison["workload"], comparison["pass_"], comparison["shape"],
                    strict=True))
    eager = comparison[np.array([shape_params(k[2]).get("compile", "eager") == "eager"
                                 for k in keys], dtype=bool)]
    for order, named in enumerate(NAMED):
        hit = comparison[np.array([named.matches(*k) for k in keys], dtype=bool)]
        yield order, named.label, "model", named.keyword, hit
    skip = {"model", *evidence_only()}
    families = sorted(set(eager["family"]) - skip) if len(eager) else []
    for order, family in enumerate(families, start=len(NAMED)):
        yield order, f"{family} ops", "family", family, eager[eager["family"] == family]


def answer_table(comparison: pd.DataFrame, knobs: pd.DataFrame,
                 varied_across: pd.DataFrame) -> pd.DataFrame:
    """Per named workload, environment and dtype (and every dtype together): the cost, its
    interval (one case) or worst case (several), what default mode's variance was, and the
    costliest single knob. `varied_across`: default-mode cases run in two processes
    (Promise.default_across), for the cases whose outputs differed between them."""
    if comparison.empty:
        return pd.DataFrame(columns=COLUMNS)
    across = set()
    if len(varied_across):
        moved = varied_across[~varied_across["same_digest"].astype(bool)]
        across = set(zip(moved["env"], moved["case_id"], strict=True))
    cells = []
    for order, label, kind, keyword, rows in _groups(comparison):
        for dtype, g in _by_dtype(rows):
            cells.append({"order": order, "label": label, "kind": kind, "keyword": keyword,
                          "dtype": dtype, **_cell(g, knobs, across)})
    return pd.DataFrame(cells, columns=COLUMNS)


def _by_dtype(rows: pd.DataFrame):
    """Per environment: (ALL_DTYPES, its rows), then (dtype, its rows of that dtype)."""
    for _, g in rows.groupby("env", sort=True):
        yield ALL_DTYPES, g
        for dtype, h in g.groupby("dtype", sort=True):
            yield str(dtype), h
