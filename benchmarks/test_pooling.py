"""pooling cases of the profile, one test each."""

FAMILY = "pooling"


def test_pooling(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
