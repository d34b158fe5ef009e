"""Exact references against closed forms, simulation and independent solvers."""
import numpy as np
import pytest
import torch

from sjko import reference as ref


def random_spd(d, rng):
    m = rng.normal(size=(d, d))
    return m @ m.T / d + 0.5 * np.eye(d)


def test_gaussian_jko_step_is_the_1d_recursion_and_solves_the_first_order_condition():
    mu = ref.Gaussian.of([0.3], [[1.7 ** 2]])
    m_t, s_t, h = 1.5, 0.5, 0.2
    nxt = ref.gaussian_jko_step(mu, [m_t], [[1 / s_t ** 2]], h)
    a = 1 / s_t ** 2
    assert nxt.mean[0] == pytest.approx((0.3 + h * m_t * a) / (1 + h * a))
    s = 1.7
    assert nxt.std[0] == pytest.approx((s + np.sqrt(s * s + 4 * h * (1 + h * a))) / (2 * (1 + h * a)))
    # the optimal map T(x) = m' + (s'/s)(x - m) satisfies (T(x) - x)/h = -grad V(T x) - grad log rho'(T x)
    x = np.linspace(-3, 3, 7)
    T = nxt.mean[0] + nxt.std[0] / s * (x - 0.3)
    rhs = -a * (T - m_t) + (T - nxt.mean[0]) / nxt.std[0] ** 2
    assert np.allclose((T - x) / h, rhs)


def test_gaussian_jko_in_d_dims_and_rejects_non_commuting():
    rng = np.random.default_rng(0)
    A, b = random_spd(3, rng), rng.normal(size=3)
    mu = ref.Gaussian.of(np.zeros(3), np.eye(3))
    seq = ref.gaussian_jko(mu, b, A, 0.05, 400)
    # JKO converges to nu = N(b, A^-1)
    assert np.allclose(seq[-1].mean, b, atol=1e-4)
    assert np.allclose(seq[-1].cov, np.linalg.inv(A), atol=1e-4)
    # and for small h it tracks the true flow at t = K h
    true = ref.ou_solution(mu, b, A, 0.5)
    assert ref.symmetric_kl(seq[10], true) < 1e-2
    fine = ref.gaussian_jko(mu, b, A, 0.005, 100)[-1]
    assert ref.symmetric_kl(fine, true) < ref.symmetric_kl(seq[10], true) / 5
    with pytest.raises(ValueError, match="commute with A"):
        ref.gaussian_jko_step(ref.Gaussian.of(np.zeros(3), np.diag([1.0, 2.0, 3.0])), b, A, 0.1)


def test_ou_solution_matches_euler_maruyama():
    rng = np.random.default_rng(1)
    A, b = random_spd(2, rng), rng.normal(size=2)
    mu0 = ref.Gaussian.of(np.zeros(2), np.eye(2))
    x = rng.normal(size=(200_000, 2))
    dt, t = 0.005, 0.5
    for _ in range(int(t / dt)):
        x = x - dt * (x - b) @ A.T + np.sqrt(2 * dt) * rng.normal(size=x.shape)
    fit = ref.fit_gaussian(x)
    true = ref.ou_solution(mu0, b, A, t)
    assert np.allclose(fit.mean, true.mean, atol=0.02)
    assert np.allclose(fit.cov, true.cov, atol=0.03)


def test_symmetric_kl_zero_symmetric_and_closed_form():
    p = ref.Gaussian.of([0.0, 1.0], [[1.0, 0.2], [0.2, 2.0]])
    q = ref.Gaussian.of([0.5, 0.0], [[2.0, 0.0], [0.0, 1.0]])
    assert ref.symmetric_kl(p, p) == pytest.approx(0.0, abs=1e-12)
    assert ref.symmetric_kl(p, q) == pytest.approx(ref.symmetric_kl(q, p))
    one = ref.kl_gaussian(ref.Gaussian.of([1.0], [[4.0]]), ref.Gaussian.of([0.0], [[1.0]]))
    assert one == pytest.approx(0.5 * (4 + 1 - 1 - np.log(4)))


def test_sample_symkl_floor_shrinks_like_one_over_n():
    truth = ref.Gaussian.of(np.zeros(4), np.eye(4))
    f1, _ = ref.symkl_floor(truth, 2000, seeds=20)
    f2, _ = ref.symkl_floor(truth, 8000, seeds=20)
    # E SymKL ~ (d + d(d+1)/2)/n for a fitted Gaussian: 14/n at d = 4
    assert f1 == pytest.approx(14 / 2000, rel=0.3)
    assert f2 == pytest.approx(f1 / 4, rel=0.35)


