import pytest

from detcost.worker.ceilings import compute_ceiling, measure_ceilings, roofline

CEILINGS = {"copy_gbs": 3000.0, "bf16_tflops": 800.0, "tf32_tflops": 400.0,
            "fp32_tflops": 50.0}


def test_arithmetic_is_bounded_by_the_matmul_rate_of_its_numerics():
    assert compute_ceiling("bfloat16", "highest") == "bf16_tflops"
    assert compute_ceiling("float16", "highest") == "bf16_tflops"
    assert compute_ceiling("float32", "highest") == "fp32_tflops"
    assert compute_ceiling("float32", "medium") == "tf32_tflops"


def test_roofline_takes_the_larger_floor():
    # 8 TFLOP at 800 TFLOP/s = 10 ms; 3 GB at 3000 GB/s = 1 ms: compute-bound
    assert roofline(CEILINGS, 8e12, 3e9, "bfloat16", "highest", 0.020) == (
        "bf16_tflops", pytest.approx(0.5))
    # a depthwise convolution: few FLOPs, many bytes: memory-bound
    assert roofline(CEILINGS, 1e9, 3e9, "bfloat16", "highest", 0.004) == (
        "copy_gbs", pytest.approx(0.25))
    assert roofline(CEILINGS, 0, 3e9, "float32", "highest", 0.001)[0] == "copy_gbs"


def test_no_ceiling_no_fraction():
    assert roofline({}, 1e9, 1e9, "float32", "high", 1.0) == ("", None)


def test_no_ceilings_without_a_gpu():
    assert measure_ceilings() == {}
