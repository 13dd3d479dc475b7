"""Records to pandas: one tidy row per record of every mode file under the given paths,
with the statistics of its raw times. Nothing here touches torch: a report is built from
result files alone."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..environment import label, machine
from ..errors import DetcostError, ResultsWarning
from ..runs.records import read_run_file, run_files
from .stats import NOISY_IQR, median_iqr


def load(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Every record under the given files or folders, one row each."""
    rows = []
    for path in run_files(paths):
        try:
            header, records = read_run_file(path)
        except DetcostError as exc:  # one bad file does not hide the others
            warnings.warn(f"{exc}: file skipped", ResultsWarning, stacklevel=2)
            continue
        env = header.environment
        for r in records:
            rows.append({
                "env": label(env), "gpu": env.get("gpu") or "CPU", "torch": env.get("torch"),
                "host": env.get("host"), "machine": machine(env), "run_id": r.run_id,
                "mode": r.mode, "case_id": r.case_id, "family": r.family, "workload": r.workload,
                "raised_op": r.raised_op, "excluded_backend": r.excluded_backend,
                "shape": r.case_id.rsplit("-", 3)[0], "params": r.params, "pass_": r.pass_,
                "dtype": r.dtype, "precision": r.precision, "status": r.status,
                "message": r.message, "times_s": r.times_s, "iterations": r.iterations,
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
                "inductor_deterministic": (r.knobs or {}).get("inductor_deterministic"),
                "kernels_s": r.kernels_s, "determinism_doc": env.get("determinism_doc"),
                "ranks_agree": len(set(r.rank_digests)) == 1 if r.rank_digests else None,
            })
    frame = pd.DataFrame(rows)
    return add_statistics(frame) if len(frame) else frame

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
    frame["nondeterministic"] = frame["distinct_digests"] > 1
    frame["numerics"] = [numerics(d, p) for d, p in zip(frame["dtype"], frame["precision"],
                                                          strict=True)]
    return frame

def numerics(dtype: str, precision: str) -> str:
    """'float32/high', or the dtype alone where the matmul precision has no effect."""
    return f"{dtype}/{precision}" if dtype == "float32" else dtype
