"""Experiment recipes: train, evaluate against references, store (via :mod:`sjko.experiments`).

Notebooks call these functions and only plot and tabulate what they return, so every number in
the book comes from a stored, re-loadable run.
"""
from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from . import reference as ref
from .config import SJKOConfig
from .experiments import Result, run_or_load
from .metrics import mode_stats, w2, w2_noise_floor
from .toys import get_toy
from .train import TrainEvent, train

HISTORY_POINTS = 400


def _thin_history(history: dict) -> dict:
    n = len(history["loss_v"])
    idx = np.unique(np.linspace(0, n - 1, min(n, HISTORY_POINTS)).astype(int))
    return {"iteration": idx.tolist(), "k": [history["k"][i] for i in idx],
            "loss_v": [history["loss_v"][i] for i in idx],
            "loss_T": [history["loss_T"][i] for i in idx],
            "step_seconds": history["step_seconds"]}


def _save_npz(path: Path, arrays: dict) -> None:
    np.savez_compressed(path, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})


def load_samples(result: Result) -> dict[str, np.ndarray]:
    """The arrays a recipe stored in ``samples.npz``."""
    with np.load(result.file("samples.npz")) as z:
        return dict(z)


# -- 2-D toys --------------------------------------------------------------------------------------
def toy_run(toy_name: str, config: SJKOConfig, n_eval: int = 2000,
            snapshots: Sequence[int] = ()) -> Result:
    """Train on a 2-D toy; store final and per-step samples, training snapshots and metrics.

    Metrics: ``w2`` (vs fresh target samples), ``w2_floor`` (two target sets of the same size),
    ``w2_ratio``; for toys with modes also ``covered``/``n_modes``/``within`` (fraction of samples
    within 3 std of a mode) and per-mode ``mass``; ``train_seconds``.
    """
    params = {"toy": toy_name, "config": config.to_dict(), "n_eval": n_eval,
              "snapshots": list(snapshots)}

    def compute(folder: Path) -> dict:
        toy = get_toy(toy_name)
        arrays: dict = {}
        wanted = set(snapshots)

        def grab(event: TrainEvent) -> None:
            if event.global_iteration in wanted:
                arrays[f"snapshot_{event.global_iteration}"] = event.sample(n_eval, 0).numpy()

        flow = train(toy, config, progress=False, callback=grab if wanted else None)
        final = flow.sample(n_eval, seed=config.seed + 1)
        arrays["final"] = final.numpy()
        for k in flow.available_steps():
            arrays[f"step_{k}"] = flow.sample(n_eval, step=k, seed=config.seed + 1).numpy()
        data = toy(n_eval, torch.Generator().manual_seed(10_000 + config.seed))
        arrays["target"] = data.numpy()
        metrics = {"w2": w2(final, data),
                   "w2_floor": w2_noise_floor(toy, n_eval, seed=20_000 + config.seed),
                   "train_seconds": float(sum(flow.history["step_seconds"]))}
        metrics["w2_ratio"] = metrics["w2"] / metrics["w2_floor"]
        if toy.has_components:
            metrics.update(mode_stats(final, toy))
        _save_npz(folder / "samples.npz", arrays)
        (folder / "history.json").write_text(json.dumps(_thin_history(flow.history)))
        return metrics

    return run_or_load("toy", params, compute)


def load_history(result: Result) -> dict:
    return json.loads(result.file("history.json").read_text())


# -- 1-D flows against the exact JKO ---------------------------------------------------------------
@dataclass(frozen=True)
class Target1D:
    """nu = N(mean, std^2) in 1-D."""

    mean: float
    std: float

    def sampler(self):
        return lambda n, g: self.mean + self.std * torch.randn(n, 1, generator=g)


def exact_1d(target: Target1D, step_sizes: Sequence[float], divergence: str, cells: int = 300
             ) -> list[ref.QuantileMeasure]:
    """Exact JKO sequence from N(0, 1) for any f (quantile solver), one step per step size.

    Computed once per process for the same arguments (the runs of a page share a few sequences,
    each several seconds of solver time); the returned measures must not be modified.
    """
    return list(_exact_1d(target, tuple(float(h) for h in step_sizes), divergence, cells))


