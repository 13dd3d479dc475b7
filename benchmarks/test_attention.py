"""attention cases of the profile, one test each."""

FAMILY = "attention"


def test_attention(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
