"""Benchmarks (speed and accuracy; never run by the tests).

    python -m sjko.bench complexity [--ks 1 5 10 20] [--iters 200]
    python -m sjko.bench gaussian1d [--seeds 0 1 2] [--far]

``complexity`` measures seconds per training iteration at JKO step k for "sjko" and "jko-naive"
in one run (same machine state, same networks) and prints their ratios: S-JKO's iteration cost is
flat in k (one frozen T_old), the naive scheme composes k frozen maps.
``gaussian1d`` trains 1-D KL flows from N(0, 1) and prints each step's error against the exact
Gaussian JKO recursion (PAPER §7), for an overlapping target and (``--far``) a distant one.
"""
from __future__ import annotations

import argparse
import time
from typing import Sequence

import numpy as np
import torch

from . import reference as ref
from .config import SJKOConfig
from .recipes import Target1D
from .toys import get_toy
from .train import Trainer, train


def trainer_at_step(config: SJKOConfig, k: int) -> Trainer:
    """A trainer on the 8-Gaussians toy advanced to JKO step k (k frozen maps for the naive one)."""
    trainer = Trainer(get_toy("8gaussians"), config.replace(K=k + 1), None, None, None)
    for _ in range(k):
        trainer.end_step()
    return trainer


def time_iterations(trainer: Trainer, iters: int) -> float:
    """Mean wall time of one training iteration."""
    start = time.perf_counter()
    for _ in range(iters):
        trainer.iteration()
    return (time.perf_counter() - start) / iters


def complexity(ks: Sequence[int], iters: int, config: SJKOConfig, repeats: int = 5) -> dict:
    """Seconds per iteration at each k for both methods: the median over ``repeats`` rounds, each
    round timing every (method, k) in turn, so that machine drift hits all of them alike."""
    methods = ("sjko", "jko-naive")
    trainers = {(m, k): trainer_at_step(config.replace(method=m), k) for m in methods for k in ks}
    for tr in trainers.values():
        time_iterations(tr, 5)
    rounds = [{key: time_iterations(tr, max(1, iters // repeats)) for key, tr in trainers.items()}
              for _ in range(repeats)]
    return {m: {k: float(np.median([r[(m, k)] for r in rounds])) for k in ks} for m in methods}


def training_time_vs_K(Ks: Sequence[int], iters_per_step: int, config: SJKOConfig) -> dict:
    """Wall time of whole training runs with K steps of ``iters_per_step`` iterations, and the
    time to sample 10 000 points from the result, for "sjko" and "jko-naive"."""
    out: dict = {}
    for method in ("sjko", "jko-naive"):
        for K in Ks:
            cfg = config.replace(method=method, K=K, iters_per_step=iters_per_step)
            start = time.perf_counter()
            flow = train(get_toy("8gaussians"), cfg, progress=False)
            total = time.perf_counter() - start
            start = time.perf_counter()
            flow.sample(10_000)
            sample = time.perf_counter() - start
            kept = sum(1 for m in flow.maps if m is not None)
            params = kept * sum(t.numel() for t in next(m for m in flow.maps if m).values())
            out.setdefault(method, {})[K] = {"train_seconds": total, "sample_seconds": sample,
                                             "stored_map_parameters": params}
    return out


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x (1 = linear, 2 = quadratic growth)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def fit_linear_quadratic(K: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    """Least-squares (alpha, beta) of seconds ~ alpha K + beta K^2: beta > 0 is the O(K^2) part."""
    K = np.asarray(K, float)
    coef, *_ = np.linalg.lstsq(np.stack([K, K ** 2], 1), np.asarray(seconds, float), rcond=None)
    return float(coef[0]), float(coef[1])


def print_complexity(res: dict) -> None:
    ks = sorted(res["sjko"])
    k0 = ks[0]
    print(f"{'k':>4} {'sjko ms/it':>11} {'naive ms/it':>12} {'naive/sjko':>11} "
          f"{'sjko k/k0':>10} {'naive k/k0':>11}")
    for k in ks:
        s, n = res["sjko"][k] * 1e3, res["jko-naive"][k] * 1e3
        print(f"{k:>4} {s:>11.2f} {n:>12.2f} {n / s:>11.2f} {s / (res['sjko'][k0] * 1e3):>10.2f} "
              f"{n / (res['jko-naive'][k0] * 1e3):>11.2f}")


def gaussian1d_errors(target_mean: float, target_std: float, h: float, K: int, seed: int,
                      config: SJKOConfig, n_eval: int = 20000) -> list[tuple[float, float]]:
    """(mean error, std error) of each learned mu_1..mu_K against the exact JKO step."""
    exact = ref.gaussian_jko(ref.Gaussian.of([0.0], [[1.0]]), [target_mean],
                             [[1.0 / target_std ** 2]], h, K)
    cfg = config.replace(K=K, h=h, seed=seed, keep_steps=True)
    flow = train(Target1D(target_mean, target_std).sampler(), cfg, progress=False)
    errs = []
    for k in range(1, K + 1):
        x = flow.sample(n_eval, step=k, seed=10_000 + seed).numpy()[:, 0]
        errs.append((float(x.mean() - exact[k].mean[0]), float(x.std() - exact[k].std[0])))
    return errs


GAUSS1D = SJKOConfig(K=4, h=0.5, iters_per_step=400, batch_size=512, nz=0, width=64,
                     lr_transport=3e-4, lr_potential=1e-3, cosine_lr="per-step")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sjko.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("complexity")
    c.add_argument("--ks", type=int, nargs="+", default=[1, 5, 10, 20])
    c.add_argument("--iters", type=int, default=200)
    g = sub.add_parser("gaussian1d")
    g.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    g.add_argument("--far", action="store_true", help="target N(4, 0.5^2), h = 0.1 (PAPER §8)")
    args = parser.parse_args(argv)
    if args.what == "complexity":
        cfg = SJKOConfig(batch_size=400, nz=2)
        print(f"torch threads: {torch.get_num_threads()}; {args.iters} iterations per point; "
              f"batch 400; 2-D; default networks")
        print_complexity(complexity(args.ks, args.iters, cfg))
    else:
        mean, std, h, K = (4.0, 0.5, 0.1, 5) if args.far else (1.5, 0.5, 0.5, 4)
        print(f"target N({mean}, {std}^2), h={h}, K={K}; errors (learned - exact), mean / std")
        table = np.array([gaussian1d_errors(mean, std, h, K, s, GAUSS1D) for s in args.seeds])
        for k in range(K):
            cells = "  ".join(f"{m:+.3f}/{s:+.3f}" for m, s in table[:, k])
            print(f"k={k + 1}: {cells}   max|err| {np.abs(table[:, k]).max():.3f}")


if __name__ == "__main__":
    main()
