"""Gather the results of several machines into one results tree: every run folder found in
the sources is copied to OUT/raw/<folder>. Nothing is ever overwritten: a folder already
there with the same files is skipped, and one with the same name but other contents (two
hosts given the same --run-id) lands beside it as <folder>.2, .3, ... Records keep their run
id; the frame tells runs apart by environment and run id, so both stay readable."""

from __future__ import annotations

import filecmp
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DetcostError
from .folder import TRANSIENT
from .records import run_files

COPIED, SKIPPED, RENAMED = "copied", "already there", "renamed"


@dataclass(frozen=True)
class Merged:
    source: Path
    destination: Path
    action: str


def run_folders(source: Path) -> list[Path]:
    """The run folders under a source: a results tree, its raw/ folder, or one run folder
    (a folder that holds mode files directly)."""
    files = run_files([source])  # raises a one-line error for a missing path
    folders = sorted({f.parent for f in files})
    if not folders:
        raise DetcostError(f"no results (*.jsonl mode files) under {source}")
    return folders


def _same(a: Path, b: Path) -> bool:
    """Whether two run folders hold the same files with the same bytes (locks aside)."""
    names = {p.name for p in a.iterdir() if p.is_file() and p.name not in TRANSIENT}
    if names != {p.name for p in b.iterdir() if p.is_file() and p.name not in TRANSIENT}:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, sorted(names), shallow=False)
    return not mismatch and not errors


def merge_results(sources: Iterable[Path], out: Path) -> list[Merged]:
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    done: list[Merged] = []
    inside = []
    for source in map(Path, sources):
        for folder in run_folders(source):
            if folder.resolve().parent == raw.resolve():
                inside.append(folder)  # already in the tree being merged into
                continue
            target, action = raw / folder.name, COPIED
            n = 1
            while target.exists():
                if _same(folder, target):
                    action = SKIPPED
                    break
                n += 1
                target, action = raw / f"{folder.name}.{n}", RENAMED
            if action != SKIPPED:
                shutil.copytree(folder, target, ignore=shutil.ignore_patterns(*TRANSIENT))
            done.append(Merged(folder, target, action))
    if not done and inside:
        raise DetcostError(f"nothing to merge: the run folders given are already in {raw} "
                           "(merge another machine's results into this tree)")
    return done
