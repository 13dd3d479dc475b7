"""Coverage of torch's own list: every op that `torch.use_deterministic_algorithms.__doc__`
names is measured by a workload (with the parameters that reach it) or listed here with the
reason it is not. A torch whose doc names a new op fails the coverage test until the op is
placed in one of the two tables."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# doc name -> (workload, the parameters that reach the op's changed or raising path)
COVERED: dict[str, tuple[str, dict[str, Any]]] = {
    "torch.nn.Conv2d": ("conv2d", {}),
    "torch.nn.Conv3d": ("conv3d", {}),
    "torch.nn.ConvTranspose2d": ("conv_transpose2d", {}),
    "torch.nn.ReplicationPad1d": ("pad", {"mode": "replicate", "dims": 1}),
    "torch.nn.ReplicationPad2d": ("pad", {"mode": "replicate", "dims": 2}),
    "torch.nn.ReplicationPad3d": ("pad", {"mode": "replicate", "dims": 3}),
    "torch.nn.ReflectionPad1d": ("pad", {"mode": "reflect", "dims": 1}),
    "torch.nn.ReflectionPad2d": ("pad", {"mode": "reflect", "dims": 2}),
    "torch.nn.ReflectionPad3d": ("pad", {"mode": "reflect", "dims": 3}),
    "torch.cumsum": ("cumsum", {"rows": 1}),
    "torch.Tensor.index_put": ("index_put", {"accumulate": False}),
    "torch.Tensor.put_": ("put", {}),
    "torch.Tensor.scatter_add_": ("scatter_add", {}),
    "torch.gather": ("gather", {}),
    "torch.index_add": ("index_add", {}),
    "torch.index_select": ("index_select", {}),
    "torch.repeat_interleave": ("repeat_interleave", {}),
    "torch.Tensor.index_copy": ("index_copy", {}),
    "torch.Tensor.scatter": ("scatter", {}),
    "torch.Tensor.scatter_reduce": ("scatter_reduce", {"reduce": "prod"}),
    "torch.nn.MaxPool3d": ("pool", {"op": "max_pool3d"}),
    "torch.nn.AvgPool3d": ("pool", {"op": "avg_pool3d"}),
    "torch.nn.AdaptiveAvgPool2d": ("pool", {"op": "adaptive_avg_pool2d"}),
    "torch.nn.AdaptiveAvgPool3d": ("pool", {"op": "adaptive_avg_pool3d"}),
    "torch.nn.AdaptiveMaxPool2d": ("pool", {"op": "adaptive_max_pool2d"}),
    "torch.nn.FractionalMaxPool2d": ("pool", {"op": "fractional_max_pool2d"}),
    "torch.nn.FractionalMaxPool3d": ("pool", {"op": "fractional_max_pool3d"}),
    "torch.nn.MaxUnpool1d": ("pool", {"op": "max_unpool1d"}),
    "torch.nn.MaxUnpool2d": ("pool", {"op": "max_unpool2d"}),
    "torch.nn.MaxUnpool3d": ("pool", {"op": "max_unpool3d"}),
    "torch.nn.functional.interpolate": ("interpolate", {"mode": "bicubic"}),
    "torch.nn.functional.grid_sample": ("grid_sample", {}),
    "torch.nn.NLLLoss": ("cross_entropy", {"loss": "nll_loss", "spatial": True}),
    "torch.nn.CTCLoss": ("ctc_loss", {}),
    "torch.nn.Embedding": ("embedding", {"indices": "skewed"}),
    "torch.nn.EmbeddingBag": ("embedding_bag", {"mode": "max"}),
    "torch.histc": ("histc", {}),
    "torch.bincount": ("bincount", {"weighted": True}),
    "torch.median": ("median", {}),
}

# doc name -> why no workload measures it
NOT_COVERED: dict[str, str] = {
    "torch.nn.Conv1d": "the same cuDNN restriction to deterministic algorithms as Conv2d and "
                       "Conv3d, which are measured; 1-D convolutions are a thin case of it",
    "torch.nn.ConvTranspose1d": "the same cuDNN restriction as ConvTranspose2d, which is "
                                "measured",
    "torch.nn.ConvTranspose3d": "the same cuDNN restriction as ConvTranspose2d and Conv3d, "
                                "which are measured",
    "torch.bmm": "changes only for sparse x dense (a cuSPARSE path); detcost measures dense "
                 "matmuls (matmul op=bmm), and sparse kernels are out of its scope",
    "torch.Tensor.__getitem__": "changes only when differentiating a CPU tensor: CPU-only",
    "torch.Tensor.resize_": "raises only for quantized tensors, which have no CUDA kernels",
}

_DOC_ENTRY = re.compile(r"^\s*\* :(?:class|func|meth):`([^`]+)`", re.M)


def doc_ops(doc: str) -> list[str]:
    """The op names, in order and once each, in the bullet lists of
    `torch.use_deterministic_algorithms.__doc__`."""
    return list(dict.fromkeys(_DOC_ENTRY.findall(doc)))


def uncovered(doc: str) -> list[str]:
    """Ops the doc names that neither table places: each needs a workload or a reason."""
    return [op for op in doc_ops(doc) if op not in COVERED and op not in NOT_COVERED]


# The doc's statements that cover several variants of one op (or one op with opposite
# statements per variant): each variant is judged on its own.
DOC_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "torch.nn.functional.interpolate": [{"mode": m} for m in
                                        ("linear", "bilinear", "bicubic", "trilinear")],
    "torch.Tensor.scatter_reduce": [{"reduce": r} for r in ("sum", "mean", "prod")],
    "torch.Tensor.put_": [{"accumulate": False}, {"accumulate": True}],
    "torch.Tensor.index_put": [{"accumulate": False}, {"accumulate": True}],
}
DETERMINISTIC, RAISES, NOT_STATED = "deterministic", "raises", "not stated"
_RAISE_SECTION = re.compile(r"nondeterministic operations will throw a")
_BULLET = re.compile(r"^(\s*)\* :(?:class|func|meth):`([^`]+)`(.*)$")


def doc_statements(doc: str) -> list[dict[str, str]]:
    """Each bullet of `torch.use_deterministic_algorithms.__doc__`: the op, what the doc
    says deterministic mode does to it (deterministic or raises) and when (the bullet's
    text, continuation lines and sub-bullets joined into one line)."""
    statements: list[dict[str, str]] = []
    sections = _RAISE_SECTION.split(doc, maxsplit=1)
    for says, text in zip((DETERMINISTIC, RAISES), sections, strict=False):
        current, indent = None, 0
        for line in text.splitlines():
            bullet = _BULLET.match(line)
            if bullet:
                indent = len(bullet.group(1))
                current = {"op": bullet.group(2), "says": says,
                           "when": bullet.group(3).strip()}
                statements.append(current)
            elif current is not None and line.strip():
                if len(line) - len(line.lstrip()) <= indent:
                    current = None  # the paragraph after the list
                else:
                    current["when"] = f"{current['when']} {line.strip()}".strip()
    return statements


def _mentions(when: str, params: dict[str, Any]) -> bool:
    def tokens(key: str, value: Any) -> tuple[str, ...]:
        return (f"{key}={value}", f"{key}='{value}'", f"``{value}``", f"'{value}'")

    return all(any(t in when for t in tokens(k, v)) for k, v in params.items())


def doc_expectation(statements: list[dict[str, str]], op: str,
                    variant: dict[str, Any]) -> tuple[str, str]:
    """What the doc says of `op` (in `variant`) on a CUDA tensor, and the statement's text.
    Statements about CPU tensors alone are set aside; for a variant, only the statements
    that name it count."""
    mine = [s for s in statements if s["op"] == op
            and not ("CPU" in s["when"] and "CUDA" not in s["when"])]
    if variant:
        mine = [s for s in mine if _mentions(s["when"], variant)]
    if len({s["says"] for s in mine}) != 1:
        return NOT_STATED, "; ".join(s["when"] for s in mine)
    return mine[0]["says"], "; ".join(s["when"] for s in mine)


def judged_variants() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(doc op, workload, the parameters that reach it, the variant the doc names) for every
    covered op and every variant of it that the doc names."""
    return [(op, workload, {**params, **variant}, variant)
            for op, (workload, params) in COVERED.items()
            for variant in DOC_VARIANTS.get(op, [{}])]


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
                         "cases": sorted(mine["case_id"])})
    return pd.DataFrame(rows, columns=columns)
