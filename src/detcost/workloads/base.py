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
class Param:
    """A workload parameter: its default, and what a profile may set it to. The type is
    the default's; integers are at least `minimum` (1 unless said: a shape of zero or less
    means nothing); a string is one of `choices`."""

    default: ParamValue
    choices: tuple[str, ...] = ()
    minimum: float = 1
    # No shape or count is larger: beyond it, sizes overflow torch's 64-bit element counts
    # in products of a few of them (10**20 did, in a C++ error of many lines).
    maximum: float = 2**31 - 1

    def __post_init__(self) -> None:
        if isinstance(self.default, str) and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not among {self.choices}")

    def allowed(self) -> str:
        """What may be given, in words: 'an integer >= 1', 'one of: nchw, channels_last'."""
        if isinstance(self.default, bool):
            return "true or false"
        if isinstance(self.default, str):
            return "one of: " + ", ".join(self.choices)
        if isinstance(self.default, int):
            return f"an integer from {self.minimum:g} to {self.maximum:.0f}"
        return f"a number from {self.minimum:g} to {self.maximum:.0f}"

    def accepts(self, value: object) -> bool:
        if isinstance(self.default, bool):
            return isinstance(value, bool)
        if isinstance(self.default, str):
            return isinstance(value, str) and value in self.choices
        if isinstance(value, bool):
            return False
        if isinstance(self.default, int):
            return isinstance(value, int) and self.minimum <= value <= self.maximum
        return (isinstance(value, int | float) and value == value
                and self.minimum <= value <= self.maximum)


def _as_param(value: ParamValue | Param) -> Param:
    return value if isinstance(value, Param) else Param(value)


@dataclass(frozen=True)
class Work:
    """Work done by one step: FLOPs where there is arithmetic to count, and the fewest bytes
    it must move through device memory (each input read once, each output written once).
    Throughput is quoted in TFLOP/s where there are FLOPs, else in GB/s; the roofline floor
    uses both."""

    flops: float = 0.0
    bytes: float = 0.0
    # A model's step is quoted in what it processes (samples or tokens), not in FLOPs.
    items: float = 0.0
    item_unit: str = ""

    @property
    def unit(self) -> str:
        if self.items:
            return f"{self.item_unit}/s"
        return "TFLOP/s" if self.flops else "GB/s"

    @property
    def amount(self) -> float:
        """In the unit's numerator: items, TFLOP or GB."""
        if self.items:
            return self.items
        return self.flops / 1e12 if self.flops else self.bytes / 1e9


def memory_work(read: float, written: float, itemsize: int,
                extra_read_bytes: float = 0.0) -> dict[str, Work]:
    """Work of a memory-bound op that reads `read` and writes `written` elements (plus
    `extra_read_bytes`, indices say): its backward reads the output gradient and writes the
    input gradient."""
    fwd = (read + written) * itemsize + extra_read_bytes
    bwd = (written + read) * itemsize + extra_read_bytes
    return {"fwd": Work(bytes=fwd), "fwdbwd": Work(bytes=fwd + bwd)}


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
    # The passes the problem will be stepped in. A model counts FLOPs only for these:
    # counting runs the step under FlopCounterMode, most of a second for a decode. Empty
    # for a kernel table's rebuild, whose record has them.
    passes: tuple[str, ...] = ("fwd", "fwdbwd")

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
    # A whole training step (forward, loss, backward, optimizer step) returning the loss and
    # every gradient; it stands for the fwdbwd pass. It restores the weights and optimizer
    # state first, so every repeat starts from the same state.
    train_step: Callable[[], list[Any]] | None = None
    # (pass, the measured outputs) -> the same step's outputs in float64 from the same state
    # (weights, normalisation statistics, optimizer state); a decode follows the measured
    # tokens. None: the problem is built again in float64 (Setting.reference).
    reference: Callable[[str, list[Any]], list[Any]] | None = None


@dataclass(frozen=True)
class Workload:
    family: str
    name: str
    description: str
    build: Callable[[Mapping[str, ParamValue], Setting], Problem]
    # Names and what each may be (a bare value: a Param with that default); a profile may
    # set only these.
    params: Mapping[str, ParamValue | Param]
    passes: tuple[str, ...] = PASSES
    dtypes: tuple[str, ...] = ("float32", "bfloat16", "float16")
    # float32 matmul precisions that change the arithmetic (see precision.skip_reason).
    precisions: tuple[str, ...] = ("highest",)
    skip: Callable[[Mapping[str, ParamValue], str], str | None] = field(
        default=lambda params, dtype: None)
    # Take a kernel table (torch.profiler) of one step into the record, so that a slowdown
    # can be attributed to kernels: on for the models, where many kernels share a step.
    kernel_table: bool = False
    # The libraries whose settings can change it (cuBLAS, cuDNN, NCCL); None: its family's.
    calls: tuple[str, ...] | None = None
    # What must hold between parameters (groups divide channels, ...): why not, or None.
    check: Callable[[Mapping[str, ParamValue]], str | None] = field(
        default=lambda params: None)

    def __post_init__(self) -> None:
        specs = {name: _as_param(v) for name, v in self.params.items()}
        object.__setattr__(self, "params", specs)

    @property
    def key(self) -> str:
        return self.name

    @property
    def defaults(self) -> dict[str, ParamValue]:
        return {name: spec.default for name, spec in self.params.items()}

    def problem(self, params: Mapping[str, object]) -> str | None:
        """Why these parameters (every one set) cannot be run, naming the key, the value and
        what is allowed; None when they can."""
        for name, value in params.items():
            spec = self.params.get(name)
            if spec is None:
                return f"unknown parameter {name!r} (allowed: {', '.join(self.params)})"
            if not spec.accepts(value):
                return f"{name} = {_show(value)} is not allowed: {spec.allowed()}"
        # Relations between parameters are judged once every parameter has a value.
        return self.check(params) if set(params) >= set(self.params) else None


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def make_step(problem: Problem, pass_: str, setting: Setting) -> Callable[[], list[Any]]:
    """The step that is timed: forward (no autograd) or forward plus backward.

    A backward step drops the previous gradients first (`set_to_none`, as
    `optimizer.zero_grad()` does), so every iteration computes them anew.
    """
    import torch

    if pass_ == "fwdbwd" and problem.train_step is not None:
        return problem.train_step
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
