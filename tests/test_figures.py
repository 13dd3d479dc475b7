"""Each figure is a pure function of a small frame made here."""

import pandas as pd
import pytest
from conftest import HOSTILE, write_synthetic_run

from detcost.analysis.compare import across_processes, compare_all_modes, compare_modes
from detcost.analysis.load import load
from detcost.report import figures, trust_figures
from detcost.report.plotkit import esc


@pytest.fixture
def data(two_gpu_results):
    return load([two_gpu_results / "raw"])


def points(fig):
    return sum(len(t.x) for t in fig.data if t.x is not None)


def test_slowdown_by_case_has_a_point_per_measured_case_and_numerics_columns(data):
    comparison = compare_modes(data)
    fig = figures.slowdown_by_case(comparison)
    assert points(fig) == int((comparison["status"] == "ok").sum())
    titles = {a.text for a in fig.layout.annotations}
    assert {"bfloat16", "float32/high", "float32/highest"} <= titles
    ids = [i for t in fig.data for i in t.ids]
    assert len(ids) == len(set(ids))  # plotly merges points that share an id


def test_strings_from_results_are_escaped_in_figures(data):
    fig = figures.slowdown_by_case(compare_modes(data))
    labels = [y for t in fig.data for y in t.y]
    assert not any("<script>" in y for y in labels)
    assert any("&lt;script&gt;" in y for y in labels)
    assert HOSTILE not in fig.to_json()


def test_variance_calls_out_a_broken_promise(tmp_path):
    write_synthetic_run(tmp_path / "r", "GPU", "r", broken=True)
    fig = figures.variance_by_mode(load([tmp_path / "r"]))
    assert "broken promise" in fig.layout.title.text
    assert {t.name for t in fig.data} == {"default", "deterministic"}


def test_knob_attribution_is_a_case_by_mode_heatmap(data):
    fig = figures.knob_attribution(compare_all_modes(data))
    heat = fig.data[0]
    assert list(heat.x) == ["cudnn-deterministic", "deterministic"]
    assert len(heat.y) == len(heat.z) == len(heat.meta["rowkeys"])


def test_other_figures_draw_or_explain_why_not(data):
    comparison = compare_modes(data)
    spread = across_processes(data, "default")
    assert {t.name for t in figures.slowdown_across_environments(comparison).data} == set(
        esc(e) for e in comparison["env"].unique())
    # three cases per environment carry a fraction of their ceiling (put has none)
    assert points(trust_figures.efficiency_by_case(data)) == 2 * 3
    assert points(trust_figures.noise_against_slowdown(comparison, spread)) > 0
    assert len(figures.accuracy_vs_throughput(data).data) > 0
    empty = figures.throughput_by_precision(data.iloc[0:0].assign(label=[]))
    assert "no shape" in empty.layout.annotations[0].text


def test_empty_frames_give_an_explaining_figure():
    fig = figures.slowdown_by_case(pd.DataFrame(columns=["status"]))
    assert "no case was measured" in fig.layout.annotations[0].text


def test_a_long_list_of_cases_is_cut_to_its_worst_two_screens():
    import pandas as pd

    from detcost.report.plotkit import MAX_ROWS, capped, height_for

    rows = pd.DataFrame({"label": [f"case {i}" for i in range(300)],
                         "slowdown": [1 + i / 100 for i in range(300)]})
    worst_first = rows.sort_values("slowdown", ascending=False)["label"].tolist()
    kept, note = capped(rows, worst_first, lanes=2)
    assert len(kept) == MAX_ROWS // 2 and kept["slowdown"].min() > 3.6
    assert f"the {MAX_ROWS // 2} highest of 300" in note
    assert height_for(2 * len(kept)) <= 2 * 900
    short, note = capped(rows.head(10), rows.head(10)["label"].tolist())
    assert len(short) == 10 and note == ""


def test_case_labels_drop_the_parameters_at_their_defaults_and_the_hover_has_the_full_id():
    from detcost.report.plotkit import labelled, short_shape

    shape = ("gpt(phase=decode,batch=1,seq=1024,new_tokens=8,vocab=32000,hidden=768,"
             "layers=12,heads=12,compile=eager)")
    assert short_shape(shape) == "gpt(phase=decode,batch=1,new_tokens=8)"
    assert short_shape("mine.py:build(width=3)") == "mine.py:build(width=3)"  # a user's own
    import pandas as pd

    rows = labelled(pd.DataFrame([{
        "shape": shape, "pass_": "fwd", "numerics": "bfloat16", "gpu": "G", "torch": "t",
        "family": "model", "dtype": "bfloat16", "precision": "highest", "env": "G · torch t",
        "case_id": f"{shape}-fwd-bfloat16-highest"}]))
    assert rows["label"][0] == "gpt(phase=decode,batch=1,new_tokens=8) · fwd · bfloat16"
    assert rows["full"][0] == f"{shape}-fwd-bfloat16-highest"


def test_a_family_whose_cases_are_all_noisy_says_so_instead_of_none_measured(data):
    """The H200 page's model section said 3 cases were measured in both modes above a
    figure that read as if none were: every one was noisy, and the figure now says it."""
    comparison = compare_modes(data)
    all_noisy = comparison.assign(noisy_mode=comparison["status"] == "ok")
    measured = all_noisy.loc[all_noisy["status"] == "ok", "case_id"].nunique()
    text = figures.costliest_cases(all_noisy).layout.annotations[0].text
    assert f"{measured} case(s) measured in both modes, none steady" in text
    assert points(figures.costliest_cases(comparison)) > 0
