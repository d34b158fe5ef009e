"""The training loop against exact references: the 1-D Gaussian JKO recursion (PAPER §7)."""
import sys

import numpy as np
import pytest
import torch

import sjko
from sjko import reference as ref
from sjko.bench import GAUSS1D
from sjko.recipes import Target1D
from sjko.networks import Potential, QuadraticPotential, TransportMap, default_networks


# Overlapping target N(1.5, 0.5^2) from N(0, 1), KL, cost "sum", h = 0.5: every learned mu_k must
# follow the exact JKO sequence step by step. Settings: the calibrated fast potential
# (lr_v 1e-3 > lr_T 3e-4), a per-step cosine decay so each step's min-max problem converges.
GAUSS_CFG = GAUSS1D.replace(keep_steps=True, seed=0)
# Tolerance: over seeds 0, 1, 2 with these settings the largest |error| of any step's mean or std
# was 0.011 (measured for the closing note of issue 2); the Monte-Carlo error of the 20 000-
# sample estimate is 0.004. 0.05 is over four times the worst seed, and less than half the gap
# between consecutive exact steps (>= 0.11 in mean for k <= 3), so a flow that skipped or
# repeated a step would fail.
TOL = 0.05


@pytest.fixture(scope="module")
def gaussian_flow():
    return sjko.train(Target1D(1.5, 0.5).sampler(), GAUSS_CFG, progress=False)


def test_every_step_follows_the_exact_gaussian_jko(gaussian_flow):
    exact = ref.gaussian_jko(ref.Gaussian.of([0.0], [[1.0]]), [1.5], [[4.0]], GAUSS_CFG.h,
                             GAUSS_CFG.K)
    for k in range(1, GAUSS_CFG.K + 1):
        x = gaussian_flow.sample(20000, step=k, seed=123).numpy()[:, 0]
        assert abs(x.mean() - exact[k].mean[0]) < TOL, k
        assert abs(x.std() - exact[k].std[0]) < TOL, k
    # the exact steps are far apart compared with TOL: the check resolves single steps
    gaps = [abs(exact[k + 1].mean[0] - exact[k].mean[0]) for k in range(3)]
    assert min(gaps) > 2 * TOL


@pytest.mark.parametrize("network", ["residual", "residual-quadratic"])
def test_logistic_potential_loss_follows_the_exact_gaussian_jko(network):
    # Same problem, two steps, the logistic potential loss with the OU page's 3x faster potential,
    # with and without the quadratic term in the potential (the OU page's default network).
    # Over seeds 0, 1, 2 the largest |error| of a step's mean or std was 0.008 with either network
    # (measured for the closing notes of issue 11); TOL is six times that and still resolves
    # single steps.
    cfg = GAUSS_CFG.replace(K=2, potential_loss="logistic", lr_potential=3e-3, network=network)
    flow = sjko.train(Target1D(1.5, 0.5).sampler(), cfg, progress=False)
    exact = ref.gaussian_jko(ref.Gaussian.of([0.0], [[1.0]]), [1.5], [[4.0]], cfg.h, cfg.K)
    for k in (1, 2):
        x = flow.sample(20000, step=k, seed=123).numpy()[:, 0]
        assert abs(x.mean() - exact[k].mean[0]) < TOL, k
        assert abs(x.std() - exact[k].std[0]) < TOL, k


def test_quadratic_potential_starts_as_the_residual_one_and_holds_a_quadratic_exactly():
    def build(network):
        torch.manual_seed(0)
        return default_networks(network, 3, 0, 16, 2)

    (plain_T, plain_v), (quad_T, quad_v) = build("residual"), build("residual-quadratic")
    assert isinstance(quad_v, QuadraticPotential) and type(plain_v) is Potential
    y = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    # zero at init: the same map and the same potential as "residual" with the same seed
    assert torch.equal(plain_v(y), quad_v(y))
    assert torch.equal(plain_T(y), quad_T(y))
    # with the MLP's output layer at zero, w is the quadratic form y^T P y alone
    P = torch.tensor([[1.0, 0.5, 0.0], [-0.5, 2.0, 0.0], [0.0, 0.0, -3.0]])
    with torch.no_grad():
        quad_v.mlp.out[-1].weight.zero_()
        quad_v.mlp.out[-1].bias.zero_()
        quad_v.quadratic.copy_(P)
    want = y[:, 0] ** 2 + 2 * y[:, 1] ** 2 - 3 * y[:, 2] ** 2  # only P's symmetric part acts
    assert torch.allclose(quad_v(y), want, atol=1e-5)


