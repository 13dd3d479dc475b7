"""Precisions and dtypes: the numeric axis every case is measured along.

`precision` is torch's float32 matmul precision. detcost applies it to cuDNN convolutions
too (`highest` = IEEE float32 everywhere, `high`/`medium` = TF32 allowed), so that the
axis means one thing across families. Note that PyTorch's own default for convolutions is
TF32 (`cudnn.allow_tf32=True`), which is detcost's `high` for conv.
"""

from __future__ import annotations

from .errors import unknown

DTYPES = ("float32", "bfloat16", "float16")
PRECISIONS = ("highest", "high", "medium")


def check_dtype(name: str) -> str:
    if name not in DTYPES:
        raise unknown("dtype", name, DTYPES)
    return name


def check_precision(name: str) -> str:
    if name not in PRECISIONS:
        raise unknown("precision", name, PRECISIONS)
    return name


def skip_reason(dtype: str, precision: str, meaningful: tuple[str, ...]) -> str | None:
    """Why (dtype, precision) means nothing for a workload, or None when it does.

    `meaningful` lists the float32 precisions that change the workload's arithmetic.
    """
    if precision == "highest":
        return None
    if dtype != "float32":
        return f"float32 matmul precision has no effect on {dtype}"
    if precision not in meaningful:
        if len(meaningful) <= 1:
            return "this workload does no matmul or convolution: precision has no effect"
        return f"precision {precision!r} computes the same as {meaningful[-1]!r} here"
    return None
