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


def test_settled_needs_three_blocks_that_agree():
    from detcost.intervals import settled

    assert not settled([1.0, 1.0])
    assert settled([1.0, 1.005, 1.0])
    assert not settled([0.90, 0.95, 0.99])  # a GPU slowing as its clocks come down
    assert not settled([1.0, 1.0, 1.05])


def test_calibrate_warms_up_in_blocks_until_a_drift_ends(monkeypatch):
    from detcost.worker import timing

    per_step = iter([5.0, 1.0, 1.0,  # first steps: a slow first call, then ~1 s
                     0.90, 0.94, 0.97, 1.0, 1.0, 1.0, 1.0, 1.0])
    sizes = []
    clock = iter(range(10_000))

    def block(step, iterations):
        sizes.append(iterations)
        return next(per_step)

    monkeypatch.setattr(timing, "clock_round", block)
    monkeypatch.setattr(timing, "device_clock", lambda: float(next(clock)) * 1e-3)
    cal = timing.calibrate(lambda: None, warmup_s=0.0, min_round_s=2.5, max_warmup_s=60.0)
    assert cal.settled and cal.single_s == 1.0
    assert sizes == [1, 1, 1, 3, 3, 3, 3, 3, 3]  # blocks of about a round: ceil(2.5 / ~1)
    assert cal.iterations == 3 and cal.warmup_runs == 3 + 6 * 3


def test_the_garbage_collector_is_off_while_steps_are_timed():
    import gc

    from detcost.worker.timing import calibrate, time_to_target

    seen = []

    class Stats:
        def __init__(self):
            self.data = []

        def update(self, value):
            self.data.append(value)

    class Benchmark:  # pytest-benchmark's pedantic: it pauses the collector itself
        stats = type("S", (), {"stats": Stats()})()

        def pedantic(self, step, rounds, iterations, warmup_rounds):
            for _ in range(rounds):
                step()
                self.stats.stats.update(1.0)

    calibrate(lambda: seen.append(gc.isenabled()), warmup_s=0.0, min_round_s=1e-6)
    time_to_target(Benchmark(), lambda: seen.append(gc.isenabled()), 1, 2, target=1e-9,
                   max_time_s=0.001)
    assert gc.isenabled()
    assert seen and not any(seen[:3]) and seen.count(True) == 2  # only pedantic's own rounds
