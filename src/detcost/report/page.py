"""The one-run page that `detcost run` writes: the dashboard's page for that run alone,
self-contained (plotly.js inlined once)."""

from __future__ import annotations

from pathlib import Path

from plotly.offline import get_plotlyjs

from ..analysis.findings import Findings
from .controls import script
from .dashboard import build_page
from .files import write_text
from .first_screen import views_script
from .html import STYLE


def write_run_page(findings: Findings, path: Path, title: str) -> Path:
    html = build_page(findings, path.parent, path.stem, title,
                      head=f"<style>{STYLE}</style><script>{get_plotlyjs()}</script>",
                      tail=f"<script>{views_script()}</script><script>{script()}</script>")
    return write_text(path, html)
