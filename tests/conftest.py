"""Shared helpers: small profiles and record files made in the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_profile(tmp_path: Path) -> Path:
    """Three scatter cases, measured lightly: the smallest real run."""
    path = tmp_path / "tiny.toml"
    path.write_text("""
name = "tiny"
[measure]
rounds = 2
min_round_ms = 0.2
warmup_ms = 0.5
repeats = 2
[[cases]]
workload = "scatter_add"
params = { size = 256, bins = [8, 256] }
[[cases]]
workload = "put"
params = { size = 256, bins = 8, accumulate = false }
""")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600
            ) -> subprocess.CompletedProcess:
    """The CLI as a user runs it: `python -m detcost ...` in a new process."""
    return subprocess.run([sys.executable, "-m", "detcost", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout, check=False)
