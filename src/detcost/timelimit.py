"""A run's time limit, shared by the parent (no process starts after it) and the worker (no
case starts after it): seconds since the epoch, or None for no limit."""

from __future__ import annotations

import time


def past(deadline: float | None) -> bool:
    """Whether a time limit (seconds since the epoch; None: no limit) has passed."""
    return deadline is not None and time.time() >= deadline
