import pandas as pd
import pytest

from detcost import frame
from detcost.errors import DetcostError
from detcost.report.readme import END, START, findings_markdown, md_table, update_readme


def test_md_table_escapes_pipes():
    text = md_table(pd.DataFrame({"a": ["x|y"], "b": [0.123456]}))
    assert text.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 0.123 |"]


def test_findings_are_computed_from_the_records(two_gpu_results):
    text = findings_markdown(frame.load([two_gpu_results / "raw"]), 1.10, "fig.svg")
    assert "### Decision (budget 1.10x)" in text
    assert "| scatter_add(size=8,bins=2)-fwd-float32-highest | 2.00x | 3.00x |" in text
    assert "put(size=8)-fwd-float32-highest" in text  # unsupported
    # run-a ran each mode twice; put is unsupported under deterministic mode
    assert "same digest in two separate processes for 3 of 3 cases" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "![The costliest cases](fig.svg)" in text


def test_update_replaces_only_the_marked_block(tmp_path, two_gpu_results):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\nkept\n{START}\nold\n{END}\ntail kept\n")
    written = []
    update_readme(readme, frame.load([two_gpu_results / "raw"]), 1.2, tmp_path / "figs",
                  write_figure=lambda fig, path: written.append((fig.layout.title.text, path)))
    text = readme.read_text()
    assert text.startswith("# Title\nkept\n") and text.endswith("tail kept\n")
    assert "old" not in text and "budget 1.20x" in text
    assert written and written[0][1] == tmp_path / "figs" / "costliest-cases.svg"
    assert "](figs/costliest-cases.svg)" in text


def test_readme_without_markers_is_refused(tmp_path, two_gpu_results):
    readme = tmp_path / "README.md"
    readme.write_text("# nothing to fill\n")
    with pytest.raises(DetcostError, match="no <!-- detcost:findings:start -->"):
        update_readme(readme, frame.load([two_gpu_results / "raw"]), 1.1, tmp_path)
