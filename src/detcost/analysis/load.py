"""Records to pandas: one tidy row per record of every mode file under the given paths,
with the statistics of its raw times. Nothing here touches torch: a report is built from
result files alone."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..environment import label, machine
from ..errors import DetcostError, ResultsWarning
from ..failures import named_refusal
from ..runs.records import SCHEMA_VERSION, read_run_file, run_files
from .stats import NOISY_IQR, median_iqr

# Bump when a row's columns or their meaning change: older cached frames are then ignored.
FRAME_VERSION = 5  # 5: an excluded backend is named as the refusal


def load(paths: Iterable[Path | str], cache: Path | None = None) -> pd.DataFrame:
    """Every record under the given files or folders, one row each. With a `cache` folder,
    each file is parsed once: its rows are kept there under the hash of its bytes (as asv
    keeps its results), and a file whose bytes are unchanged is not parsed again."""
    frames = [frame for path in run_files(paths)
              if (frame := _file_frame(path, cache)) is not None and len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _file_frame(path: Path, cache: Path | None) -> pd.DataFrame | None:
    """One mode file's rows, from the cache where its bytes were parsed before. The
    warnings its parse gave are given again, so a cached file is reported as a fresh one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        warnings.warn(f"cannot read results file {path}: {exc.strerror}: file skipped",
                      ResultsWarning, stacklevel=3)
        return None
    key = hashlib.sha256(f"{FRAME_VERSION}:{SCHEMA_VERSION}:".encode() + data).hexdigest()
    kept = cache / f"{key}.pickle" if cache else None
    found = _kept(kept) if kept is not None else None
    if found is None:
        found = _parsed(path)
        if kept is not None and found[0] is not None:
            _keep(kept, found)
    frame, said = found
    for text in said:
        warnings.warn(text, ResultsWarning, stacklevel=3)
    return None if frame is None else frame.assign(file=str(path))


def _kept(path: Path) -> tuple[pd.DataFrame, list[str]] | None:
    """A cache entry, or None where there is none or it is damaged (then parsed again)."""
    try:
        return pd.read_pickle(path) if path.is_file() else None
    except Exception:
        return None


def _parsed(path: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """The file's rows (None for a file that cannot be read at all) and the warnings its
    parse gave, held back for the caller to give."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResultsWarning)
        try:
            frame = _parse(path)
        except DetcostError as exc:  # one bad file does not hide the others
            warnings.warn(f"{exc}: file skipped", ResultsWarning, stacklevel=2)
            frame = None
    return frame, [str(w.message) for w in caught if issubclass(w.category, ResultsWarning)]


def _keep(path: Path, value) -> None:
    """Write a cache entry whole or not at all; a cache that cannot be written is no error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.to_pickle(value, tmp)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _parse(path: Path) -> pd.DataFrame:
    header, records = read_run_file(path)
    env = header.environment
    rows = []
    for r in records:
        rows.append({
            "env": label(env), "gpu": env.get("gpu") or "CPU", "torch": env.get("torch"),
            "host": env.get("host"), "machine": machine(env), "run_id": r.run_id,
            "mode": r.mode, "case_id": r.case_id, "family": r.family, "workload": r.workload,
            "raised_op": named_refusal(r.raised_op, bool(r.excluded_backend), r.workload,
                                       r.params),
            "excluded_backend": r.excluded_backend,
            "shape": r.case_id.rsplit("-", 3)[0], "params": r.params, "pass_": r.pass_,
            "dtype": r.dtype, "precision": r.precision, "status": r.status,
            "message": r.message, "times_s": r.times_s, "iterations": r.iterations,
            "stopped": r.stopped, "halfwidth": r.halfwidth, "settled": r.settled,
            "host_s": r.host_s,
            "work_unit": r.work_unit, "work_amount": r.work_amount, "repeats": r.repeats,
            "distinct_digests": r.distinct_digests, "digest": r.digest,
            "max_abs_diff": r.max_abs_diff, "max_rel_diff": r.max_rel_diff,
            "max_ulp_diff": r.max_ulp_diff, "error_vs_float64": r.error_vs_float64,
            "process": r.process, "validation": r.validation, "file": str(path),
            "bound": r.bound, "fraction_of_ceiling": r.fraction_of_ceiling,
            "ceilings": header.ceilings, "driver": env.get("smi_driver_version"),
            "cuda": env.get("cuda"), "cudnn": env.get("cudnn"),
            "commit": (env.get("git") or {}).get("commit"),
            "started_at": header.started_at, "phases_s": r.phases_s,
            "profile": str((header.profile or {}).get("name") or ""),
            # how this case was measured: reruns compare only cases measured alike
            "method": measured_alike((header.profile or {}).get("measure"), r.family),
            "inductor_deterministic": (r.knobs or {}).get("inductor_deterministic"),
            "kernels_s": r.kernels_s, "determinism_doc": env.get("determinism_doc"),
            "ranks_agree": len(set(r.rank_digests)) == 1 if r.rank_digests else None,
        })
    frame = pd.DataFrame(rows)
    return add_statistics(frame) if len(frame) else frame


def measured_alike(measure: dict | None, family: str) -> str:
    """The settings a family's cases were measured with: the profile's, then the family's
    own (a profile that changes how models are timed leaves its other cases comparable)."""
    settings = dict(measure or {})
    own = (settings.pop("families", None) or {}).get(family) or {}
    return json.dumps({**settings, **own}, sort_keys=True)


def add_statistics(frame: pd.DataFrame) -> pd.DataFrame:
    """Median, IQR, noise flag and throughput from the raw round times."""
    frame = frame.copy()
    stats = frame["times_s"].map(lambda t: median_iqr(t) if len(t) else (np.nan, np.nan))
    frame["median_s"] = stats.map(lambda s: s[0])
    frame["iqr_s"] = stats.map(lambda s: s[1])
    frame["iqr_over_median"] = frame["iqr_s"] / frame["median_s"]
    # No rounds (a record claiming ok without times) is never steady.
    frame["noisy"] = ~(frame["iqr_over_median"] <= NOISY_IQR)
    frame["throughput"] = frame["work_amount"] / frame["median_s"]
    # The host's share of a step: near 1, the GPU idles between launches (launch-bound).
    frame["host_share"] = pd.to_numeric(frame["host_s"], errors="coerce") / frame["median_s"]
    frame["nondeterministic"] = frame["distinct_digests"] > 1
    frame["numerics"] = [numerics(d, p) for d, p in zip(frame["dtype"], frame["precision"],
                                                          strict=True)]
    return frame

def numerics(dtype: str, precision: str) -> str:
    """'float32/high', or the dtype alone where the matmul precision has no effect."""
    return f"{dtype}/{precision}" if dtype == "float32" else dtype
