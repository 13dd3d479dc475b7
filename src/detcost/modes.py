"""Modes: named sets of determinism knobs, applied once per process before CUDA starts.

Some knobs are read once per process (the cuBLAS workspace size is read when the first
handle is made), so two modes are never compared inside one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .errors import unknown

CUBLAS_WORKSPACE = ":4096:8"


@dataclass(frozen=True)
class Mode:
    name: str
    description: str
    use_deterministic_algorithms: bool = False
    warn_only: bool = False
    cudnn_deterministic: bool = False
    cudnn_benchmark: bool = False
    cublas_workspace_config: str | None = None
    # None leaves torch's own default (True) in force.
    fill_uninitialized_memory: bool | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # The families the mode can change (the NCCL knobs act only on collectives); empty: all.
    families: tuple[str, ...] = ()
    # Its knobs act only on a GPU (cuBLAS, cuDNN, NCCL): on a CPU it would be default mode
    # again, so a run there leaves it out unless asked for.
    gpu_only: bool = False


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("default", "PyTorch's own defaults"),
        Mode(
            "deterministic",
            "every determinism knob on: use_deterministic_algorithms, cuDNN deterministic, "
            "cuBLAS workspace, uninitialised memory filled (torch's default)",
            use_deterministic_algorithms=True,
            cudnn_deterministic=True,
            cublas_workspace_config=CUBLAS_WORKSPACE,
        ),
        Mode(
            "deterministic-nofill",
            "deterministic, without filling uninitialised memory",
            use_deterministic_algorithms=True,
            cudnn_deterministic=True,
            cublas_workspace_config=CUBLAS_WORKSPACE,
            fill_uninitialized_memory=False,
        ),
        Mode(
            "cublas-workspace",
            f"only CUBLAS_WORKSPACE_CONFIG={CUBLAS_WORKSPACE}",
            cublas_workspace_config=CUBLAS_WORKSPACE,
            gpu_only=True,
        ),
        Mode(
            "cudnn-deterministic",
            "only torch.backends.cudnn.deterministic=True",
            cudnn_deterministic=True,
            gpu_only=True,
        ),
        Mode("tuned", "torch.backends.cudnn.benchmark=True (autotuned, not deterministic)",
             cudnn_benchmark=True, gpu_only=True),
        Mode("nccl-ring", "only NCCL_ALGO=Ring (a fixed reduction order across the ranks)",
             extra_env={"NCCL_ALGO": "Ring"}, families=("distributed",), gpu_only=True),
        Mode("nccl-simple", "only NCCL_PROTO=Simple", extra_env={"NCCL_PROTO": "Simple"},
             families=("distributed",), gpu_only=True),
    )
}

# Set in every worker the runner starts, unless the caller set them: NVLink multicast
# (NVLS) can put a shared host's GPUs out of service, so it stays off; the knobs read back
# say so.
SAFE_ENVIRONMENT = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
                    "NVSHMEM_DISABLE_NVLS": "1"}

BASELINE_MODE = "default"
DETERMINISTIC_MODE = "deterministic"


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise unknown("mode", name, list(MODES)) from None


def mode_environment(mode: Mode) -> dict[str, str]:
    """Environment variables the worker process must start with (read before torch is)."""
    env = dict(mode.extra_env)
    if mode.cublas_workspace_config is not None:
        env["CUBLAS_WORKSPACE_CONFIG"] = mode.cublas_workspace_config
    return env


def apply_mode(mode: Mode) -> None:
    """Set the mode's knobs in this process. Call before the first CUDA call."""
    import torch

    for key, value in mode_environment(mode).items():
        os.environ[key] = value
    if mode.cublas_workspace_config is None:
        # An inherited variable would silently change the baseline.
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    torch.use_deterministic_algorithms(mode.use_deterministic_algorithms,
                                       warn_only=mode.warn_only)
    torch.backends.cudnn.deterministic = mode.cudnn_deterministic
    torch.backends.cudnn.benchmark = mode.cudnn_benchmark
    if mode.fill_uninitialized_memory is not None:
        torch.utils.deterministic.fill_uninitialized_memory = mode.fill_uninitialized_memory


def read_knobs() -> dict[str, Any]:
    """The knobs as torch reports them now: records store what was in force, not what was asked."""
    import torch
    import torch._inductor.config as inductor  # imported by use_deterministic_algorithms too

    return {
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "deterministic_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "fill_uninitialized_memory": bool(torch.utils.deterministic.fill_uninitialized_memory),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        # Inductor's own flags (torch.compile): deterministic mode sets the first from 2.10
        "inductor_deterministic": getattr(inductor, "deterministic", None),
        "inductor_batch_invariant": getattr(inductor, "batch_invariant", None),
        # NCCL's settings in force (None: NCCL's own choice)
        **{name.lower(): os.environ.get(name) for name in
           ("NCCL_ALGO", "NCCL_PROTO", "NCCL_NVLS_ENABLE")},
    }
