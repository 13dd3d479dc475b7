"""Every file a report writes, written whole or not at all: into a temporary file beside
it, then renamed over it. A full or read-only disk is one line naming the file, and never
leaves a truncated page where the last good one was."""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import DetcostError

_WRITTEN: contextvars.ContextVar[set[Path] | None] = contextvars.ContextVar(
    "detcost_written", default=None)


@contextlib.contextmanager
def recording() -> Iterator[set[Path]]:
    """Every path write_text writes in the block, so a builder can tell its files from an
    earlier build's."""
    written: set[Path] = set()
    token = _WRITTEN.set(written)
    try:
        yield written
    finally:
        _WRITTEN.reset(token)


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    if (written := _WRITTEN.get()) is not None:
        written.add(path.resolve())
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise DetcostError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
