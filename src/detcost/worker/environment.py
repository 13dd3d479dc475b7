"""The environment a run measured, captured in the measuring process once per mode file and
stored in its header (environment.py names it for the report)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..torchdoc import doc_statements

_SMI_FIELDS = ("driver_version", "clocks.sm", "clocks.max.sm", "clocks.mem", "power.limit",
               "temperature.gpu", "persistence_mode")


def _run(cmd: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=cwd,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _first_version(*dists: str) -> str | None:
    return next((v for v in map(_version, dists) if v), None)


def nvidia_smi() -> dict[str, str]:
    """Driver, clocks, power limit, temperature of GPU 0 as nvidia-smi reads them."""
    out = _run(["nvidia-smi", f"--query-gpu={','.join(_SMI_FIELDS)}",
                "--format=csv,noheader,nounits", "-i", "0"])
    if not out:
        return {}
    values = [v.strip() for v in out.splitlines()[0].split(",")]
    return dict(zip(_SMI_FIELDS, values, strict=False))


CHECKOUT = Path(__file__).resolve().parents[3]  # src/detcost/worker/ -> the checkout's root


def git_commit(checkout: Path = CHECKOUT) -> dict[str, Any]:
    """The commit of the detcost checkout that runs, and whether it has changes.
    $DETCOST_GIT_COMMIT, where set, says it outright (a copy made for a remote machine can
    carry a stale .git). Otherwise only a git repository whose root is that checkout counts:
    a copy of detcost inside another repository (or an installed package) is not described
    by that repository's commit."""
    if os.environ.get("DETCOST_GIT_COMMIT"):
        return {"commit": os.environ["DETCOST_GIT_COMMIT"], "dirty": None}
    top = _run(["git", "rev-parse", "--show-toplevel"], cwd=checkout)
    if top is None or Path(top).resolve() != checkout.resolve():
        return {"commit": os.environ.get("DETCOST_GIT_COMMIT"), "dirty": None}
    commit = _run(["git", "rev-parse", "HEAD"], cwd=checkout)
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout)
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def boot_id() -> str | None:
    """This boot of this host: two runs with the same boot id ran on one machine start."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def capture(checkout: Path = CHECKOUT) -> dict[str, Any]:
    """Everything that can change a number: call in the measuring process."""
    env: dict[str, Any] = {
        "detcost": __version__,
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "triton": _version("triton"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "host": socket.gethostname(),
        "boot_id": boot_id(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cublas": _first_version("nvidia-cublas", "nvidia-cublas-cu13", "nvidia-cublas-cu12"),
        "git": git_commit(checkout),
        # torch's own list of what deterministic mode changes, as this torch states it: the
        # report sets it against what the records show (coverage.doc_against_behaviour)
        "determinism_doc": doc_statements(torch.use_deterministic_algorithms.__doc__ or ""),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update({
            "device": "cuda",
            "gpu": props.name,
            "gpu_count": torch.cuda.device_count(),
            "gpu_index": torch.cuda.current_device(),
            "gpu_uuid": str(getattr(props, "uuid", "")) or None,
            "capability": f"{props.major}.{props.minor}",
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "multiprocessors": props.multi_processor_count,
            "l2_cache_mib": round(getattr(props, "L2_cache_size", 0) / 2**20, 1),
        })
        env.update({f"smi_{k.replace('.', '_')}": v for k, v in nvidia_smi().items()})
    else:
        env.update({"device": "cpu", "gpu": None, "gpu_count": 0})
    return env
