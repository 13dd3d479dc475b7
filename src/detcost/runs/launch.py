"""One launch of a measuring worker: the pytest command that measures one process of one
mode (under torchrun for the distributed family), and what its log says when it fails."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..modes import SAFE_ENVIRONMENT, Mode, mode_environment
from .folder import ModeProcess, benchmark_file

# pytest-benchmark reads the clock through this: it waits for the device before reading.
DEVICE_CLOCK = "detcost.worker.timing.device_clock"


def bytecode_environment(cache: Path, environ: Mapping[str, str],
                         package: str = "torch") -> dict[str, str]:
    """The variables that let every worker reuse compiled bytecode. Packages installed
    without it (uv's default) beside an interpreter that cannot write there make each worker
    compile some 1,600 of torch's modules again: about 5 s a process on an H200 host, a
    minute over `standard`. The workers then keep it in `cache`; otherwise nothing changes."""
    if environ.get("PYTHONPYCACHEPREFIX"):
        return {}
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin or Path(importlib.util.cache_from_source(
            spec.origin)).is_file():
        return {}
    return {"PYTHONPYCACHEPREFIX": str(cache)}


def worker_environment(mode: Mode, cache: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """A worker's variables: the safe defaults, the caller's, the mode's, the bytecode
    cache; without what would change the baseline or the timing behind the mode's back."""
    own = mode_environment(mode)
    env = {**SAFE_ENVIRONMENT, **environ, **own, **bytecode_environment(cache, environ),
           "PYTHONUNBUFFERED": "1"}
    if "PYTHONPYCACHEPREFIX" in env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the cache is detcost's own
    for name in [k for k in env if k.startswith("PYTEST_XDIST_")]:
        # inherited from a pytest-xdist session that started this run: pytest-benchmark
        # would turn itself off in the worker, and no case would be timed
        del env[name]
    if "CUBLAS_WORKSPACE_CONFIG" not in own:
        env.pop("CUBLAS_WORKSPACE_CONFIG", None)  # an inherited one changes the baseline
    return env


@dataclass(frozen=True)
class WorkerLaunch:
    """What one worker launch measures and where it writes."""

    who: ModeProcess
    mode_file: Path
    profile: str  # a built-in profile's name or a TOML path, as the worker loads it
    bench_dir: Path
    processes: int = 1  # how many processes each mode of the run has (for the header)
    keyword: str | None = None
    only: Path | None = None  # JSON list of case ids
    gpus: tuple[str, ...] = ()  # several: one pytest-xdist worker and shard per GPU
    ranks: int = 0  # the distributed family's torchrun ranks; 0: not distributed
    deadline: float | None = None  # time.time() after which no case starts
    validate: bool = False

    def command(self, attempt: int = 0) -> list[str]:
        """The command of this launch's `attempt`-th start (a restart after a crash)."""
        # The distributed family: every rank of a torchrun launch runs the same pytest.
        launch = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc-per-node", str(self.ranks), "-m", "pytest"] if self.ranks
                  else [sys.executable, "-m", "pytest"])
        cmd = [*launch, str(self.bench_dir), "-q", "-p", "no:cacheprovider",
               "-o", "addopts=", "-W", "default", "--rootdir", str(self.bench_dir),
               "--benchmark-timer", DEVICE_CLOCK, "--benchmark-disable-gc",
               "--benchmark-sort", "name",
               "--benchmark-json", str(benchmark_file(self.mode_file, attempt)),
               "--detcost-mode", self.who.mode, "--detcost-profile", self.profile,
               "--detcost-out", str(self.mode_file), "--detcost-run-id", self.who.run_id,
               "--detcost-process", str(self.who.process),
               "--detcost-processes", str(self.processes)]
        if len(self.gpus) > 1:
            # pytest-xdist: one worker per GPU, each with its own shard of the cases (--dist
            # each: every worker runs what it collected); a crashed worker is not replaced,
            # so the parent blames its case and resumes it, as for a single worker.
            cmd += ["-p", "xdist", "-n", str(len(self.gpus)), "--dist", "each",
                    "--max-worker-restart", "0", "--detcost-gpus", ",".join(self.gpus)]
        if self.deadline is not None:
            cmd += ["--detcost-deadline", f"{self.deadline:.3f}"]
        if self.validate:
            cmd.append("--detcost-validate")
        if self.only:
            cmd += ["--detcost-only", str(self.only)]
        if self.keyword:
            cmd += ["-k", self.keyword]
        return cmd


def relative(arg: str) -> str:
    """A path argument as seen from the working folder, for logs that travel with results."""
    try:
        return str(Path(arg).relative_to(Path.cwd())) if Path(arg).is_absolute() else arg
    except ValueError:
        return arg


def worker_error(log_text: str) -> str:
    """The line of a worker's log that says why it failed: pytest's own ERROR line, an
    exception's `E` line, or the last line of a traceback."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    for prefix in ("ERROR:", "E   ", "E "):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            text = found[-1] if prefix == "ERROR:" else found[-1].removeprefix("E")
            return " ".join(text.split())[:300]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["no output"])[-1][:300]
