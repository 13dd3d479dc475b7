"""torchvision's detection ops with a backward: roi_align, roi_pool, ps_roi_align and
deform_conv2d. Their CUDA backward scatters with atomics; under deterministic mode
torchvision switches implementation or raises."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload, memory_work

OPS = ("roi_align", "roi_pool", "ps_roi_align")


def _boxes(s: Setting, n: int, rois: int, hw: int):
    """(rois, 5) boxes: batch index, then x1, y1, x2, y2 inside the feature map; many
    overlap, so their gradients land on shared pixels."""
    import torch

    corner = s.rand(rois, 2) * (hw * 0.6)
    size = s.rand(rois, 2) * (hw * 0.4) + 1
    index = s.randint(n, rois).to(corner.dtype)
    return torch.cat([index[:, None], corner, corner + size], dim=1)


def build_roi(p: Mapping, s: Setting) -> Problem:
    from torchvision import ops

    op, n, c, hw, rois, out = (p["op"], int(p["n"]), int(p["c"]), int(p["hw"]),
                               int(p["rois"]), int(p["output"]))
    x = s.randn(n, c, hw, hw)
    boxes = _boxes(s, n, rois, hw)
    if op == "roi_align":
        forward = lambda: ops.roi_align(x, boxes, out, sampling_ratio=2)  # noqa: E731
        channels = c
    elif op == "roi_pool":
        forward = lambda: ops.roi_pool(x, boxes, out)  # noqa: E731
        channels = c
    else:
        forward = lambda: ops.ps_roi_align(x, boxes, out, sampling_ratio=2)  # noqa: E731
        channels = c // (out * out)
    return Problem(forward, [x], memory_work(x.numel(), rois * channels * out * out,
                                             s.torch_dtype.itemsize))


def build_deform_conv2d(p: Mapping, s: Setting) -> Problem:
    from torchvision import ops

    n, cin, cout, hw, k = (int(p[x]) for x in ("n", "cin", "cout", "hw", "k"))
    x = s.randn(n, cin, hw, hw)
    w = s.randn(cout, cin, k, k, scale=(cin * k * k) ** -0.5)
    offset = s.randn(n, 2 * k * k, hw, hw)
    macs = n * cout * hw * hw * cin * k * k
    item = s.torch_dtype.itemsize
    moved = (x.numel() + w.numel() + offset.numel() + n * cout * hw * hw) * item
    return Problem(lambda: ops.deform_conv2d(x, offset, w, padding=k // 2), [x, w, offset],
                   {"fwd": Work(flops=2 * macs, bytes=moved),
                    "fwdbwd": Work(flops=6 * macs, bytes=3 * moved)})


VISION_WORKLOADS = [
    Workload("vision", "roi", "torchvision.ops roi_align, roi_pool or ps_roi_align of "
             "overlapping boxes", build_roi,
             params={"op": Param("roi_align", OPS), "n": 8, "c": 256, "hw": 64, "rois": 2048,
                     "output": 7},
             check=lambda p: (f"ps_roi_align needs c divisible by output^2 = {p['output']**2}"
                              if p["op"] == "ps_roi_align" and p["c"] % p["output"] ** 2
                              else None),
             calls=()),  # torchvision's own kernels: no cuBLAS (deform_conv2d's GEMMs are)
    Workload("vision", "deform_conv2d", "torchvision.ops.deform_conv2d, padding k//2",
             build_deform_conv2d,
             params={"n": 8, "cin": 64, "cout": 64, "hw": 56, "k": 3}),
]
