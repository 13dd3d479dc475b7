"""Stopping a run as users and schedulers do: SIGTERM (timeout, Slurm) and SIGINT (Ctrl-C)
to the parent stop its workers before the run's lock is released; a worker whose parent is
killed outright dies too; a stopped worker takes what it started with it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from filelock import FileLock

from detcost.runs import children
from detcost.runs.folder import LOCK_NAME

# A benchmarks folder whose first case writes the worker's pid, then sleeps.
SLEEPS = '''
import os, time
from pathlib import Path

def test_case(detcost_case, detcost_measure):
    Path(os.environ["WORKER_PID"]).write_text(str(os.getpid()))
    time.sleep(120)
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (dead, not yet reaped) is not a running worker
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _start_run(tmp_path: Path, tiny_profile: Path) -> tuple[subprocess.Popen, Path]:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "conftest.py").write_text('pytest_plugins = ["detcost.worker.plugin"]\n')
    (bench / "test_cases.py").write_text(SLEEPS)
    pid_file = tmp_path / "worker.pid"
    env = {**os.environ, "WORKER_PID": str(pid_file),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen(
        [sys.executable, "-m", "detcost", "run", "--profile", str(tiny_profile), "--mode",
         "default", "--bench-dir", str(bench), "--out", str(tmp_path / "results"),
         "--run-id", "r"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tmp_path)
    deadline = time.time() + 180
    while not pid_file.exists() or not pid_file.read_text():
        if parent.poll() is not None or time.time() > deadline:
            parent.kill()
            _, err = parent.communicate()
            pytest.fail(f"the worker never started its first case: {err[-2000:]}")
        time.sleep(0.2)
    return parent, pid_file


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_parent_stops_its_worker_before_the_lock_is_released(
        tmp_path, tiny_profile, sig):
    parent, pid_file = _start_run(tmp_path, tiny_profile)
    worker = int(pid_file.read_text())
    parent.send_signal(sig)
    try:
        _, err = parent.communicate(timeout=60)
    finally:  # never leave a run behind, whatever failed
        if parent.poll() is None:
            parent.kill()
            parent.communicate()
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
    assert parent.returncode == 2 and "Traceback" not in err
    assert "interrupted; records written so far are kept" in err
    assert not _alive(worker)  # stopped before the parent let go of the run
    with FileLock(tmp_path / "results" / "raw" / "r" / LOCK_NAME, timeout=0):
        pass  # and the lock is free for the resume


@pytest.mark.slow
def test_a_worker_dies_with_its_parent(tmp_path, tiny_profile):
    parent, pid_file = _start_run(tmp_path, tiny_profile)
    worker = int(pid_file.read_text())
    parent.kill()  # SIGKILL: the parent can clean nothing up
    parent.communicate(timeout=30)
    deadline = time.time() + 15
    while _alive(worker) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def test_stopping_a_worker_stops_what_it_started(tmp_path):
    pids = tmp_path / "pids"
    with open(tmp_path / "log", "w") as log:
        proc = children.start(["sh", "-c", f"sleep 100 & echo $! > {pids}; sleep 100"], log,
                              dict(os.environ))
        deadline = time.time() + 10
        while (not pids.exists() or not pids.read_text().strip()) and time.time() < deadline:
            time.sleep(0.05)
        grandchild = int(pids.read_text())
        children.stop(proc, grace_s=1)
    assert proc.poll() is not None
    deadline = time.time() + 5
    while _alive(grandchild) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)  # as torchrun's ranks are when a distributed case hangs
