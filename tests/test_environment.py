from detcost.environment import label
from detcost.worker import environment


def test_capture_records_versions_and_device():
    env = environment.capture()
    for key in ("torch", "python", "cpu", "host", "device", "git"):
        assert key in env
    assert env["device"] in ("cpu", "cuda")
    assert env["git"]["commit"]  # this checkout is a git repository


def test_commit_falls_back_to_the_environment_outside_git(tmp_path, monkeypatch):
    monkeypatch.setenv("DETCOST_GIT_COMMIT", "abc123")
    assert environment.git_commit(tmp_path) == {"commit": "abc123", "dirty": None}
    # said outright, it wins over a repository (a copy may carry a stale .git)
    assert environment.git_commit() == {"commit": "abc123", "dirty": None}


def test_label_names_gpu_or_cpu_and_torch():
    assert label({"gpu": "NVIDIA H200", "torch": "2.11.0"}) == \
        "NVIDIA H200 · torch 2.11.0"
    assert label({"gpu": None, "cpu": "EPYC", "torch": "2.14"}).startswith("CPU")


def test_a_copy_inside_another_repository_is_not_described_by_its_commit(tmp_path,
                                                                          monkeypatch):
    import subprocess

    monkeypatch.delenv("DETCOST_GIT_COMMIT", raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    copy = tmp_path / "vendor" / "detcost"
    copy.mkdir(parents=True)
    assert environment.git_commit(copy) == {"commit": None, "dirty": None}
    # the real checkout is a repository of its own: its commit and state are recorded
    own = environment.git_commit()
    assert own["commit"] and len(own["commit"]) == 40 and own["dirty"] in (True, False)


def test_a_label_reads_back_as_its_gpu_and_torch():
    from detcost.environment import label, label_parts

    assert label_parts(label({"gpu": "NVIDIA H200", "torch": "2.11.0+cu130"})) == (
        "NVIDIA H200", "2.11.0+cu130")
    assert label_parts(label({"gpu": None, "cpu": "AMD EPYC", "torch": "2.14.1"})) == (
        "CPU", "2.14.1")
    assert label_parts("not a label") is None
