"""The knobs of a mode and of a precision, set in this process, and read back as torch
reports them (records store what was in force, not what was asked)."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch._inductor.config as inductor  # imported by use_deterministic_algorithms too

from ..modes import Mode, mode_environment
from ..precision import check_dtype, check_precision


def apply_mode(mode: Mode) -> None:
    """Set the mode's knobs in this process. Call before the first CUDA call."""
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


def apply_precision(precision: str) -> None:
    """torch's float32 matmul precision, applied to cuDNN convolutions too (precision.py)."""
    torch.set_float32_matmul_precision(check_precision(precision))
    torch.backends.cudnn.allow_tf32 = precision != "highest"


def torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, check_dtype(name))


def read_knobs() -> dict[str, Any]:
    """The knobs as torch reports them now."""
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
