import pytest
import torch

from detcost.errors import DetcostError
from detcost.precision import check_dtype, check_precision, skip_reason
from detcost.worker.knobs import apply_precision


def test_float32_precisions_are_meaningful_only_where_the_workload_says():
    assert skip_reason("float32", "high", ("highest", "high", "medium")) is None
    assert "no effect on bfloat16" in skip_reason("bfloat16", "high", ("highest", "high"))
    assert "same as 'high'" in skip_reason("float32", "medium", ("highest", "high"))
    assert "no matmul" in skip_reason("float32", "high", ("highest",))
    assert skip_reason("float16", "highest", ("highest",)) is None


def test_apply_precision_sets_matmul_and_cudnn():
    try:
        apply_precision("highest")
        assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cudnn.allow_tf32 is False
        apply_precision("medium")
        assert torch.get_float32_matmul_precision() == "medium"
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        apply_precision("highest")
        torch.backends.cudnn.allow_tf32 = True


def test_bad_names_are_one_line_errors():
    with pytest.raises(DetcostError, match=r"unknown dtype 'float8'.*float32, bfloat16, float16"):
        check_dtype("float8")
    with pytest.raises(DetcostError, match="unknown precision 'low'"):
        check_precision("low")
