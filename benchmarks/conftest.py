"""Benchmarks are pytest-benchmark tests; the detcost plugin applies the mode, generates the
cases of each family from the profile and writes one record per case."""

pytest_plugins = ["detcost.plugin"]
