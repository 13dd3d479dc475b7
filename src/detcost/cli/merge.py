"""`detcost merge`: gather the results of several machines into one results tree."""

from __future__ import annotations

import argparse

from ..runs.merge import merge_results
from . import views


def execute(args: argparse.Namespace) -> int:
    views.merged(merge_results(args.sources, args.out), f"Merged into {args.out / 'raw'}")
    return 0
