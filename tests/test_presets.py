"""The "authors-code" preset against a hand computation of the authors' formulas (train.py,
train_JSD.py): mean cost 0.5 * mean_i (x_i - y_i)^2 / h, independent z1 != z2, instance noise
1/(32(k+1)) on real data, (lambda/2) R1 on the noisy real data, non-saturating JSD."""
import copy
import math

import pytest
import torch
from torch.nn.functional import softplus

import sjko
from sjko import SJKOConfig, get_toy
from sjko.train import Trainer

B, NZ, H, LAM = 50, 2, 0.7, 0.2


def authors_losses(T, v_potential_step, v_map_step, T_old, gen, k, divergence):
    """(errD + R1 - E cost, errG) as the authors' code computes them, same random draws."""
    x = torch.randn(B, 2, generator=gen)
    z1, z2 = torch.randn(B, NZ, generator=gen), torch.randn(B, NZ, generator=gen)
    with torch.no_grad():
        fake = T(x, z2)
        cost_d = 0.5 * ((fake - T_old(x, z1)) ** 2).mean(1) / H
    ticks = torch.tensor([-6.0, -3.0, 0.0, 3.0, 6.0])  # the authors' SquareGaussian, cov 0.005 I
    means = torch.cartesian_prod(ticks, ticks)
    y = means.repeat_interleave(B // 25, 0) + math.sqrt(0.005) * torch.randn(B, 2, generator=gen)
    y = (y + torch.randn(y.shape, generator=gen) / (32 * (k + 1))).requires_grad_(True)
    d_real, d_fake = v_potential_step(y), v_potential_step(fake)
    if divergence == "kl":
        err_d = (torch.exp(-d_real) - 1).mean() + d_fake.mean()
        offset = 0.0
    else:
        err_d = softplus(-d_real).mean() + softplus(d_fake).mean()
        offset = -2 * math.log(2)  # v = softplus(w) - log 2 in the semi-dual value
    (grad,) = torch.autograd.grad(d_real.sum(), y, create_graph=True)
    r1 = LAM / 2 * grad.pow(2).sum(1).mean()
    loss_v = err_d + r1 - cost_d.mean() + offset
    x = torch.randn(B, 2, generator=gen)
    z1, z2 = torch.randn(B, NZ, generator=gen), torch.randn(B, NZ, generator=gen)
    new = T(x, z2)
    c = 0.5 * ((new - T_old(x, z1)) ** 2).mean(1) / H
    w = v_map_step(new)
    err_g = (c - w).mean() if divergence == "kl" else (c + softplus(-w)).mean()
    return loss_v.item(), err_g.item()


@pytest.mark.parametrize("divergence", ["kl", "jsd"])
def test_two_iterations_match_the_authors_formulas(divergence):
    cfg = SJKOConfig.preset("authors-code", K=2, iters_per_step=1, h=H, batch_size=B, nz=NZ,
                            r1=LAM, divergence=divergence, width=32, lr_potential=1e-2)
    trainer = Trainer(get_toy("25gaussians"), cfg, None, None, None)
    assert (cfg.cost, cfg.independent_z, cfg.instance_noise, cfg.data_batches) == (
        "mean", True, True, "stratified")
    for k in range(2):
        T, v = copy.deepcopy(trainer.T), copy.deepcopy(trainer.v)
        T_old = copy.deepcopy(trainer.T_old)
        gen = torch.Generator()
        gen.set_state(trainer.gen.get_state())
        loss_v, loss_T = trainer.iteration()
        v_after = copy.deepcopy(trainer.v)  # the map step sees the updated potential
        want_v, want_T = authors_losses(T, v, v_after, T_old, gen, k, divergence)
        assert loss_v == pytest.approx(want_v, rel=1e-5, abs=1e-6)
        assert loss_T == pytest.approx(want_T, rel=1e-5, abs=1e-6)
        trainer.it += 1
        trainer.end_step()
    # phase 1 used the frozen raw map as T_old, and T_0 of the authors' network is not Id
    x = torch.randn(8, 2)
    assert not torch.allclose(T_old(x, torch.randn(8, NZ)), x)


def test_authors_networks_start_away_from_the_identity_and_ours_at_it():
    x, z = torch.randn(16, 2), torch.randn(16, 2)
    for network, is_identity in [("authors-toy", False), ("residual", True)]:
        t = Trainer(get_toy("8gaussians"), SJKOConfig(network=network, width=32), None, None,
                    None)
        assert torch.allclose(t.T(x, z), x) == is_identity


def test_stratified_batches_hold_every_mode_equally():
    toy = get_toy("25gaussians")
    y = toy.stratified(100, torch.Generator().manual_seed(0))
    idx, _ = toy.nearest(y)
    assert torch.bincount(idx, minlength=25).tolist() == [4] * 25
    with pytest.raises(ValueError, match="divisible by its 25 components"):
        toy.stratified(30, torch.Generator())
    with pytest.raises(ValueError, match="stratified"):
        Trainer(get_toy("moons"), SJKOConfig(data_batches="stratified"), None, None, None)


def test_epoch_batches_draw_without_replacement_and_drop_the_last_partial_batch():
    from sjko.samplers import DataStream, Empirical
    data = torch.arange(10.0)[:, None]
    stream = DataStream(Empirical(data), "epochs")
    gen = torch.Generator().manual_seed(0)
    first = torch.cat([stream(4, gen), stream(4, gen)]).flatten()
    assert len(set(first.tolist())) == 8           # no repeats inside an epoch
    third = stream(4, gen).flatten()                # 2 left < 4: a new shuffled epoch starts
    assert len(set(third.tolist())) == 4 and stream.pos == 4
    with pytest.raises(ValueError, match="tensor of samples"):
        DataStream(lambda n, g: torch.randn(n, 2), "epochs")


def test_hflip_flips_about_half_the_images_left_right():
    from sjko.samplers import DataStream, Empirical
    img = torch.arange(12.0).reshape(1, 1, 3, 4)
    stream = DataStream(Empirical(img.repeat(400, 1, 1, 1)), "iid", hflip=True)
    out = stream(400, torch.Generator().manual_seed(0))
    flipped = (out == img.flip(-1)).flatten(1).all(1)
    assert ((out == img).flatten(1).all(1) | flipped).all()
    assert 150 < int(flipped.sum()) < 250
    with pytest.raises(ValueError, match="image data"):
        DataStream(Empirical(torch.randn(5, 2)), "iid", hflip=True)


def test_the_jsd_cosine_horizon_never_reaches_the_floor():
    from sjko.train import _lr_factor
    for horizon, ends_at_floor in [("run", True), ("run+step", False)]:
        cfg = SJKOConfig(K=3, iters_per_step=10, cosine_lr="global", lr_min=1e-5,
                         lr_transport=1e-4, lr_potential=1e-4, cosine_horizon=horizon)
        last = _lr_factor(cfg, 2, 10, cfg.total_iterations, 1e-4)
        assert (last == pytest.approx(0.1)) == ends_at_floor


def test_stopping_rule_ends_steps_early_and_records_the_held_out_trace():
    cfg = SJKOConfig(K=2, iters_per_step=400, width=16, batch_size=64, nz=0, stop_tol=10.0,
                     stop_every=20, stop_patience=2, stop_samples=256, lr_transport=1e-3,
                     lr_potential=1e-3)
    flow = sjko.train(get_toy("8gaussians"), cfg, progress=False)
    assert flow.history["step_iterations"] == [60, 60]  # 3 estimates, 2 changes < tol
    assert [k for k, _, _ in flow.history["held_out"]] == [0, 0, 0, 1, 1, 1]
