"""What a workload is: a family, a name, typed parameters and a builder of one problem.

A builder returns a `Problem`: a forward closure over inputs it made, the leaves whose
gradients a backward pass produces, and the work done. `make_step` turns a problem into
the step that is timed and repeated; it is the same for every family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PASSES = ("fwd", "fwdbwd")
ParamValue = int | float | str | bool


@dataclass(frozen=True)
class Work:
    """Work done by one step: FLOPs where there is arithmetic to count, and the fewest bytes
    it must move through device memory (each input read once, each output written once).
    Throughput is quoted in TFLOP/s where there are FLOPs, else in GB/s; the roofline floor
    uses both."""

    flops: float = 0.0
    bytes: float = 0.0

    @property
    def unit(self) -> str:
        return "TFLOP/s" if self.flops else "GB/s"

    @property
    def amount(self) -> float:
        """In the unit's numerator: TFLOP or GB."""
        return self.flops / 1e12 if self.flops else self.bytes / 1e9


@dataclass
class Setting:
    """Where and how a problem is built. `reference` upcasts the inputs to float64 after
    rounding them to `dtype`, so the reference computes the same function of the same
    values."""

    device: Any  # torch.device
    dtype: str
    seed: int = 0
    reference: bool = False
    generator: Any = None

    def __post_init__(self) -> None:
        import torch

        self.generator = torch.Generator(device=self.device).manual_seed(self.seed)

    @property
    def torch_dtype(self):
        import torch

        return torch.float64 if self.reference else getattr(torch, self.dtype)

    def _finish(self, t):
        import torch

        t = t.to(getattr(torch, self.dtype))
        return t.to(torch.float64) if self.reference else t

    def randn(self, *shape: int, scale: float = 1.0):
        import torch

        t = torch.randn(shape, generator=self.generator, device=self.device) * scale
        return self._finish(t)

    def rand(self, *shape: int):
        import torch

        return self._finish(torch.rand(shape, generator=self.generator, device=self.device))

    def randint(self, high: int, *shape: int):
        import torch

        return torch.randint(0, high, shape, generator=self.generator, device=self.device)


@dataclass
class Problem:
    forward: Callable[[], Any]
    grad_leaves: list[Any]
    work: Mapping[str, Work]  # per pass
    # Inputs outside the step that a context (backend selection) needs; kept for reference.
    notes: str = ""


@dataclass(frozen=True)
class Workload:
    family: str
    name: str
    description: str
    build: Callable[[Mapping[str, ParamValue], Setting], Problem]
    params: Mapping[str, ParamValue]  # names and defaults: a profile may set only these
    passes: tuple[str, ...] = PASSES
    dtypes: tuple[str, ...] = ("float32", "bfloat16", "float16")
    # float32 matmul precisions that change the arithmetic (see precision.skip_reason).
    precisions: tuple[str, ...] = ("highest",)
    skip: Callable[[Mapping[str, ParamValue], str], str | None] = field(
        default=lambda params, dtype: None)

    @property
    def key(self) -> str:
        return self.name


def make_step(problem: Problem, pass_: str, setting: Setting) -> Callable[[], list[Any]]:
    """The step that is timed: forward (no autograd) or forward plus backward.

    A backward step drops the previous gradients first (`set_to_none`, as
    `optimizer.zero_grad()` does), so every iteration computes them anew.
    """
    import torch

    if pass_ == "fwd":
        def forward_step() -> list[Any]:
            with torch.no_grad():
                return [problem.forward()]

        return forward_step

    leaves = problem.grad_leaves
    for leaf in leaves:
        leaf.requires_grad_(True)
    with torch.no_grad():
        shape = problem.forward().shape
    grad_out = setting.randn(*shape)

    def forward_backward_step() -> list[Any]:
        for leaf in leaves:
            leaf.grad = None
        out = problem.forward()
        out.backward(grad_out)
        return [out.detach(), *(leaf.grad for leaf in leaves)]

    return forward_backward_step
