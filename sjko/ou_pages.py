"""Settings shared by the two OU pages (``notebooks/ou_benchmark.py``, the benchmark, and
``notebooks/ou_remedies.py``, the remedies that chose its default): run profiles and
configurations, so that both pages name exactly the same runs in the result cache.

Every choice here is the companion's; the paper's potential loss is (E5), the rest is stated per
configuration. The numbers behind each choice are on the pages.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from scipy.stats import chi2

from . import reference as ref
from .config import SJKOConfig
from .recipes import Target1D
from .samplers import StandardNormal

#: Run profiles. ``late``: (k, N') -- JKO steps k+1, k+2, ... take N' iterations instead of N;
#: ``width_small``: network width for d <= ``small_d`` (narrower networks where the problem is
#: easy); ``large_d``, ``potential_factor``: from d = ``large_d`` on, the potential step draws its
#: own target batch ``potential_factor`` times the map's (:func:`benchmark_config`);
#: ``particles``: Euler-Maruyama particles (independent, so simulating only the N_EVAL that are
#: scored changes nothing in distribution); ``remedy_*``: the remedy table; ``*1d``, ``cells``,
#: ``seeds1d``: the 1-D sections; ``timing_iters``: iterations per timing of
#: :func:`iteration_seconds` on the remedies page.
PROFILES = {
    "smoke": dict(dims=[1, 2], runs=2, times=[0.1, 0.15], N=5, late=(1, 3), width=16, small_d=1,
                  width_small=8, large_d=2, potential_factor=2, particles=2000, remedy_dims=[2],
                  remedy_runs=2, remedy_N=5, N1d=5, K1d=2, cells=40, seeds1d=[0], timing_iters=3),
    "quick": dict(dims=list(range(1, 13)), runs=5, times=[0.5, 0.9], N=300, late=(5, 150),
                  width=64, small_d=4, width_small=32, large_d=12, potential_factor=8,
                  particles=8192,
                  remedy_dims=[2, 4, 8, 12], remedy_runs=2, remedy_N=300, N1d=400, K1d=4,
                  cells=200, seeds1d=[0, 1, 2], timing_iters=100),
    "full": dict(dims=list(range(1, 13)), runs=15, times=[0.5, 0.9], N=1000, late=None,
                 width=128, small_d=0, width_small=128, large_d=12, potential_factor=8,
                 particles=8192,
                 remedy_dims=[2, 4, 8, 12], remedy_runs=2, remedy_N=1000, N1d=1000, K1d=4,
                 cells=300, seeds1d=[0, 1, 2], timing_iters=100),
}
N_EVAL = 8192  # samples per score: the evaluation size of Mokrov et al.'s JKO-ICNN runs
#: :func:`sjko.recipes.ou_run` scores run r on ``Flow.sample(n_eval, step=k, seed=EVAL_SEED + r)``:
#: the same source draws at every step k (``tests/test_ou_pages.py`` checks that the two agree).
EVAL_SEED = 10_000
#: The 1-D targets: one overlapping the source, one 8 target-stds away (PAPER §8), with their h.
CASES_1D = {"overlapping N(1.5, 0.5²), h = 0.5": (Target1D(1.5, 0.5), 0.5),
            "far N(4, 0.5²), h = 0.1": (Target1D(4.0, 0.5), 0.1)}
FAR_CASE = "far N(4, 0.5²), h = 0.1"


def profile(name: str) -> dict:
    """The settings of profile ``name`` ("smoke", "quick" or "full")."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[name]


def semi_dual(P: dict) -> SJKOConfig:
    """The paper's potential loss (E5) with the companion's settings, chosen on the 1-D exact
    references: a fast potential and a per-step cosine decay, so that each JKO step is solved
    before the next; for the profile's cost, fewer iterations in the later steps and torch's
    fused Adam. The width is set per d by :func:`ou_args`."""
    return SJKOConfig(h=0.05, iters_per_step=P["N"], iters_late=P["late"], batch_size=512, nz=0,
                      width=P["width"], lr_transport=3e-4, lr_potential=1e-3,
                      cosine_lr="per-step", fused_adam=True)


def page_default(P: dict) -> SJKOConfig:
    """The benchmark's base configuration (companion): the logistic potential loss, a 3x faster
    potential and a learned quadratic term in the potential -- chosen on the remedies page."""
    return semi_dual(P).replace(potential_loss="logistic", lr_potential=3e-3,
                                network="residual-quadratic")


def separate_potential_batch(config: SJKOConfig, factor: int) -> SJKOConfig:
    """``config`` whose potential step draws its own target batch ``factor`` times the map's
    (the map's batch unchanged)."""
    return config.replace(potential_batch_size=factor * config.batch_size)


def benchmark_config(P: dict, d: int) -> SJKOConfig:
    """The benchmark's configuration in dimension d (companion): :func:`page_default`, and from
    d = ``large_d`` on a separate potential batch ``potential_factor`` times larger -- where the
    base misses the goal, measured in the remedies page's last section."""
    base = page_default(P)
    return separate_potential_batch(base, P["potential_factor"]) if d >= P["large_d"] else base


