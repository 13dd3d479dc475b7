"""Intervals widened by the spread between runs, estimated from pairs of runs and checked on a
pair the estimate left out; cases that move beyond them named; launch-bound steps marked."""

import math

import pandas as pd
import pytest
from conftest import run_cli, write_records

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


def _runs(folder, shifts, cases=30, unstable=None, starts=None, gpu="GPU-A"):
    """Runs of one profile whose deterministic mode is 2x slower, each run's slowdown moved
    by its shift (a machine start's own offset), one case moved far in the last run.
    `starts`: each run's machine start (boot id); None: headers that name none."""
    for n, shift in enumerate(shifts):
        rows = []
        for c in range(cases):
            slow = 2.0 * (1 + shift) * (1.5 if unstable == c and n == len(shifts) - 1 else 1)
            for mode, factor in (("default", 1.0), ("deterministic", slow)):
                for process in (1, 2):
                    rows.append({"mode": mode, "case_id": f"c{c}", "process": process,
                                 "times_s": [factor * (1 + 0.001 * (k % 3)) for k in range(9)]})
        environment = {"boot_id": starts[n], "host": "h"} if starts else None
        write_records(folder / f"r{n}", rows, run_id=f"r{n}", started_at=f"2026-01-0{n + 1}",
                      gpu=gpu, environment=environment)


def _tau(spread, gpu="GPU-A"):
    return calibration.tau_of(spread, f"{gpu} · torch 2.11.0", "scatter")


def test_the_spread_between_runs_is_estimated_and_checked_on_a_pair_left_out(tmp_path):
    _runs(tmp_path, [0.0, 0.03, 0.0, 0.03])
    measured = load([tmp_path])
    calibrated = calibration.calibrate(measured)
    pairs = calibrated.pairs
    assert [(p.run_a, p.run_b) for p in pairs] == [("r0", "r1"), ("r1", "r2"), ("r2", "r3")]
    assert _tau(calibrated.spread) == pytest.approx(math.log(1.03) / 1.959964, rel=0.2)
    coverage = calibrated.coverage
    assert all(c.inside_run < 0.5 for c in coverage)  # the bootstrap alone misses the shift
    assert all(c.inside == 1.0 for c in coverage)  # the widened interval holds it


