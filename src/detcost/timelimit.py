"""A run's time limit, shared by the parent (no process starts after it, and a case still
running OVERRUN_S after it is stopped) and the worker (no case starts after it): seconds
since the epoch, or None for no limit."""

from __future__ import annotations

import time

# A case still running this long after the limit is stopped, and measured again when the run
# resumes: one case can take minutes (a first call that compiles), and a job's wall-clock
# limit would otherwise kill the run before its report.
OVERRUN_S = 30.0


def past(deadline: float | None) -> bool:
    """Whether a time limit (seconds since the epoch; None: no limit) has passed."""
    return deadline is not None and time.time() >= deadline
