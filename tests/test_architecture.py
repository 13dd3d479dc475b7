"""The house's shape, read from the source: which layer may import which, no import loop,
torch imported at module top only inside a worker, and modules small enough to read."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, write_synthetic_run

PACKAGE = ROOT / "src" / "detcost"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module top) for every import in the file, relative ones
    resolved; `from X import name` counts X.name where that is a module of detcost."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, id(node) in top))
            found += [(f"{base}.{alias.name}", id(node) in top) for alias in node.names
                      if _is_module(f"{base}.{alias.name}")]
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("detcost"):
        return False
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m, _ in _imports(path) if m in MODULES}
         for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("worker", "analysis", "report", "cli", "runs",
                                       "workloads"):
        if parts[1] == "runs" and len(parts) > 2 and parts[2] in ("folder", "records"):
            return "storage"  # the files both sides share
        return parts[1]
    return "vocabulary"


# layer -> the layers it may import (besides itself)
ALLOWED = {
    "vocabulary": {"workloads", "storage"},
    "workloads": {"vocabulary"},
    "storage": {"vocabulary", "workloads"},
    "worker": {"vocabulary", "workloads", "storage"},
    "runs": {"vocabulary", "workloads", "storage"},
    "analysis": {"vocabulary", "workloads", "storage"},
    "report": {"vocabulary", "workloads", "analysis"},
    "cli": {"vocabulary", "workloads", "storage", "runs", "analysis", "report"},
}


def test_every_import_stays_within_its_layer_or_goes_down():
    wrong = [f"{a} imports {b}" for a, targets in GRAPH.items() for b in targets
             if _layer(b) != _layer(a) and _layer(b) not in ALLOWED[_layer(a)]
             and a != "detcost.__main__"]
    assert wrong == []


def test_no_import_loop():
    state: dict[str, int] = {}
    loops = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                loops.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    # a package's __init__ imported by its own modules is not a loop of ours
    loops = [loop for loop in loops if not all(
        m.startswith(loop.split(" -> ")[0]) for m in loop.split(" -> "))]
    assert loops == []


def test_torch_is_imported_at_module_top_only_inside_a_worker():
    tops = sorted(name for name, path in MODULES.items()
                  for m, at_top in _imports(path) if at_top and m.split(".")[0] == "torch")
    assert tops and all(t.startswith("detcost.worker.") for t in tops), tops
    assert not [n for n in MODULES if n.startswith(("detcost.analysis", "detcost.report"))
                and any(m.split(".")[0] == "torch" for m, _ in _imports(MODULES[n]))]


def test_modules_are_small_enough_to_read_in_one_sitting():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


BLOCK_TORCH = '''
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "pytest_benchmark"):
            raise ImportError(f"{name} is blocked in this test")
        return None
sys.meta_path.insert(0, _NoTorch())
'''


@pytest.mark.slow
def test_report_compare_and_stability_run_where_torch_cannot_be_imported(tmp_path):
    raw = tmp_path / "results" / "raw"
    write_synthetic_run(raw / "a", "GPU-A", "run-a", processes=2, started_at="1")
    write_synthetic_run(raw / "b", "GPU-A", "run-b", processes=2, started_at="2")
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_TORCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(blocker), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env,
                           capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "blocked in this test" in probe.stderr
    out = str(tmp_path / "results")
    for args in (["report"], ["compare"], ["compare", "run-a", "run-b"],
                 ["stability", "run-a", "run-b"]):
        done = subprocess.run([sys.executable, "-m", "detcost", *args, "--out", out],
                              env=env, capture_output=True, text=True, check=False,
                              cwd=tmp_path, timeout=600)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert (tmp_path / "results" / "dashboard" / "index.html").is_file()
    # and a command that measures says in one line what it lacks
    done = subprocess.run([sys.executable, "-m", "detcost", "run", "--out", out], env=env,
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
