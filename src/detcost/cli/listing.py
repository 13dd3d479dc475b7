"""`detcost list`: the workloads, modes and profiles there are."""

from __future__ import annotations

import argparse

from rich.table import Table

from ..modes import MODES
from ..profile import BUILTIN
from ..workloads import WORKLOADS
from ..workloads.user import entry_point_workloads
from . import views


def execute(args: argparse.Namespace) -> int:
    out = views.stdout()
    table = Table(title="Workloads")
    for col in ("name", "family", "passes", "parameters: default (allowed)", "what"):
        table.add_column(col)
    for w in [*WORKLOADS.values(), *entry_point_workloads().values()]:
        params = ", ".join(f"{k}={spec.default} ({spec.allowed()})"
                           for k, spec in w.params.items())
        table.add_row(w.name, w.family, ",".join(w.passes), params, w.description)
    out.print(table)
    modes = Table(title="Modes")
    for col in ("name", "knobs", "runs on"):
        modes.add_column(col)
    for m in MODES.values():
        modes.add_row(m.name, m.description + (" [GPU only]" if m.gpu_only else ""),
                      f"cases that call {m.library}" if m.library else "every case")
    out.print(modes)
    out.print(f"Built-in profiles: {', '.join(BUILTIN)}")
    out.print("Your own step: --workload path/to/file.py:NAME (or package.module:NAME), or "
              "workload = \"path/to/file.py:NAME\" in a profile")
    return 0
