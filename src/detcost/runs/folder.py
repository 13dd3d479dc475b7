"""A run's folder: the one place that spells its layout, its run id and its lock.

    results/raw/<run id>/
      profile.toml                    the profile of a `--workload` run (kept to resume it)
      <mode>.jsonl                    records of a mode's first process
      <mode>.r<N>.jsonl               ... of its process N
      <mode file>.gpu<K>.jsonl        one GPU's shard of a mode file (--gpus)
      <mode file>.plan.json           the case ids its worker selected
      <mode file>.current             the case its worker measures now
      <mode file>.benchmark[.A].json  pytest-benchmark's own output, per attempt A
      <mode file>.log                 its workers' output
      <mode>.<local|distributed>.cases.json   the case ids one launch is given
      validate.cases.json             the sample `detcost validate` times
      report.html                     the run's own page
      .lock                           held by the one process that writes the run

(run id, mode, process) names one measuring process: a `ModeProcess`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import DetcostError

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
LOCK_NAME = ".lock"
PROFILE_NAME = "profile.toml"
REPORT_NAME = "report.html"
VALIDATE_CASES = "validate.cases.json"
# Files that belong to one writer's moment, never to the results: not compared, not merged.
TRANSIENT = (LOCK_NAME,)


def new_run_id(label: str = "") -> str:
    """A run's folder name: UTC time to the microsecond, a random part (two runs started
    at the same instant on two machines still differ), then a label (the profile, say)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    run_id = f"{stamp}-{secrets.token_hex(3)}"
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.")[:60]
    return f"{run_id}-{label}" if label else run_id


def check_run_id(run_id: str) -> str:
    """A run id is a plain folder name: it can never climb out of the results folder."""
    if not RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise DetcostError(f"run id {run_id!r} is not allowed: use 1 to 120 letters, digits, "
                           "'.', '_' or '-', starting with a letter or digit, without '..'")
    return run_id


@dataclass(frozen=True)
class ModeProcess:
    """One measuring process of a run: its run id, its mode, and which process of that mode
    it is (1, 2, ...: processes measure noise and reproducibility across processes)."""

    run_id: str
    mode: str
    process: int = 1

    @property
    def file_name(self) -> str:
        """`deterministic.jsonl`, and `deterministic.r2.jsonl` for its second process."""
        return f"{self.mode}.jsonl" if self.process == 1 else f"{self.mode}.r{self.process}.jsonl"


# Files beside a mode file (or a shard of one): named after it.
def plan_file(mode_file: Path) -> Path:
    """Where a worker lists the case ids it selected."""
    return mode_file.with_suffix(".plan.json")


def current_file(mode_file: Path) -> Path:
    """Where a worker names the case it is measuring now: the parent blames a crash or a
    hang on that case, and on no case when the worker died before its first."""
    return mode_file.with_suffix(".current")


def log_file(mode_file: Path) -> Path:
    return mode_file.with_suffix(".log")


def benchmark_file(mode_file: Path, attempt: int = 0) -> Path:
    """pytest-benchmark's JSON of one worker launch (each restart writes its own)."""
    return mode_file.with_suffix(f".benchmark.{attempt}.json" if attempt else ".benchmark.json")


def shard_file(mode_file: Path, shard: int) -> Path:
    """The mode file of one GPU's shard of a run spread over several GPUs:
    `deterministic.gpu1.jsonl` beside `deterministic.jsonl`."""
    return mode_file.with_name(f"{mode_file.stem}.gpu{shard}.jsonl")


def shard_benchmark_file(benchmark_json: Path, shard: int) -> Path:
    """pytest-benchmark's JSON of one GPU's shard, beside the launch's own."""
    return shard_file(benchmark_json.with_suffix(".jsonl"), shard).with_suffix(".json")


@dataclass(frozen=True)
class RunFolder:
    """A run's folder under a results tree (`results/raw/<run id>`)."""

    path: Path
    run_id: str

    @classmethod
    def of(cls, results: Path, run_id: str) -> RunFolder:
        return cls(Path(results) / "raw" / check_run_id(run_id), run_id)

    def process(self, mode: str, process: int = 1) -> ModeProcess:
        return ModeProcess(self.run_id, mode, process)

    def mode_file(self, who: ModeProcess) -> Path:
        return self.path / who.file_name

    @property
    def profile_file(self) -> Path:
        return self.path / PROFILE_NAME

    @property
    def report_file(self) -> Path:
        return self.path / REPORT_NAME

    @property
    def validate_cases(self) -> Path:
        return self.path / VALIDATE_CASES

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def bytecode_cache(self) -> Path:
        """Where workers keep compiled bytecode that they cannot keep beside the packages
        (`results/.cache/bytecode`, shared by the runs of one results tree)."""
        return self.path.parent.parent / ".cache" / "bytecode"

    def cases_file(self, mode: str, kind: str) -> Path:
        """The case ids one launch of a mode is given (kind: local or distributed)."""
        return self.path / f"{mode}.{kind}.cases.json"

    def discard_if_unused(self) -> None:
        """Remove the folder if no worker ever ran in it (no log): an empty selection or a
        refused request leaves no junk run behind."""
        if self.path.is_dir() and not any(self.path.glob("*.log")):
            shutil.rmtree(self.path, ignore_errors=True)

    def create(self) -> RunFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    @contextlib.contextmanager
    def locked(self) -> Iterator[RunFolder]:
        """Hold the run's lock while writing it: a second writer is refused in one line."""
        from filelock import FileLock, Timeout  # only a writer needs it

        self.create()
        lock = FileLock(self.lock_file, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise DetcostError(f"run {self.run_id} is being written by another detcost "
                               f"process (lock {self.lock_file}): wait for it, or choose "
                               "another --run-id") from None
        try:
            yield self
        finally:
            lock.release()
