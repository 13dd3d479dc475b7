"""A user's own workloads, measured exactly as the built-in ones.

A workload may be named `path/to/file.py:NAME` or `package.module:NAME`, in a profile
(`workload = "models/mine.py:build"`) or on the command line (`detcost run --workload
SPEC`); an installed package may also register workloads under the `detcost.workloads`
entry-point group. NAME is a `Workload`, or a build function with the built-in contract,
`build(params, setting) -> Problem`, whose optional attributes `params`, `passes`, `dtypes`
and `precisions` say what it takes (its family is then `user`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import DetcostError
from .base import PASSES, Workload

ENTRY_POINT_GROUP = "detcost.workloads"
USER_FAMILY = "user"


def is_user_spec(name: str) -> bool:
    return ":" in name


def _module(target: str, spec: str):
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise DetcostError(f"workload {spec!r}: no file {target}")
        # A stable module name per file, so that two files named alike do not collide.
        name = "detcost_user_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        loader = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module
        loader.loader.exec_module(module)
        return module
    return importlib.import_module(target)


def as_workload(obj: Any, name: str) -> Workload:
    """A Workload named `name` from a Workload or a build function."""
    if isinstance(obj, Workload):
        return replace(obj, name=name)
    if callable(obj):
        doc = (obj.__doc__ or "").strip().splitlines()
        return Workload(USER_FAMILY, name, doc[0] if doc else f"{name} (your own step)", obj,
                        params=getattr(obj, "params", {}),
                        passes=tuple(getattr(obj, "passes", PASSES)),
                        dtypes=tuple(getattr(obj, "dtypes", ("float32", "bfloat16",
                                                             "float16"))),
                        precisions=tuple(getattr(obj, "precisions",
                                                 ("highest", "high", "medium"))))
    raise DetcostError(f"workload {name!r} is neither a detcost Workload nor a build "
                       f"function, but {type(obj).__name__}")


@cache
def load_user_workload(spec: str) -> Workload:
    """The workload a `file.py:NAME` or `module:NAME` spec names; any failure to load it is
    one DetcostError naming the spec."""
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise DetcostError(f"workload {spec!r}: write it as path/to/file.py:NAME or "
                           "package.module:NAME")
    try:
        module = _module(target, spec)
    except DetcostError:
        raise
    except Exception as exc:  # the user's code: a syntax error, an import that fails, ...
        raise DetcostError(f"workload {spec!r} cannot be loaded: {type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:200]}") from None
    if not hasattr(module, attr):
        raise DetcostError(f"workload {spec!r}: {target} has no {attr!r}")
    return as_workload(getattr(module, attr), spec)


@cache
def entry_point_workloads() -> dict[str, Workload]:
    """Workloads that installed packages register under ENTRY_POINT_GROUP, by entry name."""
    found: dict[str, Workload] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[entry.name] = as_workload(entry.load(), entry.name)
        except Exception as exc:  # a broken plugin must not hide the built-in workloads
            raise DetcostError(f"the {ENTRY_POINT_GROUP} entry point {entry.name!r} cannot "
                               f"be loaded: {type(exc).__name__}: {exc}") from None
    return found
