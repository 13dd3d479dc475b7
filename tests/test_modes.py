import os
import subprocess
import sys

import pytest

from detcost.errors import DetcostError
from detcost.modes import MODES, get_mode, mode_environment


def test_builtin_modes_cover_each_knob():
    assert {"default", "deterministic", "deterministic-nofill", "cublas-workspace",
            "cudnn-deterministic", "tuned"} <= set(MODES)
    det = MODES["deterministic"]
    assert det.use_deterministic_algorithms and det.cudnn_deterministic
    assert det.cublas_workspace_config == ":4096:8" and not det.cudnn_benchmark
    assert MODES["deterministic-nofill"].fill_uninitialized_memory is False
    assert MODES["tuned"].cudnn_benchmark and not MODES["tuned"].use_deterministic_algorithms


def test_unknown_mode_names_the_allowed_ones():
    with pytest.raises(DetcostError, match=r"unknown mode 'fast' \(allowed: default, "):
        get_mode("fast")


def test_mode_environment_only_sets_what_the_mode_asks():
    assert mode_environment(MODES["default"]) == {}
    assert mode_environment(MODES["cublas-workspace"]) == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


@pytest.mark.parametrize("name", list(MODES))
def test_knobs_read_back_from_torch_match_the_mode(name):
    # In a fresh process, as a worker applies it: the readback is torch's, not ours.
    code = ("import json; from detcost.modes import get_mode; "
            "from detcost.worker.knobs import apply_mode, read_knobs;"
            f"apply_mode(get_mode({name!r})); print(json.dumps(read_knobs()))")
    env = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":16:8"}  # must not leak into default
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    import json

    knobs = json.loads(out)
    mode = MODES[name]
    assert knobs["deterministic_algorithms"] is mode.use_deterministic_algorithms
    assert knobs["cudnn_deterministic"] is mode.cudnn_deterministic
    assert knobs["cudnn_benchmark"] is mode.cudnn_benchmark
    assert knobs["cublas_workspace_config"] == mode.cublas_workspace_config
    asked = mode.fill_uninitialized_memory
    expected_fill = True if asked is None else asked
    assert knobs["fill_uninitialized_memory"] is expected_fill


def test_a_knob_mode_measures_only_the_cases_that_call_its_library():
    """The scope is data: a family's libraries, narrowed by a workload's own (the language
    model's attention is SDPA's flash kernels, no cuDNN; dropout calls neither)."""
    from detcost.profile import load_profile
    from detcost.workloads import case_calls

    cases = load_profile("standard").cases

    def measured(mode):
        return {c.workload for c in cases if MODES[mode].acts_on(case_calls(c.family, c.workload))}

    assert measured("cudnn-deterministic") == measured("tuned") == {
        "resnet", "vit", "conv2d", "conv3d", "conv_transpose2d"}
    assert {"gpt", "vit", "resnet", "matmul", "sdpa", "mha"} == measured("cublas-workspace")
    assert measured("deterministic") == {c.workload for c in cases}
    assert not measured("nccl-ring")
    # a user's own family may call anything
    assert MODES["cudnn-deterministic"].acts_on(case_calls("my-family", "mine.py:build"))
