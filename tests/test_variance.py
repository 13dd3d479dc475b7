import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from detcost.worker import variance
from detcost.worker.variance import (
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


def _fingerprint_by_definition(t, seed):
    """The fingerprint's formula in Python integers (no overflow possible)."""
    limb_w, row_w, block_w = (w.tolist() for w in variance._weights(seed, "cpu"))
    raw = bytes(t.contiguous().reshape(-1).view(torch.uint8).tolist())
    raw += b"\0" * (len(raw) % 2)
    limbs = [int.from_bytes(raw[i:i + 2], "little") for i in range(0, len(raw), 2)]
    total = 0
    for start in range(0, len(limbs), variance.ROW):
        row = start // variance.ROW
        part = limbs[start:start + variance.ROW]
        s = sum(x * w for x, w in zip(part, limb_w, strict=False)) % variance.PRIME
        weight = (row_w[row % variance.ROWS_PER_BLOCK] * block_w[row // variance.ROWS_PER_BLOCK]
                  % variance.PRIME)
        total = (total + s * weight) % variance.PRIME
    return total


@pytest.mark.parametrize("tensor", [
    torch.arange(5, dtype=torch.uint8),  # an odd number of bytes
    torch.randn(3 * 2**15 + 7),  # rows and a padded tail
    torch.randint(-2**62, 2**62, (999,)),
    torch.tensor([True, False, True]),
    torch.zeros(0, dtype=torch.bfloat16),
])
def test_fingerprint_is_its_formula_without_overflow(tensor, monkeypatch):
    # Small chunks, so that the chunked sum over rows is exercised on a small tensor too
    monkeypatch.setattr(variance, "CHUNK_ROWS", 1)
    assert variance.fingerprint(tensor, 1) == _fingerprint_by_definition(tensor, 1)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fingerprint_sees_every_bit_flip_and_swap(data):
    n = data.draw(st.integers(2, 3 * 2**15))
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31)))
    x = torch.randn(n, generator=g)
    bits = x.view(torch.int32).clone()
    i = data.draw(st.integers(0, n - 1))
    bits[i] ^= 1 << data.draw(st.integers(0, 31))
    assert variance.fingerprint(x, 1) != variance.fingerprint(bits.view(torch.float32), 1)
    j = data.draw(st.integers(0, n - 1).filter(lambda k: x[k] != x[i]))
    swapped = x.clone()
    swapped[[i, j]] = x[[j, i]]
    assert variance.fingerprint(x, 1) != variance.fingerprint(swapped, 1)


def test_digest_of_a_device_tensor_uses_the_fingerprints(monkeypatch):
    """Only a device tensor is fingerprinted; on a CPU the bytes are hashed directly. The
    fingerprint path is what a GPU run takes, so check it gives the digest's properties."""
    a = torch.arange(6, dtype=torch.float32)
    monkeypatch.setattr(variance, "_hashed_on_host", lambda t: False)
    seen = digest([a])
    assert seen == digest([a.clone()]) and seen != digest([a.reshape(2, 3)])
    assert seen != digest([a + 1])


def test_measure_variance_of_a_deterministic_step():
    x = torch.randn(100)
    result = measure_variance(lambda: [x * 2], repeats=4,
                              reference=lambda first: [(x * 2).double()])
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


def test_outputs_of_another_shape_than_the_reference_have_no_error():
    """A detector keeps another number of boxes in float64: no error, rather than a crash."""
    x = torch.ones(3)
    result = measure_variance(lambda: [x], repeats=2,
                              reference=lambda first: [torch.ones(5).double()])
    assert result.error_vs_float64 is None and relative_error(x, torch.ones(5)) is None
