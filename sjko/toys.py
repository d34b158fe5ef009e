"""2-D toy targets (PAPER §6), as seeded samplers that also know their own modes.

Every toy is a ``callable(n, generator) -> Tensor[n, 2]``. Toys made of components (the modes of a
Gaussian mixture, the two circles) also give, for any point, its nearest component and the distance
to it, which :func:`sjko.metrics.mode_stats` turns into mode coverage and per-mode mass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor


@dataclass(frozen=True)
class Toy:
    """A 2-D target distribution.

    Attributes
    ----------
    name : registry key.
    draw : the sampler ``(n, generator) -> [n, 2]``.
    component_std : spread of one component (mode std, or radial noise of a circle).
    nearest : ``x -> (index, distance)`` of the nearest component, or None (no components).
    weights : probability of each component.
    draw_components : ``(indices, generator) -> [n, 2]``, one sample from each given component
        (used by :meth:`stratified`).
    """

    name: str
    draw: Callable[[int, torch.Generator], Tensor]
    component_std: Optional[float] = None
    nearest: Optional[Callable[[Tensor], tuple[Tensor, Tensor]]] = None
    weights: Optional[Tensor] = None
    draw_components: Optional[Callable[[Tensor, torch.Generator], Tensor]] = None

    def __call__(self, n: int, generator: torch.Generator) -> Tensor:
        return self.draw(n, generator)

    @property
    def stratifiable(self) -> bool:
        return self.draw_components is not None

    def stratified(self, n: int, generator: torch.Generator) -> Tensor:
        """A batch with exactly n/m samples from each of the m components (the authors' toy
        samplers; ``SJKOConfig.data_batches="stratified"``)."""
        if self.draw_components is None:
            raise ValueError(f"toy {self.name!r} has no components to stratify over")
        m = len(self.weights)
        if n % m:
            raise ValueError(f"stratified batches of {self.name!r} need a batch size divisible "
                             f"by its {m} components; got {n}")
        return self.draw_components(torch.arange(m).repeat_interleave(n // m), generator)

    @property
    def has_components(self) -> bool:
        return self.nearest is not None


def gaussian_mixture(name: str, means: Tensor, std: float,
                     weights: Optional[Tensor] = None) -> Toy:
    """Mixture of isotropic Gaussians N(means[i], std^2 I) with the given weights."""
    means = means.float()
    weights = (torch.full((len(means),), 1.0 / len(means)) if weights is None
               else weights.float() / weights.sum())

    def draw_components(idx: Tensor, generator: torch.Generator) -> Tensor:
        return means[idx] + std * torch.randn(len(idx), means.shape[1], generator=generator)

    def draw(n: int, generator: torch.Generator) -> Tensor:
        idx = torch.multinomial(weights, n, replacement=True, generator=generator)
        return draw_components(idx, generator)

    def nearest(x: Tensor) -> tuple[Tensor, Tensor]:
        dist, idx = torch.cdist(x.float(), means).min(dim=1)
        return idx, dist

    return Toy(name, draw, std, nearest, weights, draw_components)


def grid_25(spacing: float = 3.0, std: float = math.sqrt(0.005)) -> Toy:
    """25-Gaussians: a 5x5 grid on {-6, -3, 0, 3, 6}^2, covariance 0.005 I (PAPER §6)."""
    ticks = spacing * torch.arange(-2, 3, dtype=torch.float32)
    means = torch.cartesian_prod(ticks, ticks)
    return gaussian_mixture("25gaussians", means, std)


def ring_8(radius: float = 4.0, std: float = 0.2) -> Toy:
    """8-Gaussians: eight modes evenly spaced on a circle."""
    angles = torch.arange(8, dtype=torch.float32) * (2 * math.pi / 8)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return gaussian_mixture("8gaussians", means, std)


def two_circles(radii: tuple[float, float] = (4.0, 8.0), std: float = 0.2) -> Toy:
    """Two concentric circles (radii 4 and 8, radial noise std 0.2; PAPER §6), equal mass."""
    r = torch.tensor(radii, dtype=torch.float32)

    def draw_components(which: Tensor, generator: torch.Generator) -> Tensor:
        n = len(which)
        theta = 2 * math.pi * torch.rand(n, generator=generator)
        rad = r[which] + std * torch.randn(n, generator=generator)
        return torch.stack([rad * torch.cos(theta), rad * torch.sin(theta)], dim=1)

    def draw(n: int, generator: torch.Generator) -> Tensor:
        return draw_components(torch.randint(len(r), (n,), generator=generator), generator)

    def nearest(x: Tensor) -> tuple[Tensor, Tensor]:
        dist, idx = (x.float().norm(dim=1, keepdim=True) - r).abs().min(dim=1)
        return idx, dist

    return Toy("two_circles", draw, std, nearest, torch.full((len(r),), 1.0 / len(r)),
               draw_components)


def _checkerboard(n: int, generator: torch.Generator) -> Tensor:
    x1 = 4 * torch.rand(n, generator=generator) - 2
    x2 = torch.rand(n, generator=generator) - torch.randint(0, 2, (n,), generator=generator) * 2
    x2 = x2 + torch.floor(x1) % 2
    return 2 * torch.stack([x1, x2], dim=1)


def _spiral(n: int, generator: torch.Generator) -> Tensor:
    t = torch.sqrt(torch.rand(n, generator=generator)) * 3 * math.pi
    arm = torch.randint(0, 2, (n,), generator=generator) * 2 - 1
    pts = torch.stack([-torch.cos(t) * t, torch.sin(t) * t], dim=1) * arm[:, None]
    return 0.6 * pts + 0.1 * torch.randn(n, 2, generator=generator)


def _moons(n: int, generator: torch.Generator) -> Tensor:
    upper = torch.rand(n, generator=generator) < 0.5
    t = math.pi * torch.rand(n, generator=generator)
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    pts = torch.stack([x - 0.5, y - 0.25], dim=1) * 3
    return pts + 0.1 * torch.randn(n, 2, generator=generator)


TOYS: dict[str, Callable[[], Toy]] = {
    "25gaussians": grid_25,
    "two_circles": two_circles,
    "8gaussians": ring_8,
    "checkerboard": lambda: Toy("checkerboard", _checkerboard),
    "spiral": lambda: Toy("spiral", _spiral),
    "moons": lambda: Toy("moons", _moons),
}


def get_toy(name: str) -> Toy:
    """A toy target by name: 25gaussians, two_circles, 8gaussians, checkerboard, spiral, moons."""
    try:
        return TOYS[name]()
    except KeyError:
        raise ValueError(f"unknown toy {name!r}; available: {', '.join(TOYS)}") from None
