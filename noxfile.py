"""Sessions: `nox -s bench` (the benchmark), `nox -s tests`, `nox -s report`, `nox -s validate`,
`nox -s matrix -- 2.11.0 2.14.1` (the same run under several torch versions),
`nox -s detcost -- ARGS` (any detcost command), `nox -s lint`. Arguments after `--` are passed
through.

The torch that `bench` measures is the one already installed beside `python3` (or
$DETCOST_PYTHON): on a GPU box or in a container, the torch you ship is the torch measured.
Its session environment links that interpreter's packages in and installs only what is
missing, pinned. Where no torch is installed, it installs the pinned, tested torch.
Environments are reused between runs: a second run installs nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
# module -> pinned requirement, for the packages a measuring environment needs
IMPORT_NAME = {"pytest_xdist": "xdist"}  # distributions whose module is named otherwise
RUNTIME = {IMPORT_NAME.get(name, name): req for name, req in (
    (re.split(r"[=<>!~ ]", req)[0].replace("-", "_").lower(), req)
    for req in nox.project.dependency_groups(PYPROJECT, "runtime"))}


def _has_torch(python: str) -> bool:
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=60,
                              check=False).returncode == 0
    except OSError:
        return False


def _torch_python() -> str | None:
    """The interpreter whose torch is measured: $DETCOST_PYTHON, else the first python3 or
    python on PATH that has torch; None where none has (a pinned torch is installed)."""
    asked = os.environ.get("DETCOST_PYTHON")
    if asked:
        return asked
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found and _has_torch(found):
            return found
    return None


TORCH_PYTHON = _torch_python()


def _stamp(environment: Path, requirements) -> tuple[Path, str]:
    """Where a reused environment notes what it installed, and what it notes for exactly
    these requirements (and this pyproject): a second run then installs nothing."""
    want = hashlib.sha256(json.dumps(list(requirements)).encode()
                          + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return Path(environment) / ".detcost-installed", want


def _installed(environment: Path, requirements) -> bool:
    stamp, want = _stamp(environment, requirements)
    return stamp.is_file() and stamp.read_text() == want


def _mark_installed(environment: Path, requirements) -> None:
    stamp, want = _stamp(environment, requirements)
    stamp.write_text(want)


def _install_once(session: nox.Session, *requirements: str) -> None:
    """Install unless this reused environment already has exactly these requirements: a
    second run starts in seconds and needs no network."""
    if _installed(session.virtualenv.location, requirements):
        session.log("dependencies already installed")
        return
    session.install(*requirements)
    _mark_installed(session.virtualenv.location, requirements)


def _measuring_environment(session: nox.Session) -> str:
    """Make this session's environment able to run detcost against the torch to measure;
    return where that torch came from."""
    if TORCH_PYTHON:
        if not _has_torch(TORCH_PYTHON):
            session.error(f"DETCOST_PYTHON={TORCH_PYTHON} has no torch")
        # A venv made from another venv's python cannot see that venv's packages, so the
        # interpreter's own site-packages are linked in with a .pth file (after ours).
        paths = session.run(TORCH_PYTHON, "-c", "import json, site; print(json.dumps("
                            "site.getsitepackages() + [site.getusersitepackages()]))",
                            silent=True, external=True)
        site_dir = session.run("python", "-c", "import sysconfig; "
                               "print(sysconfig.get_paths()['purelib'])", silent=True)
        Path(site_dir.strip(), "detcost-measured-torch.pth").write_text(
            "\n".join(json.loads(paths.strip().splitlines()[-1])) + "\n")
        origin = f"already installed for {TORCH_PYTHON}"
    else:
        origin = "installed by this session (pinned; no torch was found beside python3)"
    probe = (f"import importlib.util, json; print(json.dumps([m for m in {sorted(RUNTIME)!r} "
             "if importlib.util.find_spec(m) is None]))")
    missing = json.loads(session.run("python", "-c", probe, silent=True).strip())
    if missing:
        session.log(f"installing what is missing: {', '.join(missing)}")
        session.install(*(RUNTIME[m] for m in missing))
    version = session.run("python", "-c", "import torch; print(torch.__version__, "
                          "torch.__file__)", silent=True).strip()
    return f"torch {version.split()[0]} ({origin}; {version.split()[1]})"


def _detcost(session: nox.Session, *args: str) -> None:
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    session.run("python", "-m", "detcost", *args, env={"PYTHONPATH": path})


@nox.session(python=TORCH_PYTHON, reuse_venv=True)
def bench(session: nox.Session) -> None:
    """Benchmark this machine's torch in every mode (standard profile on a GPU, smoke on a
    CPU) into a new run under results/raw, with its own report.html. The dashboard of
    committed results is rebuilt only by `nox -s report`. Try
    `nox -s bench -- --mode default,deterministic -k sdpa`."""
    session.log(f"measuring {_measuring_environment(session)}")
    _detcost(session, "run", *session.posargs)


@nox.session(python=TORCH_PYTHON, reuse_venv=True)
def validate(session: nox.Session) -> None:
    """Check the suite's timer against CUDA events and do_bench on a sample of cases."""
    session.log(f"measuring {_measuring_environment(session)}")
    _detcost(session, "validate", *session.posargs)


