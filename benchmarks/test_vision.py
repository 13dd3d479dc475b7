"""vision cases of the profile, one test each."""

FAMILY = "vision"


def test_vision(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
