"""Losses: cross_entropy / nll_loss on (N, C, H, W) take the nll_loss2d path, whose reduced
forward raises under deterministic mode (on (N, C) it does not); ctc_loss's native CUDA
backward raises. Segmentation and speech models meet these."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

INDEX_BYTES = 8


def build_cross_entropy(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    n, classes, hw = int(p["n"]), int(p["classes"]), int(p["hw"])
    spatial = (hw, hw) if p["spatial"] else ()
    logits = s.randn(n, classes, *spatial)
    target = s.randint(classes, n, *spatial)
    loss = F.cross_entropy if p["loss"] == "cross_entropy" else (
        lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t))
    item = s.torch_dtype.itemsize
    moved = logits.numel() * item + target.numel() * INDEX_BYTES
    return Problem(lambda: loss(logits, target), [logits],
                   {"fwd": Work(bytes=moved), "fwdbwd": Work(bytes=2 * moved +
                                                             logits.numel() * item)})


def build_ctc_loss(p: Mapping, s: Setting) -> Problem:
    import torch
    import torch.nn.functional as F

    batch, time, classes, length = (int(p["batch"]), int(p["time"]), int(p["classes"]),
                                    int(p["target_length"]))
    logits = s.randn(time, batch, classes)
    # Targets are labels 1..C-1 (0 is the blank), padded (N, S): the native CUDA kernel.
    targets = s.randint(classes - 1, batch, length) + 1
    input_lengths = torch.full((batch,), time, dtype=torch.long, device=s.device)
    target_lengths = torch.full((batch,), length, dtype=torch.long, device=s.device)

    def forward():
        return F.ctc_loss(F.log_softmax(logits, dim=2), targets, input_lengths,
                          target_lengths)

    moved = logits.numel() * s.torch_dtype.itemsize + targets.numel() * INDEX_BYTES
    return Problem(forward, [logits], {"fwd": Work(bytes=moved), "fwdbwd": Work(
        bytes=2 * moved + logits.numel() * s.torch_dtype.itemsize)})


LOSS_WORKLOADS = [
    Workload("loss", "cross_entropy", "F.cross_entropy or F.nll_loss(log_softmax), mean "
             "reduction, on (N, C) or (N, C, H, W) (the nll_loss2d path)",
             build_cross_entropy,
             params={"loss": Param("cross_entropy", ("cross_entropy", "nll_loss")),
                     "spatial": True, "n": 16, "classes": 21, "hw": 128}),
    Workload("loss", "ctc_loss", "F.ctc_loss, padded targets (the native CUDA kernel)",
             build_ctc_loss,
             params={"batch": 32, "time": 256, "classes": 64, "target_length": 64},
             dtypes=("float32",),
             check=lambda p: (None if p["classes"] >= 2 and 2 * p["target_length"] < p["time"]
                              else "ctc_loss needs classes >= 2 and time > 2 x target_length")),
]
