"""Data parallelism across processes (``torchrun --nproc_per_node N``), as DDP does it.

Every rank draws its own batches (its own seed), computes its gradients, and the gradients are
averaged across ranks before each optimiser step, so all ranks hold identical networks. This is
DistributedDataParallel's gradient averaging done explicitly after ``backward()``, which also
covers the R1 penalty's double backward (DDP's reducer does not support it). Without an
initialised process group every function here is a no-op, so single-process runs are unchanged.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


def rank_and_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process logs and writes checkpoints (rank 0)."""
    return rank_and_world()[0] == 0


def broadcast_parameters(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (DDP does this at construction)."""
    if rank_and_world()[1] == 1:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(module: nn.Module) -> None:
    """All-reduce and average every parameter gradient across ranks."""
    world = rank_and_world()[1]
    if world == 1:
        return
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world)


def gather_objects(obj) -> list:
    """Every rank's ``obj`` (list indexed by rank); ``[obj]`` in a single process."""
    world = rank_and_world()[1]
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out
