"""Records: one JSONL file per (run, mode). The first line is the header (environment,
profile, mode, knobs), each further line one case's record. Raw round times are kept;
statistics are derived later, in the frame.

Format history:
  1: first version.
  2: `phases_s` (seconds per phase of a case); headers carry `processes` (how many worker
     processes each mode runs in). A version-1 line reads as version 2 with both empty.
  3: `kernels_s` (device seconds per step of the costliest kernels and ops, from
     torch.profiler, for workloads that ask for it) and `rank_digests` (every rank's digest,
     for the distributed family). A version-2 line reads with neither.
  4: `kernels` lines: a case's kernel table, written after every case of its process was
     timed (CUPTI can stay attached once the profiler stops, slowing every later kernel
     launch, so a table taken between cases could slow the cases after it). The reader puts
     each into its case's record (`kernels_s`); version-3 records carry theirs inline.
  5: `replica` is named `process` in every line (one word with the docs and the CLI); a
     record that failed carries its reason as data: `raised_op`, the op that torch's alert
     named, and `excluded_backend`, set where deterministic mode left an op no kernel to
     select (SDPA restricted to cuDNN) instead of raising the alert. A version-4 line is
     renamed, and its reason read from its message.
  6: how a case was timed: `stopped` (why its rounds stopped: precise, time cap, rounds
     cap, or rounds for a fixed count), `halfwidth` (its median's 95% interval, relative),
     its warm-up (`warmup_runs`, `warmup_s`, `settled`), and `host_s` (host seconds per
     step without waiting for the device). A version-5 record reads with them empty.
  7: a `kernels` line's `wall_s` (the seconds its rebuild, warm-up and profile took), which
     the reader adds to its record's `phases_s` as `kernel_table`: a first process's time
     beyond its cases is then accounted for. A version-6 line reads without it.

Damage is contained to the line it is in: an append first ends a torn last line, and a
reader skips a torn or malformed line with a ResultsWarning naming the file and line.
"""

from __future__ import annotations

import functools
import json
import math
import types
import typing
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..cases import Case
from ..errors import DetcostError, ResultsWarning
from ..failures import STATUSES, excluded_backend, raised_op
from .folder import ModeProcess

SCHEMA_VERSION = 7


def _upgrade_1(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "schema_version": 2}


def _upgrade_2(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "schema_version": 3}


def _upgrade_3(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "schema_version": 4}


def _upgrade_4(line: dict[str, Any]) -> dict[str, Any]:
    line = {**line, "schema_version": 5}
    if "replica" in line:
        line["process"] = line.pop("replica")
    if line.get("kind") == "record" and line.get("status") == "unsupported":
        message = str(line.get("message", ""))
        line["raised_op"] = raised_op(message)
        line["excluded_backend"] = excluded_backend(message)
    return line


def _upgrade_5(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "schema_version": 6}


def _upgrade_6(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "schema_version": 7}


# One function per old version, turning a line of version N into version N + 1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _upgrade_1, 2: _upgrade_2, 3: _upgrade_3, 4: _upgrade_4, 5: _upgrade_5, 6: _upgrade_6}


