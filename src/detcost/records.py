"""Records: one JSONL file per (run, mode). The first line is the header (environment,
profile, mode, knobs), each further line one case's record. Raw round times are kept;
statistics are derived later, in the frame.

Format history:
  1: first version.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import DetcostError

SCHEMA_VERSION = 1
STATUSES = ("ok", "unsupported", "oom", "error", "skipped")

# One function per old version, turning a line of version N into version N + 1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass
class Header:
    run_id: str
    mode: str
    mode_description: str
    knobs: dict[str, Any]
    environment: dict[str, Any]
    profile: dict[str, Any]
    started_at: str
    # Which process of this mode (1, 2, ...): replicas measure noise and reproducibility
    # across processes.
    replica: int = 1
    # The device's ceilings measured at the worker's start (see ceilings.py).
    ceilings: dict[str, Any] = field(default_factory=dict)
    kind: str = "header"
    schema_version: int = SCHEMA_VERSION


@dataclass
class Record:
    run_id: str
    mode: str
    case_id: str
    family: str
    workload: str
    params: dict[str, Any]
    pass_: str
    dtype: str
    precision: str
    status: str
    message: str = ""
    knobs: dict[str, Any] = field(default_factory=dict)
    # Timing: per-iteration seconds of each round (raw), and how they were taken.
    times_s: list[float] = field(default_factory=list)
    iterations: int = 0
    work_unit: str = ""
    work_amount: float = 0.0  # TFLOP or GB per step, in the unit's numerator
    work_flops: float = 0.0
    work_bytes: float = 0.0
    # Variance over `repeats` runs on identical inputs.
    repeats: int = 0
    distinct_digests: int = 0
    digest: str = ""
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0
    max_ulp_diff: int = 0
    error_vs_float64: float | None = None
    wall_s: float = 0.0
    # Achieved throughput over the ceiling that bounds the case (see ceilings.py).
    bound: str = ""
    fraction_of_ceiling: float | None = None
    replica: int = 1
    # Only with `detcost validate`: the same step timed by CUDA events (and do_bench).
    validation: dict[str, Any] | None = None
    kind: str = "record"
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")


def new_run_id(label: str = "") -> str:
    """A run's folder name: UTC time, then a label (the profile, say)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{label}" if label else stamp


def plan_file(mode_file: Path) -> Path:
    """Where a worker lists the case ids it selected, beside its mode file."""
    return mode_file.with_suffix(".plan.json")


def mode_file_name(mode: str, replica: int = 1) -> str:
    """`deterministic.jsonl`, and `deterministic.r2.jsonl` for its second process."""
    return f"{mode}.jsonl" if replica == 1 else f"{mode}.r{replica}.jsonl"


def to_line(item: Header | Record) -> str:
    return json.dumps(asdict(item), allow_nan=True, separators=(",", ":")) + "\n"


def append(path: Path, item: Header | Record) -> None:
    """Append one line and flush it: a crash later loses nothing already written."""
    with path.open("a", encoding="utf-8") as f:
        f.write(to_line(item))
        f.flush()


def upgrade(line: dict[str, Any], where: str) -> dict[str, Any]:
    version = line.get("schema_version")
    if not isinstance(version, int):
        raise DetcostError(f"{where}: no schema_version (is this a detcost results file?)")
    if version > SCHEMA_VERSION:
        raise DetcostError(f"{where}: schema_version {version} is newer than this detcost "
                           f"reads (up to {SCHEMA_VERSION}): upgrade detcost")
    while version < SCHEMA_VERSION:
        line = UPGRADES[version](line)
        version = line["schema_version"]
    return line


def _from_dict(cls, data: dict[str, Any], where: str):
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except (TypeError, ValueError) as exc:
        raise DetcostError(f"{where}: malformed {cls.__name__.lower()}: {exc}") from None


def read_run_file(path: Path) -> tuple[Header, list[Record]]:
    """Read one mode's file. A truncated last line (a worker killed mid-write) is dropped;
    anything else malformed is an error naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DetcostError(f"cannot read results file {path}: {exc}") from None
    items = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise DetcostError(f"{where}: not a JSON line") from None
        if not isinstance(data, dict):
            raise DetcostError(f"{where}: not a JSON object")
        items.append((where, upgrade(data, where)))
    if not items or items[0][1].get("kind") != "header":
        raise DetcostError(f"{path}: the first line is not a detcost header")
    header = _from_dict(Header, items[0][1], items[0][0])
    records = [_from_dict(Record, d, w) for w, d in items[1:] if d.get("kind") == "record"]
    return header, records


def run_files(paths: Iterable[Path]) -> list[Path]:
    """Every mode file under the given files or folders, sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(p.rglob("*.jsonl")))
        elif p.is_file():
            found.append(p)
        else:
            raise DetcostError(f"no results file or folder at {p}")
    return list(dict.fromkeys(p.resolve() for p in found))  # a file named twice reads once
