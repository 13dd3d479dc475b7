import math

import pytest
import torch

from detcost.variance import (
    bitwise_equal,
    digest,
    max_rel_diff,
    measure_variance,
    relative_error,
    ulp_distance,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_ulp_distance_counts_representable_steps(dtype):
    x = torch.tensor([1.0, -2.0, 0.0, 3.5], dtype=dtype)
    up = torch.nextafter(x, torch.full_like(x, math.inf))
    two_up = torch.nextafter(up, torch.full_like(x, math.inf))
    assert ulp_distance(x, x) == 0
    assert ulp_distance(x, up) == 1
    assert ulp_distance(x, two_up) == 2


def test_ulp_distance_across_zero_is_continuous():
    tiny = torch.tensor([torch.finfo(torch.float32).tiny * 0], dtype=torch.float32)
    pos = torch.nextafter(tiny, torch.tensor([1.0]))
    neg = torch.nextafter(tiny, torch.tensor([-1.0]))
    assert ulp_distance(pos, neg) == 2


def test_digest_sees_bits_dtype_and_shape():
    a = torch.arange(6, dtype=torch.float32)
    assert digest([a]) == digest([a.clone()])
    assert digest([a]) != digest([a.reshape(2, 3)])
    assert digest([a]) != digest([a.double()])
    b = a.clone()
    b[3] = torch.nextafter(b[3], torch.tensor(100.0))
    assert digest([a]) != digest([b])
    # -0.0 == 0.0 numerically, but the bits differ: determinism is about bits
    assert not bitwise_equal([torch.tensor([0.0])], [torch.tensor([-0.0])])


def test_measure_variance_of_a_deterministic_step():
    x = torch.randn(100)
    result = measure_variance(lambda: [x * 2], repeats=4, reference=[(x * 2).double()])
    assert result.distinct_digests == 1 and result.max_ulp_diff == 0
    assert result.max_abs_diff == 0 and result.error_vs_float64 == 0


def test_measure_variance_counts_distinct_outputs_and_their_distance():
    base = torch.ones(10)
    outputs = iter([base, base, torch.nextafter(base, base + 1), base + 0.5, base])
    result = measure_variance(lambda: [next(outputs)], repeats=5)
    assert result.repeats == 5 and result.distinct_digests == 3
    assert result.max_abs_diff == pytest.approx(0.5)
    assert result.max_rel_diff == pytest.approx(0.5)
    assert result.max_ulp_diff == ulp_distance(base, base + 0.5)
    assert result.digest == digest([base])


def test_relative_error_is_normwise_and_nan_never_passes():
    ref = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert relative_error(torch.tensor([3.0, 4.5]), ref) == pytest.approx(0.1)
    assert math.isnan(relative_error(torch.tensor([math.nan, 4.0]), ref))
    assert max_rel_diff(torch.tensor([2.0, -4.0]), torch.tensor([2.0, -3.0])) == 0.25


def test_variance_needs_two_repeats():
    with pytest.raises(ValueError):
        measure_variance(lambda: [torch.ones(1)], repeats=1)
