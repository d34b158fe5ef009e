"""Default networks for vector data: residual MLPs (PAPER §6: width 128, 3 blocks, SiLU).

* :class:`TransportMap` -- the map T(x, z) = x + g(x, z). The last layer of g starts at zero, so T
  starts as the identity (the natural T_0 of a JKO flow). z (dimension ``nz``) enters through an
  embedding added to the trunk, as in the authors' toy generator.
* :class:`Potential` -- the potential v(y) (raw output w; see ``Divergence.potential``).
* :class:`QuadraticPotential` -- ``Potential`` plus a learned quadratic form y^T P y, zero at
  init (``SJKOConfig.network="residual-quadratic"``, companion): for the KL the optimal potential
  of a Gaussian step is quadratic, and the quadratic term sets how v grows where the data are not.

* :class:`AuthorsToyMap` / :class:`AuthorsToyPotential` -- the authors' toy networks
  (``SJKOConfig.network="authors-toy"``), rebuilt from their description: T(x, z) = g(x, z) with
  no skip from x and PyTorch's default random init (so T_0 is not the identity), residual blocks
  of three Linear+SiLU layers averaged with the skip as (h + block(h))/sqrt(2).

Any ``nn.Module`` with the same call signatures, ``T(x, z)`` and ``v(y) -> [n]``, can be passed to
:func:`sjko.train` instead.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn


def default_width(d: int) -> int:
    """Width of the default MLPs for data dimension d (128, as the paper, up to d = 16)."""
    return max(128, 8 * d)


class ResidualBlock(nn.Module):
    """x + W2 silu(W1 silu(x))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, width))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)


class ResMLP(nn.Module):
    """Linear -> ``depth`` residual blocks -> SiLU -> Linear."""

    def __init__(self, d_in: int, d_out: int, width: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth)])
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(width, d_out))

    def trunk(self, h: Tensor) -> Tensor:
        return self.out(self.blocks(h))

    def forward(self, x: Tensor) -> Tensor:
        return self.trunk(self.inp(x))


class TransportMap(nn.Module):
    """T(x, z) = x + g(x, z), initialised to the identity."""

    def __init__(self, d: int, nz: int = 0, width: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.d, self.nz = d, nz
        self.mlp = ResMLP(d, d, width, depth)
        self.z_embed = nn.Linear(nz, width) if nz > 0 else None
        last = self.mlp.out[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        h = self.mlp.inp(x)
        if self.z_embed is not None:
            h = h + self.z_embed(z)
        return x + self.mlp.trunk(h)


class Potential(nn.Module):
    """Scalar potential network y -> w(y), shape [n]."""

    def __init__(self, d: int, width: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.mlp = ResMLP(d, 1, width, depth)

    def forward(self, y: Tensor) -> Tensor:
        return self.mlp(y).squeeze(-1)


class QuadraticPotential(Potential):
    """w(y) = MLP(y) + y^T P y; P starts at zero (only its symmetric part acts), so at init the
    potential equals :class:`Potential` with the same seed."""

    def __init__(self, d: int, width: int = 128, depth: int = 3) -> None:
        super().__init__(d, width, depth)
        self.quadratic = nn.Parameter(torch.zeros(d, d))

    def forward(self, y: Tensor) -> Tensor:
        return super().forward(y) + ((y @ self.quadratic) * y).sum(-1)


class ScaledResidualStack(nn.Module):
    """Linear(d_in, width), then ``depth`` blocks h <- (h + B(h))/sqrt(2), B = 3 x (Linear, SiLU)."""

    def __init__(self, d_in: int, width: int, depth: int) -> None:
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(*[m for _ in range(3) for m in (nn.Linear(width, width), nn.SiLU())])
            for _ in range(depth))

    def forward(self, x: Tensor) -> Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = (h + block(h)) / math.sqrt(2.0)
        return h


def _head(width: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, d_out))


class AuthorsToyMap(nn.Module):
    """The authors' toy generator: T(x, z) = head(stack(x) + embed(z)), no identity skip."""

    def __init__(self, d: int, nz: int = 0, width: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.d, self.nz = d, nz
        self.x_stack = ScaledResidualStack(d, width, depth)
        self.z_embed = (nn.Sequential(nn.Linear(nz, width), nn.SiLU(), nn.Linear(width, width))
                        if nz > 0 else None)
        self.head = _head(width, d)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        h = self.x_stack(x)
        if self.z_embed is not None:
            h = h + self.z_embed(z)
        return self.head(h)


class AuthorsToyPotential(nn.Module):
    """The authors' toy potential: head(stack(y)), shape [n]."""

    def __init__(self, d: int, width: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.stack = ScaledResidualStack(d, width, depth)
        self.head = _head(width, 1)

    def forward(self, y: Tensor) -> Tensor:
        return self.head(self.stack(y)).squeeze(-1)


def default_networks(network: str, d: int, nz: int, width: int, depth: int
                     ) -> tuple[nn.Module, nn.Module]:
    """(T, v) for ``SJKOConfig.network``: "residual", "residual-quadratic" or "authors-toy"."""
    if network == "authors-toy":
        return AuthorsToyMap(d, nz, width, depth), AuthorsToyPotential(d, width, depth)
    potential = QuadraticPotential if network == "residual-quadratic" else Potential
    return TransportMap(d, nz, width, depth), potential(d, width, depth)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, decay: float) -> None:
    """target <- decay * target + (1 - decay) * source, parameter by parameter."""
    for pt, ps in zip(target.parameters(), source.parameters()):
        pt.lerp_(ps, 1.0 - decay)
    for bt, bs in zip(target.buffers(), source.buffers()):
        bt.copy_(bs)
