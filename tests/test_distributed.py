"""Two-process data parallelism on CPU (gloo), as under ``torchrun --nproc_per_node 2``:
gradients are averaged, both ranks end with identical networks, rank 0 checkpoints."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import sjko
from sjko.train import CHECKPOINT_NAME

CFG = sjko.SJKOConfig(K=2, h=1.0, iters_per_step=6, batch_size=32, nz=2, width=16, depth=1,
                      lr_transport=1e-3, lr_potential=1e-3, r1=0.1, checkpoint_every=3, seed=2,
                      data_batches="epochs")
DATA = sjko.get_toy("8gaussians")(512, torch.Generator().manual_seed(0))  # a finite data set


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from sjko.distributed import average_gradients
        lin = torch.nn.Linear(2, 1)
        for p in lin.parameters():
            p.grad = torch.full_like(p, float(rank + 1))
        average_gradients(lin)
        torch.save([p.grad for p in lin.parameters()], os.path.join(out_dir, f"grad{rank}.pt"))
        flow = sjko.train(DATA, CFG, progress=False,
                          checkpoint_dir=os.path.join(out_dir, "ckpt"))
        torch.save(flow.maps[-1], os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return out


def test_gradients_are_averaged_across_ranks(two_ranks):
    for rank in (0, 1):
        grads = torch.load(two_ranks / f"grad{rank}.pt")
        assert all(torch.allclose(g, torch.full_like(g, 1.5)) for g in grads)


def test_both_ranks_end_with_identical_networks(two_ranks):
    a = torch.load(two_ranks / "rank0.pt")
    b = torch.load(two_ranks / "rank1.pt")
    assert all(torch.equal(a[n], b[n]) for n in a)


def test_ranks_draw_different_batches_so_training_differs_from_one_process(two_ranks):
    single = sjko.train(DATA, CFG, progress=False).maps[-1]
    a = torch.load(two_ranks / "rank0.pt")
    assert not all(torch.equal(a[n], single[n]) for n in a)


def test_rank_zero_writes_the_checkpoint_with_every_rank_rng(two_ranks):
    ckpt = torch.load(two_ranks / "ckpt" / CHECKPOINT_NAME, weights_only=False)
    assert len(ckpt["gen"]) == 2 and not torch.equal(ckpt["gen"][0], ckpt["gen"][1])
    # each rank's epoch order, so a resumed run continues every rank's own pass
    orders = [state["order"] for state in ckpt["data"]]
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])
    assert (two_ranks / "ckpt" / "flow.pt").exists()
