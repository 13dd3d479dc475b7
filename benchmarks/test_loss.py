"""loss cases of the profile, one test each."""

FAMILY = "loss"


def test_loss(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
