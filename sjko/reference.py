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

import math

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
    """One exact JKO step (E1) with F = KL(. || N(b, A^{-1})) and cost ||x-y||^2/(2h).

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


def chi2_gaussian(p: Gaussian, q: Gaussian) -> float:
    """chi^2(p || q) = int p^2/q - 1 between Gaussians; +inf unless 2 Sp^-1 - Sq^-1 is positive
    definite (p has a direction with variance >= 2x q's).

    For KL the optimal JKO potential has e^{-v*} = d mu_{k+1}/d nu, so chi^2(mu_{k+1} || nu) is
    the variance of e^{-v*(y)}, y ~ nu: the variance of the sample estimate of int f*(-v) d nu
    in (E5) at the optimum, per data sample.
    """
    sp_inv, sq_inv = np.linalg.inv(p.cov), np.linalg.inv(q.cov)
    M = 2 * sp_inv - sq_inv
    if np.linalg.eigvalsh((M + M.T) / 2).min() <= 0:
        return math.inf
    lin = 2 * sp_inv @ p.mean - sq_inv @ q.mean
    _, logdet_p = np.linalg.slogdet(p.cov)
    _, logdet_q = np.linalg.slogdet(q.cov)
    _, logdet_m = np.linalg.slogdet(M)
    log1p = (-logdet_p + 0.5 * logdet_q - 0.5 * logdet_m + 0.5 * lin @ np.linalg.solve(M, lin)
             - p.mean @ sp_inv @ p.mean + 0.5 * q.mean @ sq_inv @ q.mean)
    return float(math.expm1(log1p)) if log1p < 700 else math.inf


def fit_gaussian(x: ArrayLike) -> Gaussian:
    """Gaussian with the sample mean and (unbiased) sample covariance of x [n, d]."""
    x = np.asarray(x, float)
    if x.ndim != 2 or len(x) <= x.shape[1]:
        raise ValueError(f"need x of shape [n, d] with n > d; got {x.shape}")
    return Gaussian(x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)))


def sample_symmetric_kl(x: ArrayLike, truth: Gaussian) -> float:
    """SymKL between the Gaussian fitted to samples x and the true Gaussian."""
    return symmetric_kl(fit_gaussian(x), truth)


def symkl_floor_asymptotic(d: int, n: int) -> float:
    """Large-n mean of :func:`sample_symmetric_kl` for n exact samples in dimension d:
    d(d+3)/(2n), one unit per fitted parameter (d means, d(d+1)/2 covariances)."""
    return d * (d + 3) / (2.0 * n)


def symkl_floor(truth: Gaussian, n: int, seeds: int = 10, seed: int = 0) -> tuple[float, float]:
    """Finite-sample level of :func:`sample_symmetric_kl`: mean and std over ``seeds`` sets of n
    exact samples of ``truth`` -- what a perfect sampler scores on average. Not a lower bound: a
    single sample set (a learned one included) can score below it by chance."""
    rng = np.random.default_rng(seed)
    vals = [sample_symmetric_kl(truth.sample(n, rng), truth) for _ in range(seeds)]
    return float(np.mean(vals)), float(np.std(vals))


# --------------------------------------------------------------------------------------------
# 1-D exact JKO for any f-divergence
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuantileMeasure:
    """A 1-D probability measure with piecewise-uniform density between quantile nodes.

    Cell i = [q[i], q[i+1]] holds mass w[i] = u[i+1] - u[i], spread uniformly; equivalently the
    quantile function is linear in u on each cell.
    """

    u: np.ndarray
    q: np.ndarray

    @classmethod
    def gaussian(cls, mean: float, std: float, cells: int = 400, span: float = 6.0
                 ) -> "QuantileMeasure":
        """N(mean, std^2) on nodes at the standard-normal quantiles of a uniform grid in
        [-span, span] (the tails beyond span std, mass 2e-9 at span 6, are dropped)."""
        from scipy.stats import norm
        z = np.linspace(-span, span, cells + 1)
        u = norm.cdf(z)
        return cls((u - u[0]) / (u[-1] - u[0]), mean + std * z)

    @property
    def weights(self) -> np.ndarray:
        return np.diff(self.u)

    @property
    def mean(self) -> float:
        return float(np.sum(self.weights * (self.q[1:] + self.q[:-1]) / 2))

    @property
    def std(self) -> float:
        a, b = self.q[:-1], self.q[1:]
        second = np.sum(self.weights * (a * a + a * b + b * b) / 3)
        return float(np.sqrt(max(second - self.mean ** 2, 0.0)))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.interp(rng.random(n), self.u, self.q)


def _quantile_objective(mu: QuantileMeasure, h: float, divergence: str, nu_logpdf, nu_cdf):
    import torch

    from .divergences import get_divergence
    div = get_divergence(divergence)
    w = torch.as_tensor(mu.weights)
    qk = torch.as_tensor(mu.q)
    gl_x, gl_w = np.polynomial.legendre.leggauss(4)
    gl_x, gl_w = torch.as_tensor((gl_x + 1) / 2), torch.as_tensor(gl_w / 2)
    f0 = float(div.f(torch.tensor(0.0, dtype=torch.float64)))

    def objective(theta):
        q = torch.cat([theta[:1], theta[:1] + torch.cumsum(torch.exp(theta[1:]), 0)])
        dq = q[1:] - q[:-1]
        a, b = q[:-1] - qk[:-1], q[1:] - qk[1:]
        transport = torch.sum(w * (a * a + a * b + b * b) / 3) / (2 * h)
        x = q[:-1, None] + dq[:, None] * gl_x[None, :]          # Gauss-Legendre nodes per cell
        nu = torch.exp(nu_logpdf(x))
        rho = (w / dq)[:, None]
        inside = torch.sum(dq * torch.sum(gl_w * nu * div.f(rho / nu), 1))
        outside = f0 * (nu_cdf(q[0]) + 1 - nu_cdf(q[-1]))
        return transport + inside + outside

    return objective


def quantile_jko_step(mu: QuantileMeasure, h: float, divergence: str, nu_logpdf, nu_cdf,
                      max_iter: int = 2000) -> QuantileMeasure:
    """One exact JKO step (E1) in 1-D for the f-divergence ``divergence`` towards nu.

    In 1-D, W2^2(mu, rho) = int_0^1 (Q_mu(u) - Q_rho(u))^2 du, so the step is a minimisation over
    monotone quantile functions Q_rho (here: nodes q_0 < ... < q_M at mu's mass levels,
    parametrised by q_0 and log-increments). D_f(rho || nu) is integrated cell by cell with 4-point
    Gauss-Legendre, plus f(0) nu(outside the support of rho). The problem is convex in rho and the
    map rho -> Q_rho is a bijection, so the stationary point that L-BFGS finds is the global
    minimiser. ``nu_logpdf``/``nu_cdf`` act on float64 torch tensors.
    """
    import torch

    objective = _quantile_objective(mu, h, divergence, nu_logpdf, nu_cdf)
    theta = torch.cat([torch.as_tensor(mu.q[:1]), torch.log(torch.as_tensor(np.diff(mu.q)))])
    theta = theta.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=max_iter, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective(theta)
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        q = torch.cat([theta[:1], theta[:1] + torch.cumsum(torch.exp(theta[1:]), 0)])
    if not torch.isfinite(q).all():
        raise FloatingPointError("quantile_jko_step diverged; use a finer grid or a smaller h")
    return QuantileMeasure(mu.u, q.numpy())


def gaussian_target(mean: float, std: float):
    """(logpdf, cdf) of N(mean, std^2) on float64 torch tensors, for :func:`quantile_jko_step`."""
    import math

    import torch

    def logpdf(x):
        return -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))

    def cdf(x):
        return 0.5 * (1 + torch.erf((x - mean) / (std * math.sqrt(2))))

    return logpdf, cdf


def quantile_jko(mu0: QuantileMeasure, h: float, K: int, divergence: str, nu_logpdf, nu_cdf
                 ) -> list[QuantileMeasure]:
    """The exact 1-D JKO sequence [mu_0, ..., mu_K] for any registered f-divergence."""
    seq = [mu0]
    for _ in range(K):
        seq.append(quantile_jko_step(seq[-1], h, divergence, nu_logpdf, nu_cdf))
    return seq


# --------------------------------------------------------------------------------------------
# The semi-dual lemma (E3), checked on discrete measures
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SemiDualCheck:
    """Primal (E2) and semi-dual (E3) optima of one discrete source-fixed UOT problem."""

    primal: float
    dual: float
    plan: np.ndarray
    v: np.ndarray
    predicted_marginal: np.ndarray

    @property
    def gap(self) -> float:
        return self.primal - self.dual

    @property
    def marginal_error(self) -> float:
        """Largest deviation of pi*_1 from (f*)'(-v*) nu, the lemma's formula for mu_{k+1}."""
        return float(np.abs(self.plan.sum(0) - self.predicted_marginal).max())


def _f_perspective(rho, b, divergence: str):
    import cvxpy as cp
    if divergence == "kl":
        return cp.sum(cp.rel_entr(rho, b) - rho + b)
    if divergence == "jsd":
        m = (rho + b) / 2
        return cp.sum(cp.rel_entr(rho, m) + cp.rel_entr(b, m))
    if divergence == "chi2":
        return cp.sum(cp.multiply(1 / b, cp.square(rho - b)))
    raise ValueError(f"unknown divergence {divergence!r}")


def _f_star(s, divergence: str):
    import cvxpy as cp
    if divergence == "kl":
        return cp.exp(s) - 1
    if divergence == "jsd":
        return -cp.log(2 - cp.exp(s))
    return cp.square(cp.pos(s / 2 + 1)) - 1


def semi_dual_check(x: ArrayLike, a: ArrayLike, y: ArrayLike, b: ArrayLike, h: float,
                    divergence: str = "kl") -> SemiDualCheck:
    """Solve both sides of the semi-dual lemma (E3) for discrete mu = sum a_i delta_{x_i} and
    nu = sum b_j delta_{y_j} (at most 50 atoms each) with c = ||x - y||^2/(2h).

    Primal (E2): min_{pi >= 0, pi 1 = a} <C, pi> + sum_j b_j f(pi_1j / b_j) (conic solver).
    Semi-dual: max_v sum_i a_i min_j (C_ij - v_j) - sum_j b_j f*(-v_j), solved directly over v.
    """
    import cvxpy as cp
    from scipy.spatial.distance import cdist

    x, y = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float))
    a, b = np.asarray(a, float), np.asarray(b, float)
    if x.ndim == 2 and x.shape[0] == 1 and len(a) > 1:
        x = x.T
    if y.ndim == 2 and y.shape[0] == 1 and len(b) > 1:
        y = y.T
    if len(x) > 50 or len(y) > 50:
        raise ValueError("semi_dual_check is meant for small problems (at most 50 atoms each)")
    if len(a) != len(x) or len(b) != len(y) or (a <= 0).any() or (b <= 0).any():
        raise ValueError("weights must be positive and match the atoms")
    if not np.isclose(a.sum(), 1) or not np.isclose(b.sum(), 1):
        raise ValueError("mu and nu must be probability vectors")
    C = cdist(x, y, "sqeuclidean") / (2 * h)
    pi = cp.Variable(C.shape, nonneg=True)
    primal = cp.Problem(cp.Minimize(cp.sum(cp.multiply(C, pi))
                                    + _f_perspective(cp.sum(pi, axis=0), b, divergence)),
                        [cp.sum(pi, axis=1) == a])
    primal.solve(solver=cp.CLARABEL)
    v = cp.Variable(len(b))
    u = cp.Variable(len(a))
    dual = cp.Problem(cp.Maximize(a @ u - b @ _f_star(-v, divergence)),
                      [u[:, None] <= C - v[None, :]])
    dual.solve(solver=cp.CLARABEL)
    import torch

    from .divergences import get_divergence
    ratio = get_divergence(divergence).f_star_prime(torch.as_tensor(-v.value)).numpy()
    return SemiDualCheck(float(primal.value), float(dual.value), pi.value, v.value, ratio * b)
