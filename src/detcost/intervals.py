"""How precisely a set of rounds pins down its median: a distribution-free 95% interval of
the median from order statistics (round times are skewed, with bursts of slow rounds, so no
normal interval), and its half-width relative to the median. The worker stops timing a case
once that half-width is within the profile's target."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

Z95 = 1.959964


def median_interval(samples: Sequence[float], z: float = Z95) -> tuple[float, float]:
    """The interval of ranks n/2 -+ z*sqrt(n)/2 of the sorted samples (the binomial
    interval of the median in its normal approximation); the whole range for n < 6."""
    s = sorted(samples)
    n = len(s)
    if n == 0:
        return math.nan, math.nan
    if n < 6:
        return s[0], s[-1]
    half = z * math.sqrt(n) / 2
    low = max(0, math.floor(n / 2 - half) - 1)
    high = min(n - 1, math.ceil(n / 2 + half) - 1)
    return s[low], s[high]


def relative_halfwidth(samples: Sequence[float]) -> float:
    """Half the median's 95% interval over the median: 0.01 means within +-1%."""
    if len(samples) < 2:
        return math.inf
    median = statistics.median(samples)
    low, high = median_interval(samples)
    return (high - low) / 2 / median if median > 0 else math.inf


def settled(blocks: Sequence[float], tolerance: float = 0.01) -> bool:
    """Whether a step's time has settled: each of the last two warm-up blocks (per-step
    seconds of a block of steps lasting about a round) is within `tolerance` of the block
    before it. Blocks, not single steps: after an idle spell a GPU runs fast for tens of
    milliseconds, then slows as its clocks come down, a drift that five 0.1 ms steps never
    show."""
    if len(blocks) < 3:
        return False
    a, b, c = blocks[-3:]
    return a > 0 and b > 0 and abs(b / a - 1) <= tolerance and abs(c / b - 1) <= tolerance