@dataclass
class Header:
    run_id: str
    mode: str
    mode_description: str
    knobs: dict[str, Any]
    environment: dict[str, Any]
    profile: dict[str, Any]
    started_at: str
    # Which process of this mode (1, 2, ...): processes measure noise and reproducibility
    # across processes.
    process: int = 1
    # The device's ceilings measured at the worker's start (see worker/ceilings.py).
    ceilings: dict[str, Any] = field(default_factory=dict)
    processes: int = 1  # how many processes each mode of this run is measured in
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
    # Why an unsupported case failed, as data: the op torch's alert named, and whether
    # deterministic mode left no kernel to select rather than raising (see failures.py).
    raised_op: str = ""
    excluded_backend: bool = False
    knobs: dict[str, Any] = field(default_factory=dict)
    # Timing: per-iteration seconds of each round (raw), and how they were taken.
    times_s: list[float] = field(default_factory=list)
    iterations: int = 0
    stopped: str = ""  # why timing stopped (worker/timing.py): precise, time cap, ...
    halfwidth: float | None = None  # the median's 95% interval, relative (0.01: +-1%)
    warmup_runs: int = 0
    warmup_s: float = 0.0
    settled: bool | None = None  # False: warm-up ended at its cap, the time still moving
    host_s: float | None = None  # host seconds per step without waiting for the device
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
    process: int = 1
    # Only with `detcost validate`: the same step timed by CUDA events (and do_bench).
    validation: dict[str, Any] | None = None
    # Seconds spent building, warming up, timing, repeating and in the float64 reference.
    phases_s: dict[str, float] = field(default_factory=dict)
    # Device seconds per step of the costliest kernels (ops on a CPU), from torch.profiler,
    # for the workloads that take a kernel table: where a mode's time goes. Written apart,
    # as a KernelTable line, since version 4.
    kernels_s: dict[str, float] = field(default_factory=dict)
    # Distributed family: the first output digest of every rank, in rank order.
    rank_digests: list[str] = field(default_factory=list)
    kind: str = "record"
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @classmethod
    def of(cls, case: Case, who: ModeProcess, status: str, **fields: Any) -> Record:
        """A record of `case` measured by `who`: what every record says of its case,
        whatever became of it, then the given fields."""
        return cls(run_id=who.run_id, mode=who.mode, process=who.process, case_id=case.id,
                   family=case.family, workload=case.workload, params=case.param_dict,
                   pass_=case.pass_, dtype=case.dtype, precision=case.precision,
                   status=status, **fields)


@dataclass
class KernelTable:
    """Where one case's step spends its device time (worker/kernels.py), taken once every
    case of the process was timed. The reader moves it into the case's record."""
    run_id: str
    mode: str
    case_id: str
    process: int
    kernels_s: dict[str, float] = field(default_factory=dict)
    message: str = ""  # why there is no table (no CUPTI, say)
    wall_s: float = 0.0  # the seconds taking it cost (0: a line from before version 7)
    kind: str = "kernels"
    schema_version: int = SCHEMA_VERSION


def to_line(item: Header | Record | KernelTable) -> str:
    return json.dumps(asdict(item), allow_nan=True, separators=(",", ":")) + "\n"


def append(path: Path, item: Header | Record | KernelTable) -> None:
    """Append one line and flush it: a crash later loses nothing already written. A torn
    last line (a writer killed mid-line) is ended first, so it stays one bad line that the
    reader skips, and never swallows the new record."""
    line = to_line(item).encode("utf-8")
    try:
        with Path(path).open("a+b") as f:
            if f.tell():
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    line = b"\n" + line
            f.write(line)
            f.flush()
    except OSError as exc:  # a full disk names no file by itself
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def upgrade(line: dict[str, Any], where: str) -> dict[str, Any]:
    version = line.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DetcostError(f"{where}: no schema_version (is this a detcost results file?)")
    if version > SCHEMA_VERSION:
        raise DetcostError(f"{where}: schema_version {version} is newer than this detcost "
                           f"reads (up to {SCHEMA_VERSION}): upgrade detcost")
    while version < SCHEMA_VERSION:
        line = UPGRADES[version](line)
        version = line["schema_version"]
    return line


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's annotation (str, int, float, bool, Any, lists,
    dicts and optionals of these). Floats must be finite or NaN; bools are not numbers."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict or hint is dict:
        args = typing.get_args(hint)
        item = args[1] if args else Any
        return isinstance(value, dict) and all(
            isinstance(k, str) and _conforms(v, item) for k, v in value.items())
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and not math.isinf(value))
    return isinstance(value, hint)


_WORDS = {str: "text", int: "an integer", float: "a number", bool: "true or false",
          type(None): "null"}


