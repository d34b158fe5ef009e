import math

import numpy as np
import pytest
import torch

import sjko
from sjko import TOYS, get_toy, mmd, mode_stats, report, w2, w2_noise_floor


@pytest.mark.parametrize("name", sorted(TOYS))
def test_toys_are_seeded_2d_samplers(name):
    toy = get_toy(name)
    a = toy(500, torch.Generator().manual_seed(0))
    b = toy(500, torch.Generator().manual_seed(0))
    assert a.shape == (500, 2) and torch.equal(a, b) and torch.isfinite(a).all()


def test_paper_toy_parameters():
    g = get_toy("25gaussians")
    x = g(50000, torch.Generator().manual_seed(0))
    idx, dist = g.nearest(x)
    assert sorted(set(np.round(x.numpy().ravel() / 3).astype(int))) == [-2, -1, 0, 1, 2]
    assert math.isclose(g.component_std, math.sqrt(0.005))
    resid = x - torch.round(x / 3) * 3
    assert resid.std().item() == pytest.approx(math.sqrt(0.005), rel=0.02)
    c = get_toy("two_circles")
    r = c(50000, torch.Generator().manual_seed(0)).norm(dim=1)
    assert r[r < 6].mean().item() == pytest.approx(4.0, abs=0.01)
    assert r[r > 6].mean().item() == pytest.approx(8.0, abs=0.01)
    assert r[r > 6].std().item() == pytest.approx(0.2, abs=0.01)


def test_w2_exact_cases():
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    assert w2(x, x) == pytest.approx(0.0, abs=1e-9)
    assert w2(x, x + torch.tensor([3.0, 4.0])) == pytest.approx(5.0, abs=1e-6)
    assert w2(torch.zeros(1, 1), torch.tensor([[1.0], [3.0]])) == pytest.approx(math.sqrt(5.0))
    with pytest.raises(ValueError, match="different dimensions"):
        w2(x, torch.randn(5, 3))


def test_noise_floor_is_what_exact_samples_score():
    toy = get_toy("8gaussians")
    floor = w2_noise_floor(toy, 1000, seed=0)
    assert 0 < floor < 1.0
    far = toy(1000, torch.Generator().manual_seed(9)) * 0.5
    assert w2(far, toy(1000, torch.Generator().manual_seed(8))) > 3 * floor


def test_mode_stats_full_collapsed_and_blurry():
    toy = get_toy("25gaussians")
    exact = toy(5000, torch.Generator().manual_seed(1))
    s = mode_stats(exact, toy)
    assert s["covered"] == 25 and s["within"] > 0.98
    assert sum(s["mass"]) == pytest.approx(s["within"])
    collapsed = torch.zeros(1000, 2) + 0.01 * torch.randn(1000, 2)
    s = mode_stats(collapsed, toy)
    assert s["covered"] == 1 and s["mass"][12] > 0.99
    blurry = exact + 0.5 * torch.randn(5000, 2)
    s = mode_stats(blurry, toy)
    assert s["within"] < 0.2
    with pytest.raises(ValueError, match="has no modes"):
        mode_stats(exact, get_toy("moons"))


def test_toy_scores_of_exact_and_one_circle_samples():
    toy = get_toy("two_circles")
    gen = torch.Generator().manual_seed(0)
    exact, target = toy(4000, gen).numpy(), toy(4000, gen).numpy()
    level = w2_noise_floor(toy, 4000, seed=3)
    s = report.toy_scores(exact, "two_circles", target, level)
    assert s["modes covered"] == 2 and s["within 3 std"] > 0.98
    assert s["largest mode share"] == pytest.approx(0.5, abs=0.03)
    assert s["largest mode share"] == max(s["mode shares"])
    assert s["W2 / noise level"] == pytest.approx(1.0, abs=0.3)
    inner = exact[np.linalg.norm(exact, axis=1) < 6]  # all mass on the inner circle
    s = report.toy_scores(inner, "two_circles", target, level)
    assert s["modes covered"] == 1 and s["largest mode share"] > 0.98
    assert s["mode shares"][0] > 0.98 and s["mode shares"][1] == 0  # inner first, then outer
    assert s["W2 / noise level"] > 5


def test_mmd():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 2, generator=g), torch.randn(400, 2, generator=g)
    assert abs(mmd(a, b)) < 0.01
    assert mmd(a, b + 1.0) > 0.1


def test_median_band_is_the_median_and_the_central_95_percent():
    values = np.arange(201, dtype=float)  # percentiles 2.5 and 97.5 fall on 5 and 195
    assert report.band(values) == (100.0, 5.0, 195.0)
    assert report.median_band(values / 100, digits=2) == "1.00 [0.05, 1.95]"
