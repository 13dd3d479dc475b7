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


HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


ALL_SYNTHETIC_MODES = ("default", "deterministic", "cudnn-deterministic")


def write_synthetic_run(folder: Path, gpu: str, run_id: str, slow: float = 2.0,
                        processes: int = 1, broken: bool = False,
                        modes: tuple[str, ...] = ALL_SYNTHETIC_MODES,
                        started_at: str = "t", profile: str = "",
                        boot_ids: dict[str, str] | None = None) -> Path:
    """A run in default, deterministic and one single-knob mode, with made-up but consistent
    numbers: deterministic is `slow` times slower on the scatter case, default varies."""
    from detcost.runs.folder import ModeProcess
    from detcost.runs.records import Header, Record, append

    folder.mkdir(parents=True, exist_ok=True)
    env = {"gpu": gpu, "torch": "2.11.0", "cuda": "13.0", "cudnn": 91900,
           "git": {"commit": "abc"}}
    cases = [("scatter", "scatter_add", "scatter_add(size=8,bins=2)", "float32", "highest",
              "GB/s"),
             ("conv", "conv2d", f"conv2d(n=1,{HOSTILE})", "bfloat16", "highest", "TFLOP/s"),
             ("conv", "conv2d", "conv2d(n=2)", "float32", "high", "TFLOP/s")]
    for mode in modes:
        for process in range(1, processes + 1):
            path = folder / ModeProcess(run_id, mode, process).file_name
            booted = {"boot_id": boot_ids[mode], "gpu_uuid": "GPU-1"} if boot_ids else {}
            append(path, Header(run_id=run_id, mode=mode, mode_description="", knobs={},
                                environment={**env, **booted}, profile={"name": profile},
                                started_at=started_at,
                                process=process,
                                ceilings={"copy_gbs": 3000.0, "bf16_tflops": 800.0}))
            for family, workload, shape, dtype, precision, unit in cases:
                factor = slow if (mode == "deterministic" and family == "scatter") else 1.0
                times = [factor * t * 1e-3 for t in (1.0, 1.01, 0.99, 1.02, 0.98)]
                varied = mode == "default" and family == "scatter"
                distinct = 2 if (varied or (broken and mode == "deterministic")) else 1
                append(path, Record(
                    run_id=run_id, mode=mode, case_id=f"{shape}-fwd-{dtype}-{precision}",
                    family=family, workload=workload, params={}, pass_="fwd", dtype=dtype,
                    precision=precision, status="ok", times_s=times, iterations=10,
                    work_unit=unit, work_amount=1.0, repeats=4, distinct_digests=distinct,
                    digest=f"d-{mode}-{process if varied else 1}", max_ulp_diff=3 * varied,
                    error_vs_float64=1e-3, process=process, bound="copy_gbs",
                    fraction_of_ceiling=0.5))
            append(path, Record(
                run_id=run_id, mode=mode, case_id="put(size=8)-fwd-float32-highest",
                family="scatter", workload="put", params={}, pass_="fwd", dtype="float32",
                precision="highest", process=process,
                status="unsupported" if mode == "deterministic" else "ok",
                message="put_ does not have a deterministic implementation",
                raised_op="put_" if mode == "deterministic" else "",
                times_s=[1e-3] * 5, iterations=1, work_unit="GB/s", work_amount=1.0,
                repeats=4, distinct_digests=1, digest="p"))
    return folder


def write_records(folder: Path, records: list[dict], run_id: str = "r", gpu: str = "GPU-A",
                  started_at: str = "t", environment: dict | None = None) -> Path:
    """Case records into `folder`, one mode file (with its header) per mode and process.
    Each dict sets the fields that matter to a test (at least mode and case_id); the rest
    take plain defaults: one ok measurement of 1 s with one digest."""
    from detcost.runs.folder import ModeProcess
    from detcost.runs.records import Header, Record, append

    folder.mkdir(parents=True, exist_ok=True)
    for fields in records:
        mode, process = fields["mode"], fields.get("process", 1)
        path = folder / ModeProcess(run_id, mode, process).file_name
        if not path.exists():
            append(path, Header(run_id=run_id, mode=mode, mode_description="", knobs={},
                                environment={"gpu": gpu, "torch": "2.11.0",
                                             **(environment or {})},
                                profile={}, started_at=started_at, process=process))
        append(path, Record(**{
            "run_id": run_id, "family": "scatter", "workload": "w", "params": {},
            "pass_": "fwd", "dtype": "float32", "precision": "highest", "status": "ok",
            "times_s": [1.0], "iterations": 1, "work_unit": "GB/s", "work_amount": 1.0,
            "repeats": 2, "distinct_digests": 1, "digest": "d", **fields}))
    return folder


@pytest.fixture
def two_gpu_results(tmp_path: Path) -> Path:
    raw = tmp_path / "results" / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a", slow=2.0, processes=2)
    write_synthetic_run(raw / "b", f"GPU-B {HOSTILE}", "run-b", slow=3.0)
    return tmp_path / "results"
