"""A model's float64 reference computes the same step from the same state: a float32
`highest` step agrees with it to about 1e-4 (on the CPU), a training step's gradients
included, and a decode is compared along the tokens it chose."""

import pytest
import torch

from detcost.cases import make_case
from detcost.measuring import Measure
from detcost.runs.folder import ModeProcess
from detcost.worker.measure import run_case

LIGHT = Measure(rounds=2, min_round_ms=0.1, warmup_ms=0.1, repeats=2)


def plain(step, iterations, measure):
    from detcost.worker.timing import ROUNDS, Timed

    return Timed([0.001, 0.001], ROUNDS, 0.0)


# ResNet at 64 pixels: at 32 its last BatchNorm normalises 2 samples of 1x1, a function so
# ill-conditioned that float32 and float64 differ by half, whatever the reference.
@pytest.mark.parametrize(("workload", "params", "pass_"), [
    ("resnet", {"depth": 18, "batch": 4, "image": 64, "classes": 10}, "fwdbwd"),
    ("resnet", {"depth": 18, "batch": 2, "image": 32, "classes": 10}, "fwd"),
    ("vit", {"batch": 2, "image": 32, "patch": 16, "layers": 2, "heads": 2, "hidden": 32,
             "classes": 10}, "fwdbwd"),
    ("gpt", {"phase": "decode", "batch": 2, "seq": 8, "new_tokens": 6, "vocab": 64,
             "hidden": 32, "layers": 2, "heads": 2}, "fwd"),
    ("gpt", {"phase": "prefill", "batch": 2, "seq": 8, "new_tokens": 2, "vocab": 64,
             "hidden": 32, "layers": 2, "heads": 2}, "fwdbwd"),
])
def test_a_float32_model_step_agrees_with_its_float64_reference(workload, params, pass_):
    case = make_case(workload, params, pass_, "float32", "highest")
    record = run_case(case, LIGHT, torch.device("cpu"), plain, ModeProcess("r", "default"))
    assert record.status == "ok", record.message
    assert record.error_vs_float64 is not None and record.error_vs_float64 < 1e-4
