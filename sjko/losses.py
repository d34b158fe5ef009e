"""The adversarial semi-dual losses of one JKO step (PAPER §4-5, equations (E3)-(E6)).

The semi-dual of unbalanced OT with marginal penalties Psi1 (source) and Psi2 (target) is

    sup_v  -int Psi1*(-v^c) d mu  -  int Psi2*(-v) d nu,        v^c(x) = inf_y c_h(x, y) - v(y),

and with the inner infimum parametrised by a map T (v^c(x) ~ c_h(x, T(x)) - v(T(x))) it gives

    potential loss  L_v = E Psi1*(v(T x) - c_h(x, T x)) + E Psi2*(-v(y))        (E5)
    map loss        L_T = E c_h(T_old x, T x) - v(T x)                           (E6)

S-JKO, source-fixed UOTM and the naive JKO hold the source marginal (Psi1 = indicator of {1},
Psi1*(s) = s) and penalise the target by f; UOTM relaxes both (Psi1 = Psi2 = f); OTM holds both.
Minimising L_v over v is maximising the semi-dual objective (E3): ``-L_v`` estimates its value.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from .divergences import Divergence

BALANCED = Divergence(
    name="balanced",
    f=lambda t: torch.where(t == 1, torch.zeros_like(t), torch.full_like(t, math.inf)),
    f_star=lambda s: s,
    f_star_prime=torch.ones_like,
    potential=lambda w: w,
    f_star_neg=lambda w: -w,
    latex=r"\iota_{\{1\}}(t)",
)
"""The indicator of {1}: D(rho || nu) = 0 if rho = nu else +inf, so its marginal is held exactly."""


def marginal_penalties(method: str, divergence: Divergence) -> tuple[Divergence, Divergence]:
    """(Psi1, Psi2) of the UOT problem that ``method`` solves (PAPER §2 and §5)."""
    if method == "uotm":
        return divergence, divergence
    if method == "otm":
        return BALANCED, BALANCED
    return BALANCED, divergence


def transport_cost(x: Tensor, y: Tensor, h: float, mode: str = "sum") -> Tensor:
    """c_h(x, y) per sample: ||x-y||^2/(2h) ("sum", (E2)) or ||x-y||^2/(2dh) ("mean", authors' code)."""
    sq = (x - y).flatten(1).pow(2).sum(1)
    if mode == "mean":
        return sq / (2.0 * h * x[0].numel())
    return sq / (2.0 * h)


def semi_dual_loss(w_fake: Tensor, w_real: Tensor, fake_cost: Tensor, source: Divergence,
                   target: Divergence) -> Tensor:
    """Potential loss (E5) without R1: E Psi1*(v(T x) - c) + E Psi2*(-v(y)).

    ``w_fake``/``w_real`` are the potential network's raw outputs on T(x) and on data y;
    the target's link ``potential`` turns them into v.
    """
    v_fake = target.potential(w_fake)
    return source.f_star(v_fake - fake_cost).mean() + target.f_star_neg(w_real).mean()


def logistic_potential_loss(w_fake: Tensor, w_real: Tensor) -> Tensor:
    """Logistic log-ratio loss of the KL potential (companion; ``potential_loss="logistic"``):
    E softplus(v(T x)) + E softplus(-v(y)), with v = w (the KL link is the identity).

    It is logistic regression of data y ~ nu against pushed samples T x with logit -v. Pointwise,
    p softplus(v) + q softplus(-v) is smallest at v = log(q / p), so for a fixed map the minimiser
    is v = -log(d T#mu / d nu): the same potential as the KL semi-dual (E5), whose optimum has
    e^{-v} d nu = d T#mu. The map step (E6) is unchanged, so a joint fixed point is the JKO step's
    solution. Each term lies between 0 and abs(v) + log 2, while e^{-v(y)} in (E5) has variance
    chi^2(mu_{k+1} || nu) at the optimum (:func:`sjko.reference.chi2_gaussian`).
    """
    return softplus(w_fake).mean() + softplus(-w_real).mean()


def transport_loss(cost: Tensor, w_fake: Tensor, target: Divergence,
                   non_saturating: bool = False) -> Tensor:
    """Map loss (E6): E c_h(T_old x, T x) - v(T x).

    With ``non_saturating`` (JSD only, authors' code) -v = log 2 - softplus(w) is replaced by
    softplus(-w) = softplus(w) - w. Both decrease in w, but they are different functions of w, so
    for a fixed potential the map step no longer computes the c-transform in (E3): it keeps
    gradients large where the JSD potential saturates, at the price of leaving the JKO step.
    """
    if non_saturating:
        return (cost + softplus(-w_fake)).mean()
    return (cost - target.potential(w_fake)).mean()


def r1_penalty(potential: nn.Module, y: Tensor) -> Tensor:
    """(1/2) E ||grad_y w(y)||^2 of the raw potential output on data y (the R1 term of (E5))."""
    y = y.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(potential(y).sum(), y, create_graph=True)
    return 0.5 * grad.flatten(1).pow(2).sum(1).mean()


def instance_noise_std(k: int) -> float:
    """sigma_k = 1/(32(k+1)), the authors' instance-noise level on real data at step k."""
    return 1.0 / (32.0 * (k + 1))
