import pandas as pd

from detcost.analysis.compare import compare_modes, family_summary
from detcost.analysis.decision import decision_table, recommend
from detcost.analysis.load import load


def row(**over):
    base = {"measured": 10, "default_measured": 10, "geomean_slowdown": 1.05,
            "worst_slowdown": 1.08, "worst_case": "c", "nondeterministic_by_default": 3,
            "unsupported": 0, "backend_excluded": 0}
    return pd.Series({**base, **over})


def test_verdicts_against_the_budget():
    assert recommend(row(), 1.10)[0] == "ship"
    assert recommend(row(worst_slowdown=2.0), 1.10)[0] == "ship, watch the worst case"
    assert recommend(row(geomean_slowdown=1.3, worst_slowdown=2.0), 1.10)[0] == "over budget"
    assert recommend(row(geomean_slowdown=1.3, worst_slowdown=2.0), 1.5)[0] == \
        "ship, watch the worst case"
    assert recommend(row(unsupported=2), 1.10)[0] == "blocked"
    assert recommend(row(measured=0), 1.10)[0] == "no data"


def test_excluded_backends_do_not_block_and_are_explained():
    verdict, why = recommend(row(unsupported=2, backend_excluded=2), 1.10)
    assert verdict == "ship" and "falls back to another backend" in why


def test_plain_language_says_what_it_buys():
    assert "not reproducible in 3 of 10" in recommend(row(), 1.10)[1]
    assert "already bitwise reproducible" in recommend(row(nondeterministic_by_default=0),
                                                       1.10)[1]


def test_table_from_results(two_gpu_results):
    table = decision_table(compare_modes(load([two_gpu_results / "raw"])), 1.10)
    a = table[table["env"].str.startswith("GPU-A")].set_index("family")
    assert a.loc["scatter", "verdict"] == "blocked"
    assert "put(size=8)" in a.loc["scatter", "unsupported_cases"]
    assert a.loc["conv", "verdict"] == "ship"


def test_the_claims_evidence_is_not_a_family_to_decide_on(two_gpu_results):
    comparison = compare_modes(load([two_gpu_results / "raw"]))
    as_claims = comparison.assign(family=comparison["family"].replace("conv", "claims"))
    families = set(decision_table(as_claims, 1.10)["family"])
    assert "claims" not in families and {"scatter", "all"} <= families


def test_nondeterministic_by_default_counts_over_what_default_mode_measured(tmp_path):
    from conftest import write_synthetic_run


    write_synthetic_run(tmp_path / "a", "GPU-A", "run-a")
    summary = family_summary(compare_modes(load([tmp_path])))
    scatter = summary[summary["family"] == "scatter"].iloc[0]
    # scatter_add varied in default mode; put ran in default mode but raises when
    # deterministic: both count for default mode, only scatter_add in both modes
    assert (scatter["nondeterministic_by_default"], scatter["default_measured"],
            scatter["measured"]) == (1, 2, 1)
    assert (summary["nondeterministic_by_default"] <= summary["default_measured"]).all()


def test_a_family_without_a_steady_case_names_no_worst():
    row = pd.Series({"measured": 3, "geomean_slowdown": 1.3, "worst_slowdown": float("nan"),
                     "worst_case": "", "nondeterministic_by_default": 0,
                     "default_measured": 3, "unsupported": 0, "backend_excluded": 0})
    verdict, why = recommend(row, 1.10)
    assert verdict == "over budget" and "nan" not in why
    assert "no case steady enough in both modes to name the worst" in why


def test_the_first_screen_names_the_same_worst_case_as_the_decision_table():
    """One page, one number: the answer table's worst of a family is the decision table's."""
    from pathlib import Path

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load

    raw = Path(__file__).resolve().parent / "data" / "fixture"  # it has noisy cases
    f = compute_findings(load([raw]))
    families = f.answer[(f.answer["kind"] == "family") & (f.answer["dtype"] == "all")]
    assert len(families)
    for r in families.itertuples():
        decided = f.decision[(f.decision["env"] == r.env)
                             & (f.decision["family"] == r.keyword)]["worst_slowdown"]
        assert len(decided) == 1
        assert (r.worst != r.worst and decided.iloc[0] != decided.iloc[0]) or \
            abs(r.worst - decided.iloc[0]) < 1e-12


