"""Torch's own list against what it does: each statement of the doc that a run's headers
recorded, set against what deterministic mode's records of that op show."""

from __future__ import annotations

import pandas as pd

from ..coverage import judged_variants
from ..torchdoc import DETERMINISTIC, NOT_STATED, RAISES, doc_expectation

VARIES, NOT_MEASURED = "varies", "not measured"


def observed_behaviour(records: pd.DataFrame) -> str:
    """What deterministic-mode records of one op show: it raises (an unsupported record),
    its output varies on identical inputs, it is deterministic, or nothing was measured."""
    if (records["status"] == "unsupported").any():
        return RAISES
    ok = records[records["status"] == "ok"]
    if ok.empty:
        return NOT_MEASURED
    return VARIES if (ok["distinct_digests"] > 1).any() else DETERMINISTIC


def doc_against_behaviour(frame: pd.DataFrame, mode: str = "deterministic") -> pd.DataFrame:
    """Per environment whose headers recorded torch's own list, and per covered op (and
    variant the doc names): what the doc says deterministic mode does on a CUDA tensor,
    what that mode's records show, and whether the two agree (None where the doc says
    nothing for the variant or nothing was measured). Ops the doc states only for
    differentiation are judged on their forward-and-backward cases."""
    columns = ["env", "op", "variant", "doc_says", "doc_when", "observed", "agrees", "cases"]
    if frame.empty or "determinism_doc" not in frame:
        return pd.DataFrame(columns=columns)
    rows = []
    on_gpus = frame[(frame["mode"] == mode) & (frame["gpu"] != "CPU")]  # the doc is of CUDA
    for env, records in on_gpus.groupby("env", sort=True):
        docs = [d for d in records["determinism_doc"] if isinstance(d, list) and d]
        if not docs:
            continue
        for op, workload, params, variant in judged_variants():
            says, when = doc_expectation(docs[0], op, variant)
            mine = records[(records["workload"] == workload) & records["params"].map(
                lambda p, want=params: all(p.get(k) == v for k, v in want.items()))]
            if "differentiate" in when or "requires grad" in when:
                mine = mine[mine["pass_"] == "fwdbwd"]
            observed = observed_behaviour(mine)
            judged = says != NOT_STATED and observed != NOT_MEASURED
            rows.append({"env": env, "op": op,
                         "variant": ",".join(f"{k}={v}" for k, v in variant.items()),
                         "doc_says": says, "doc_when": when, "observed": observed,
                         "agrees": (observed == says) if judged else None,
                         "cases": sorted(set(mine["case_id"]))})
    return pd.DataFrame(rows, columns=columns)
