"""Collectives and data-parallel training, run by every rank of a torchrun launch (the
runner starts the `distributed` family's worker under torchrun; rank 0 writes the records).

- `collective`: all_reduce, reduce_scatter or all_gather of a message of `mb` MiB; the
  throughput is NCCL's bus bandwidth (what nccl-tests reports), in GB/s.
- `ddp`: a training step of a transformer block under DistributedDataParallel; its outputs
  are the loss and every (all-reduced) gradient.
- `fsdp`: the same step with the block sharded by FSDP2 (`fully_shard`); the outputs are
  each rank's own gradient shards.

Every rank draws its own inputs (the seed plus its rank), so a reduction really adds
different numbers; the plugin gathers every rank's digest into the record, to tell whether
the ranks agree where they should (all_reduce, DDP gradients).
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Param, Problem, Setting, Work, Workload
from .model_kit import seeded, training

COLLECTIVES = ("all_reduce", "reduce_scatter", "all_gather")


def _world():
    import torch.distributed as dist

    if not dist.is_initialized():
        raise RuntimeError("the distributed family runs under torchrun (detcost run starts it "
                           "so); this process has no process group")
    return dist, dist.get_rank(), dist.get_world_size()


def _rank_inputs(s: Setting, rank: int, n: int):
    """This rank's own values: a generator seeded with the seed and the rank."""
    import torch

    g = torch.Generator(device=s.device).manual_seed(s.seed * 1009 + rank)
    x = torch.randn(n, generator=g, device=s.device).to(getattr(torch, s.dtype))
    return x.double() if s.reference else x


def build_collective(p: Mapping, s: Setting) -> Problem:
    import torch

    dist, rank, world = _world()
    # The message's size in the case's dtype (the float64 reference sends as many elements)
    op, item = p["op"], getattr(torch, s.dtype).itemsize
    n = int(p["mb"]) * 2**20 // item // world * world  # divisible by the world size
    # torch 2.14 renamed the tensor forms; older torch has only the old names
    gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
    scatter = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor
    x = _rank_inputs(s, rank, n)
    if op == "all_reduce":
        def forward():
            y = x.clone()
            dist.all_reduce(y)
            return y
        bus = 2.0 * (world - 1) / world * n * item
    elif op == "reduce_scatter":
        def forward():
            out = torch.empty(n // world, dtype=x.dtype, device=x.device)
            scatter(out, x)
            return out
        bus = (world - 1) / world * n * item
    else:
        def forward():
            out = torch.empty(n * world, dtype=x.dtype, device=x.device)
            gather(out, x)
            return out
        bus = (world - 1) * n * item
    # One rank moves nothing between ranks (bus bandwidth 0): its own bytes stand in
    return Problem(forward, [], {"fwd": Work(bytes=bus if world > 1 else n * item)})


def _block(p: Mapping, s: Setting):
    from torch import nn

    hidden, heads = int(p["hidden"]), int(p["heads"])
    return seeded(lambda: nn.TransformerEncoderLayer(hidden, heads, 4 * hidden,
                                                      dropout=0.0, batch_first=True), s)


def _data_parallel(p: Mapping, s: Setting, shard: bool) -> Problem:
    _, rank, world = _world()
    batch, seq, hidden = int(p["batch"]), int(p["seq"]), int(p["hidden"])
    block = _block(p, s)
    if shard:
        from torch.distributed.fsdp import fully_shard

        model = fully_shard(block)
    else:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(block, device_ids=[s.device.index]
                                        if s.device.type == "cuda" else None)
    x = _rank_inputs(s, rank, batch * seq * hidden).view(batch, seq, hidden)
    # A regression target of its own per rank: the block ends in a layer norm, so the mean
    # square of its output alone is a constant, and its gradients would be rounding noise.
    target = _rank_inputs(s, rank + world, batch * seq * hidden).view(batch, seq, hidden)
    x, target = (x, target) if s.reference else (x.float(), target.float())
    train_step, restore = training(
        block, lambda: (model(x).float() - target.float()).pow(2).mean(), s)
    restore()

    dist = _world()[0]

    def step():
        loss, *grads = train_step()
        # The loss over every rank's batch, as the gradients are: then DDP's outputs should
        # agree across ranks. FSDP's gradients are DTensors: each rank keeps its own shard.
        loss = loss.clone()
        dist.all_reduce(loss)
        return [loss / world, *(g.to_local() if hasattr(g, "to_local") else g for g in grads)]

    tokens = batch * seq * world
    return Problem(lambda: model(x), [], {"fwdbwd": Work(items=tokens, item_unit="tokens")},
                   train_step=step)


_BLOCK = {"batch": 8, "seq": 512, "hidden": 1024, "heads": 16}


def _check_block(p: Mapping) -> str | None:
    if p["hidden"] % p["heads"]:
        return f"hidden = {p['hidden']} must be a multiple of heads = {p['heads']}"
    return None


DISTRIBUTED_WORKLOADS = [
    Workload("distributed", "collective", "all_reduce, reduce_scatter or all_gather of `mb` "
             "MiB across the ranks (bus bandwidth, as nccl-tests counts it)",
             build_collective, params={"op": Param("all_reduce", COLLECTIVES), "mb": 64},
             passes=("fwd",), dtypes=("float32", "bfloat16")),
    Workload("distributed", "ddp", "a transformer block's training step under "
             "DistributedDataParallel", lambda p, s: _data_parallel(p, s, shard=False),
             params=dict(_BLOCK), passes=("fwdbwd",), check=_check_block),
    Workload("distributed", "fsdp", "the same step with the block sharded by FSDP2 "
             "(fully_shard)", lambda p, s: _data_parallel(p, s, shard=True),
             params=dict(_BLOCK), passes=("fwdbwd",), check=_check_block),
]
