"""Every case of the profile that this worker measures, one test each: the plugin
parametrises `detcost_case` and writes one record per case (`-k FAMILY` selects a family)."""


def test_case(detcost_case, detcost_measure):
    detcost_measure(detcost_case)
