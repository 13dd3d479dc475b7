"""Resampling: F.interpolate and F.grid_sample, whose backward scatters each output
gradient into several input pixels. Under deterministic mode, bilinear (4-D) and trilinear
(5-D) interpolation take a decomposition whose backward is a sorted index_put; linear,
bicubic, area and antialiased interpolation, and grid_sample, raise in their backward."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Workload, memory_work

MODES = ("bilinear", "trilinear", "linear", "bicubic", "area", "bilinear_aa", "bicubic_aa")


def build_interpolate(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    mode, n, c, hw, depth = p["mode"], int(p["n"]), int(p["c"]), int(p["hw"]), int(p["depth"])
    scale = int(p["scale"])
    base = mode.removesuffix("_aa")
    spatial = {"linear": (hw * hw,), "trilinear": (depth, hw, hw)}.get(base, (hw, hw))
    x = s.randn(n, c, *spatial)
    size = tuple(d * scale for d in spatial)
    if base == "area":  # area averages windows: downsample, with overlapping ones
        size = tuple(max(1, d * 2 // 3) for d in spatial)
    kwargs = {} if base == "area" else {"align_corners": False}
    if mode.endswith("_aa"):
        kwargs["antialias"] = True
        size = tuple(max(1, d // scale) for d in spatial)  # antialiasing is for downscaling

    def forward():
        return F.interpolate(x, size=size, mode=base, **kwargs)

    out = 1
    for d in size:
        out *= d
    return Problem(forward, [x], memory_work(x.numel(), n * c * out, s.torch_dtype.itemsize))


def build_grid_sample(p: Mapping, s: Setting) -> Problem:
    import torch.nn.functional as F

    dims, n, c, hw, depth = int(p["dims"]), int(p["n"]), int(p["c"]), int(p["hw"]), \
        int(p["depth"])
    spatial = (hw, hw) if dims == 2 else (depth, hw, hw)
    x = s.randn(n, c, *spatial)
    grid = s.rand(n, *spatial, dims) * 2 - 1  # sample points inside the image
    out = n * c
    for d in spatial:
        out *= d
    return Problem(lambda: F.grid_sample(x, grid, align_corners=False), [x, grid],
                   memory_work(x.numel() + grid.numel(), out, s.torch_dtype.itemsize))


RESAMPLE_WORKLOADS = [
    Workload("resample", "interpolate", "F.interpolate (nn.Upsample): linear on (N, C, L), "
             "bilinear, bicubic, area on (N, C, H, W), trilinear on (N, C, D, H, W); _aa = "
             "antialias=True", build_interpolate,
             params={"mode": Param("bilinear", MODES), "n": 16, "c": 64, "hw": 64,
                     "depth": 16, "scale": 2}),
    Workload("resample", "grid_sample", "F.grid_sample, bilinear, 2-D or 3-D",
             build_grid_sample,
             params={"dims": Param(2, minimum=2), "n": 16, "c": 64, "hw": 64, "depth": 16},
             check=lambda p: "dims must be 2 or 3" if p["dims"] > 3 else None),
]