def test_a_workload_measured_in_default_mode_alone_reads_not_measured(tmp_path):
    """A run cut short before its deterministic models leaves their cells empty of a number:
    the README's answer says so instead of a blank cell."""
    from conftest import write_records

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load
    from detcost.report.markdown import answer_md

    vit = {"family": "model", "workload": "vit", "pass_": "fwdbwd", "dtype": "bfloat16",
           "params": {"batch": 64, "patch": 16, "hidden": 768},
           "case_id": "vit(batch=64,patch=16,hidden=768)-fwdbwd-bfloat16-highest",
           "work_unit": "samples/s"}
    write_records(tmp_path / "a", [{**vit, "mode": m, "times_s": [t, t, t]}
                                   for m, t in (("default", 1.0), ("deterministic", 1.5))],
                  run_id="a", gpu="GPU-A")
    write_records(tmp_path / "b", [{**vit, "mode": "default"}], run_id="b", gpu="GPU-B")
    table = answer_md(compute_findings(load([tmp_path])))
    vit_row = next(line for line in table.splitlines() if "ViT-B/16 training" in line)
    assert "**1.50x**" in vit_row and vit_row.count("not measured") == 1


def test_the_answer_says_how_many_cases_moved_between_starts_beside_the_worst(tmp_path):
    """An unstable case is never the worst, so a family's geomean can exceed its worst: the
    README's cell then says how many cases were set apart (the H200 pooling ops, 2026-12-03)."""
    from conftest import write_records

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load
    from detcost.report.markdown import answer_md

    def run(name: str, boot: str, moving: float) -> None:
        rows = []
        for case, slow in (("c1", 1.02), ("c2", 1.05), ("c3", 1.01), ("jumps", moving)):
            for mode, t in (("default", 1.0), ("deterministic", slow)):
                rows.append({"mode": mode, "case_id": case, "times_s": [t] * 9})
        write_records(tmp_path / name, rows, run_id=name, started_at=name,
                      environment={"boot_id": boot})

    run("a", "boot-1", 1.5)
    alone = next(line for line in answer_md(compute_findings(load([tmp_path]))).splitlines()
                 if "scatter ops" in line)
    assert "worst 1.50x" in alone and "unstable" not in alone  # every case steady
    run("b", "boot-2", 3.0)
    row = next(line for line in answer_md(compute_findings(load([tmp_path]))).splitlines()
               if "scatter ops" in line)
    assert "1 unstable across machine starts" in row and "worst steady 1.05x" in row


def test_the_answer_says_how_many_noisy_cases_its_worst_left_out(tmp_path):
    from conftest import write_records

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load
    from detcost.report.markdown import answer_md

    noisy = [1.0, 1.5, 0.7, 1.4, 0.8, 1.3, 0.75, 1.2, 0.9]  # IQR far over 10%
    rows = [{"mode": mode, "case_id": case, "times_s": [t * slow for t in times]}
            for case, times in (("c1", [1.0] * 9), ("c2", [1.0] * 9), ("wild", noisy))
            for mode, slow in (("default", 1.0), ("deterministic", 1.2))]
    write_records(tmp_path, rows)
    row = next(line for line in answer_md(compute_findings(load([tmp_path]))).splitlines()
               if "scatter ops" in line)
    assert "geomean of 3, worst steady 1.20x" in row
    assert "; 1 noisy)" in row


def test_a_workload_without_a_steady_case_names_no_worst_in_the_answer(tmp_path):
    """Every case noisy (the H200 decode steps, 2026-12-03): the cell gives the geomean and
    the count of noisy cases, and no empty 'worst steady'."""
    from conftest import write_records

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load
    from detcost.report.markdown import answer_md

    noisy = [1.0, 1.5, 0.7, 1.4, 0.8, 1.3, 0.75, 1.2, 0.9]
    rows = [{"mode": mode, "case_id": case, "times_s": [t * slow for t in noisy]}
            for case in ("w1", "w2")
            for mode, slow in (("default", 1.0), ("deterministic", 1.2))]
    write_records(tmp_path, rows)
    row = next(line for line in answer_md(compute_findings(load([tmp_path]))).splitlines()
               if "scatter ops" in line)
    assert "(geomean of 2; 2 noisy)" in row and "worst" not in row
