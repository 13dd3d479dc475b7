"""Sessions: `nox -s bench` (the benchmark), `nox -s tests`, `nox -s report`, `nox -s validate`,
`nox -s lint`. Arguments after `--` are passed through."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")


def _python() -> str:
    """The interpreter that holds the torch to measure: $DETCOST_PYTHON, else the first
    python on PATH (an activated environment, a container's python)."""
    return (os.environ.get("DETCOST_PYTHON") or shutil.which("python")
            or shutil.which("python3") or "python3")


def _run_detcost(session: nox.Session, *args: str) -> None:
    """Run detcost from this checkout with the interpreter already here, against its torch:
    a GPU machine's torch is the thing measured, so these sessions install nothing."""
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    session.run(_python(), "-m", "detcost", *args, env={"PYTHONPATH": path}, external=True)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Benchmark this machine's torch in every mode (standard profile on a GPU, smoke on a
    CPU), then build the dashboard. Try `nox -s bench -- --mode default,deterministic -k sdpa`."""
    _run_detcost(session, "run", *session.posargs)
    _run_detcost(session, "report")


@nox.session(venv_backend="none")
def validate(session: nox.Session) -> None:
    """Check the suite's timer against CUDA events and do_bench on a sample of cases."""
    _run_detcost(session, "validate", *session.posargs)


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """Build the dashboard from everything under results/ (no GPU or torch run needed)."""
    _run_detcost(session, "report", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests and the CPU end-to-end run, in a fresh virtual environment."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "dev"))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the whole repository."""
    session.install("ruff")
    session.run("ruff", "check", ".")
