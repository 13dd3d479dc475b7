"""Every op in torch's own list of what deterministic mode changes is measured by a
workload of the `full` profile, or listed in detcost.coverage with the reason it is not."""

import torch

from detcost.coverage import COVERED, NOT_COVERED, doc_ops, uncovered
from detcost.profile import load_profile
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
