"""What each family of workloads is, as data: its colour on every page, whether it is
evidence only (the data behind a claim, whose speed decides nothing), and which libraries
its ops call, whose settings a knob mode changes (modes.py)."""

from __future__ import annotations

from dataclasses import dataclass

# Where each knob can act (torch-determinism-inventory, checked against the runs' kernel
# tables): CUBLAS_WORKSPACE_CONFIG on what calls cuBLAS (matmuls and linear layers,
# attention's projections and MATH backend, models, served requests, DDP and FSDP,
# deform_conv2d's im2col matmul, the allocation-history matmul); cuDNN's flags on
# convolutions, the models built of them and the allocation-history convolution; NCCL's on
# collectives. A workload can narrow its family's list (Workload.calls).
BLAS_DNN = ("cublas", "cudnn")


@dataclass(frozen=True)
class Family:
    name: str
    colour: str
    evidence_only: bool = False
    calls: tuple[str, ...] = ()


# One colour per family across every page and figure (a colour-blind-safe set first).
FAMILY_FACTS: dict[str, Family] = {f.name: f for f in (
    Family("model", "#332288", calls=BLAS_DNN),
    Family("matmul", "#117733", calls=("cublas",)),
    Family("conv", "#1f77b4", calls=("cudnn",)),
    Family("attention", "#d62728", calls=("cublas",)),
    Family("scatter", "#2ca02c"),
    Family("pooling", "#88ccee"),
    Family("resample", "#ddcc77"),
    Family("padding", "#cc6677"),
    Family("loss", "#aa4499"),
    Family("scan", "#44aa99"),
    Family("vision", "#999933", calls=("cublas",)),
    Family("invariance", "#882255", calls=("cublas",)),
    Family("distributed", "#e69f00", calls=("cublas", "nccl")),
    Family("claims", "#bbbbbb", evidence_only=True, calls=BLAS_DNN),
    Family("user", "#9467bd", calls=BLAS_DNN),
)}
OTHER = Family("other", "#7f7f7f")


def family(name: str) -> Family:
    """The facts of a family; a family only a user's workloads have gets plain ones (and
    may call anything)."""
    return FAMILY_FACTS.get(name, Family(name, OTHER.colour, calls=BLAS_DNN))


def evidence_only() -> tuple[str, ...]:
    return tuple(f.name for f in FAMILY_FACTS.values() if f.evidence_only)


def library_calls(family_name: str, workload_calls: tuple[str, ...] | None = None
                  ) -> tuple[str, ...]:
    """The libraries a case calls: its workload's own list, else its family's."""
    return workload_calls if workload_calls is not None else family(family_name).calls
