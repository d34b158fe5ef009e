"""Training configuration: one frozen, validated dataclass for every method.

Defaults are the "textbook" preset: the JKO step (E1)-(E2) as the exact references solve it, with
the paper's 2-D toy hyper-parameters (PAPER.md §6). The paper's own algorithm (App. A) and the
authors' code are one call away: ``SJKOConfig.preset("paper")`` / ``preset("authors-code")``; the
book page "Paper, authors' code and companion" is the table of every switch (:mod:`sjko.presets`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional

DIVERGENCES = ("kl", "jsd", "chi2")
METHODS = ("sjko", "sf-uotm", "uotm", "otm", "jko-naive")
COSTS = ("sum", "mean")
SCHEDULES = ("none", "global", "per-step")
SINGLE_STEP_METHODS = ("sf-uotm", "uotm", "otm")
NETWORKS = ("residual", "residual-quadratic", "authors-toy")
DATA_BATCHES = ("iid", "stratified", "epochs")
HORIZONS = ("run", "run+step")
POTENTIAL_LOSSES = ("semi-dual", "logistic")


def _fail(name: str, value: Any, allowed: str) -> None:
    raise ValueError(f"SJKOConfig.{name}={value!r} is invalid: {allowed}")


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(name, value, "expected an integer >= 1")


def _nonneg_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(name, value, "expected an integer >= 0")


def _positive_float(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        _fail(name, value, "expected a finite number > 0")


def _nonneg_float(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        _fail(name, value, "expected a finite number >= 0")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        _fail(name, value, f"expected one of {', '.join(map(repr, choices))}")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        _fail(name, value, "expected True or False")


@dataclass(frozen=True)
class SJKOConfig:
    """Hyper-parameters of one training run (validated on construction).

    Attributes
    ----------
    K : number of JKO steps (phases). Single-step methods ("sf-uotm", "uotm", "otm") need K = 1.
    h : JKO step size of steps 1..K-1, in the cost ``c_h`` of (E2).
    h0 : step size of the first step (None: ``h``, also after ``replace(h=...)``).
    iters_per_step : training iterations N of steps 1..K-1.
    iters_first_step : iterations N_0 of step 0 (None: ``iters_per_step``).
    iters_late : (k_late, N_late): steps k >= k_late take N_late iterations instead of N
        (companion, None = off): fewer iterations in the later steps.
    divergence : f-divergence D_f(rho || nu) of (E1): "kl", "jsd" or "chi2".
    method : "sjko" (E4-E6), "sf-uotm" (K = 1), "uotm" (both marginals relaxed), "otm" (balanced),
        "jko-naive" (one network per step, samples by composing the k frozen maps: O(K^2)).
    batch_size : samples of mu and of nu per iteration.
    lr_transport, lr_potential : Adam learning rates of T and v.
    fused_adam : use torch's fused Adam kernel (companion; the same update up to floating-point
        rounding, about 10 % less time per iteration for the small MLPs on CPU; off by default so
        that runs stay bitwise those of the unfused optimiser).
    betas : Adam betas (both networks).
    r1 : R1 penalty weight lambda in (E5) (0 = off).
    r1_every : apply the R1 penalty only every ``r1_every``-th iteration of a step, with weight
        ``r1 * r1_every`` (companion, 1 = every iteration as the authors' code): the "lazy
        regularisation" of Karras et al. (2020, StyleGAN2, Sec. 3.1). The penalty's double
        backward is about a quarter of an image iteration's time on CPU.
    ema : EMA decay of T's weights, or None (no EMA).
    cosine_lr : "none", "global" (one cosine decay over all iterations, as the authors' code) or
        "per-step" (restart the cosine decay in every JKO step, so each step's problem converges).
    lr_min : floor of the cosine schedules.
    instance_noise : add sigma_k eps, sigma_k = 1/(32(k+1)), to real data in (E5) (authors' code).
    independent_z : draw z1 != z2 in (E6) (authors' code); default shares z so T_k = dT_k o T_{k-1}.
    cost : "sum" -> ||x-y||^2/(2h) (textbook JKO, default); "mean" -> ||x-y||^2/(2dh) (authors' code).
    jsd_map_loss : "semi-dual" (L_T = c - v, the paper's (E6)) or "non-saturating"
        (L_T = c + softplus(-w), the authors' code); only used with divergence "jsd".
    nz : dimension of the auxiliary noise z of T(x, z) (0 = deterministic map).
    width, depth : width and number of residual blocks of the default MLPs (None = sized for d).
    network : default networks for vector data: "residual" (companion: T = x + g, T_0 = Id),
        "residual-quadratic" (companion: the same with a learned quadratic form y^T P y added to
        the potential, zero at init; the OU page's default) or "authors-toy" (authors' code:
        T = g(x, z) at random init, blocks of three linear layers with a 1/sqrt(2) skip scale,
        see :mod:`sjko.networks`).
    data_batches : how data batches are drawn: "iid" (companion), "stratified" (authors' toy
        samplers: exactly batch/m samples from each of the m components; the target must have a
        ``stratified`` method, as the component toys and labelled images,
        :class:`sjko.images.data.ClassBalanced`, do) or "epochs" (authors' image loader:
        shuffled passes without replacement over a data tensor, last partial batch dropped).
    hflip : random horizontal flips of image data (authors' code for CIFAR-10 and CelebA-HQ).
    cosine_horizon : length of the "global" cosine schedule: "run" = N_0 + N (K - 1), the
        iterations actually run (authors' ``train.py``), or "run+step" = N_0 + N K (authors'
        ``train_JSD.py``: the schedule never reaches its floor).
    potential_loss : how the potential is fitted: "semi-dual" (the paper's (E5), default) or
        "logistic" (companion, KL only): the logistic log-ratio loss
        E softplus(v(T x)) + E softplus(-v(y)) of :func:`sjko.losses.logistic_potential_loss`. For
        a fixed map both losses have the same minimiser v = -log(d T#mu / d nu), so the map step
        (E6) and the JKO step's solution are unchanged; the logistic loss has bounded terms where
        the sample estimate of int e^{-v} d nu in (E5) can have infinite variance.
    potential_batch_size : samples of mu and nu in the potential step (E5) (None: batch_size).
        A larger batch lowers the variance of the sample estimate of int f*(-v) d nu (companion).
    stop_tol : per-step stopping rule (companion; 0 = off): every ``stop_every`` iterations minus
        the potential loss (the semi-dual value (E3) by default) is estimated on a held-out set of
        ``stop_samples`` draws fixed for the step; the step ends once ``stop_patience``
        consecutive estimates each moved by less than ``stop_tol``, or after ``iters_per_step``
        iterations.
    keep_steps : keep a frozen copy of T after every step (needed to sample intermediate mu_k).
    checkpoint_every : iterations between checkpoints inside a step (when checkpointing).
    seed : seed of network initialisation and of every sample drawn during training.
    device : torch device string.
    """

    K: int = 10
    h: float = 1.0
    h0: Optional[float] = None
    iters_per_step: int = 5000
    iters_first_step: Optional[int] = None
    iters_late: Optional[tuple[int, int]] = None
    divergence: str = "kl"
    method: str = "sjko"
    batch_size: int = 400
    lr_transport: float = 1e-4
    lr_potential: float = 2e-5
    fused_adam: bool = False
    betas: tuple[float, float] = (0.5, 0.9)
    r1: float = 0.0
    r1_every: int = 1
    ema: Optional[float] = None
    cosine_lr: str = "none"
    lr_min: float = 0.0
    instance_noise: bool = False
    independent_z: bool = False
    cost: str = "sum"
    jsd_map_loss: str = "semi-dual"
    nz: int = 2
    width: Optional[int] = None
    depth: Optional[int] = None
    network: str = "residual"
    data_batches: str = "iid"
    hflip: bool = False
    cosine_horizon: str = "run"
    potential_loss: str = "semi-dual"
    potential_batch_size: Optional[int] = None
    stop_tol: float = 0.0
    stop_every: int = 100
    stop_patience: int = 3
    stop_samples: int = 4096
    keep_steps: bool = False
    checkpoint_every: int = 1000
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        _positive_int("K", self.K)
        _positive_float("h", self.h)
        if self.h0 is not None:
            _positive_float("h0", self.h0)
        _positive_int("iters_per_step", self.iters_per_step)
        if self.iters_first_step is not None:
            _positive_int("iters_first_step", self.iters_first_step)
        if self.iters_late is not None:
            late = self.iters_late
            if not (isinstance(late, (list, tuple)) and len(late) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                            for v in late)):
                _fail("iters_late", late, "expected None or (k_late, N_late), two integers >= 1")
            object.__setattr__(self, "iters_late", tuple(late))
        _choice("divergence", self.divergence, DIVERGENCES)
        _choice("method", self.method, METHODS)
        if self.method in SINGLE_STEP_METHODS and self.K != 1:
            _fail("K", self.K, f"method {self.method!r} is a single-step model and needs K=1")
        if self.method == "uotm" and self.divergence == "jsd":
            _fail("divergence", self.divergence,
                  "method 'uotm' relaxes both marginals with f* and supports 'kl' or 'chi2'")
        _positive_int("batch_size", self.batch_size)
        _positive_float("lr_transport", self.lr_transport)
        _positive_float("lr_potential", self.lr_potential)
        _flag("fused_adam", self.fused_adam)
        betas = tuple(self.betas) if isinstance(self.betas, (list, tuple)) else self.betas
        if not (isinstance(betas, tuple) and len(betas) == 2
                and all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)):
            _fail("betas", self.betas, "expected two numbers in [0, 1)")
        object.__setattr__(self, "betas", tuple(float(b) for b in betas))
        _nonneg_float("r1", self.r1)
        _positive_int("r1_every", self.r1_every)
        if self.ema is not None and (isinstance(self.ema, bool)
                                     or not isinstance(self.ema, (int, float))
                                     or not 0 < self.ema < 1):
            _fail("ema", self.ema, "expected None or a decay in (0, 1)")
        _choice("cosine_lr", self.cosine_lr, SCHEDULES)
        _nonneg_float("lr_min", self.lr_min)
        if self.lr_min > min(self.lr_transport, self.lr_potential):
            _fail("lr_min", self.lr_min, "must not exceed lr_transport and lr_potential")
        _flag("instance_noise", self.instance_noise)
        _flag("independent_z", self.independent_z)
        _choice("cost", self.cost, COSTS)
        _choice("jsd_map_loss", self.jsd_map_loss, ("semi-dual", "non-saturating"))
        _nonneg_int("nz", self.nz)
        if self.width is not None:
            _positive_int("width", self.width)
        if self.depth is not None:
            _positive_int("depth", self.depth)
        _choice("network", self.network, NETWORKS)
        _choice("data_batches", self.data_batches, DATA_BATCHES)
        _flag("hflip", self.hflip)
        _choice("cosine_horizon", self.cosine_horizon, HORIZONS)
        _choice("potential_loss", self.potential_loss, POTENTIAL_LOSSES)
        if self.potential_loss == "logistic" and (self.divergence != "kl"
                                                  or self.method in ("uotm", "otm")):
            _fail("potential_loss", self.potential_loss, "the logistic loss fits the KL potential "
                  "-log(d T#mu / d nu) with the source held fixed: it needs divergence='kl' and "
                  "method 'sjko', 'sf-uotm' or 'jko-naive'")
        if self.potential_batch_size is not None:
            _positive_int("potential_batch_size", self.potential_batch_size)
        _nonneg_float("stop_tol", self.stop_tol)
        _positive_int("stop_every", self.stop_every)
        _positive_int("stop_patience", self.stop_patience)
        _positive_int("stop_samples", self.stop_samples)
        if self.stop_tol > 0 and self.cosine_lr == "global":
            _fail("stop_tol", self.stop_tol, "the stopping rule shortens steps, so it cannot be "
                  "combined with cosine_lr='global' (use 'per-step' or 'none')")
        _flag("keep_steps", self.keep_steps)
        _positive_int("checkpoint_every", self.checkpoint_every)
        _nonneg_int("seed", self.seed)
        if not isinstance(self.device, str) or not self.device:
            _fail("device", self.device, "expected a torch device string such as 'cpu' or 'cuda'")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "SJKOConfig":
        """A configuration with the algorithm of ``name`` and the given fields changed.

        ``"textbook"`` -- the JKO step (E1)-(E2) exactly as the exact references use it (the
        companion's default); ``"paper"`` -- the algorithm as the paper states it (App. A,
        Algorithms 2-3); ``"authors-code"`` -- every behaviour of the authors' ``train.py`` /
        ``train_JSD.py`` that changes the numbers and is reproduced here. The table of fields per
        preset is ``sjko.presets.BEHAVIOURS``; experiment hyper-parameters (K, h, learning rates)
        come from ``overrides``.
        """
        from .presets import preset_fields

        return cls(**preset_fields(name, overrides))

    @property
    def potential_batch(self) -> int:
        """Samples of mu and of nu in a potential step."""
        return self.potential_batch_size or self.batch_size

    @property
    def schedule_iterations(self) -> int:
        """Horizon of the "global" cosine schedule (see ``cosine_horizon``)."""
        extra = self.iters_per_step if self.cosine_horizon == "run+step" else 0
        return self.total_iterations + extra

    @property
    def total_iterations(self) -> int:
        """Iterations of the whole run, the sum of N_k (an upper bound with the stopping rule)."""
        return sum(self.step_iterations(k) for k in range(self.K))

    def step_size(self, k: int) -> float:
        """h_k: ``h0`` for the first step, ``h`` afterwards."""
        return float(self.h0 if (k == 0 and self.h0 is not None) else self.h)

    def step_iterations(self, k: int) -> int:
        """N_k: ``iters_first_step`` for the first step, ``iters_late[1]`` from step
        ``iters_late[0]`` on, ``iters_per_step`` otherwise."""
        if k == 0 and self.iters_first_step is not None:
            return self.iters_first_step
        if self.iters_late is not None and k >= self.iters_late[0]:
            return self.iters_late[1]
        return self.iters_per_step

    def to_dict(self) -> dict:
        """Plain-data form (JSON-safe), the inverse of ``SJKOConfig(**d)``."""
        d = dataclasses.asdict(self)
        d["betas"] = list(d["betas"])
        if d["iters_late"] is not None:
            d["iters_late"] = list(d["iters_late"])
        return d

    def replace(self, **changes: Any) -> "SJKOConfig":
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)
