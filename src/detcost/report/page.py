"""The one-run page that `detcost run` writes: the dashboard's page for that run alone,
self-contained (plotly.js inlined once)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from ..decision import DEFAULT_BUDGET
from .dashboard import build_page
from .html import STYLE, filter_script


def write_run_page(frame: pd.DataFrame, path: Path, title: str,
                   budget: float = DEFAULT_BUDGET) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    html = build_page(frame, path.parent, path.stem, title, budget,
                      head=f"<style>{STYLE}</style><script>{get_plotlyjs()}</script>",
                      tail=f"<script>{filter_script()}</script>")
    path.write_text(html, encoding="utf-8")
    return path
