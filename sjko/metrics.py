"""Sample-based metrics: W2 (exact EMD via POT) and its noise level, mode statistics, MMD."""
from __future__ import annotations

from typing import Optional

import numpy as np
import ot
import torch
from torch import Tensor

from .samplers import Sampler
from .toys import Toy


def _as_array(x: Tensor | np.ndarray, name: str) -> np.ndarray:
    a = x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, float)
    if a.ndim != 2 or len(a) == 0:
        raise ValueError(f"{name} must have shape [n, d] with n >= 1; got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def w2(x: Tensor | np.ndarray, y: Tensor | np.ndarray) -> float:
    """W2 between the empirical measures of x [n, d] and y [m, d] (exact EMD, uniform weights)."""
    a, b = _as_array(x, "x"), _as_array(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y have different dimensions: {a.shape[1]} vs {b.shape[1]}")
    cost = ot.dist(a, b, metric="sqeuclidean")
    return float(np.sqrt(max(ot.emd2(ot.unif(len(a)), ot.unif(len(b)), cost, numItermax=10**7),
                             0.0)))


def w2_noise_floor(target: Sampler, n: int, seed: int = 0) -> float:
    """W2 between two independent n-sample sets of the target: what a perfect sampler scores at
    this sample size. A reference level, not a lower bound: a run can score below it by chance."""
    gen = torch.Generator().manual_seed(seed)
    return w2(target(n, gen), target(n, gen))


def mode_stats(x: Tensor, toy: Toy, n_std: float = 3.0, threshold: float = 0.2) -> dict:
    """Mode coverage and per-mode mass of samples x for a toy with components.

    A sample is *near* a component when it lies within ``n_std`` component stds of it. A component
    is *covered* when the fraction of samples near it is at least ``threshold`` times its weight.
    Returns ``covered`` (count), ``n_modes``, ``coverage`` (fraction), ``mass`` (per component,
    fraction of all samples near it), ``within`` (fraction of samples near any component).
    """
    if not toy.has_components:
        raise ValueError(f"toy {toy.name!r} has no modes; use W2 or MMD instead")
    idx, dist = toy.nearest(torch.as_tensor(x).float())
    near = dist <= n_std * toy.component_std
    n_modes = len(toy.weights)
    mass = torch.bincount(idx[near], minlength=n_modes).double() / len(x)
    covered = int((mass >= threshold * toy.weights.double()).sum())
    return {"covered": covered, "n_modes": n_modes, "coverage": covered / n_modes,
            "mass": mass.tolist(), "within": float(near.double().mean())}


def mmd(x: Tensor, y: Tensor, bandwidth: Optional[float] = None) -> float:
    """Unbiased MMD^2 with a Gaussian kernel exp(-||a-b||^2 / (2 bw^2)) (median heuristic)."""
    a = torch.as_tensor(_as_array(x, "x"))
    b = torch.as_tensor(_as_array(y, "y"))
    if len(a) < 2 or len(b) < 2:
        raise ValueError("MMD needs at least 2 samples in each set")
    xy = torch.cdist(a, b) ** 2
    if bandwidth is None:
        bandwidth = float(torch.sqrt(0.5 * xy.median()))
    gamma = 1.0 / (2 * bandwidth ** 2)
    kxx = torch.exp(-gamma * torch.cdist(a, a) ** 2)
    kyy = torch.exp(-gamma * torch.cdist(b, b) ** 2)
    n, m = len(a), len(b)
    term_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    term_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(term_x + term_y - 2 * torch.exp(-gamma * xy).mean())
