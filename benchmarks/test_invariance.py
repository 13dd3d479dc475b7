"""invariance cases of the profile (one request served in batches of several sizes), one
test each."""

FAMILY = "invariance"


def test_invariance(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
