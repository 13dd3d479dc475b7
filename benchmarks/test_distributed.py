"""distributed cases of the profile (collectives, DDP, FSDP2), one test each; every rank of
a torchrun launch runs them in the same order."""

FAMILY = "distributed"


def test_distributed(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
