"""What each family of workloads is, as data: its colour on every page, and whether it is
evidence only (the data behind a claim, whose speed decides nothing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    colour: str
    evidence_only: bool = False


# One colour per family across every page and figure (a colour-blind-safe set first).
FAMILY_FACTS: dict[str, Family] = {f.name: f for f in (
    Family("model", "#332288"),
    Family("matmul", "#117733"),
    Family("conv", "#1f77b4"),
    Family("attention", "#d62728"),
    Family("scatter", "#2ca02c"),
    Family("pooling", "#88ccee"),
    Family("resample", "#ddcc77"),
    Family("padding", "#cc6677"),
    Family("loss", "#aa4499"),
    Family("scan", "#44aa99"),
    Family("vision", "#999933"),
    Family("invariance", "#882255"),
    Family("distributed", "#e69f00"),
    Family("claims", "#bbbbbb", evidence_only=True),
    Family("user", "#9467bd"),
)}
OTHER = Family("other", "#7f7f7f")


def family(name: str) -> Family:
    """The facts of a family; a family only a user's workloads have gets plain ones."""
    return FAMILY_FACTS.get(name, Family(name, OTHER.colour))


def evidence_only() -> tuple[str, ...]:
    return tuple(f.name for f in FAMILY_FACTS.values() if f.evidence_only)