def test_step_zero_is_the_source_and_final_is_last(gaussian_flow):
    x0 = gaussian_flow.sample(5000, step=0, seed=1).numpy()
    assert abs(x0.mean()) < 0.05 and abs(x0.std() - 1) < 0.05
    assert torch.equal(gaussian_flow.sample(100, seed=4), gaussian_flow.sample(100, step=4, seed=4))
    assert not torch.equal(gaussian_flow.sample(100, seed=4), gaussian_flow.sample(100, seed=5))


def test_history_records_losses_and_step_times(gaussian_flow):
    h = gaussian_flow.history
    assert len(h["loss_v"]) == len(h["loss_T"]) == GAUSS_CFG.total_iterations
    assert h["k"][0] == 0 and h["k"][-1] == GAUSS_CFG.K - 1
    assert len(h["step_seconds"]) == GAUSS_CFG.K and min(h["step_seconds"]) > 0


def test_sample_rejects_bad_arguments(gaussian_flow):
    with pytest.raises(ValueError, match="step must be an integer in"):
        gaussian_flow.sample(10, step=9)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        gaussian_flow.sample(0)


TINY = sjko.SJKOConfig(K=1, h=1.0, iters_per_step=20, batch_size=32, nz=2, width=16, depth=1,
                       lr_transport=1e-3, lr_potential=1e-3, seed=3)


def _params(flow):
    return flow.maps[-1]


def test_sjko_with_K_1_is_source_fixed_uotm():
    toy = sjko.get_toy("8gaussians")
    a = sjko.train(toy, TINY, progress=False)
    b = sjko.train(toy, TINY.replace(method="sf-uotm"), progress=False)
    c = sjko.train(toy, TINY.replace(method="uotm"), progress=False)
    assert all(torch.equal(a.maps[0][n], b.maps[0][n]) for n in a.maps[0])
    assert not all(torch.equal(a.maps[0][n], c.maps[0][n]) for n in a.maps[0])


class CountingMap(TransportMap):
    calls = 0

    def forward(self, x, z=None):
        CountingMap.calls += 1
        return super().forward(x, z)


@pytest.mark.parametrize("method,loss", [("sjko", "semi-dual"), ("jko-naive", "semi-dual"),
                                         ("sjko", "logistic"), ("jko-naive", "logistic")])
def test_network_evaluations_per_iteration_and_per_sample(method, loss):
    """S-JKO evaluates T_old and T once each per push (O(1)); the naive scheme composes k maps.
    The logistic potential loss has no cost term: S-JKO's potential step skips T_old."""
    K = 4
    cfg = TINY.replace(K=K, iters_per_step=3, method=method, keep_steps=True,
                       divergence="kl", potential_loss=loss)
    per_iter = {}

    def count(event):
        per_iter.setdefault(event.k, []).append(CountingMap.calls)

    CountingMap.calls = 0
    flow = sjko.train(sjko.get_toy("8gaussians"), cfg, transport=CountingMap(2, 2, 16, 1),
                      progress=False, callback=count)
    for k, calls in per_iter.items():
        used = np.diff(calls)[0]  # two pushes (potential step, map step) per iteration
        if method == "sjko" and loss == "logistic":
            assert used == (3 if k > 0 else 2)
        elif method == "sjko":
            assert used == 2 * (2 if k > 0 else 1)
        else:
            assert used == 2 * (k + 1)
    for k in range(1, K + 1):
        CountingMap.calls = 0
        flow.sample(10, step=k)
        assert CountingMap.calls == (1 if method == "sjko" else k)


def test_late_steps_take_their_iterations_and_a_fused_adam_the_same_steps():
    cfg = TINY.replace(K=4, iters_per_step=6, iters_first_step=8, iters_late=(2, 3),
                       cosine_lr="per-step")
    target = sjko.get_toy("8gaussians")
    flow = sjko.train(target, cfg, progress=False)
    assert flow.history["step_iterations"] == [8, 6, 3, 3]
    # torch's fused kernel: the same Adam update up to floating-point rounding
    fused = sjko.train(target, cfg.replace(fused_adam=True), progress=False)
    a, b = flow.sample(256, seed=1), fused.sample(256, seed=1)
    assert torch.allclose(a, b, atol=1e-4), (a - b).abs().max()