def test_quantile_jko_equals_gaussian_closed_form_for_kl():
    mu0 = ref.QuantileMeasure.gaussian(0.0, 1.0, cells=150)
    logpdf, cdf = ref.gaussian_target(1.5, 0.5)
    seq = ref.quantile_jko(mu0, 0.5, 2, "kl", logpdf, cdf)
    exact = ref.gaussian_jko(ref.Gaussian.of([0.0], [[1.0]]), [1.5], [[4.0]], 0.5, 2)
    for k in (1, 2):
        assert seq[k].mean == pytest.approx(exact[k].mean[0], abs=2e-3)
        assert seq[k].std == pytest.approx(exact[k].std[0], abs=2e-3)


def test_quantile_jko_jsd_flow_is_slow_where_supports_are_far():
    """JSD's first variation saturates at log 2 where rho >> nu: the exact flow barely moves."""
    mu0 = ref.QuantileMeasure.gaussian(0.0, 1.0, cells=100)
    logpdf, cdf = ref.gaussian_target(4.0, 0.5)
    jsd = ref.quantile_jko(mu0, 0.5, 2, "jsd", logpdf, cdf)
    kl = ref.quantile_jko(mu0, 0.5, 2, "kl", logpdf, cdf)
    assert 0 < jsd[2].mean < 0.2 < 3.0 < kl[2].mean


@pytest.mark.parametrize("divergence", ["kl", "jsd", "chi2"])
def test_semi_dual_lemma_holds_on_discrete_measures(divergence):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(15, 2)) + 1.0
    a = rng.random(12) + 0.2
    b = rng.random(15) + 0.2
    res = ref.semi_dual_check(x, a / a.sum(), y, b / b.sum(), 0.5, divergence)
    assert abs(res.gap) < 1e-5 * max(1.0, abs(res.primal))
    assert res.marginal_error < 1e-4
    # the primal plan holds the source marginal exactly but not the target one
    assert np.allclose(res.plan.sum(1), a / a.sum(), atol=1e-7)
    assert np.abs(res.plan.sum(0) - b / b.sum()).max() > 1e-3


def test_semi_dual_check_rejects_large_or_invalid_problems():
    with pytest.raises(ValueError, match="at most 50 atoms"):
        ref.semi_dual_check(np.zeros((51, 1)), np.ones(51) / 51, np.zeros((2, 1)), [0.5, 0.5], 1)
    with pytest.raises(ValueError, match="probability vectors"):
        ref.semi_dual_check(np.zeros((2, 1)), [0.5, 0.6], np.zeros((2, 1)), [0.5, 0.5], 1)


def test_chi2_gaussian_against_quadrature_and_its_infinite_case():
    from scipy import integrate
    from scipy.stats import norm
    p, q = ref.Gaussian.of([0.3], [[0.8]]), ref.Gaussian.of([-0.2], [[1.0]])
    val, _ = integrate.quad(lambda x: norm.pdf(x, 0.3, np.sqrt(0.8)) ** 2
                            / norm.pdf(x, -0.2, 1.0), -30, 30)
    assert ref.chi2_gaussian(p, q) == pytest.approx(val - 1, rel=1e-8)
    # a direction with variance >= 2x the reference's: int p^2/q diverges
    assert ref.chi2_gaussian(ref.Gaussian.of([0.0], [[2.0]]), q) == np.inf
    two = ref.chi2_gaussian(ref.Gaussian.of([0.3, 0.0], np.diag([0.8, 1.0])),
                            ref.Gaussian.of([-0.2, 0.0], np.eye(2)))
    assert two == pytest.approx(val - 1, rel=1e-8)  # independent unit direction adds nothing


def test_symkl_floor_asymptotic_matches_simulation():
    truth = ref.Gaussian.of(np.ones(6), np.diag(np.linspace(0.2, 3.0, 6)))
    mean, _ = ref.symkl_floor(truth, 20_000, seeds=30)
    assert mean == pytest.approx(ref.symkl_floor_asymptotic(6, 20_000), rel=0.1)


def test_ou_problem_is_mokrov_et_al_problem_sequence():
    """Their code: np.random.seed(crc32('abacaba@{d}@{run}numpy')); cov = make_spd_matrix(d);
    mean = np.random.randn(d) -- replayed here on NumPy's global generator."""
    import zlib
    from sklearn.datasets import make_spd_matrix
    from sjko.recipes import ou_problem
    for d, run in [(1, 0), (5, 3), (12, 14)]:
        np.random.seed(zlib.crc32(f"abacaba@{d}@{run}numpy".encode()))
        cov, mean = make_spd_matrix(d), np.random.randn(d)
        A, b = ou_problem(d, run)
        np.testing.assert_allclose(np.linalg.inv(A), cov, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(b, mean)
