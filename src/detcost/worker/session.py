"""One worker's session: its mode (applied before any CUDA call), its profile, the file it
writes, the cases already there, and for a torchrun launch its process group."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from ..cases import Case
from ..modes import get_mode
from ..profile import default_profile, load_profile
from ..runs.folder import ModeProcess, RunFolder, check_run_id, new_run_id, shard_file
from ..runs.records import Header, Record, append, read_run_file
from ..workloads import DISTRIBUTED_FAMILY
from .ceilings import measure_ceilings
from .environment import capture
from .knobs import apply_mode, read_knobs
from .measure import owed_kernel_tables


@dataclass(frozen=True)
class WorkerOptions:
    """What `detcost run` tells a worker (see plugin.py's options)."""

    mode: str = "default"
    profile: str | None = None
    out: str | None = None
    run_id: str | None = None
    process: int = 1
    processes: int = 1
    only: str | None = None
    deadline: float | None = None
    gpus: tuple[str, ...] = ()
    validate: bool = False


class Worker:
    """State of this worker: its mode, profile, output file, and what is already recorded."""

    def __init__(self, options: WorkerOptions) -> None:
        gpus = options.gpus
        exit_when_orphaned()
        # This worker's shard and GPU, before anything can create a CUDA context.
        self.shard, self.shards = (xdist_index(), len(gpus)) if gpus else (0, 1)
        if gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = gpus[self.shard]
        self.mode = get_mode(options.mode)
        apply_mode(self.mode)  # before anything below can touch CUDA
        self.profile = load_profile(options.profile
                                    or default_profile(torch.cuda.is_available()))
        run_id = check_run_id(options.run_id or new_run_id(self.profile.name))
        self.who = ModeProcess(run_id, self.mode.name, options.process)
        self.processes = options.processes
        self.out = Path(options.out or RunFolder.of(Path("results"), run_id).mode_file(self.who))
        if gpus:
            self.out = shard_file(self.out, self.shard)
        self.validate = options.validate
        self.deadline = options.deadline
        self.only = (set(json.loads(Path(options.only).read_text(encoding="utf-8")))
                     if options.only else None)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        # Under torchrun (the distributed family): a process group of every rank, after the
        # mode (deterministic mode changes how NCCL's group is made); rank 0 writes.
        self.distributed = "WORLD_SIZE" in os.environ
        self.rank, self.cannot = 0, ""
        if self.distributed:
            ranks = int(os.environ["WORLD_SIZE"])
            if self.device.type == "cuda" and torch.cuda.device_count() < ranks:
                # NCCL needs a GPU per rank: rank 0 records why, and the others wait for it
                self.rank = int(os.environ.get("RANK", "0"))
                self.cannot = (f"the distributed family needs one GPU per rank: {ranks} "
                               f"ranks, {torch.cuda.device_count()} GPU(s) here")
            else:
                self.rank, self.device = join_process_group(self.device)
        # Measured before the first case even when resuming: it also warms the GPU up.
        self.ceilings = measure_ceilings() if self.rank == 0 else {}
        self.done = self._start_file()
        # Taken once every case here was timed; first those that an earlier worker on this
        # file timed but did not live (or have the time) to take.
        self.kernel_tables: list[Case] = (
            owed_kernel_tables(self.out, {c.id: c for c in self.profile.cases},
                               self.profile.measure if self.mode.kernel_tables else None)
            if self.who.process == 1 and not self.distributed else [])

    @property
    def together(self) -> bool:
        """Whether this worker is one rank of a process group that measures together."""
        return self.distributed and not self.cannot

    def cases_here(self) -> list[Case]:
        """The profile's cases this worker measures: the distributed family in a torchrun
        launch, every other family outside one; each GPU's worker takes every shards-th
        case (the same cases in every mode, so a case's modes all run on one GPU); a case
        its profile measures in fewer processes or modes is left out of the others."""
        return [c for i, c in enumerate(self.profile.cases)
                if (c.family == DISTRIBUTED_FAMILY) == self.distributed
                and i % self.shards == self.shard
                and (self.only is None or c.id in self.only)
                and self.profile.measures(c, self.mode.name, self.who.process)]

    def agree(self, value):
        """Rank 0's value on every rank of this worker's process group (see timing.Agree)."""
        if not self.together:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def skipped(self, case: Case) -> Record:
        return Record.of(case, self.who, "skipped", message=self.cannot)

    def _start_file(self) -> set[str]:
        if self.rank != 0:  # rank 0 writes the header first; then every rank reads
            if not self.together:
                return set()
            dist.barrier()
            return {r.case_id for r in read_run_file(self.out)[1]}
        done = self._open_file()
        if self.together:
            dist.barrier()
        return done

    def _open_file(self) -> set[str]:
        if self.out.exists() and self.out.stat().st_size:
            _, records = read_run_file(self.out)
            return {r.case_id for r in records}
        self.out.parent.mkdir(parents=True, exist_ok=True)
        header = Header(
            run_id=self.who.run_id, mode=self.mode.name,
            mode_description=self.mode.description, knobs=read_knobs(),
            environment=capture(), profile=self.profile.describe(),
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            process=self.who.process, ceilings=self.ceilings, processes=self.processes)
        append(self.out, header)
        return set()


ORPHANED_EXIT = 70  # the exit code of a worker whose parent is gone


def exit_when_orphaned(poll_s: float = 1.0) -> None:
    """End this worker once its parent is gone (killed, say): a worker must never measure
    on beside a resumed run, nor hold a GPU for nobody. The parent also asks the kernel to
    kill its direct child; this covers torchrun's ranks and xdist's workers too."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="detcost-orphan-watch", daemon=True).start()


def join_process_group(device: torch.device) -> tuple[int, torch.device]:
    """Join torchrun's process group (NCCL on GPUs, gloo on a CPU); this rank's device."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            device_id=device if device.type == "cuda" else None)
    return dist.get_rank(), device


def gather(value):
    """Every rank's value, in rank order (all ranks call it)."""
    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def xdist_index() -> int:
    """This xdist worker's number: gw3 -> 3."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
