"""resample cases of the profile, one test each."""

FAMILY = "resample"


def test_resample(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
