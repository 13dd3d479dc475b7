"""Statistics of raw round times: the median and IQR detcost quotes, the hierarchical
bootstrap behind every rerun interval, and geometric means. numpy only."""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Sequence

import numpy as np
import pandas as pd


def median_iqr(samples: Sequence[float]) -> tuple[float, float]:
    """Median and inter-quartile range (the statistics detcost quotes, never the mean)."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return samples[0], 0.0
    q1, q2, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q2, q3 - q1


NOISY_IQR = 0.10  # IQR/median above this flags a case as noisy (as torch's Measurement does)

NOISE_TARGET = 0.02  # a steady measurement: IQR/median under 2%

LAUNCH_BOUND = 0.8  # host seconds per step over the step's time: the GPU idles for most

STEADY_TARGET = 0.90  # the share of GPU-bound default-mode cases that should be steady

BOOTSTRAP = 1000

def geomean(values: pd.Series) -> float:
    v = values.dropna()
    v = v[v > 0]
    return float(np.exp(np.log(v).mean())) if len(v) else np.nan

def case_rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one comparison, seeded by `seed` and what is compared."""
    digest = hashlib.sha256("\x1f".join(map(str, (seed, *key))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _resampled_medians(processes: list[np.ndarray], rng: np.random.Generator,
                       draws: int = BOOTSTRAP) -> np.ndarray:
    """Medians of `draws` hierarchical resamples: the processes with replacement, then the
    rounds of each chosen process with replacement (each keeps its own count of rounds)."""
    lengths = np.array([len(p) for p in processes])
    width = int(lengths.max())
    table = np.full((len(processes), width), np.nan)
    for i, p in enumerate(processes):
        table[i, :len(p)] = p
    pick = rng.integers(0, len(processes), size=(draws, len(processes)))
    counts = lengths[pick][..., None]
    rounds = (rng.random((draws, len(processes), width)) * counts).astype(int)
    values = table[pick[..., None], rounds]
    values[np.arange(width) >= counts] = np.nan
    return np.nanmedian(values.reshape(draws, -1), axis=1)

def rerun_interval(num: list[np.ndarray], den: list[np.ndarray], rng: np.random.Generator
                   ) -> tuple[float, float]:
    """A 95% interval for what a rerun would measure as median(num)/median(den), where each
    side is a list of processes' rounds.

    The hierarchical bootstrap resamples processes, then rounds, so the spread between
    processes (a worker's clocks, its allocator, its cuDNN plan choices) counts, not only
    the spread between rounds. A rerun's ratio carries its own error as well as this one's:
    the interval is the bootstrap's 2.5-97.5% spread of the log ratio, widened by sqrt(2)
    (the spread of a difference of two independent estimates), around this run's ratio.
    With k processes the bootstrap sees only (k-1)/k of the spread between them, so the
    spread is also widened by sqrt(k/(k-1)) (the usual small-sample correction)."""
    if sum(map(len, num)) < 2 or sum(map(len, den)) < 2:
        return np.nan, np.nan
    point = np.median(np.concatenate(num)) / np.median(np.concatenate(den))
    ratios = _resampled_medians(num, rng) / _resampled_medians(den, rng)
    k = min(len(num), len(den))
    widen = math.sqrt(2) * (math.sqrt(k / (k - 1)) if k > 1 else 1.0)
    low, high = np.percentile(np.log(ratios / point), [2.5, 97.5]) * widen
    return float(point * np.exp(low)), float(point * np.exp(high))


def launch_bound_mask(host_share: pd.Series) -> pd.Series:
    """Whether each step is launch-bound: the host spent LAUNCH_BOUND of it or more issuing
    it (False where its host time was not recorded)."""
    return host_share.fillna(0.0) >= LAUNCH_BOUND
