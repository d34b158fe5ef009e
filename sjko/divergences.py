"""f-divergences D_f(rho || nu) = int f(d rho / d nu) d nu and their convex conjugates (PAPER §5).

Each divergence carries what the semi-dual losses (E5)-(E6) need:

* ``f`` and its conjugate ``f_star(s) = sup_{t >= 0} [s t - f(t)]``;
* ``f_star_prime``: the density ratio d mu_{k+1} / d nu = (f*)'(-v*) at the optimum (E3);
* ``potential``: the link from a network's raw output w to the potential v (identity for KL and
  chi^2; v = softplus(w) - log 2 for JSD, which keeps -v inside dom f* = (-inf, log 2));
* ``f_star_neg``: f*(-v) written in terms of w, in a numerically stable form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor
from torch.nn.functional import softplus

LOG2 = math.log(2.0)
Fn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Divergence:
    """An f-divergence and the pieces of it that S-JKO evaluates."""

    name: str
    f: Fn
    f_star: Fn
    f_star_prime: Fn
    potential: Fn
    f_star_neg: Fn
    latex: str


def _xlogx(t: Tensor) -> Tensor:
    return torch.special.xlogy(t, t)


def _chi2_f_star(s: Tensor) -> Tensor:
    return torch.where(s >= -2, s + s * s / 4, torch.full_like(s, -1.0))


KL = Divergence(
    name="kl",
    f=lambda t: _xlogx(t) - t + 1,
    f_star=torch.expm1,
    f_star_prime=torch.exp,
    potential=lambda w: w,
    f_star_neg=lambda w: torch.expm1(-w),
    latex=r"t\log t - t + 1",
)

JSD = Divergence(
    name="jsd",
    f=lambda t: _xlogx(t) - (t + 1) * torch.log((t + 1) / 2),
    f_star=lambda s: -torch.log(2 - torch.exp(s)),
    f_star_prime=lambda s: torch.exp(s) / (2 - torch.exp(s)),
    potential=lambda w: softplus(w) - LOG2,
    f_star_neg=lambda w: softplus(-w) - LOG2,
    latex=r"t\log t - (t+1)\log\frac{t+1}{2}",
)

CHI2 = Divergence(
    name="chi2",
    f=lambda t: (t - 1) ** 2,
    f_star=_chi2_f_star,
    f_star_prime=lambda s: torch.clamp(1 + s / 2, min=0.0),
    potential=lambda w: w,
    f_star_neg=lambda w: _chi2_f_star(-w),
    latex=r"(t-1)^2",
)

REGISTRY: dict[str, Divergence] = {d.name: d for d in (KL, JSD, CHI2)}


def get_divergence(name: str) -> Divergence:
    """Look a divergence up by name ("kl", "jsd", "chi2")."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown divergence {name!r}; registered: {sorted(REGISTRY)}") from None