@functools.lru_cache(maxsize=16)
def _exact_1d(target: Target1D, step_sizes: tuple[float, ...], divergence: str, cells: int
              ) -> tuple[ref.QuantileMeasure, ...]:
    logpdf, cdf = ref.gaussian_target(target.mean, target.std)
    seq = [ref.QuantileMeasure.gaussian(0.0, 1.0, cells)]
    for h in step_sizes:
        seq.append(ref.quantile_jko_step(seq[-1], h, divergence, logpdf, cdf))
    return tuple(seq)


def flow_1d_run(target: Target1D, config: SJKOConfig, n_eval: int = 20000, cells: int = 300
                ) -> Result:
    """Learned mu_1..mu_K in 1-D vs the exact JKO steps (any divergence; ``cost`` must be "sum").

    Metrics per step k: learned and exact mean/std and their errors.
    """
    if config.cost != "sum":
        raise ValueError("the exact 1-D reference uses cost='sum' (|x-y|^2/(2h))")
    config = config.replace(keep_steps=True)
    params = {"target": [target.mean, target.std], "config": config.to_dict(), "n_eval": n_eval,
              "cells": cells}

    def compute(folder: Path) -> dict:
        exact = exact_1d(target, [config.step_size(k) for k in range(config.K)],
                         config.divergence, cells)
        flow = train(target.sampler(), config, progress=False)
        rows, arrays = [], {}
        for k in range(1, config.K + 1):
            x = flow.sample(n_eval, step=k, seed=10_000 + config.seed).numpy()[:, 0]
            arrays[f"step_{k}"] = x[:2000]
            rows.append({"k": k, "mean": float(x.mean()), "std": float(x.std()),
                         "exact_mean": exact[k].mean, "exact_std": exact[k].std,
                         "mean_error": float(x.mean() - exact[k].mean),
                         "std_error": float(x.std() - exact[k].std)})
        arrays["exact_q"] = np.stack([m.q for m in exact])
        arrays["exact_u"] = exact[0].u
        _save_npz(folder / "samples.npz", arrays)
        return {"steps": rows, "train_seconds": float(sum(flow.history["step_seconds"]))}

    return run_or_load("flow1d", params, compute)


# -- Ornstein-Uhlenbeck benchmark (PAPER §7) -------------------------------------------------------
OU_RANDOM_KEY = "abacaba"  # configs/ornstein_uhlenbeck_vary_dim.yml of Mokrov et al.


def ou_problem(d: int, run: int) -> tuple[np.ndarray, np.ndarray]:
    """Problem ``run`` in dimension d of Mokrov et al.'s OU benchmark: (A, b) with nu = N(b, A^-1).

    Their protocol (``src/experiments/_ou.py``, ``manual_random.py``): NumPy's global generator is
    seeded with crc32("abacaba@{d}@{run}numpy"); the target covariance is
    ``sklearn.datasets.make_spd_matrix(d)`` and then the mean ``randn(d)``. The same draws from a
    ``RandomState`` with that seed give the same problem sequence.
    """
    from sklearn.datasets import make_spd_matrix

    rng = np.random.RandomState(zlib.crc32(f"{OU_RANDOM_KEY}@{d}@{run}numpy".encode()))
    cov = make_spd_matrix(d, random_state=rng)
    b = rng.randn(d)
    cov = (cov + cov.T) / 2
    return np.linalg.inv(cov), b


def gaussian_sampler(g: ref.Gaussian):
    """Seeded torch sampler of a Gaussian."""
    chol = torch.tensor(np.linalg.cholesky(g.cov), dtype=torch.float32)
    mean = torch.tensor(g.mean, dtype=torch.float32)
    d = len(g.mean)
    return lambda n, gen: mean + torch.randn(n, d, generator=gen) @ chol.T


