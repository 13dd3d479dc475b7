"""Intervals widened by the spread between runs, estimated from pairs of runs and checked on a
pair the estimate left out; cases that move beyond them named; launch-bound steps marked."""

import math

import pandas as pd
import pytest
from conftest import write_records

from detcost.analysis import calibration
from detcost.analysis.findings import compute_findings
from detcost.analysis.load import load
from detcost.analysis.summaries import launch_bound


def test_widening_adds_the_spread_between_runs_in_quadrature():
    low, high = calibration.widened(0.99, 1.0, 1.01, tau=0.02)
    h = math.log(1.01)
    assert math.log(high) == pytest.approx(math.sqrt(h**2 + (1.959964 * 0.02) ** 2))
    assert math.log(1 / low) > math.log(1 / 0.99)
    assert calibration.widened(0.99, 1.0, 1.01, tau=0.0) == (0.99, 1.01)


def _runs(folder, shifts, cases=30, unstable=None):
    """Runs of one profile whose deterministic mode is 2x slower, each run's slowdown moved
    by its shift (a machine start's own offset), one case moved far in the last run."""
    for n, shift in enumerate(shifts):
        rows = []
        for c in range(cases):
            slow = 2.0 * (1 + shift) * (1.5 if unstable == c and n == len(shifts) - 1 else 1)
            for mode, factor in (("default", 1.0), ("deterministic", slow)):
                for process in (1, 2):
                    rows.append({"mode": mode, "case_id": f"c{c}", "process": process,
                                 "times_s": [factor * (1 + 0.001 * (k % 3)) for k in range(9)]})
        write_records(folder / f"r{n}", rows, run_id=f"r{n}", started_at=f"2026-01-0{n + 1}")


def test_the_spread_between_runs_is_estimated_and_checked_on_a_pair_left_out(tmp_path):
    _runs(tmp_path, [0.0, 0.03, 0.0, 0.03])
    measured = load([tmp_path])
    calibrated = calibration.calibrate(measured)
    pairs = calibrated.pairs
    assert [(p.run_a, p.run_b) for p in pairs] == [("r0", "r1"), ("r1", "r2"), ("r2", "r3")]
    spread = calibrated.spread
    assert spread["all"] == pytest.approx(math.log(1.03) / 1.959964, rel=0.2)
    coverage = calibrated.coverage
    assert all(c.inside_run < 0.5 for c in coverage)  # the bootstrap alone misses the shift
    assert all(c.inside == 1.0 for c in coverage)  # the widened interval holds it


def test_a_case_that_moves_beyond_its_widened_interval_is_named_and_never_the_worst(tmp_path):
    _runs(tmp_path, [0.0, 0.01, 0.0, 0.01], unstable=7)
    findings = compute_findings(load([tmp_path]))
    assert list(findings.unstable["case_id"]) == ["c7"]
    row = findings.unstable.iloc[0]
    assert row["low"] == pytest.approx(2.0, rel=0.02) and row["high"] > 2.9
    assert row["one_start"] is None  # the headers name no machine
    assert findings.comparison.set_index("case_id").loc["c7", "unstable"]
    worst = findings.decision.set_index("family").loc["all"]
    assert worst["worst_case"] != "c7" and worst["unstable"] == 1


def test_a_step_the_host_spends_issuing_is_launch_bound(tmp_path):
    write_records(tmp_path, [{"mode": "default", "case_id": "launch", "host_s": 0.9},
                             {"mode": "default", "case_id": "gpu", "host_s": 0.1}])
    bound = launch_bound(load([tmp_path]))
    assert list(bound["case_id"]) == ["launch"]
    on_cpu = load([tmp_path]).assign(gpu="CPU")  # every CPU step is the host's
    assert launch_bound(on_cpu).empty
    assert isinstance(bound, pd.DataFrame)
