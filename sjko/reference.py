"""Exact references (NumPy/SciPy, no training): what a learned flow is checked against.

* :func:`gaussian_jko_step` / :func:`gaussian_jko` -- the exact JKO step (E1) for KL towards a
  Gaussian nu = N(b, A^{-1}) from a Gaussian mu_k whose covariance commutes with A (PAPER §7);
* :func:`ou_solution` -- the true Ornstein-Uhlenbeck / Fokker-Planck flow rho_t (PAPER §7);
* :func:`symmetric_kl`, :func:`sample_symmetric_kl` -- SymKL between Gaussians, and from samples;
* :func:`quantile_jko_step` / :func:`quantile_jko` -- the exact 1-D JKO step for any registered
  f-divergence, as a convex problem over a monotone quantile function;
* :func:`semi_dual_check` -- a discrete check of the semi-dual lemma (E3).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg


@dataclass(frozen=True)
class Gaussian:
    """N(mean, cov) in d dimensions."""

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, mean: ArrayLike, cov: ArrayLike) -> "Gaussian":
        m = np.atleast_1d(np.asarray(mean, float))
        c = np.atleast_2d(np.asarray(cov, float))
        if c.shape != (len(m), len(m)):
            raise ValueError(f"cov must be {len(m)}x{len(m)} for a mean of length {len(m)}; got "
                             f"{c.shape}")
        if not np.allclose(c, c.T) or np.linalg.eigvalsh(c).min() <= 0:
            raise ValueError("cov must be symmetric positive definite")
        return cls(m, c)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(self.mean, self.cov, size=n)


def _spd(a: np.ndarray, name: str) -> np.ndarray:
    a = np.atleast_2d(np.asarray(a, float))
    if a.shape[0] != a.shape[1] or not np.allclose(a, a.T) or np.linalg.eigvalsh(a).min() <= 0:
        raise ValueError(f"{name} must be a symmetric positive definite matrix")
    return a


def gaussian_jko_step(mu: Gaussian, b: ArrayLike, A: ArrayLike, h: float) -> Gaussian:
    """One exact JKO step (E1) with F = KL(. || N(b, A^{-1})) and cost |x-y|^2/(2h).

    The optimal map is affine, T(x) = m' + M (x - m). Its mean solves (m' - m)/h = -A (m' - b):
    m' = (I + hA)^{-1} (m + hAb). When Sigma commutes with A both are diagonal in A's eigenbasis
    and each eigen-direction (precision a, std s) follows the 1-D recursion of PAPER §7:
    s' = [s + sqrt(s^2 + 4h(1 + ha))] / (2(1 + ha)). Non-commuting covariances are rejected.
    """
    A = _spd(A, "A")
    b = np.atleast_1d(np.asarray(b, float))
    if h <= 0:
        raise ValueError(f"h must be > 0; got {h}")
    if A.shape[0] != len(mu.mean) or len(b) != len(mu.mean):
        raise ValueError("mu, b and A must have the same dimension")
    if not np.allclose(mu.cov @ A, A @ mu.cov, atol=1e-9 * (1 + np.abs(A).max())):
        raise ValueError("gaussian_jko_step supports covariances that commute with A (e.g. the OU "
                         "problem from N(0, I)); this covariance does not")
    d = len(b)
    mean = np.linalg.solve(np.eye(d) + h * A, mu.mean + h * A @ b)
    a, U = np.linalg.eigh(A)
    s2 = np.einsum("ji,jk,ki->i", U, mu.cov, U)
    s = np.sqrt(s2)
    s_new = (s + np.sqrt(s2 + 4 * h * (1 + h * a))) / (2 * (1 + h * a))
    cov = (U * s_new ** 2) @ U.T
    return Gaussian(mean, (cov + cov.T) / 2)


def gaussian_jko(mu0: Gaussian, b: ArrayLike, A: ArrayLike, h: float, K: int) -> list[Gaussian]:
    """The exact JKO sequence [mu_0, mu_1, ..., mu_K]."""
    seq = [mu0]
    for _ in range(K):
        seq.append(gaussian_jko_step(seq[-1], b, A, h))
    return seq


def ou_solution(mu0: Gaussian, b: ArrayLike, A: ArrayLike, t: float) -> Gaussian:
    """rho_t of the Fokker-Planck flow of KL(. || N(b, A^{-1})) from a Gaussian rho_0 (PAPER §7).

    mean b + e^{-At}(m0 - b), covariance e^{-At} Sigma0 e^{-At} + A^{-1}(I - e^{-2At}).
    """
    A = _spd(A, "A")
    b = np.atleast_1d(np.asarray(b, float))
    E = linalg.expm(-A * t)
    d = len(b)
    cov = E @ mu0.cov @ E.T + np.linalg.solve(A, np.eye(d) - E @ E)
    return Gaussian(b + E @ (mu0.mean - b), (cov + cov.T) / 2)


def kl_gaussian(p: Gaussian, q: Gaussian) -> float:
    """KL(p || q) between Gaussians."""
    d = len(p.mean)
    q_inv = np.linalg.inv(q.cov)
    diff = q.mean - p.mean
    _, logdet_p = np.linalg.slogdet(p.cov)
    _, logdet_q = np.linalg.slogdet(q.cov)
    return 0.5 * float(np.trace(q_inv @ p.cov) + diff @ q_inv @ diff - d + logdet_q - logdet_p)


def symmetric_kl(p: Gaussian, q: Gaussian) -> float:
    """KL(p || q) + KL(q || p) (the OU benchmark's metric)."""
    return kl_gaussian(p, q) + kl_gaussian(q, p)


def fit_gaussian(x: ArrayLike) -> Gaussian:
    """Gaussian with the sample mean and (unbiased) sample covariance of x [n, d]."""
    x = np.asarray(x, float)
    if x.ndim != 2 or len(x) <= x.shape[1]:
        raise ValueError(f"need x of shape [n, d] with n > d; got {x.shape}")
    return Gaussian(x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)))


def sample_symmetric_kl(x: ArrayLike, truth: Gaussian) -> float:
    """SymKL between the Gaussian fitted to samples x and the true Gaussian."""
    return symmetric_kl(fit_gaussian(x), truth)


def symkl_floor(truth: Gaussian, n: int, seeds: int = 10, seed: int = 0) -> tuple[float, float]:
    """Finite-sample floor of :func:`sample_symmetric_kl`: mean and std over ``seeds`` sets of n
    exact samples of ``truth``."""
    rng = np.random.default_rng(seed)
    vals = [sample_symmetric_kl(truth.sample(n, rng), truth) for _ in range(seeds)]
    return float(np.mean(vals)), float(np.std(vals))