def ou_scores(x: np.ndarray, exact: ref.Gaussian, truth: ref.Gaussian, n_floor: int, seed: int
              ) -> dict:
    """The three quantities of one cell, all log10 SymKL with the Gaussian-fit estimator.

    ``solver`` (a): learned samples vs the exact JKO iterate; ``solver_floor``: the same estimator
    on ``len(x)`` samples of the exact iterate itself (its reference level: a perfect solver's
    average score, not a bound); ``vs_flow`` (b):
    learned vs the true rho_t; ``scheme`` (c): exact iterate vs rho_t in closed form (the time
    discretisation error, no estimator).
    """
    floor, _ = ref.symkl_floor(exact, len(x), seeds=5, seed=seed)
    return {"solver": float(np.log10(ref.sample_symmetric_kl(x, exact))),
            "solver_floor": float(np.log10(floor)),
            "vs_flow": float(np.log10(ref.sample_symmetric_kl(x, truth))),
            "scheme": float(np.log10(ref.symmetric_kl(exact, truth))),
            "n": len(x), "n_floor": n_floor}


def ou_run(d: int, run: int, times: Sequence[float], config: SJKOConfig, n_eval: int = 8192
           ) -> Result:
    """S-JKO on OU problem ``run`` in dimension d, scored at each t (see :func:`ou_scores`) and
    against the exact JKO iterate at every step k (``solver_by_step``).

    ``config.h`` is the JKO step (0.05 in the benchmark); K = round(max(times)/h); ``cost`` is
    "sum" and the divergence KL, the problem's own JKO step. ``n_eval`` samples per score
    (8192: the evaluation size of Mokrov et al.'s JKO-ICNN runs).
    """
    K = int(round(max(times) / config.h))
    config = config.replace(K=K, keep_steps=True, seed=run, cost="sum", divergence="kl")
    params = {"d": d, "run": run, "times": list(times), "config": config.to_dict(),
              "n_eval": n_eval}

    def compute(folder: Path) -> dict:
        A, b = ou_problem(d, run)
        mu0 = ref.Gaussian.of(np.zeros(d), np.eye(d))
        flow = train(gaussian_sampler(ref.Gaussian.of(b, np.linalg.inv(A))), config,
                     progress=False)
        exact = ref.gaussian_jko(mu0, b, A, config.h, K)
        by_step, out = [], {}
        for k in range(1, K + 1):
            x = flow.sample(n_eval, step=k, seed=10_000 + run).numpy().astype(np.float64)
            by_step.append(float(np.log10(ref.sample_symmetric_kl(x, exact[k]))))
            t = round(k * config.h, 10)
            if any(abs(t - s) < 1e-9 for s in times):
                out[str(t)] = ou_scores(x, exact[k], ref.ou_solution(mu0, b, A, t), n_eval, run)
        return {"times": out, "solver_by_step": by_step,
                "step_iterations": flow.history.get("step_iterations", []),
                "train_seconds": float(sum(flow.history["step_seconds"]))}

    return run_or_load("ou", params, compute)


def euler_maruyama_ou(d: int, run: int, times: Sequence[float], particles: int = 50_000,
                      dt: float = 1e-3, n_eval: int = 8192) -> dict:
    """Euler-Maruyama particles of the OU SDE on problem ``run``: log10 SymKL to rho_t at each t
    with the Gaussian-fit estimator (``n_eval`` of the particles, as the learned flows)."""
    params = {"d": d, "run": run, "times": list(times), "particles": particles, "dt": dt,
              "n_eval": n_eval}

    def compute(folder: Path) -> dict:
        A, b = ou_problem(d, run)
        mu0 = ref.Gaussian.of(np.zeros(d), np.eye(d))
        rng = np.random.default_rng(run)
        x = rng.normal(size=(particles, d))
        out, t = {}, 0.0
        for target_t in sorted(times):
            while t < target_t - 1e-12:
                x = x - dt * (x - b) @ A.T + np.sqrt(2 * dt) * rng.normal(size=x.shape)
                t += dt
            truth = ref.ou_solution(mu0, b, A, target_t)
            out[str(target_t)] = float(np.log10(ref.sample_symmetric_kl(x[:n_eval], truth)))
        return {"times": out}

    return run_or_load("ou_em", params, compute).metrics
