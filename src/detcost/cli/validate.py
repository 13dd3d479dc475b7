"""`detcost validate`: time a sample of cases with the suite's timer, CUDA events and
do_bench, in one default-mode process."""

from __future__ import annotations

import argparse
import json

from ..analysis.load import load
from ..analysis.tables import validation_table
from ..modes import BASELINE_MODE
from ..runs.folder import RunFolder, new_run_id
from ..runs.request import choose_profile, cuda_available
from ..runs.runner import RunOptions, run
from . import views


def execute(args: argparse.Namespace) -> int:
    cuda = cuda_available()
    profile_arg, profile = choose_profile(args.profile, cuda)
    views.cpu_note(cuda, args.profile, profile.name)
    folder = RunFolder.of(args.out, args.run_id or new_run_id(f"validate-{profile.name}"))
    folder.create()
    only = folder.validate_cases
    only.write_text(json.dumps([c.id for c in profile.sample(args.per_family)]))
    views.console.print(f"validating the timer on {only} -> {folder.path}")
    run(profile, profile_arg, [BASELINE_MODE], folder, args.bench_dir,
        RunOptions(validate=True, only=only))
    views.validation(validation_table(load([folder.path])))
    return 0
