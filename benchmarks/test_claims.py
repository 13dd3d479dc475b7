"""claims cases of the profile (seeded dropout, an op after another allocation history),
one test each."""

FAMILY = "claims"


def test_claims(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
