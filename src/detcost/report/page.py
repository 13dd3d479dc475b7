"""The one-run page that `detcost run` writes: the dashboard's page for that run alone,
self-contained (plotly.js inlined once)."""

from __future__ import annotations

from pathlib import Path

from plotly.offline import get_plotlyjs

from ..analysis.findings import Findings
from .dashboard import build_page
from .files import write_text
from .html import STYLE, filter_script


def write_run_page(findings: Findings, path: Path, title: str) -> Path:
    html = build_page(findings, path.parent, path.stem, title,
                      head=f"<style>{STYLE}</style><script>{get_plotlyjs()}</script>",
                      tail=f"<script>{filter_script()}</script>")
    return write_text(path, html)