def test_detcost_stability_widens_a_s_interval_by_the_spread_of_the_other_pairs(tmp_path):
    from detcost.analysis.diff import diff_runs
    from detcost.report.text import stability_sentence

    raw = tmp_path / "results" / "raw"
    _runs(raw, [0.0, 0.03, 0.0, 0.03])
    measured = load([raw])
    # r1/r2 held out of the spread: r0/r1 and r2/r3 give it
    diff = diff_runs(measured, "r1", "r2", calibration.calibrate(measured))
    assert diff.summary["inside_share"] < 0.5 and diff.summary["inside_widened"] == 1.0
    assert diff.disagree.empty  # who disagrees is judged by the widened interval
    assert "100% of 30 steady cases lie inside A's interval widened" in stability_sentence(
        diff.summary)
    two = load([raw / "r0", raw / "r1"])
    alone = diff_runs(two, "r0", "r1", calibration.calibrate(two))  # no other pair
    assert math.isnan(alone.summary["inside_widened"]) and len(alone.disagree) == 30
    assert "lie inside A's bootstrap interval;" in stability_sentence(alone.summary)
    done = run_cli("stability", "r1", "r2", "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    assert "100% of 30 steady cases lie inside A's interval widened" in done.stdout


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


def test_only_pairs_on_two_machine_starts_estimate_the_spread_and_each_gpu_has_its_own(
        tmp_path):
    """Two runs on one start share its clocks and plans: their agreement says nothing of
    another start. A GPU with pairs on two starts gets its own spread; one without, every
    GPU's."""
    _runs(tmp_path / "a", [0.0, 0.03, 0.0], starts=["s1", "s2", "s3"])
    _runs(tmp_path / "b", [0.0, 0.0, 0.08], starts=["t1", "t1", "t1"], gpu="GPU-B")
    spread = calibration.calibrate(load([tmp_path])).spread
    assert _tau(spread) == pytest.approx(math.log(1.03) / 1.959964, rel=0.2)
    assert _tau(spread, "GPU-B") == _tau(spread)  # its one-start pairs are not used
    assert "GPU-B · torch 2.11.0" not in spread


def test_a_few_cases_that_jump_between_starts_do_not_widen_every_interval(tmp_path):
    """A case whose slowdown moved by 50% is named and stated as its range; the spread of
    the other cases is what it was without it, and a held-out pair still lands inside."""
    _runs(tmp_path / "calm", [0.0, 0.01, 0.0, 0.01])
    _runs(tmp_path / "jump", [0.0, 0.01, 0.0, 0.01], unstable=7)
    calm = calibration.calibrate(load([tmp_path / "calm"]))
    jump = calibration.calibrate(load([tmp_path / "jump"]))
    assert _tau(jump.spread) == pytest.approx(_tau(calm.spread))
    assert list(jump.unstable["case_id"]) == ["c7"]
    findings = compute_findings(load([tmp_path / "jump"]))
    c7 = findings.comparison.set_index("case_id").loc["c7"]
    assert c7["slowdown_low"] <= 2.0 * 1.01 and c7["slowdown_high"] >= 2.9  # its range


def test_launch_bound_cases_get_a_spread_of_their_own(tmp_path):
    """A launch-bound step follows the host's speed, which moved between two H200 starts by
    several percent where busy GPUs moved by one: its spread is estimated apart and widens
    only the launch-bound cases' intervals."""
    for n, (busy, bound) in enumerate(((0.0, 0.0), (0.01, 0.06), (0.0, 0.0), (0.01, 0.06))):
        rows = []
        for c in range(60):
            launch_bound = c >= 30
            slow = 2.0 * (1 + (bound if launch_bound else busy))
            for mode, factor in (("default", 1.0), ("deterministic", slow)):
                for process in (1, 2):
                    rows.append({"mode": mode, "case_id": f"c{c}", "process": process,
                                 "host_s": 0.95 * factor if launch_bound else 0.1 * factor,
                                 "times_s": [factor * (1 + 0.001 * (k % 3)) for k in range(9)]})
        write_records(tmp_path / f"r{n}", rows, run_id=f"r{n}", started_at=f"2026-01-0{n + 1}",
                      environment={"boot_id": f"boot-{n}", "host": "h"})
    calibrated = calibration.calibrate(load([tmp_path]))
    env = "GPU-A · torch 2.11.0"
    busy_tau = calibration.tau_of(calibrated.spread, env, "scatter")
    bound_tau = calibration.tau_of(calibrated.spread, env, "scatter · launch-bound")
    assert busy_tau == pytest.approx(math.log(1.01) / 1.959964, rel=0.25)
    assert bound_tau == pytest.approx(math.log(1.06) / 1.959964, rel=0.25)
    assert all(c.inside == 1.0 for c in calibrated.coverage)


def test_a_noisy_run_still_names_a_case_that_moved_beyond_both_intervals(tmp_path):
    """The H200's language-model prefill read 2.96x on one start, with a noisy
    deterministic mode, and 1.96x on the next: both runs' intervals apart, it is unstable
    however noisy one of them was. A noisy run whose wide interval holds the other's value
    names nothing."""
    noisy = [1.0, 1.25, 0.85, 1.2, 0.9, 1.15, 0.8, 1.1, 1.0]  # IQR far over 10%
    steady = [1.0 + 0.001 * (k % 3) for k in range(9)]
    for n in range(4):
        rows = []
        for case, slow in ([(f"c{c}", 2.0) for c in range(30)]
                           + [("moved", 3.0 if n == 3 else 2.0), ("wobbly", 2.04 if n == 3
                                                                    else 2.0)]):
            for mode, factor in (("default", 1.0), ("deterministic", slow)):
                times = (noisy if case in ("moved", "wobbly") and n == 2
                         and mode == "deterministic" else steady)
                for process in (1, 2):
                    rows.append({"mode": mode, "case_id": case, "process": process,
                                 "times_s": [factor * t for t in times]})
        write_records(tmp_path / f"r{n}", rows, run_id=f"r{n}", started_at=f"2026-01-0{n + 1}",
                      environment={"boot_id": f"boot-{n}", "host": "h"})
    findings = compute_findings(load([tmp_path]))
    assert list(findings.unstable["case_id"]) == ["moved"]
    row = findings.unstable.iloc[0]
    assert row["low"] == pytest.approx(2.0, rel=0.05) and row["high"] == pytest.approx(3.0)
    assert row["runs"] == "r2 / r3"
