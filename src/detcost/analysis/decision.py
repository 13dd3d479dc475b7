"""The decision table: per environment and family, what deterministic mode costs, what it
buys, and a plain-language recommendation against the slowdown a user accepts."""

from __future__ import annotations

import pandas as pd

from ..budget import DEFAULT_BUDGET
from ..workloads.families import evidence_only
from .compare import family_summary


def recommend(row: pd.Series, budget: float) -> tuple[str, str]:
    """(verdict, why) for one row of the family summary."""
    over = f"{(budget - 1) * 100:.0f}%"
    if row["measured"] == 0:
        if row.get("not_measured"):
            return ("not measured", "default and deterministic mode were not both run for "
                    "these cases: run both to compare")
        return "no data", "no case ran in both modes"
    geo, worst = row["geomean_slowdown"], row["worst_slowdown"]
    cost = f"{(geo - 1) * 100:+.0f}% geometric mean, " + (
        f"worst {worst:.2f}x ({row['worst_case']})" if worst == worst
        else "no case steady enough in both modes to name the worst")
    buys = ("default mode was not reproducible in "
            f"{row['nondeterministic_by_default']} of {row['default_measured']} cases"
            if row["nondeterministic_by_default"] else
            "default mode was already bitwise reproducible here, so it buys nothing for "
            "these cases")
    moved = row.get("unstable", 0)
    if moved:
        buys += (f"; {moved} case(s) moved between runs beyond their interval and are not "
                 "ranked (see 'unstable across runs')")
    raising = row["unsupported"] - row["backend_excluded"]
    excluded = (f"; {row['backend_excluded']} forced cuDNN attention case(s) cannot run, "
                "but unforced SDPA falls back to another backend"
                if row["backend_excluded"] else "")
    if raising:
        return ("blocked", f"{raising} case(s) raise under deterministic mode "
                "(no deterministic kernel): replace those ops or use warn_only=True; "
                f"elsewhere {cost}; {buys}{excluded}")
    buys += excluded
    if geo <= budget and (worst != worst or worst <= budget):
        return "ship", f"within your {over} budget: {cost}; {buys}"
    if geo <= budget:
        return "ship, watch the worst case", f"typical cost within {over}, but {cost}; {buys}"
    return "over budget", f"{cost} exceeds your {over} budget; {buys}"


def decision_table(comparison: pd.DataFrame, budget: float = DEFAULT_BUDGET) -> pd.DataFrame:
    comparison = comparison[~comparison["family"].isin(evidence_only())]
    summary = family_summary(comparison)
    if summary.empty:
        return summary
    excluded = comparison[(comparison["status_mode"] == "unsupported")
                          & comparison["excluded_backend_mode"]]
    summary["backend_excluded"] = [
        int(((excluded["env"] == r.env) & ((excluded["family"] == r.family)
                                           | (r.family == "all"))).sum())
        for r in summary.itertuples()]
    verdicts = [recommend(row, budget) for _, row in summary.iterrows()]
    summary["verdict"] = [v for v, _ in verdicts]
    summary["why"] = [w for _, w in verdicts]
    summary["runs"] = [
        ", ".join(sorted(set(comparison[(comparison["env"] == r.env)
                                        & ((comparison["family"] == r.family)
                                           | (r.family == "all"))]["run_id"])))
        for r in summary.itertuples()]
    summary["unsupported_cases"] = [
        ", ".join(comparison[(comparison["env"] == r.env)
                             & ((comparison["family"] == r.family) | (r.family == "all"))
                             & (comparison["status_mode"] == "unsupported")]["case_id"])
        for r in summary.itertuples()]
    return summary
