"""conv cases of the profile, one test each."""

FAMILY = "conv"


def test_conv(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
