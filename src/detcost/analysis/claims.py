"""Common claims about determinism, each judged from the records: the verdict, the figures
behind it, and the cases that show it. A claim without the data it needs is "not measured"
(which modes, families or processes to run is said in its line). Nothing here touches torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .compare import across_processes
from .tables import same_result_across

SUPPORTED, REFUTED, NOT_MEASURED = "supported", "refuted", "not measured"
SHOWN = 5  # cases named per claim


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    figures: str
    cases: tuple[str, ...] = ()


def _first(cases: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(set(cases))[:SHOWN])


def _ok(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    return frame[(frame["mode"] == mode) & (frame["status"] == "ok")]


def inference_repeatable(frame: pd.DataFrame) -> Verdict:
    claim = "model.eval() (and no_grad) makes inference repeatable"
    infer = _ok(frame, "default")
    infer = infer[(infer["family"] == "model") & (infer["pass_"] == "fwd")]
    if infer.empty:
        return Verdict(claim, NOT_MEASURED, "run the model family in default mode")
    within = infer[infer["distinct_digests"] > 1]
    across = across_processes(frame[frame["family"] == "model"], "default")
    across = across[across["pass_"] == "fwd"]
    differed = across[across["same_digest"].eq(False)]
    varied = set(within["case_id"]) | set(differed["case_id"])
    figures = (f"{len(set(within['case_id']))} of {infer['case_id'].nunique()} inference "
               "steps (eval, inference_mode) gave different outputs on identical inputs "
               "within one default-mode process")
    if len(across):
        figures += f"; {len(differed)} of {len(across)} differed between two processes"
    return Verdict(claim, REFUTED if varied else SUPPORTED, figures,
                   _first(pd.Series(sorted(varied))))


def benchmark_varies(frame: pd.DataFrame) -> Verdict:
    claim = "torch.backends.cudnn.benchmark=True makes results vary between runs"
    conv = frame[frame["family"] == "conv"]
    tuned, default = (across_processes(conv, m) for m in ("tuned", "default"))
    if tuned.empty:
        return Verdict(claim, NOT_MEASURED, "run the conv family in tuned mode, two processes")
    differed = tuned[tuned["same_digest"].eq(False)]
    base = default[default["same_digest"].eq(False)]
    figures = (f"{len(differed)} of {len(tuned)} convolutions gave different outputs in two "
               f"tuned-mode processes (default mode: {len(base)} of {len(default)})")
    return Verdict(claim, SUPPORTED if len(differed) > len(base) else REFUTED, figures,
                   _first(differed["case_id"]))


def cudnn_deterministic_enough(frame: pd.DataFrame) -> Verdict:
    claim = ("torch.backends.cudnn.deterministic=True with seeds is enough, without "
             "use_deterministic_algorithms")
    only = _ok(frame, "cudnn-deterministic")
    if only.empty:
        return Verdict(claim, NOT_MEASURED, "run the cudnn-deterministic mode")
    varied = only[only["distinct_digests"] > 1]
    families = ", ".join(sorted(set(varied["family"]))) or "none"
    figures = (f"with only cuDNN deterministic, {varied['case_id'].nunique()} of "
               f"{only['case_id'].nunique()} cases gave different outputs on identical "
               f"inputs (families: {families})")
    return Verdict(claim, REFUTED if len(varied) else SUPPORTED, figures,
                   _first(varied["case_id"]))


def high_precision_is_maximal(frame: pd.DataFrame) -> Verdict:
    claim = 'set_float32_matmul_precision("high") gives maximal precision'
    f32 = _ok(frame, "default")
    f32 = f32[(f32["dtype"] == "float32") & f32["error_vs_float64"].notna()]
    f32 = f32.assign(base=f32["case_id"].str.rsplit("-", n=1).str[0])
    wide = f32.pivot_table(index=["env", "base"], columns="precision",
                           values="error_vs_float64", aggfunc="first")
    if not {"highest", "high"} <= set(wide.columns):
        return Verdict(claim, NOT_MEASURED, "run float32 cases at highest and high precision")
    pairs = wide.dropna(subset=["highest", "high"])
    pairs = pairs[pairs["highest"] > 0]
    if pairs.empty:
        return Verdict(claim, NOT_MEASURED, "no float32 case has both precisions measured")
    ratio = pairs["high"] / pairs["highest"]
    worse = ratio[ratio > 2]
    figures = (f"error against float64 at high over highest: median {ratio.median():.0f}x, "
               f"largest {ratio.max():.0f}x; worse by over 2x in {len(worse)} of {len(ratio)} "
               "float32 cases")
    if "medium" in pairs:
        medium = (pairs["medium"] / pairs["highest"]).dropna()
        if len(medium):
            figures += f"; medium over highest: median {medium.median():.0f}x"
    return Verdict(claim, REFUTED if len(worse) else SUPPORTED, figures,
                   tuple(f"{b}-high" for _, b in worse.sort_values().index[-SHOWN:]))


def allocation_changes_results(frame: pd.DataFrame) -> Verdict:
    claim = ("GPU memory fragmentation or allocation history changes numerical results")
    table = same_result_across(frame, "claims", "history")
    if table.empty:
        return Verdict(claim, NOT_MEASURED, "run after_allocations with history fresh and "
                       "fragmented (in the full profile)")
    # Only where the op is repeatable can a changed digest be blamed on the history.
    table = table[table["repeatable"]]
    changed = table[~table["invariant"]]
    figures = (f"{len(changed)} of {len(table)} repeatable ops (op x dtype x mode) gave "
               "another result after a fragmenting allocation history than fresh")
    return Verdict(claim, SUPPORTED if len(changed) else REFUTED, figures,
                   _first(changed["request"] + " " + changed["mode"]))


def seeded_dropout_reproducible(frame: pd.DataFrame) -> Verdict:
    claim = "dropout in training mode is reproducible across processes once the seeds are set"
    dropout = frame[frame["workload"] == "dropout"]
    across = pd.concat([across_processes(dropout, m) for m in dropout["mode"].unique()]
                       ) if len(dropout) else pd.DataFrame()
    if across.empty:
        return Verdict(claim, NOT_MEASURED, "run dropout in two processes")
    differed = across[across["same_digest"].eq(False)]
    within = dropout[(dropout["status"] == "ok") & (dropout["distinct_digests"] > 1)]
    figures = (f"{len(differed)} of {len(across)} seeded dropout cases (mode x dtype x pass) "
               f"differed between two processes; {within['case_id'].nunique()} varied "
               "within a process")
    failed = set(differed["case_id"]) | set(within["case_id"])
    return Verdict(claim, REFUTED if failed else SUPPORTED, figures,
                   _first(pd.Series(sorted(failed))))


CLAIMS: tuple[Callable[[pd.DataFrame], Verdict], ...] = (
    inference_repeatable, benchmark_varies, cudnn_deterministic_enough,
    high_precision_is_maximal, allocation_changes_results, seeded_dropout_reproducible)


def judge(frame: pd.DataFrame) -> pd.DataFrame:
    """Every claim's verdict, per environment (a claim may hold on one GPU and not another)."""
    rows = []
    for env, part in (frame.groupby("env", sort=True) if len(frame) else []):
        for claim in CLAIMS:
            v = claim(part)
            rows.append({"env": env, "claim": v.claim, "verdict": v.verdict,
                         "figures": v.figures, "cases": ", ".join(v.cases)})
    return pd.DataFrame(rows, columns=["env", "claim", "verdict", "figures", "cases"])
