"""The worker processes of a run, as the parent starts and stops them: each in a process
group of its own, so that stopping it stops what it started too (torchrun's ranks, xdist's
workers); each dying with the parent; and the parent's SIGTERM (what `timeout` and Slurm
send) handled like Ctrl-C, so that the workers are stopped before the run's lock is
released."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import IO

STOP_GRACE_S = 5.0  # a stopped worker's time to exit before it is killed
_PR_SET_PDEATHSIG = 1


class Stopped(KeyboardInterrupt):
    """The parent was asked to stop (SIGTERM); handled as an interrupt."""


def _die_with_parent() -> None:
    """In the child, before exec: the kernel kills it when the parent dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def start(cmd: list[str], log: IO[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def stop(proc: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> None:
    """Stop the worker and everything in its process group: TERM, then KILL."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # a rank that outlived its launcher


def _raise_stopped(signum, frame) -> None:
    raise Stopped(f"signal {signum}")


@contextlib.contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """While running, SIGTERM and SIGINT raise Stopped (a KeyboardInterrupt). SIGINT is
    taken explicitly: a process started in the background begins with it ignored, and
    `kill -INT` must still stop the run and its workers."""
    try:
        previous = {sig: signal.signal(sig, _raise_stopped)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: leave signals as they are
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
