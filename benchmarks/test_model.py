"""model cases of the profile, one test each."""

FAMILY = "model"


def test_model(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
