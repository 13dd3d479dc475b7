"""Convolutions through cuDNN: deterministic mode restricts cuDNN (and its autotuner) to
deterministic algorithms, mostly for the backward passes (data and filter gradients)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload

LAYOUTS = ("nchw", "channels_last")


def _memory_format(layout: str, dims: int):
    import torch

    if layout == "nchw":
        return torch.contiguous_format
    if layout == "channels_last":
        return torch.channels_last if dims == 2 else torch.channels_last_3d
    raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")


def _conv_work(macs: float, x: int, w: int, y: int, itemsize: int) -> dict[str, Work]:
    """x, w, y: elements of input, weight and output. Backward computes the data and the
    filter gradient, each as costly as the forward; it reads dy, x and w and writes dx
    and dw."""
    fwd = (x + w + y) * itemsize
    bwd = (y + x + w + x + w) * itemsize
    return {"fwd": Work(flops=2 * macs, bytes=fwd),
            "fwdbwd": Work(flops=6 * macs, bytes=fwd + bwd)}


def _build_conv(p: Mapping, s: Setting, dims: int) -> Problem:
    import torch.nn.functional as F

    n, cin, cout, k, stride, groups = (int(p[x]) for x in ("n", "cin", "cout", "k", "stride",
                                                             "groups"))
    spatial = (int(p["hw"]),) * 2
    if dims == 3:
        spatial = (int(p["depth"]), *spatial)
    fmt = _memory_format(str(p["layout"]), dims)
    x = s.randn(n, cin, *spatial).contiguous(memory_format=fmt)
    fan_in = cin // groups * k**dims
    w = s.randn(cout, cin // groups, *(k,) * dims, scale=fan_in**-0.5)
    w = w.contiguous(memory_format=fmt)
    conv = F.conv2d if dims == 2 else F.conv3d
    out_spatial = [(d + 2 * (k // 2) - k) // stride + 1 for d in spatial]
    macs = n * cout * math.prod(out_spatial) * (cin // groups) * k**dims
    y = n * cout * math.prod(out_spatial)
    return Problem(
        forward=lambda: conv(x, w, stride=stride, padding=k // 2, groups=groups),
        grad_leaves=[x, w],
        work=_conv_work(macs, x.numel(), w.numel(), y, s.torch_dtype.itemsize),
    )


def build_conv2d(p: Mapping, s: Setting) -> Problem:
    return _build_conv(p, s, dims=2)


def build_conv3d(p: Mapping, s: Setting) -> Problem:
    return _build_conv(p, s, dims=3)


def build_conv_transpose2d(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    n, cin, cout, hw, k, stride = (int(p[x]) for x in ("n", "cin", "cout", "hw", "k", "stride"))
    fmt = _memory_format(str(p["layout"]), 2)
    x = s.randn(n, cin, hw, hw).contiguous(memory_format=fmt)
    w = s.randn(cin, cout, k, k, scale=(cin * k * k / stride**2) ** -0.5)
    w = w.contiguous(memory_format=fmt)
    padding = (k - stride) // 2
    # Every input pixel is multiplied into a k x k x cout patch of the output.
    macs = n * cin * hw * hw * cout * k * k
    out_hw = (hw - 1) * stride - 2 * padding + k
    return Problem(
        forward=lambda: F.conv_transpose2d(x, w, stride=stride, padding=padding),
        grad_leaves=[x, w],
        work=_conv_work(macs, x.numel(), w.numel(), n * cout * out_hw * out_hw,
                        s.torch_dtype.itemsize),
    )


_CONV_PRECISIONS = ("highest", "high")  # cuDNN has TF32 but no bf16 mode for float32
_LAYOUT = Param("nchw", LAYOUTS)


def check_conv(p: Mapping) -> str | None:
    groups = int(p.get("groups", 1))
    if p["cin"] % groups or p["cout"] % groups:
        return f"groups = {groups} must divide cin = {p['cin']} and cout = {p['cout']}"
    sides = [p["hw"], *([p["depth"]] if "depth" in p else [])]
    if p["k"] > min(sides):
        return f"k = {p['k']} is larger than the input ({min(sides)})"
    if "groups" not in p and p["k"] < p["stride"]:
        return f"k = {p['k']} must be at least stride = {p['stride']} for a transposed conv"
    return None

CONV_WORKLOADS = [
    Workload(
        "conv", "conv2d", "F.conv2d (nn.Conv2d), padding k//2",
        build_conv2d,
        params={"n": 32, "cin": 64, "cout": 64, "hw": 56, "k": 3, "stride": 1, "groups": 1,
                "layout": _LAYOUT},
        precisions=_CONV_PRECISIONS, check=check_conv,
    ),
    Workload(
        "conv", "conv3d", "F.conv3d (nn.Conv3d), padding k//2",
        build_conv3d,
        params={"n": 8, "cin": 64, "cout": 64, "depth": 8, "hw": 32, "k": 3, "stride": 1,
                "groups": 1, "layout": _LAYOUT},
        precisions=_CONV_PRECISIONS, check=check_conv,
    ),
    Workload(
        "conv", "conv_transpose2d", "F.conv_transpose2d (nn.ConvTranspose2d), upsampling",
        build_conv_transpose2d,
        params={"n": 32, "cin": 128, "cout": 64, "hw": 28, "k": 4, "stride": 2,
                "layout": _LAYOUT},
        precisions=_CONV_PRECISIONS, check=check_conv,
    ),
]
