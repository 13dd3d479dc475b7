"""A user's own step, measured as the built-in workloads are: from a file, a module or an
entry point; through `detcost run --workload` or a profile."""

import importlib.metadata

import pytest
from conftest import run_cli

from detcost.analysis.compare import compare_modes
from detcost.analysis.load import load
from detcost.errors import DetcostError
from detcost.profile import parse_profile
from detcost.runs.records import read_run_file
from detcost.workloads import USER_FAMILY, Workload, get_workload, user

STEP = '''
from detcost.workloads.base import Problem, Work


def build(params, setting):
    """a small MLP block"""
    import torch

    width = int(params["width"])
    x = setting.randn(16, width)
    w1, w2 = setting.randn(width, 2 * width), setting.randn(2 * width, width)
    flops = 2 * 16 * width * 2 * width * 2
    return Problem(lambda: torch.relu(x @ w1) @ w2, [x, w1, w2],
                   {"fwd": Work(flops=flops), "fwdbwd": Work(flops=3 * flops)})


build.params = {"width": 8}
not_a_step = 3
'''


@pytest.fixture
def step_file(tmp_path):
    path = tmp_path / "mystep.py"
    path.write_text(STEP)
    return path


def test_a_build_function_becomes_a_user_workload(step_file):
    w = get_workload(f"{step_file}:build")
    assert w.family == USER_FAMILY and w.defaults == {"width": 8}
    assert w.description == "a small MLP block"
    assert w.problem({"width": 0}) == "width = 0 is not allowed: an integer from 1 to 2147483647"


def test_a_profile_names_the_users_step_with_its_parameters(step_file):
    profile = parse_profile(f'[[cases]]\nworkload = "{step_file}:build"\n'
                            'params = { width = [4, 16] }\npasses = ["fwd", "fwdbwd"]\n', "p")
    assert sorted(c.param_dict["width"] for c in profile.cases) == [4, 4, 16, 16]
    assert {c.family for c in profile.cases} == {USER_FAMILY}
    with pytest.raises(DetcostError, match=r"unknown parameter of .*'depth'"):
        parse_profile(f'[[cases]]\nworkload = "{step_file}:build"\nparams = {{ depth = 2 }}\n',
                      "p")


@pytest.mark.parametrize(("spec", "message"), [
    ("nowhere.py:build", "no file nowhere.py"),
    ("{file}:missing", "has no 'missing'"),
    ("{file}:not_a_step", "neither a detcost Workload nor a build function, but int"),
    ("{bad}:build", "cannot be loaded: SyntaxError"),
    ("no_such_module_x:build", "cannot be loaded: ModuleNotFoundError"),
    (":build", "write it as path/to/file.py:NAME"),
])
def test_a_step_that_cannot_be_loaded_is_one_line(tmp_path, step_file, spec, message):
    bad = tmp_path / "broken.py"
    bad.write_text("def build(:\n")
    spec = spec.format(file=step_file, bad=bad)
    with pytest.raises(DetcostError, match=message) as info:
        get_workload(spec)
    assert "\n" not in str(info.value)


def test_installed_packages_register_workloads_by_entry_point(monkeypatch):
    class Entry:
        name = "my-model"

        @staticmethod
        def load():
            return Workload("my-models", "ignored", "a registered model", lambda p, s: None,
                            params={"batch": 2})

    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: [Entry] if group == user.ENTRY_POINT_GROUP else [])
    user.entry_point_workloads.cache_clear()
    try:
        w = get_workload("my-model")
        assert (w.name, w.family, w.defaults) == ("my-model", "my-models", {"batch": 2})
        with pytest.raises(DetcostError, match="unknown workload 'nope'"):
            get_workload("nope")
    finally:
        user.entry_point_workloads.cache_clear()


@pytest.mark.slow
def test_detcost_run_measures_the_users_step_in_every_mode_asked(tmp_path, step_file):
    out = tmp_path / "results"
    args = ("run", "--workload", f"{step_file}:build", "--mode", "default,deterministic",
            "--out", str(out), "--run-id", "mine")
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    run = out / "raw" / "mine"
    assert (run / "profile.toml").is_file() and (run / "report.html").is_file()
    data = load([run])
    assert set(data["family"]) == {USER_FAMILY} and set(data["status"]) == {"ok"}
    assert len(data) == 2 * 2 * 2  # modes x passes x dtypes
    comparison = compare_modes(data)
    assert (comparison["status"] == "ok").all() and comparison["slowdown"].gt(0).all()
    again = run_cli(*args)  # a resume: everything is recorded, nothing runs twice
    assert again.returncode == 0, again.stderr
    assert len(load([run])) == len(data)


@pytest.mark.slow
def test_a_workload_run_without_a_run_id_keeps_its_profile_beside_its_records(
        tmp_path, step_file):
    out = tmp_path / "results"
    done = run_cli("run", "--workload", f"{step_file}:build", "--mode", "default",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    [run] = list((out / "raw").iterdir())  # one run folder, not one per decision
    assert run.name.endswith("-user")
    assert (run / "profile.toml").is_file() and (run / "default.jsonl").is_file()
    assert read_run_file(run / "default.jsonl")[0].profile["source"] == str(
        run / "profile.toml")