def type_words(hint: Any) -> str:
    """A field's type in words: 'a list of numbers', 'a number or null'."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_words(h) for h in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return "a list" if item is Any else f"a list of {_plural(type_words(item))}"
    if origin is dict or hint is dict:
        return "a table"
    return _WORDS.get(hint, getattr(hint, "__name__", str(hint)))


def _plural(words: str) -> str:
    return {"a number": "numbers", "an integer": "integers", "text": "texts"}.get(words, words)


@functools.cache
def _fields_of(cls) -> tuple[dict[str, Any], frozenset[str]]:
    return typing.get_type_hints(cls), frozenset(f.name for f in fields(cls))


def _from_dict(cls, data: dict[str, Any], where: str):
    """An instance of cls from a line's dict, every known field type-checked."""
    hints, names = _fields_of(cls)
    for name in names & set(data):
        if not _conforms(data[name], hints[name]):
            raise DetcostError(f"{where}: {name} = {str(data[name])[:60]!r} is not "
                               f"{type_words(hints[name])}")
    try:
        item = cls(**{k: v for k, v in data.items() if k in names})
    except (TypeError, ValueError) as exc:
        raise DetcostError(f"{where}: malformed {cls.__name__.lower()}: {exc}") from None
    if isinstance(item, Record) and any(t < 0 or t != t for t in item.times_s):
        raise DetcostError(f"{where}: times_s holds a negative or NaN time")
    return item


def _skip(where: str, why: str) -> None:
    warnings.warn(f"{where}: skipped: {why}", ResultsWarning, stacklevel=3)


def read_run_file(path: Path, live: bool = False) -> tuple[Header, list[Record]]:
    """Read one mode's file. A torn or malformed line is skipped with a ResultsWarning that
    names the file and line; every other record stays readable. `live` (a worker may be
    writing now) skips an unfinished last line quietly. A file whose header is unreadable
    is a DetcostError, naming the file. Each case's kernel table is attached to its record."""
    header, records, tables = read_run_items(path, live)
    _attach(tables, records)
    return header, records


def read_run_items(path: Path, live: bool = False
                   ) -> tuple[Header, list[Record], list[KernelTable]]:
    """read_run_file, with the kernel tables apart from the records they belong to."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DetcostError(f"cannot read results file {path}: {exc.strerror or exc}") from None
    lines = raw.split(b"\n")
    unfinished = lines.pop()  # the part after the last newline: empty unless torn
    header: Header | None = None
    records: list[Record] = []
    tables: list[KernelTable] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = _parse_line(text, where)
        except DetcostError as exc:
            if header is None:
                raise DetcostError(f"{path}: the first line is not a readable detcost header "
                                   f"({exc})") from None
            _skip(where, str(exc).removeprefix(f"{where}: "))
            continue
        if header is None:
            if not isinstance(item, Header):
                raise DetcostError(f"{path}: the first line is not a detcost header")
            header = item
        elif isinstance(item, Record):
            records.append(item)
        elif isinstance(item, KernelTable):
            tables.append(item)
    if unfinished.strip() and not live:
        if header is None:
            raise DetcostError(f"{path}: the first line is not a detcost header")
        _skip(f"{path}:{len(lines) + 1}", "a torn line (the writer stopped mid-line)")
    if header is None:
        raise DetcostError(f"{path}: empty, or the first line is not a detcost header")
    return header, records, tables


def _attach(tables: list[KernelTable], records: list[Record]) -> None:
    """Each kernel table into its case's record (the last one of that case and process)."""
    by_case = {(r.case_id, r.process): r for r in records}
    for table in tables:
        record = by_case.get((table.case_id, table.process))
        if record is None:
            continue
        record.kernels_s = table.kernels_s
        if table.wall_s:
            record.phases_s = {**record.phases_s, "kernel_table": table.wall_s}
        if table.message:
            record.message = "; ".join(filter(None, [record.message, table.message]))


def _parse_line(text: bytes, where: str) -> Header | Record | KernelTable | None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DetcostError(f"{where}: not a JSON line") from None
    if not isinstance(data, dict):
        raise DetcostError(f"{where}: not a JSON object")
    data = upgrade(data, where)
    kind = data.get("kind")
    if kind == "header":
        return _from_dict(Header, data, where)
    if kind == "record":
        return _from_dict(Record, data, where)
    if kind == "kernels":
        return _from_dict(KernelTable, data, where)
    raise DetcostError(f"{where}: kind {str(kind)[:40]!r} is not header, record or kernels")


def run_files(paths: Iterable[Path]) -> list[Path]:
    """Every mode file under the given files or folders, sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*.jsonl") if f.is_file()))
        elif p.is_file():
            found.append(p)
        else:
            raise DetcostError(f"no results file or folder at {p}")
    return list(dict.fromkeys(p.resolve() for p in found))  # a file named twice reads once
