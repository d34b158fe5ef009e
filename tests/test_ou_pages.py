"""The OU pages' shared settings (sjko.ou_pages) and the memoised exact 1-D reference."""
import dataclasses

import numpy as np
import pytest

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
