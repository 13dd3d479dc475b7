"""Benchmarks are pytest-benchmark tests; the detcost plugin applies the mode, generates the
cases from the profile and writes one record per case."""

pytest_plugins = ["detcost.worker.plugin"]
