"""The CLI as a user runs it, in a new process."""

import pytest
from conftest import run_cli


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--mode", "default,warp"], "detcost: unknown mode 'warp' (allowed: default,"),
    (["run", "--profile", "nope"], "detcost: profile 'nope' is neither a built-in"),
    (["report", "missing-folder"], "detcost: no results file or folder at missing-folder"),
])
def test_bad_input_is_one_line_and_runs_nothing(tmp_path, args, message):
    done = run_cli(*args, "--out", str(tmp_path), cwd=tmp_path) if args[0] == "run" else \
        run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
    assert not (tmp_path / "raw").exists()


def test_malformed_profile_names_the_group(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cases]]\nworkload = "conv2d"\nparams = { colour = 1 }\n')
    done = run_cli("run", "--profile", str(bad), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "[[cases]] #1 (conv2d): unknown parameter of conv2d 'colour'" in done.stderr


def test_unreadable_results_file_is_named(tmp_path):
    (tmp_path / "broken.jsonl").write_text("{not json}\n{}\n")
    done = run_cli("report", str(tmp_path / "broken.jsonl"), "--out", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "broken.jsonl: the first line is not a readable detcost header" in done.stderr
    assert "not a JSON line" in done.stderr and "no records found" in done.stderr


def test_list_shows_workloads_modes_and_profiles():
    done = run_cli("list")
    assert done.returncode == 0
    for word in ("scatter_add", "sdpa", "conv_transpose2d", "deterministic-nofill",
                 "standard"):
        assert word in done.stdout
    assert "only CUBLAS_WORKSPACE_CONFIG=:4096:8 [GPU only]" in done.stdout


def test_a_cpu_runs_by_default_only_the_modes_whose_knobs_act_there():
    from detcost.modes import MODES
    from detcost.runs.request import split_modes as _split_modes

    assert _split_modes(None, cuda=False) == ("default", "deterministic",
                                              "deterministic-nofill")
    assert _split_modes(None, cuda=True) == tuple(MODES)
    assert _split_modes(["tuned,default"], cuda=False) == ("tuned", "default")  # as asked


def test_a_run_past_its_time_limit_says_how_to_go_on(tmp_path, tiny_profile):
    done = run_cli("run", "--profile", str(tiny_profile), "--mode", "default",
                   "--time-limit", "0.001", "--run-id", "limited", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "not started" in done.stdout
    said = " ".join(done.stderr.split())
    assert "running profile 'tiny' on the CPU" in said
    assert "stopped at the time limit (0.001 s)" in said
    assert "run the same command with --run-id limited to go on" in said
    assert run_cli("run", "--time-limit", "0").returncode == 2  # not a time limit
