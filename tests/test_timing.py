import time

import pytest

from detcost.analysis.stats import median_iqr
from detcost.worker.timing import calibrate, device_clock, validate_timer


def test_device_clock_is_monotonic_seconds():
    a = device_clock()
    time.sleep(0.01)
    assert 0.009 < device_clock() - a < 1.0


def test_calibrate_makes_rounds_at_least_min_round_long():
    calls = []

    def step():
        calls.append(1)
        time.sleep(0.001)

    cal = calibrate(step, warmup_s=0.005, min_round_s=0.01)
    assert cal.warmup_runs >= 3
    assert 0.0009 < cal.single_s < 0.01
    assert cal.iterations * cal.single_s >= 0.01
    assert cal.iterations <= 12  # about 10 steps of ~1 ms fill 10 ms


def test_median_and_iqr():
    assert median_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, 2.0)
    assert median_iqr([7.0]) == (7.0, 0.0)
    with pytest.raises(ValueError):
        median_iqr([])


def test_validate_timer_without_cuda_reports_the_suite_median_only():
    result = validate_timer(lambda: None, 3, 1, [1.0, 2.0, 3.0])
    assert result == {"suite_median_s": 2.0, "clock_median_s": None,
                      "events_median_s": None, "do_bench_median_s": None}


def test_interleaved_rounds_alternate_the_order(monkeypatch):
    from detcost.worker import timing

    order = []
    monkeypatch.setattr(timing, "clock_round", lambda step, n: order.append("c") or 1.0)
    monkeypatch.setattr(timing, "event_round", lambda step, n: order.append("e") or 2.0)
    clock, events = timing.interleaved_rounds(lambda: None, 4, 3)
    assert "".join(order) == "ceecceec" and clock == [1.0] * 4 and events == [2.0] * 4
