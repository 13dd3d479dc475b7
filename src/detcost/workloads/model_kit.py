"""What the model workloads share: autocast as models train, weights from a fixed seed,
FLOPs counted by torch, the compiled module where a case asks for it, BatchNorm statistics
as a trained model has them, a training step that starts from the same state every time,
and the float64 copy of that state that a reference runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from .base import Setting


def autocast(s: Setting):
    import torch

    if s.reference or s.dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(s.device.type, dtype=getattr(torch, s.dtype))


def seeded(make: Callable[[], Any], s: Setting):
    """The model made from the global RNG under the setting's seed (identical in every mode
    and process), in float32 (float64 for the reference), on the setting's device."""
    import torch

    state = torch.random.get_rng_state()
    torch.manual_seed(s.seed)
    try:
        # made on the device: a GPU draws a 124M-parameter model's initial weights in
        # milliseconds, where a CPU took seconds of every model case
        with torch.device(s.device):
            model = make()
    finally:
        torch.random.set_rng_state(state)
    return model.to(s.device, torch.float64 if s.reference else torch.float32)


def counted_flops(step: Callable[[], Any], s: Setting, pass_: str) -> float:
    """FLOPs of one call of the pass's step, as torch's FlopCounterMode counts them; 0 for
    the reference and for a pass the problem will not be stepped in."""
    if s.reference or pass_ not in s.passes:
        return 0.0
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


def widened(out, s: Setting):
    """Autocast's half-precision output in float32 (the reference stays float64)."""
    return out if s.reference else out.float()


class Net:
    """The module a step calls: the eager model while a build counts FLOPs (FlopCounterMode
    sees eager ops only), then torch.compile's module where the case asks for it. The
    float64 reference stays eager: the same arithmetic in float64, without a second compile."""

    def __init__(self, model) -> None:
        self.model = model
        self.call = model

    def __call__(self, *args):
        return self.call(*args)

    def compile(self, p: Mapping, s: Setting) -> None:
        import torch

        if p["compile"] == "inductor" and not s.reference:
            self.call = torch.compile(self.model)


def calibrate_batch_norm(model, x) -> None:
    """Running statistics from the inputs, as a trained model has: a freshly initialised
    one in eval mode multiplies its activations layer after layer (logits of 1e10)."""
    import torch
    from torch import nn

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the calibration passes
    if norms:
        model.train()
        with torch.no_grad():
            model(x)


def training(model, loss_fn: Callable[[], Any], s: Setting
              ) -> tuple[Callable[[], list[Any]], Callable[[], None]]:
    """A training step that restores the model and optimizer state before it runs, and the
    restore itself (a build calls it last, so inference sees the same weights however many
    steps counting FLOPs took)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)

    def raw() -> Any:
        optimizer.zero_grad(set_to_none=True)
        model.train()
        with autocast(s):
            loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss

    # The state to return to: the weights and buffers as built, and zero momentum (SGD's
    # first step from zero momentum is its first step from none). The step below only
    # creates the momentum buffers: inference must not see weights that one step on this
    # batch moved (the served-batch cases compare one request across batch sizes).
    weights = [*params, *model.buffers()]
    saved = [t.detach().clone() for t in weights]
    raw()
    momentum = [optimizer.state[p]["momentum_buffer"] for p in params]
    state = [*weights, *momentum]
    saved += [torch.zeros_like(m) for m in momentum]

    def restore() -> None:
        with torch.no_grad():
            for t, original in zip(state, saved, strict=True):
                t.copy_(original)

    def train_step() -> list[Any]:
        restore()
        loss = raw()
        return [loss.detach(), *(p.grad for p in params)]

    return train_step, restore


def in_float64(model, restore: Callable[[], None]):
    """A float64 copy of the model in the state every measured step starts from (its weights
    and normalisation statistics restored), for the reference."""
    import copy

    import torch

    restore()
    return copy.deepcopy(model).to(torch.float64)


def loss_and_grads(model, loss_fn: Callable[[], Any]) -> list[Any]:
    """The training step's outputs (the loss, then every gradient) in the model's precision,
    in train mode with dropout off, as the measured step computes them (its optimizer step
    comes after them, from zero momentum, and changes none of them)."""
    from torch import nn

    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    model.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    return [loss.detach(), *(p.grad for p in model.parameters() if p.requires_grad)]
