"""Every op in torch's own list of what deterministic mode changes is measured by a
workload of the `full` profile, or listed in detcost.coverage with the reason it is not."""

import torch

from detcost.analysis.doc import doc_against_behaviour
from detcost.coverage import COVERED, NOT_COVERED, uncovered
from detcost.profile import load_profile
from detcost.torchdoc import doc_expectation, doc_ops, doc_statements
from detcost.workloads import get_workload


def test_the_running_torchs_doc_names_the_ops_it_changes():
    ops = doc_ops(torch.use_deterministic_algorithms.__doc__)
    # a doc that stopped listing ops (a format change) must not pass silently
    assert len(ops) >= 30 and "torch.nn.Conv2d" in ops and "torch.histc" in ops


def test_every_op_in_the_doc_is_covered_or_has_a_reason():
    missing = uncovered(torch.use_deterministic_algorithms.__doc__)
    assert missing == [], f"give these a workload or a reason in detcost.coverage: {missing}"


def test_a_new_op_in_the_doc_turns_this_red():
    doc = torch.use_deterministic_algorithms.__doc__ + "\n        * :func:`torch.new_op` x\n"
    assert uncovered(doc) == ["torch.new_op"]


def test_the_tables_do_not_overlap_and_reasons_are_given():
    assert not set(COVERED) & set(NOT_COVERED)
    assert all(len(why) > 20 for why in NOT_COVERED.values())


def test_every_covered_op_is_measured_by_the_full_profile():
    cases = load_profile("full").cases
    for op, (workload, params) in COVERED.items():
        spec = get_workload(workload)
        assert spec.problem(params) is None, op
        measured = [c for c in cases if c.workload == workload and not c.skip_reason()
                    and all(c.param_dict[k] == v for k, v in params.items())]
        assert measured, f"{op}: no runnable case of {workload} {params} in the full profile"


DOC = """Sets whether ... they will throw a
    :class:`RuntimeError` when called.

    The following normally-nondeterministic operations will act
    deterministically when ``mode=True``:

        * :class:`torch.nn.Conv2d` when called on CUDA tensor
        * :func:`torch.Tensor.index_put` with ``accumulate=False``
        * :func:`torch.Tensor.index_put` with ``accumulate=True`` when called on a CPU
          tensor
        * :func:`torch.Tensor.scatter_reduce` when ``reduce='sum'`` and called on CUDA tensor

    The following normally-nondeterministic operations will throw a
    :class:`RuntimeError` when ``mode=True``:

        * :func:`torch.nn.functional.interpolate` when attempting to differentiate a CUDA tensor
          and one of the following modes is used:

          - ``linear``
          - ``bilinear``

        * :func:`torch.Tensor.scatter_reduce` when ``reduce='prod'`` and called on CUDA tensor
        * :func:`torch.histc` when called on a CUDA tensor

    A note after the list.
"""


def test_the_docs_statements_are_read_with_their_conditions():
    statements = doc_statements(DOC)
    assert [(s["op"].rsplit(".", 1)[-1], s["says"]) for s in statements] == [
        ("Conv2d", "deterministic"), ("index_put", "deterministic"),
        ("index_put", "deterministic"), ("scatter_reduce", "deterministic"),
        ("interpolate", "raises"), ("scatter_reduce", "raises"), ("histc", "raises")]
    assert statements[2]["when"].endswith("called on a CPU tensor")
    assert "``bilinear``" in statements[4]["when"]
    real = doc_statements(torch.use_deterministic_algorithms.__doc__)
    assert {s["says"] for s in real} == {"deterministic", "raises"}
    assert {s["op"] for s in real} == set(doc_ops(torch.use_deterministic_algorithms.__doc__))


def test_a_variant_is_judged_by_the_statement_that_names_it():
    statements = doc_statements(DOC)
    op = "torch.Tensor.scatter_reduce"
    assert doc_expectation(statements, op, {"reduce": "sum"})[0] == "deterministic"
    assert doc_expectation(statements, op, {"reduce": "prod"})[0] == "raises"
    put = "torch.Tensor.index_put"  # on CUDA the doc says nothing of accumulate=True
    assert doc_expectation(statements, put, {"accumulate": True})[0] == "not stated"
    assert doc_expectation(statements, put, {"accumulate": False})[0] == "deterministic"
    interpolate = "torch.nn.functional.interpolate"
    assert doc_expectation(statements, interpolate, {"mode": "linear"})[0] == "raises"
    assert doc_expectation(statements, interpolate, {"mode": "trilinear"})[0] == "not stated"


def test_the_doc_is_set_against_what_deterministic_mode_did(tmp_path):
    from conftest import write_records

    from detcost.analysis.findings import compute_findings
    from detcost.analysis.load import load
    from detcost.report.markdown import doc_md

    rows = [("interpolate", {"mode": "bilinear"}, "fwdbwd", "ok", 1),  # doc: raises
            ("histc", {}, "fwd", "unsupported", 0),  # doc: raises
            ("scatter_reduce", {"reduce": "sum"}, "fwd", "ok", 2)]  # doc: deterministic
    for process in (1, 2):  # a case measured in two processes is named once
        write_records(tmp_path, [
            {"mode": "deterministic", "case_id": f"{w}-{p_}", "workload": w, "params": params,
             "pass_": p_, "status": status, "distinct_digests": digests, "process": process}
            for w, params, p_, status, digests in rows], environment={
            "determinism_doc": doc_statements(DOC)})
    table = doc_against_behaviour(load([tmp_path])).set_index(["op", "variant"])
    assert table.loc[("torch.histc", ""), "agrees"] == True  # noqa: E712
    bilinear = table.loc[("torch.nn.functional.interpolate", "mode=bilinear")]
    assert bilinear["observed"] == "deterministic" and bilinear["agrees"] == False  # noqa: E712
    assert bilinear["cases"] == ["interpolate-fwdbwd"]
    assert table.loc[("torch.Tensor.scatter_reduce", "reduce=sum"), "observed"] == "varies"
    assert table.loc[("torch.nn.Conv2d", ""), "observed"] == "not measured"
    text = doc_md(compute_findings(load([tmp_path])))
    assert "1 of 3 measured statements hold" in text
    on_cpu = load([tmp_path]).assign(gpu="CPU")  # the doc speaks of CUDA tensors
    assert doc_against_behaviour(on_cpu).empty
    assert "| torch.nn.functional.interpolate | mode=bilinear | raises (when" in text
