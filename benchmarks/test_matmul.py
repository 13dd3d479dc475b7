"""matmul cases of the profile, one test each."""

FAMILY = "matmul"


def test_matmul(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
