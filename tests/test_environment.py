from detcost import environment


def test_capture_records_versions_and_device():
    env = environment.capture()
    for key in ("torch", "python", "cpu", "host", "device", "git"):
        assert key in env
    assert env["device"] in ("cpu", "cuda")
    assert env["git"]["commit"]  # this checkout is a git repository


def test_commit_falls_back_to_the_environment_outside_git(tmp_path, monkeypatch):
    monkeypatch.setenv("DETCOST_GIT_COMMIT", "abc123")
    assert environment.git_commit(tmp_path) == {"commit": "abc123", "dirty": None}


def test_label_names_gpu_or_cpu_and_torch():
    assert environment.label({"gpu": "NVIDIA H200", "torch": "2.11.0"}) == \
        "NVIDIA H200 · torch 2.11.0"
    assert environment.label({"gpu": None, "cpu": "EPYC", "torch": "2.14"}).startswith("CPU")
