"""Modes: named sets of determinism knobs, applied once per process before CUDA starts.

Some knobs are read once per process (the cuBLAS workspace size is read when the first
handle is made), so two modes are never compared inside one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import unknown

CUBLAS_WORKSPACE = ":4096:8"
# The libraries whose settings a knob mode changes; which cases call each is the workloads'
# data (workloads/families.py).
CUBLAS, CUDNN, NCCL = "cublas", "cudnn", "nccl"


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
    # The library whose setting the mode changes; None: it can act on every case. A run
    # measures the mode only on cases that call it: elsewhere it would be default mode
    # again, and its time is better spent.
    library: str | None = None
    # Its knobs act only on a GPU (cuBLAS, cuDNN, NCCL): on a CPU it would be default mode
    # again, so a run there leaves it out unless asked for.
    gpu_only: bool = False
    # How pages show it: its colour, and its column in the table of what each knob costs
    # (None: not a column there).
    colour: str = "#7f7f7f"
    knob_column: int | None = None
    # Whether its first process takes kernel tables (torch.profiler): only the two modes
    # whose kernels are compared ("where the time went"); elsewhere they cost time, unread.
    kernel_tables: bool = False
    # Whether its first process compares outputs with a float64 reference: the two modes
    # whose precision is compared. A knob mode's error tells nothing those two do not, and
    # a model's reference costs a second or more.
    float64_reference: bool = False

    def acts_on(self, calls: tuple[str, ...]) -> bool:
        """Whether the mode can change a case that calls these libraries."""
        return self.library is None or self.library in calls


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("default", "PyTorch's own defaults", colour="#7f7f7f", kernel_tables=True,
             float64_reference=True),
        Mode(
            "deterministic",
            "every determinism knob on: use_deterministic_algorithms, cuDNN deterministic, "
            "cuBLAS workspace, uninitialised memory filled (torch's default)",
            use_deterministic_algorithms=True,
            cudnn_deterministic=True,
            cublas_workspace_config=CUBLAS_WORKSPACE,
            colour="#2ca02c", knob_column=5, kernel_tables=True, float64_reference=True,
        ),
        Mode(
            "deterministic-nofill",
            "deterministic, without filling uninitialised memory",
            use_deterministic_algorithms=True,
            cudnn_deterministic=True,
            cublas_workspace_config=CUBLAS_WORKSPACE,
            fill_uninitialized_memory=False,
            colour="#98df8a", knob_column=4,
        ),
        Mode(
            "cublas-workspace",
            f"only CUBLAS_WORKSPACE_CONFIG={CUBLAS_WORKSPACE}",
            cublas_workspace_config=CUBLAS_WORKSPACE, library=CUBLAS,
            gpu_only=True, colour="#1f77b4", knob_column=1,
        ),
        Mode(
            "cudnn-deterministic",
            "only torch.backends.cudnn.deterministic=True",
            cudnn_deterministic=True, library=CUDNN,
            gpu_only=True, colour="#ff7f0e", knob_column=2,
        ),
        Mode("tuned", "torch.backends.cudnn.benchmark=True (autotuned, not deterministic)",
             cudnn_benchmark=True, library=CUDNN, gpu_only=True, colour="#d62728",
             knob_column=3),
        Mode("nccl-ring", "only NCCL_ALGO=Ring (a fixed reduction order across the ranks)",
             extra_env={"NCCL_ALGO": "Ring"}, library=NCCL, gpu_only=True,
             colour="#9467bd"),
        Mode("nccl-simple", "only NCCL_PROTO=Simple", extra_env={"NCCL_PROTO": "Simple"},
             library=NCCL, gpu_only=True, colour="#8c564b"),
    )
}

# Set in every worker the runner starts, unless the caller set them: NVLink multicast
# (NVLS) can put a shared host's GPUs out of service, so it stays off; the knobs read back
# say so.
SAFE_ENVIRONMENT = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
                    "NVSHMEM_DISABLE_NVLS": "1"}

BASELINE_MODE = "default"
DETERMINISTIC_MODE = "deterministic"


def is_knob_mode(name: str) -> bool:
    """Every mode but the two that everything is compared between changes one knob."""
    return name not in (BASELINE_MODE, DETERMINISTIC_MODE)


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


def knob_columns() -> tuple[str, ...]:
    """The modes that the table of what each knob costs shows, in its order."""
    shown = [m for m in MODES.values() if m.knob_column is not None]
    return tuple(m.name for m in sorted(shown, key=lambda m: m.knob_column))


def mode_colour(name: str) -> str:
    return MODES[name].colour if name in MODES else "#7f7f7f"
