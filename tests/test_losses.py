import math

import torch
from torch import nn

from sjko.divergences import get_divergence
from sjko.losses import (BALANCED, logistic_potential_loss, marginal_penalties, r1_penalty,
                         semi_dual_loss, transport_cost, transport_loss)

x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
y = torch.tensor([[1.0, 1.0], [1.0, 0.0]])


def test_cost_sum_and_mean():
    assert torch.allclose(transport_cost(x, y, 0.5, "sum"), torch.tensor([2.0, 4.0]))
    assert torch.allclose(transport_cost(x, y, 0.5, "mean"), torch.tensor([1.0, 2.0]))


def test_sjko_potential_and_map_losses_by_hand():
    kl = get_divergence("kl")
    psi1, psi2 = marginal_penalties("sjko", kl)
    w_fake, w_real, c = torch.tensor([0.5, -1.0]), torch.tensor([2.0, 0.0]), torch.tensor([1.0, 3.0])
    # E5: E v(T x) - E c + E (e^{-v(y)} - 1)
    want = (0.5 - 1.0) / 2 - (1 + 3) / 2 + ((math.exp(-2) - 1) + 0.0) / 2
    assert math.isclose(float(semi_dual_loss(w_fake, w_real, c, psi1, psi2)), want, rel_tol=1e-6)
    # E6: E c - v(T x)
    assert math.isclose(float(transport_loss(c, w_fake, psi2)), ((1 - 0.5) + (3 + 1.0)) / 2,
                        rel_tol=1e-6)


def test_uotm_relaxes_the_source_and_otm_neither():
    kl = get_divergence("kl")
    w_fake, w_real, c = torch.tensor([0.5]), torch.tensor([2.0]), torch.tensor([1.0])
    got = semi_dual_loss(w_fake, w_real, c, *marginal_penalties("uotm", kl))
    assert math.isclose(float(got), math.expm1(0.5 - 1.0) + math.expm1(-2.0), rel_tol=1e-6)
    psi = marginal_penalties("otm", kl)
    assert psi == (BALANCED, BALANCED)
    assert math.isclose(float(semi_dual_loss(w_fake, w_real, c, *psi)), 0.5 - 1.0 - 2.0)


def test_jsd_losses_are_the_gan_losses():
    jsd = get_divergence("jsd")
    psi1, psi2 = marginal_penalties("sjko", jsd)
    w_fake, w_real, c = torch.tensor([0.3]), torch.tensor([-0.7]), torch.tensor([0.0])
    sp = torch.nn.functional.softplus
    want = sp(w_fake) + sp(-w_real) - 2 * math.log(2)
    assert torch.allclose(semi_dual_loss(w_fake, w_real, c, psi1, psi2), want.squeeze())
    c = torch.tensor([0.25])
    sat = transport_loss(c, w_fake, psi2)
    assert torch.allclose(sat, c - sp(w_fake) + math.log(2))
    assert torch.allclose(transport_loss(c, w_fake, psi2, non_saturating=True), c + sp(-w_fake))


def test_r1_of_a_linear_potential():
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]]))
    pot = lambda z: lin(z).squeeze(-1)  # noqa: E731
    assert math.isclose(float(r1_penalty(pot, y).detach()), 0.5 * 25.0, rel_tol=1e-6)


def test_logistic_potential_loss_by_hand_and_its_minimiser_is_the_kl_potential():
    w_fake, w_real = torch.tensor([0.5, -1.0]), torch.tensor([2.0, 0.0])
    sp = lambda t: math.log1p(math.exp(t))  # noqa: E731
    want = (sp(0.5) + sp(-1.0)) / 2 + (sp(-2.0) + sp(0.0)) / 2
    assert math.isclose(float(logistic_potential_loss(w_fake, w_real)), want, rel_tol=1e-6)
    # On two points with pushed shares p = (3/4, 1/4) and data shares q = (1/4, 3/4), the loss over
    # a table v is minimised at v = -log(p / q): the KL potential of (E5), e^{-v} q = p.
    fake, real = torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1, 1, 1])
    v = torch.zeros(2, requires_grad=True)
    opt = torch.optim.LBFGS([v], max_iter=200, tolerance_grad=1e-12, tolerance_change=0)

    def closure():
        opt.zero_grad()
        loss = logistic_potential_loss(v[fake], v[real])
        loss.backward()
        return loss

    opt.step(closure)
    assert torch.allclose(v.detach(), torch.tensor([-math.log(3.0), math.log(3.0)]), atol=1e-4)
