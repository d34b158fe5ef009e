"""Train an image flow from the command line, on one process or many (torchrun)::

    python -m sjko.images.cli --dataset mnist --size 28 --preset encdec --out runs/mnist
    # the authors' README CIFAR-10 command (S-JKO, KL; 4 GPUs x 64 = their batch of 256):
    torchrun --nproc_per_node 4 -m sjko.images.cli --dataset cifar10 --data-root data \\
        --preset large --K 100 --N0 10000 --N 2000 --h 0.1 --batch 64 --nz 100 --ema 0.9999 \\
        --device cuda --out runs/cifar

``--algorithm`` picks the preset (default ``authors-code``: dimension-averaged cost, independent
noise draws, instance noise, non-saturating JSD loss, shuffled epochs, and horizontal flips for
CIFAR-10); the schedule is the authors' global cosine decay to 5e-5 and R1 is their
(lambda/2) E|grad w|^2 with lambda = ``--r1`` (``--r1-every m``: every m-th iteration with
weight m lambda).

Under torchrun each rank trains on its own batches (per-rank seeds), gradients of both networks
are averaged across ranks (:mod:`sjko.distributed`), and rank 0 alone logs and writes the
checkpoints (resumable: rerun the same command) and the final flow. The backend is NCCL on CUDA
and gloo on CPU.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import torch
import torch.distributed as dist

from ..config import SJKOConfig
from ..train import train
from .models import build
from .recipe import load_target


def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sjko.images.cli", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="mnist", help="mnist, digits, cifar10 or an image folder")
    p.add_argument("--data-root", default="data")
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--preset", default="encdec")
    p.add_argument("--method", default="sjko")
    p.add_argument("--algorithm", default="authors-code",
                   choices=["textbook", "paper", "authors-code"])
    p.add_argument("--divergence", default="kl")
    p.add_argument("--K", type=int, default=5)
    p.add_argument("--N", type=int, default=300)
    p.add_argument("--N0", type=int, default=None)
    p.add_argument("--h", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=64, help="per process")
    p.add_argument("--nz", type=int, default=32)
    p.add_argument("--lr-transport", type=float, default=2e-4)
    p.add_argument("--lr-potential", type=float, default=1e-4)
    p.add_argument("--r1", type=float, default=0.2)
    p.add_argument("--r1-every", type=int, default=1,
                   help="apply R1 every m-th iteration with weight m * r1 (lazy; 1 = always)")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--data-batches", choices=["iid", "epochs", "stratified"], default=None,
                   help="default: epochs with --algorithm authors-code, else iid; stratified: "
                        "class-balanced batches (mnist only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--out", required=True, help="checkpoint and flow folder")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = args.device
    if distributed:
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        if device.startswith("cuda"):
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(device)
    try:
        authors = args.algorithm == "authors-code"
        config = SJKOConfig.preset(
            args.algorithm, K=args.K, h=args.h, iters_per_step=args.N, iters_first_step=args.N0,
            method=args.method, divergence=args.divergence, batch_size=args.batch, nz=args.nz,
            r1=args.r1, r1_every=args.r1_every, ema=args.ema, cosine_lr="global",
            lr_min=min(5e-5, args.lr_potential),
            lr_transport=args.lr_transport, lr_potential=args.lr_potential, keep_steps=True,
            checkpoint_every=args.checkpoint_every, seed=args.seed, device=device,
            data_batches=args.data_batches or ("epochs" if authors else "iid"),
            hflip=authors and args.dataset == "cifar10")
        images, target = load_target(args.dataset, args.size, args.data_root,
                                     config.data_batches)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            T, v = build(args.preset, images.shape[1], images.shape[2], config.nz)
        train(target, config, transport=T, potential=v, checkpoint_dir=args.out)
    finally:
        if distributed:
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
