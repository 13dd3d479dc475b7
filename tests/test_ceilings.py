import pytest

from detcost.ceilings import bounding_ceiling, fraction_of_ceiling, measure_ceilings


def test_each_case_is_bounded_by_the_ceiling_of_its_numerics():
    assert bounding_ceiling("GB/s", "bfloat16", "highest") == "copy_gbs"
    assert bounding_ceiling("TFLOP/s", "bfloat16", "highest") == "bf16_tflops"
    assert bounding_ceiling("TFLOP/s", "float16", "highest") == "bf16_tflops"
    assert bounding_ceiling("TFLOP/s", "float32", "highest") == "fp32_tflops"
    assert bounding_ceiling("TFLOP/s", "float32", "high") == "tf32_tflops"


def test_fraction_of_ceiling():
    ceilings = {"copy_gbs": 3000.0, "bf16_tflops": 800.0}
    assert fraction_of_ceiling(ceilings, "GB/s", "float32", "highest", 1500.0) == (
        "copy_gbs", pytest.approx(0.5))
    assert fraction_of_ceiling(ceilings, "TFLOP/s", "float32", "high", 100.0) == (
        "tf32_tflops", None)


def test_no_ceilings_without_a_gpu():
    assert measure_ceilings() == {}
