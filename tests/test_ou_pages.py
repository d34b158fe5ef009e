"""The OU pages' shared settings (sjko.ou_pages) and the memoised exact 1-D reference."""
import dataclasses

import numpy as np
import pytest
from scipy.stats import chi2

from sjko import ou_pages, recipes
from sjko import reference as ref


def test_unknown_profile_is_named():
    with pytest.raises(ValueError, match="unknown profile 'fast'.*quick"):
        ou_pages.profile("fast")


def test_run_arguments_carry_the_width_for_d_and_nothing_else():
    P = ou_pages.profile("quick")
    cfg = ou_pages.page_default(P)
    small, large = ou_pages.ou_args(P, P["small_d"], 0, cfg), ou_pages.ou_args(P, 12, 3, cfg)
    assert small["config"].width == P["width_small"] < large["config"].width == P["width"]
    assert large["config"] == cfg.replace(width=P["width"]) and large["run"] == 3
    assert small["times"] == P["times"] and small["n_eval"] == ou_pages.N_EVAL
    assert ou_pages.ou_args(P, 12, 0, cfg, [0.15])["times"] == [0.15]


def test_page_default_changes_only_the_potential():
    P = ou_pages.profile("quick")
    a, b = ou_pages.semi_dual(P), ou_pages.page_default(P)
    changed = {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}
    assert changed == {"potential_loss", "lr_potential", "network"}


@pytest.mark.parametrize("eps", [1e-2, 1e-1])
def test_unseen_share_of_the_target_itself_is_eps(eps):
    """mu = nu: the mass outside nu's (1 - eps) ellipsoid is eps (Monte Carlo, 1e5 draws)."""
    nu = ref.Gaussian.of(np.array([1.0, -2.0]), np.array([[2.0, 0.5], [0.5, 1.0]]))
    share = ou_pages.unseen_share(nu, nu, eps)
    assert abs(share - eps) < 4 * np.sqrt(eps * (1 - eps) / 100_000)


def test_exact_1d_is_computed_once_per_arguments():
    target = recipes.Target1D(1.5, 0.5)
    first = recipes.exact_1d(target, [0.5, 0.5], "kl", cells=40)
    hits = recipes._exact_1d.cache_info().hits
    again = recipes.exact_1d(target, (0.5, 0.5), "kl", cells=40)
    assert recipes._exact_1d.cache_info().hits == hits + 1
    assert [m.mean for m in again] == [m.mean for m in first] and again is not first


def test_eval_draws_are_the_draws_ou_run_scores(monkeypatch, tmp_path):
    """recipes.ou_run scores every step on Flow.sample(seed=EVAL_SEED + run), whose source draws
    are ou_pages.eval_draws: the paired level is computed on the samples the flow pushed."""
    from sjko.flow import Flow

    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path))
    seen = []
    original = Flow.sample

    def spy(self, n, step=None, seed=None, raw=False):
        seen.append((n, step, seed, original(self, n, step=0, seed=seed).numpy()))
        return original(self, n, step=step, seed=seed, raw=raw)

    monkeypatch.setattr(Flow, "sample", spy)
    cfg = ou_pages.page_default(ou_pages.profile("smoke")).replace(iters_per_step=2, width=8)
    recipes.ou_run(d=2, run=3, times=[0.1], config=cfg, n_eval=64)
    assert [(n, step, seed) for n, step, seed, _ in seen] == [(64, 1, 10_003), (64, 2, 10_003)]
    for *_, x in seen:
        np.testing.assert_array_equal(x.astype(np.float64), ou_pages.eval_draws(2, 3, 64))


def test_exact_chain_scores_the_paired_level_at_every_step():
    """Exact samples of mu_k^JKO made from the evaluation draws by an affine map score exactly
    the paired level (the fit commutes with affine maps, SymKL is invariant under them)."""
    d, run, n = 3, 1, 2048
    A, b = recipes.ou_problem(d, run)
    seq = ref.gaussian_jko(ref.Gaussian.of(np.zeros(d), np.eye(d)), b, A, 0.05, 4)
    x0, level = ou_pages.eval_draws(d, run, n), ou_pages.paired_level(d, run, n)
    for mu in seq[1:]:
        x = mu.mean + x0 @ np.linalg.cholesky(mu.cov).T
        assert np.log10(ref.sample_symmetric_kl(x, mu)) == pytest.approx(level, abs=1e-9)
    assert ou_pages.paired_level(d, run + 1, n) != pytest.approx(level, abs=1e-3)


@pytest.mark.parametrize("d", [1, 6])
def test_level_spread_follows_the_chi_square_of_the_fitted_parameters(d):
    """n * SymKL of a Gaussian fit is asymptotically chi^2 with p = d(d+3)/2 degrees of freedom,
    so the spread around the mean level is that of log10(chi^2_p / p)."""
    p = d * (d + 3) // 2
    spread = ou_pages.level_spread(d, n=4096, draws=2000)
    for q in (0.25, 0.5, 0.9, 0.975):
        expected = np.log10(chi2.ppf(q, p) / p)
        assert np.quantile(spread, q) == pytest.approx(expected, abs=0.05 if d == 1 else 0.03)


def test_last_cell_variants_change_only_the_batches():
    P = ou_pages.profile("quick")
    variants = ou_pages.last_cell_variants(P)
    base = variants["base"]
    assert base == ou_pages.page_default(P)
    assert variants["batch ×2"] == base.replace(batch_size=2 * base.batch_size)
    assert variants["potential batch ×8"] == base.replace(potential_batch_size=8 * base.batch_size)


@pytest.mark.parametrize("name", ["smoke", "quick", "full"])
def test_benchmark_config_adds_the_potential_batch_from_large_d_on(name):
    P = ou_pages.profile(name)
    base = ou_pages.page_default(P)
    for d in range(1, P["large_d"]):
        assert ou_pages.benchmark_config(P, d) == base
    big = ou_pages.benchmark_config(P, P["large_d"])
    assert big == base.replace(potential_batch_size=P["potential_factor"] * base.batch_size)
    assert ou_pages.benchmark_config(P, P["large_d"] + 1) == big


def test_the_benchmark_shares_its_largest_d_runs_with_the_remedies_page():
    """The remedies page's last section trains the benchmark's own runs at the largest d: the
    same run arguments, hence the same result-cache entries."""
    P = ou_pages.profile("quick")
    d = max(P["dims"])
    chosen = ou_pages.last_cell_variants(P)[f"potential batch ×{P['potential_factor']}"]
    for run in range(P["runs"]):
        assert (ou_pages.ou_args(P, d, run, ou_pages.benchmark_config(P, d))
                == ou_pages.ou_args(P, d, run, chosen))


@pytest.mark.parametrize("name", ["quick", "full"])
def test_euler_maruyama_simulates_the_particles_it_scores(name):
    assert ou_pages.profile(name)["particles"] == ou_pages.N_EVAL


def test_iteration_seconds_times_every_configuration():
    P = ou_pages.profile("smoke")
    configs = {name: cfg.replace(width=8)
               for name, cfg in ou_pages.last_cell_variants(P).items()}
    seconds = ou_pages.iteration_seconds(configs, d=2, iters=2, repeats=1)
    assert list(seconds) == list(configs) and all(s > 0 for s in seconds.values())


def test_iteration_seconds_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    cfg = ou_pages.page_default(ou_pages.profile("smoke")).replace(width=8)
    ou_pages.iteration_seconds({"a": cfg}, d=1, iters=1, repeats=1)
    assert torch.get_num_threads() == before