def last_cell_variants(P: dict) -> dict[str, SJKOConfig]:
    """The base configuration and two larger batches at the benchmark's largest d (companion):
    the whole batch twice as large, or a separate potential batch ``potential_factor`` times as
    large (the benchmark's choice there). Run on the remedies page at the protocol's times."""
    base = page_default(P)
    return {"base": base, "batch ×2": base.replace(batch_size=2 * base.batch_size),
            f"potential batch ×{P['potential_factor']}":
                separate_potential_batch(base, P["potential_factor"])}


def width_for(P: dict, d: int) -> int:
    """The profile's network width in dimension d."""
    return P["width_small"] if d <= P["small_d"] else P["width"]


def ou_args(P: dict, d: int, run: int, config: SJKOConfig,
            times: Optional[Sequence[float]] = None) -> dict:
    """Keyword arguments of :func:`sjko.recipes.ou_run` for problem (d, run): ``config`` with the
    profile's width for d, scored at ``times`` (default: the profile's)."""
    return dict(d=d, run=run, times=list(P["times"] if times is None else times),
                config=config.replace(width=width_for(P, d)), n_eval=N_EVAL)


def flow_1d_base(P: dict) -> SJKOConfig:
    """The 1-D runs' configuration (the paper's loss, as :func:`semi_dual`, at d = 1's width)."""
    return SJKOConfig(K=P["K1d"], iters_per_step=P["N1d"], batch_size=512, nz=0,
                      width=width_for(P, 1), lr_transport=3e-4, lr_potential=1e-3,
                      cosine_lr="per-step", fused_adam=True)


def unseen_share(mu: ref.Gaussian, nu: ref.Gaussian, eps: float, n: int = 100_000) -> float:
    """mu's mass outside nu's (1 - eps) ellipsoid, by Monte Carlo over mu (seed 0): at the
    optimum of a KL step, the share of the normaliser of e^{-v*} d nu carried by target samples
    of probability eps."""
    x = mu.sample(n, np.random.default_rng(0))
    dx = x - nu.mean
    m2 = np.einsum("ni,ij,nj->n", dx, np.linalg.inv(nu.cov), dx)
    return float(np.mean(m2 > chi2.ppf(1 - eps, len(nu.mean))))


def eval_draws(d: int, run: int, n: int = N_EVAL) -> np.ndarray:
    """The n source draws x ~ mu_0 = N(0, I) behind every score of OU run ``run`` in dimension d
    (float64): the learned flow pushes exactly these through its maps."""
    gen = torch.Generator().manual_seed(EVAL_SEED + run)
    return StandardNormal((d,))(n, gen).numpy().astype(np.float64)


def paired_level(d: int, run: int, n: int = N_EVAL) -> float:
    """log10 of the SymKL that the exact JKO chain scores on run ``run``'s own evaluation draws,
    at every step k (companion).

    Each exact step is an affine map, so the exact chain sends the draws to samples of
    mu_k^JKO; the Gaussian fit commutes with affine maps and SymKL between Gaussians is invariant
    under a common one, so the score is that of the draws' fit against mu_0 = N(0, I), the same
    at every k. (a) minus this is exactly zero for a perfect solver, whereas (a) minus the mean
    level (:func:`sjko.reference.symkl_floor`) also carries the luck of the draws.
    """
    return float(np.log10(ref.sample_symmetric_kl(eval_draws(d, run, n), ref.Gaussian.of(
        np.zeros(d), np.eye(d)))))


def level_spread(d: int, n: int = N_EVAL, draws: int = 400, seed: int = 0) -> np.ndarray:
    """log10 SymKL of the Gaussian fit of n exact samples in dimension d, minus log10 of its
    mean, over ``draws`` sample sets (seeded): how far a perfect solver's (a) falls from the mean
    level by the luck of its evaluation draws alone. Its spread narrows with d (more fitted
    parameters average out)."""
    rng = np.random.default_rng(seed)
    mu = ref.Gaussian.of(np.zeros(d), np.eye(d))
    vals = np.array([ref.sample_symmetric_kl(mu.sample(n, rng), mu) for _ in range(draws)])
    return np.log10(vals) - np.log10(vals.mean())


def iteration_seconds(configs: dict[str, SJKOConfig], d: int, iters: int = 50,
                      repeats: int = 3) -> dict[str, float]:
    """Median wall time of one training iteration of each configuration on OU problem (d, 0), in
    this process on one thread (as the pages' runs train), the configurations interleaved so
    that they share the machine's state: for time ratios measured in one run (never a
    threshold)."""
    from .bench import time_iterations
    from .recipes import gaussian_sampler, ou_problem
    from .train import Trainer

    A, b = ou_problem(d, 0)
    target = gaussian_sampler(ref.Gaussian.of(b, np.linalg.inv(A)))
    trainers = {name: Trainer(target, cfg.replace(K=1), None, None, None)
                for name, cfg in configs.items()}
    times: dict[str, list[float]] = {name: [] for name in configs}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(repeats):
            for name, trainer in trainers.items():
                times[name].append(time_iterations(trainer, iters))
    finally:
        torch.set_num_threads(threads)
    return {name: float(np.median(t)) for name, t in times.items()}
