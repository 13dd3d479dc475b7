"""scan cases of the profile, one test each."""

FAMILY = "scan"


def test_scan(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
