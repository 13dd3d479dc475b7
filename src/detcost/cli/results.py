"""Where a command reads results from, and which run a name on the command line means."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..analysis.load import load
from ..errors import DetcostError


def cache_folder(out: Path) -> Path:
    """Where parsed result files are kept between reports (see analysis.load)."""
    return out / ".cache" / "frames"


def load_results(paths: Sequence[Path], out: Path) -> pd.DataFrame:
    """Every record under the given paths (default: OUT/raw); none is an error."""
    where = list(paths) or [out / "raw"]
    data = load(where, cache=cache_folder(out))
    if data.empty:
        raise DetcostError("no records found in " + ", ".join(map(str, where)))
    return data


def load_with_named(runs: Sequence[str], out: Path) -> pd.DataFrame:
    """OUT/raw, and any run given as a folder or file outside it."""
    named = [p for p in map(Path, runs) if p.exists()]
    raw = out / "raw"
    return load_results([raw, *named] if raw.exists() else named, out)


def run_id_of(data: pd.DataFrame, name: str) -> str:
    """A run named by its id, or by a folder or file of it."""
    if name in set(data["run_id"]):
        return name
    path = Path(name)
    ids = set(data[data["file"].map(lambda f: Path(f).is_relative_to(path.resolve())
                                    or Path(f) == path)]["run_id"]) if path.exists() else set()
    if len(ids) != 1:
        raise DetcostError(f"{name!r} names no single run (runs: "
                           f"{', '.join(sorted(set(data['run_id'])))})")
    return ids.pop()
