"""What `detcost run` asks for, as one value: the CLI builds it from its arguments, a
submitted job receives it whole, and `plan` decides everything that follows from it once
(the profile, the modes, the run id and folder) before `perform` measures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import DetcostError
from ..modes import MODES, get_mode
from ..profile import Profile, default_profile, load_profile, workloads_profile_text
from .folder import RunFolder, new_run_id
from .runner import ModeOutcome, Progress, RunOptions, gpu_ids, run


@dataclass(frozen=True)
class RunRequest:
    """Everything a run is asked for; None leaves a choice to the machine (the profile, the
    modes, the run id)."""

    out: Path = Path("results")
    profile: str | None = None
    modes: tuple[str, ...] | None = None
    workloads: tuple[str, ...] = ()
    keyword: str | None = None
    run_id: str | None = None
    bench_dir: Path | None = None
    case_timeout_s: float = 600.0
    time_limit_s: float | None = None
    processes: int | None = None
    gpus: str = "1"
    first_process: int = 1


@dataclass(frozen=True)
class PlannedRun:
    """A request with every choice made: what runs, in which modes, into which folder."""

    request: RunRequest
    folder: RunFolder
    profile_arg: str  # what the workers load: a built-in name or a TOML path
    profile: Profile
    modes: tuple[str, ...]
    processes: int
    cuda: bool
    new: bool  # the run's folder was not there before this run (it is no resume)


@dataclass(frozen=True)
class RunResult:
    planned: PlannedRun
    outcomes: list[ModeOutcome] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return any(o.stopped for o in self.outcomes)


def portable(request: RunRequest) -> RunRequest:
    """The request with its paths made absolute, for a job that may start elsewhere: the
    profile and the benchmarks folder where they are files, a workload's file (a
    `module:NAME` stays as it is)."""
    def path(p: str) -> str:
        return str(Path(p).resolve()) if Path(p).exists() else p

    def spec(workload: str) -> str:  # path/to/file.py:NAME
        file, sep, name = workload.partition(":")
        return path(file) + sep + name

    return replace(request, profile=path(request.profile) if request.profile else None,
                   workloads=tuple(map(spec, request.workloads)),
                   bench_dir=Path(path(str(request.bench_dir))) if request.bench_dir else None)


def split_modes(values: Sequence[str] | None, cuda: bool = True) -> tuple[str, ...]:
    """The modes asked for (each value may list several, comma-separated); by default every
    built-in mode, or on a machine without a CUDA GPU those whose knobs act on a CPU."""
    if values is None:
        return tuple(name for name, m in MODES.items() if cuda or not m.gpu_only)
    names = [m.strip() for v in values for m in v.split(",") if m.strip()]
    if not names:
        raise DetcostError(f"--mode {','.join(values)!r} names no mode (allowed: "
                           f"{', '.join(MODES)})")
    twice = sorted({m for m in names if names.count(m) > 1})
    if twice:
        raise DetcostError(f"--mode names {twice[0]!r} twice: each mode runs once per "
                           "process (more processes: --processes)")
    return tuple(get_mode(m).name for m in names)


def cuda_available() -> bool:
    import torch  # the parent asks, and creates no CUDA context

    return torch.cuda.is_available()


def choose_profile(asked: str | None, cuda: bool) -> tuple[str, Profile]:
    """The profile asked for (a built-in name or a TOML path), else this machine's default:
    standard on a CUDA GPU, smoke without one."""
    name = asked or default_profile(cuda)
    return name, load_profile(name)


def plan(request: RunRequest, cuda: bool | None = None) -> PlannedRun:
    """Every choice of the run, made once: the run id (and so the folder) first, so that a
    `--workload` run's profile.toml and its records land in the same folder."""
    cuda = cuda_available() if cuda is None else cuda
    modes = split_modes(request.modes, cuda)
    profile_arg, profile = choose_profile(request.profile, cuda)
    label = "user" if request.workloads else profile.name
    folder = RunFolder.of(request.out, request.run_id or new_run_id(label))
    new = not folder.path.exists()
    if request.workloads:
        text = workloads_profile_text(request.workloads, profile.measure)
        folder.create()
        folder.profile_file.write_text(text, encoding="utf-8")
        profile_arg = str(folder.profile_file)
        profile = load_profile(profile_arg)
    processes = request.processes or profile.measure.processes
    return PlannedRun(request, folder, profile_arg, profile, modes, processes, cuda, new)


def options(planned: PlannedRun, deadline: float | None = None) -> RunOptions:
    r = planned.request
    return RunOptions(keyword=r.keyword, case_timeout_s=r.case_timeout_s,
                      first_process=r.first_process, processes=planned.processes,
                      gpus=gpu_ids(r.gpus), deadline=deadline)


def perform(planned: PlannedRun, progress: Progress | None = None) -> RunResult:
    """Measure what was planned, the request's time limit counted from now. A new run's
    folder that no worker ran in is removed again."""
    limit = planned.request.time_limit_s
    deadline = time.time() + limit if limit else None
    try:
        outcomes = run(planned.profile, planned.profile_arg, planned.modes, planned.folder,
                       planned.request.bench_dir, options(planned, deadline), progress)
    finally:
        if planned.new:
            planned.folder.discard_if_unused()
    return RunResult(planned, outcomes)

