import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from sjko import DIVERGENCES, get_divergence

NAMES = sorted(DIVERGENCES)
# points inside dom f* for each divergence (JSD: s < log 2)
S = {"kl": [-3.0, -1.0, 0.0, 0.5, 1.5], "jsd": [-3.0, -1.0, 0.0, 0.3, 0.6],
     "chi2": [-3.0, -1.0, 0.0, 0.5, 1.5]}


def t(x):
    return torch.tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_is_the_numerical_supremum(name):
    div = get_divergence(name)
    for s in S[name]:
        res = minimize_scalar(lambda u: -(s * u - float(div.f(t(u)))), bounds=(0.0, 1e3),
                              method="bounded", options={"xatol": 1e-10})
        sup = max(-res.fun, -float(div.f(t(0.0))))  # t = 0 is a boundary candidate
        assert float(div.f_star(t(s))) == pytest.approx(sup, abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_and_equality_at_the_derivative(name):
    div = get_divergence(name)
    ts = t(np.linspace(0.05, 5, 60))
    ss = t(np.linspace(-4, 0.65, 60))
    gap = div.f(ts)[:, None] + div.f_star(ss)[None, :] - ts[:, None] * ss[None, :]
    assert gap.min() >= -1e-12
    # equality where t = (f*)'(s)
    tt = div.f_star_prime(ss)
    assert torch.allclose(div.f(tt) + div.f_star(ss), tt * ss, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_of_conjugate(name):
    div = get_divergence(name)
    s = t(S[name]).requires_grad_(True)
    (grad,) = torch.autograd.grad(div.f_star(s).sum(), s)
    assert torch.allclose(grad, div.f_star_prime(s.detach()), atol=1e-10)
    assert float(div.f_star_prime(t(0.0))) == pytest.approx(1.0)
    assert float(div.f(t(1.0))) == pytest.approx(0.0)


@pytest.mark.parametrize("name", NAMES)
def test_stable_f_star_of_minus_v_matches_definition(name):
    div = get_divergence(name)
    w = t(np.linspace(-5, 5, 41))
    assert torch.allclose(div.f_star_neg(w), div.f_star(-div.potential(w)), atol=1e-10)


def test_jsd_link_keeps_minus_v_in_domain():
    div = get_divergence("jsd")
    v = div.potential(t(np.linspace(-30, 30, 101)))
    assert (v > -math.log(2)).all()


def test_unknown_divergence():
    with pytest.raises(ValueError, match="unknown divergence 'tv'"):
        get_divergence("tv")
