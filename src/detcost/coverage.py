"""Coverage of torch's own list: every op that `torch.use_deterministic_algorithms.__doc__`
names is measured by a workload (with the parameters that reach it) or listed here with the
reason it is not. A torch whose doc names a new op fails the coverage test until the op is
placed in one of the two tables."""

from __future__ import annotations

from typing import Any

from .torchdoc import doc_ops

# doc name -> (workload, the parameters that reach the op's changed or raising path)
COVERED: dict[str, tuple[str, dict[str, Any]]] = {
    "torch.nn.Conv2d": ("conv2d", {}),
    "torch.nn.Conv3d": ("conv3d", {}),
    "torch.nn.ConvTranspose2d": ("conv_transpose2d", {}),
    "torch.nn.ReplicationPad1d": ("pad", {"mode": "replicate", "dims": 1}),
    "torch.nn.ReplicationPad2d": ("pad", {"mode": "replicate", "dims": 2}),
    "torch.nn.ReplicationPad3d": ("pad", {"mode": "replicate", "dims": 3}),
    "torch.nn.ReflectionPad1d": ("pad", {"mode": "reflect", "dims": 1}),
    "torch.nn.ReflectionPad2d": ("pad", {"mode": "reflect", "dims": 2}),
    "torch.nn.ReflectionPad3d": ("pad", {"mode": "reflect", "dims": 3}),
    "torch.cumsum": ("cumsum", {"rows": 1}),
    "torch.Tensor.index_put": ("index_put", {"accumulate": False}),
    "torch.Tensor.put_": ("put", {}),
    "torch.Tensor.scatter_add_": ("scatter_add", {}),
    "torch.gather": ("gather", {}),
    "torch.index_add": ("index_add", {}),
    "torch.index_select": ("index_select", {}),
    "torch.repeat_interleave": ("repeat_interleave", {}),
    "torch.Tensor.index_copy": ("index_copy", {}),
    "torch.Tensor.scatter": ("scatter", {}),
    "torch.Tensor.scatter_reduce": ("scatter_reduce", {"reduce": "prod"}),
    "torch.nn.MaxPool3d": ("pool", {"op": "max_pool3d"}),
    "torch.nn.AvgPool3d": ("pool", {"op": "avg_pool3d"}),
    "torch.nn.AdaptiveAvgPool2d": ("pool", {"op": "adaptive_avg_pool2d"}),
    "torch.nn.AdaptiveAvgPool3d": ("pool", {"op": "adaptive_avg_pool3d"}),
    "torch.nn.AdaptiveMaxPool2d": ("pool", {"op": "adaptive_max_pool2d"}),
    "torch.nn.FractionalMaxPool2d": ("pool", {"op": "fractional_max_pool2d"}),
    "torch.nn.FractionalMaxPool3d": ("pool", {"op": "fractional_max_pool3d"}),
    "torch.nn.MaxUnpool1d": ("pool", {"op": "max_unpool1d"}),
    "torch.nn.MaxUnpool2d": ("pool", {"op": "max_unpool2d"}),
    "torch.nn.MaxUnpool3d": ("pool", {"op": "max_unpool3d"}),
    "torch.nn.functional.interpolate": ("interpolate", {"mode": "bicubic"}),
    "torch.nn.functional.grid_sample": ("grid_sample", {}),
    "torch.nn.NLLLoss": ("cross_entropy", {"loss": "nll_loss", "spatial": True}),
    "torch.nn.CTCLoss": ("ctc_loss", {}),
    "torch.nn.Embedding": ("embedding", {"indices": "skewed"}),
    "torch.nn.EmbeddingBag": ("embedding_bag", {"mode": "max"}),
    "torch.histc": ("histc", {}),
    "torch.bincount": ("bincount", {"weighted": True}),
    "torch.median": ("median", {}),
}

# doc name -> why no workload measures it
NOT_COVERED: dict[str, str] = {
    "torch.nn.Conv1d": "the same cuDNN restriction to deterministic algorithms as Conv2d and "
                       "Conv3d, which are measured; 1-D convolutions are a thin case of it",
    "torch.nn.ConvTranspose1d": "the same cuDNN restriction as ConvTranspose2d, which is "
                                "measured",
    "torch.nn.ConvTranspose3d": "the same cuDNN restriction as ConvTranspose2d and Conv3d, "
                                "which are measured",
    "torch.bmm": "changes only for sparse x dense (a cuSPARSE path); detcost measures dense "
                 "matmuls (matmul op=bmm), and sparse kernels are out of its scope",
    "torch.Tensor.__getitem__": "changes only when differentiating a CPU tensor: CPU-only",
    "torch.Tensor.resize_": "raises only for quantized tensors, which have no CUDA kernels",
}

def uncovered(doc: str) -> list[str]:
    """Ops the doc names that neither table places: each needs a workload or a reason."""
    return [op for op in doc_ops(doc) if op not in COVERED and op not in NOT_COVERED]


# The doc's statements that cover several variants of one op (or one op with opposite
# statements per variant): each variant is judged on its own.
DOC_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "torch.nn.functional.interpolate": [{"mode": m} for m in
                                        ("linear", "bilinear", "bicubic", "trilinear")],
    "torch.Tensor.scatter_reduce": [{"reduce": r} for r in ("sum", "mean", "prod")],
    "torch.Tensor.put_": [{"accumulate": False}, {"accumulate": True}],
    "torch.Tensor.index_put": [{"accumulate": False}, {"accumulate": True}],
}
def judged_variants() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(doc op, workload, the parameters that reach it, the variant the doc names) for every
    covered op and every variant of it that the doc names."""
    return [(op, workload, {**params, **variant}, variant)
            for op, (workload, params) in COVERED.items()
            for variant in DOC_VARIANTS.get(op, [{}])]
