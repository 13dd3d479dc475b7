import torch

from detcost.worker.kernels import kernel_times


def test_kernel_times_are_per_step_and_costliest_first():
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    times = kernel_times(lambda: [a @ b, a.sum()], cuda=False, steps=4, top=3)
    assert 0 < len(times) <= 3
    assert "aten::mm" in times and all(v > 0 for v in times.values())
    assert list(times.values()) == sorted(times.values(), reverse=True)


def test_a_device_profile_counts_kernels_not_the_ops_that_launched_them():
    from detcost.analysis.tables import only_kernels

    recorded = {"aten::fill_": 2.0, "void at::native::FillFunctor<float>(int)": 2.0,
                "torchvision::roi_align": 1.0, "sm90_xmma_gemm_bf16": 3.0}
    assert only_kernels(recorded) == {"void at::native::FillFunctor<float>(int)": 2.0,
                                      "sm90_xmma_gemm_bf16": 3.0}
    cpu_profile = {"aten::mm": 1.0, "aten::sum": 0.5}
    assert only_kernels(cpu_profile) == cpu_profile
