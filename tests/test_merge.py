"""detcost merge, as a user runs it: results from two hosts into one tree, nothing lost."""

import shutil

from conftest import run_cli, write_synthetic_run

from detcost.analysis.load import load


def test_merge_gathers_hosts_and_never_overwrites(tmp_path):
    host_a = write_synthetic_run(tmp_path / "a" / "results" / "raw" / "run-a", "GPU-A", "run-a")
    write_synthetic_run(tmp_path / "b" / "raw" / "run-b", "GPU-B", "run-b")
    # a third host given the same --run-id as the first, on another GPU
    clash = write_synthetic_run(tmp_path / "c" / "run-a", "GPU-C", "run-a")
    out = tmp_path / "merged"
    done = run_cli("merge", str(tmp_path / "a" / "results"), str(tmp_path / "b" / "raw"),
                   str(clash), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "raw").iterdir()) == ["run-a", "run-a.2", "run-b"]
    data = load([out / "raw"])
    assert set(data["gpu"]) == {"GPU-A", "GPU-B", "GPU-C"}
    # merging the same folder again changes nothing
    again = run_cli("merge", str(host_a), "--out", str(out))
    assert again.returncode == 0 and "already there" in again.stdout
    assert len(list((out / "raw").iterdir())) == 3
    assert load([out / "raw"]).shape == data.shape


def test_merge_of_a_folder_without_results_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli("merge", str(tmp_path / "empty"), str(tmp_path / "missing"), "--out",
                   str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no results" in done.stderr
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
