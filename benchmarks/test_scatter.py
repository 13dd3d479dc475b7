"""scatter cases of the profile, one test each."""

FAMILY = "scatter"


def test_scatter(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
