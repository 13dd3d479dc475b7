import pandas as pd
import pytest
from conftest import write_records, write_synthetic_run

from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.analysis.select import latest
from detcost.analysis.tables import compile_costs
from detcost.errors import DetcostError
from detcost.failures import raised_op
from detcost.report.markdown import (
    compile_md,
    knob_cases_md,
    knobs_md,
    md_table,
    promise_md,
    unsupported_md,
)
from detcost.report.readme import END, START, findings_markdown, update_readme


def findings(*paths, budget=1.10):
    return compute_findings(load(list(paths)), budget)


def test_md_table_escapes_pipes():
    text = md_table(pd.DataFrame({"a": ["x|y"], "b": [0.123456]}))
    assert text.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 0.123 |"]


def test_findings_are_computed_from_the_records(two_gpu_results):
    text = findings_markdown(findings(two_gpu_results / "raw"), "fig.svg")
    assert "### Decision (budget 1.10x)" in text
    assert "| scatter_add(size=8,bins=2)-fwd-float32-highest | 2.00x | 3.00x |" in text
    assert "| put_ | 1 | put(size=8) fwd |" in text  # the op that raised, once
    # run-a ran each mode twice; put is unsupported under deterministic mode
    assert "same digest in two separate processes for 3 of 3 cases" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "![The costliest cases](fig.svg)" in text


def test_update_replaces_only_the_marked_block(tmp_path, two_gpu_results):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\nkept\n{START}\nold\n{END}\ntail kept\n")
    written = []
    update_readme(readme, findings(two_gpu_results / "raw", budget=1.2), tmp_path / "figs",
                  write_figure=lambda fig, path: written.append((fig.layout.title.text, path)))
    text = readme.read_text()
    assert text.startswith("# Title\nkept\n") and text.endswith("tail kept\n")
    assert "old" not in text and "### The answer per workload" in text
    assert "[docs/findings.md](docs/findings.md)" in text
    # every other table, and the figure, in docs/findings.md
    whole = (tmp_path / "docs" / "findings.md").read_text()
    assert "budget 1.20x" in whole and "](../figs/costliest-cases.svg)" in whole
    assert written and written[0][1] == tmp_path / "figs" / "costliest-cases.svg"


def test_readme_without_markers_is_refused(tmp_path, two_gpu_results):
    readme = tmp_path / "README.md"
    readme.write_text("# nothing to fill\n")
    with pytest.raises(DetcostError, match="no <!-- detcost:findings:start -->"):
        update_readme(readme, findings(two_gpu_results / "raw"), tmp_path)


def test_a_broken_promise_is_said_and_not_papered_over(tmp_path):
    write_synthetic_run(tmp_path / "raw", "GPU-A", "run", broken=True)
    text = promise_md(findings(tmp_path / "raw"))
    assert text.startswith("Deterministic mode broke its promise on 3 cases")  # put raised
    assert "kept its promise" not in text


def test_raising_ops_are_one_row_each(two_gpu_results):
    text = unsupported_md(findings(two_gpu_results / "raw"))
    assert "| put_ | 1 | put(size=8) fwd | GPU-A, GPU-B" in text
    assert raised_op("RuntimeError: median CUDA with indices output does not have a "
                     "deterministic implementation") == "median CUDA"
    assert raised_op("RuntimeError: No available kernel. Aborting.") == \
        "No available kernel. Aborting."


def test_knob_table_counts_each_modes_cases(two_gpu_results):
    text = knobs_md(findings(two_gpu_results / "raw"))
    assert "| GPU-A | scatter | 1.00x (2) | 2.00x (1) |" in text  # put raised


def _model_run(folder, slow_eager, slow_compiled, run_id="m", started_at="t",
               compiles=("eager", "inductor")):
    write_records(folder, [
        {"mode": mode, "case_id": f"vit(batch=2,compile={compile_})-fwd-bfloat16-highest",
         "family": "model", "workload": "vit", "dtype": "bfloat16", "work_unit": "samples/s",
         "times_s": [(slow if mode == "deterministic" else 1.0) * t for t in (1.0, 1.01, 0.99)],
         "knobs": {"inductor_deterministic": mode == "deterministic"}}
        for mode in ("default", "deterministic")
        for compile_, slow in (("eager", slow_eager), ("inductor", slow_compiled))
        if compile_ in compiles], run_id=run_id, started_at=started_at)


def test_compile_costs_pair_eager_and_compiled_steps(tmp_path):
    _model_run(tmp_path, slow_eager=1.2, slow_compiled=1.5)
    costs = compile_costs(load([tmp_path]))
    assert len(costs) == 1
    row = costs.iloc[0]
    assert row["case"] == "vit(batch=2)" and row["inductor_deterministic"] == True  # noqa: E712
    assert row["eager"] == pytest.approx(1.2) and row["compiled"] == pytest.approx(1.5)
    assert row["compiled_low"] <= row["compiled"] <= row["compiled_high"]
    assert "| GPU-A · torch 2.11.0 | vit(batch=2) fwd | bfloat16 | 1.20x" in compile_md(
        findings(tmp_path))


def test_compile_costs_pair_within_a_run_when_a_newer_run_has_only_eager(tmp_path):
    _model_run(tmp_path / "old", slow_eager=1.2, slow_compiled=1.5, run_id="old",
               started_at="2026-01-01")
    _model_run(tmp_path / "new", slow_eager=1.3, slow_compiled=0, run_id="new",
               started_at="2026-02-01", compiles=("eager",))
    data = load([tmp_path / "old", tmp_path / "new"])
    costs = compile_costs(data)
    assert costs["run_id"].tolist() == ["old"]  # the newest run that measured both
    assert costs.iloc[0]["eager"] == pytest.approx(1.2)
    assert compile_costs(latest(data)).empty  # why it needs every run


def test_knob_cases_name_the_shape_a_knob_slows_most(tmp_path):
    cases = {"mm(m=1)": 7.0, "mm(m=8192)": 1.02, "mm(m=64)": 3.0, "mm(m=4096)": 1.0}
    write_records(tmp_path, [
        {"mode": mode, "case_id": case, "family": "matmul", "workload": "matmul",
         "times_s": [(slow if mode == "cublas-workspace" else 1.0) * t
                     for t in (1.0, 1.01, 0.99)]}
        for case, slow in cases.items() for mode in ("default", "cublas-workspace")])
    text = knob_cases_md(findings(tmp_path))
    rows = [line for line in text.splitlines() if line.startswith("| GPU-A")]
    assert [row.split(" | ")[2] for row in rows] == ["mm(m=1)", "mm(m=64)", "mm(m=8192)"]
    assert rows[0].split(" | ")[3].startswith("7.00x (")
    assert rows[0].endswith("| not recorded |")  # the synthetic headers name no machine
    no_knob = tmp_path / "no-knob"
    write_records(no_knob, [{"mode": "default", "case_id": "mm(m=1)"}])
    assert knob_cases_md(findings(no_knob)) == ""


def test_every_test_the_faults_table_names_exists():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "faults.md").read_text()
    table = text[text.index("| fault | what happens | test |"):]
    table = table[:table.index("\n\n")]
    named = set(re.findall(r"`(test_\w+)`", table))
    defined = {m for p in (root / "tests").glob("test_*.py")
               for m in re.findall(r"^def (test_\w+)", p.read_text(), re.M)}
    assert len(named) > 20 and named <= defined, sorted(named - defined)

