"""What became of a case, in words every layer shares: its status, and for a case that
deterministic mode refused, the op that torch's alert named. torch says it only in text, so
the text is read here once, where the record is made (and when an old file is upgraded);
no view reads a message."""

from __future__ import annotations

import re

STATUSES = ("ok", "unsupported", "oom", "error", "skipped")
NO_DETERMINISTIC_IMPL = "does not have a deterministic implementation"
# SDPA with only cuDNN allowed: deterministic mode removes it from selection (no alert).
NO_AVAILABLE_KERNEL = "No available kernel"
_ALERT = re.compile(r"(?:RuntimeError: )?(.+?) (?:with .+ )?does not have a deterministic")


def raised_op(message: str) -> str:
    """The name torch's alert gives the op ('upsample_linear1d_backward_out_cuda'), or the
    message's start where it names none (SDPA's 'No available kernel', say)."""
    found = _ALERT.search(message)
    return found.group(1) if found else message.removeprefix("RuntimeError: ")[:60]


def named_refusal(raised: str, excluded: bool, workload: str, params: dict) -> str:
    """What a reader is told refused: torch's op name, or for a backend that deterministic
    mode leaves without a kernel (SDPA forced to cuDNN, say), that backend, since torch's
    own message ('No available kernel. Aborting execution.') names nothing."""
    if not excluded:
        return raised
    backend = params.get("backend") if isinstance(params, dict) else None
    where = f"{workload} backend={backend}" if backend else workload
    return f"{where}: no kernel in deterministic mode"


def excluded_backend(message: str) -> bool:
    """Whether deterministic mode left the op no kernel to select, rather than raising."""
    return NO_AVAILABLE_KERNEL in message


def unsupported_message(message: str, deterministic: bool) -> bool:
    """Whether a failure under these knobs means: no deterministic kernel for this op."""
    if NO_DETERMINISTIC_IMPL in message:
        return True
    return deterministic and ("deterministic" in message or NO_AVAILABLE_KERNEL in message)