def test_naive_sample_is_the_composition_of_its_maps():
    cfg = TINY.replace(K=3, iters_per_step=5, method="jko-naive")
    flow = sjko.train(sjko.get_toy("8gaussians"), cfg, progress=False)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    x = torch.randn(50, 2, generator=gen)
    z = torch.randn(50, 2, generator=gen)
    y = x
    for state in flow.maps:
        net = TransportMap(2, 2, 16, 1)
        net.load_state_dict(state)
        with torch.no_grad():
            y = net(y, z)
    assert torch.allclose(flow.sample(50), y)
    # each increment was trained: none of the three is the identity any more
    assert all(state["mlp.out.1.weight"].abs().sum() > 0 for state in flow.maps)


@pytest.mark.parametrize("divergence", ["kl", "jsd", "chi2"])
@pytest.mark.parametrize("method", ["sjko", "otm", "uotm", "jko-naive"])
def test_every_method_and_divergence_trains(method, divergence):
    if method == "uotm" and divergence == "jsd":
        pytest.skip("rejected by SJKOConfig")
    K = 1 if method in ("otm", "uotm") else 2
    cfg = TINY.replace(method=method, divergence=divergence, K=K, r1=0.1, ema=0.9,
                       instance_noise=True, independent_z=True, cost="mean",
                       cosine_lr="global", jsd_map_loss="non-saturating")
    flow = sjko.train(sjko.get_toy("two_circles"), cfg, progress=False)
    assert torch.isfinite(flow.sample(100)).all()


def test_tensor_target_and_custom_source():
    data = torch.randn(300, 3) + 2
    src = lambda n, g: torch.rand(n, 3, generator=g)  # noqa: E731
    flow = sjko.train(data, TINY, source=src, progress=False)
    assert flow.sample(7).shape == (7, 3)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="config must be an SJKOConfig"):
        sjko.train(torch.randn(10, 2), {"K": 1})
    with pytest.raises(ValueError, match="contain NaN"):
        sjko.train(torch.full((10, 2), float("nan")), TINY, progress=False)
    with pytest.raises(ValueError, match="source samples have shape"):
        sjko.train(torch.randn(10, 2), TINY, source=torch.randn(10, 3), progress=False)
    with pytest.raises(TypeError, match="target must be a callable"):
        sjko.train([1, 2, 3], TINY, progress=False)
    with pytest.raises(ValueError, match="networks do not fit the data"):
        sjko.train(torch.randn(10, 2), TINY, transport=TransportMap(3, 2, 16, 1), progress=False)


def test_given_networks_are_used_without_building_default_ones(monkeypatch):
    """With transport= and potential= given, no default MLP is built (for images those would be
    width max(128, 8d): gigabytes for CIFAR-10)."""
    import importlib

    train_module = importlib.import_module("sjko.train")  # the module, not sjko.train()

    def refuse(*args, **kwargs):
        raise AssertionError("default networks built although both networks were given")

    monkeypatch.setattr(train_module, "default_networks", refuse)
    cfg = sjko.SJKOConfig(K=1, iters_per_step=2, batch_size=8, nz=2, width=8, depth=1)
    T, v = sjko.networks.TransportMap(2, 2, 8, 1), sjko.networks.Potential(2, 8, 1)
    flow = sjko.train(sjko.get_toy("moons"), cfg, transport=T, potential=v, progress=False)
    assert flow.sample(4).shape == (4, 2)


def test_lazy_r1_applies_the_penalty_every_mth_iteration_with_weight_m(monkeypatch):
    """``r1_every=m``: R1 at iterations 0, m, 2m, ... of each step, with weight m * r1; the first
    iteration of (r1, m) is therefore the first iteration of (m * r1, 1), and differs from r1=0."""
    train_module = sys.modules["sjko.train"]
    target = sjko.get_toy("8gaussians")
    cfg = TINY.replace(K=2, iters_per_step=7, r1=0.5, r1_every=3)
    calls = []
    penalty = train_module.r1_penalty
    monkeypatch.setattr(train_module, "r1_penalty",
                        lambda v, y: calls.append(1) or penalty(v, y))
    sjko.train(target, cfg, progress=False)
    assert len(calls) == 2 * 3  # iterations 0, 3, 6 of each of the two steps
    monkeypatch.setattr(train_module, "r1_penalty", penalty)

    def potential_after_one_iteration(config):
        trainer = train_module.Trainer(target, config, None, None, None)
        trainer.iteration()
        return torch.cat([p.detach().flatten() for p in trainer.v.parameters()])

    lazy = potential_after_one_iteration(cfg)
    assert torch.equal(lazy, potential_after_one_iteration(cfg.replace(r1=1.5, r1_every=1)))
    assert not torch.equal(lazy, potential_after_one_iteration(cfg.replace(r1=0.0)))
