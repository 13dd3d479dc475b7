"""padding cases of the profile, one test each."""

FAMILY = "padding"


def test_padding(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