@nox.session(name="detcost", python=TORCH_PYTHON, reuse_venv=True)
def detcost_cli(session: nox.Session) -> None:
    """Any detcost command in the measuring environment: `nox -s detcost -- compare A B`."""
    _measuring_environment(session)
    _detcost(session, *session.posargs)


# torch -> the torchvision built against it: pip resolves neither from the other.
TORCHVISION = {"2.9.1": "0.24.1", "2.10.0": "0.25.0", "2.11.0": "0.26.0", "2.12.1": "0.27.1",
               "2.13.0": "0.28.0", "2.14.1": "0.29.1"}
VERSION = re.compile(r"\d+\.\d+\.\d+")


def _torch_environment(session: nox.Session, version: str) -> Path:
    """A reused environment with this torch, its torchvision and detcost's other pinned
    packages; its python. A torchvision that does not import beside this torch (PyPI's CUDA
    torchvision beside a CPU-only torch) is removed: the models then record the error."""
    folder = ROOT / ".nox" / f"matrix-torch-{version}"
    python = folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    wanted = [f"torch=={version}", f"torchvision=={TORCHVISION[version]}",
              *(req for module, req in sorted(RUNTIME.items())
                if module not in ("torch", "torchvision"))]
    if not (_installed(folder, wanted) and python.exists()):
        session.run(sys.executable, "-m", "venv", "--clear", str(folder), external=True)
        session.run(str(python), "-m", "pip", "install", "-q", *wanted, external=True)
        works = subprocess.run([str(python), "-c", "import torchvision"], capture_output=True,
                               check=False).returncode == 0
        if not works:
            session.warn(f"torchvision {TORCHVISION[version]} does not import beside torch "
                         f"{version} here: it is left out, and model cases record the error")
            session.run(str(python), "-m", "pip", "uninstall", "-q", "-y", "torchvision",
                        external=True)
        _mark_installed(folder, wanted)
    return python


@nox.session(reuse_venv=True)
def matrix(session: nox.Session) -> None:
    """The same profile and modes under several torch versions, as asv runs a benchmark
    across a project's history: one reused environment per version, with the torchvision
    built against it. `nox -s matrix -- 2.11.0 2.14.1`, then any `detcost run` arguments
    (`--profile smoke --mode default,deterministic`). Each version's run lands in
    results/raw, its torch named in its headers and in its run id; `nox -s report` and
    `detcost compare A B` set the versions side by side. On a GPU host with a network, pip
    takes the CUDA wheels of each version."""
    versions = [a for a in session.posargs if VERSION.fullmatch(a)]
    args = [a for a in session.posargs if a not in versions]
    unknown = [v for v in versions if v not in TORCHVISION]
    if not versions or unknown:
        session.error(f"name torch versions among {', '.join(TORCHVISION)}: "
                      "nox -s matrix -- 2.11.0 2.14.1 [detcost run arguments]")
    if "--run-id" in args:
        session.error("matrix names each version's run itself (TIME-torchVERSION): "
                      "leave out --run-id")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    for version in versions:
        python = _torch_environment(session, version)
        session.log(f"torch {version}: run {stamp}-torch{version}")
        session.run(str(python), "-m", "detcost", "run", *args, "--run-id",
                    f"{stamp}-torch{version}", external=True, env={"PYTHONPATH": path})


@nox.session(reuse_venv=True)
def report(session: nox.Session) -> None:
    """Build results/dashboard from everything under results/raw (no GPU or torch needed)."""
    _install_once(session, *nox.project.dependency_groups(PYPROJECT, "report"))
    _detcost(session, "report", *session.posargs)


@nox.session(reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Unit tests and the CPU end-to-end run, in a reused environment with pinned versions
    (the first run installs the pinned torch; later runs install nothing)."""
    _install_once(session, "-e", ".", *nox.project.dependency_groups(PYPROJECT, "runtime"),
                  *nox.project.dependency_groups(PYPROJECT, "dev"))
    session.run("pytest", *session.posargs)


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff over the whole repository."""
    _install_once(session, *nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
