"""Your own workloads (file.py:NAME, module:NAME, entry points), one test each."""

FAMILY = "user"


def test_user(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
