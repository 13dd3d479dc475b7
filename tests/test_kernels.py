import torch

from detcost.kernels import kernel_times


def test_kernel_times_are_per_step_and_costliest_first():
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    times = kernel_times(lambda: [a @ b, a.sum()], cuda=False, steps=4, top=3)
    assert 0 < len(times) <= 3
    assert "aten::mm" in times and all(v > 0 for v in times.values())
    assert list(times.values()) == sorted(times.values(), reverse=True)
