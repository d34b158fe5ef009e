"""One training loop for S-JKO and its baselines (PAPER §4-5, the algorithm of the authors' code).

For k = 0..K-1 (a "JKO step" or phase), N_k times:

1. potential step on (E5): v <- v - lr grad L_v, with fake samples T(x, z) and data y (scored in
   separate passes, as the authors' code: a batch-dependent potential sees pure batches);
2. map step on (E6): T <- T - lr grad L_T, with fresh x, z and the frozen previous map T_old;
3. EMA of T, learning-rate schedule;
4. with ``stop_tol > 0``, every ``stop_every`` iterations the semi-dual value (E3) on a held-out
   set fixed for the step; the step ends early once it has settled (companion, see SJKOConfig).

At a step boundary only T_old is refreshed (a frozen copy of the raw T; T_old = Id in step 0):
the potential, both Adam states, the EMA and a global LR schedule carry over, and T is
warm-started from T_{k-1} because it is the same network that keeps training. "jko-naive" instead
freezes the step's increment dT_k and starts a fresh identity map; T_old is then the composition
of the k frozen increments (k network evaluations per iteration: O(K^2) in total).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .checkpoint import atomic_save, safe_load
from .config import SJKOConfig
from .distributed import (average_gradients, broadcast_parameters, gather_objects, is_main,
                          rank_and_world)
from .divergences import get_divergence
from .flow import Flow
from .losses import (instance_noise_std, logistic_potential_loss, marginal_penalties,
                     r1_penalty, semi_dual_loss, transport_cost, transport_loss)
from .networks import TransportMap, default_networks, default_width, ema_update
from .samplers import DataStream, SamplerLike, StandardNormal, as_sampler, event_shape

CHECKPOINT_NAME = "checkpoint.pt"
FLOW_NAME = "flow.pt"


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite at JKO step ``k``, ``iteration`` of that step (0-based,
    the iteration whose losses are ``loss_v`` and ``loss_T``); the last good checkpoint (if
    any) is left intact."""

    def __init__(self, message: str, k: int, iteration: int, loss_v: float, loss_T: float
                 ) -> None:
        super().__init__(message)
        self.k, self.iteration, self.loss_v, self.loss_T = k, iteration, loss_v, loss_T


@dataclass
class TrainEvent:
    """What a ``callback`` sees after each iteration."""

    k: int
    iteration: int
    global_iteration: int
    loss_v: float
    loss_T: float
    sample: Callable[[int, int], Tensor]


class Identity(nn.Module):
    """T_old of the first step: the identity map (ignores z)."""

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        return x


class Composition(nn.Module):
    """dT_{k-1} o ... o dT_0, the naive scheme's T_old (all increments see the same z)."""

    def __init__(self, maps: list[nn.Module]) -> None:
        super().__init__()
        self.maps = nn.ModuleList(maps)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        for m in self.maps:
            x = m(x, z)
        return x


def _frozen(module: nn.Module) -> nn.Module:
    out = copy.deepcopy(module).eval()
    out.requires_grad_(False)
    return out


def _cpu_state(module: nn.Module) -> dict:
    """A detached CPU copy of a module's weights (what a flow stores per step)."""
    return {n: t.detach().cpu().clone() for n, t in module.state_dict().items()}


def _adam(module: nn.Module, lr: float, config: SJKOConfig) -> torch.optim.Adam:
    """Adam on a module's parameters with the run's betas (fused kernel if ``fused_adam``)."""
    return torch.optim.Adam(module.parameters(), lr=lr, betas=config.betas,
                            fused=True if config.fused_adam else None)


def _lr_factor(config: SJKOConfig, k: int, it: int, global_it: int, base: float) -> float:
    """Cosine schedule: the multiplier of the base learning rate at this iteration."""
    if config.cosine_lr == "none":
        return 1.0
    if config.cosine_lr == "global":
        progress = global_it / config.schedule_iterations
    else:
        progress = it / config.step_iterations(k)
    floor = config.lr_min / base
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


class Trainer:
    """State and update rules of one run; :func:`train` is the public entry point."""

    def __init__(self, target: SamplerLike, config: SJKOConfig, source: Optional[SamplerLike],
                 transport: Optional[nn.Module], potential: Optional[nn.Module]) -> None:
        self.config = config
        self.device = torch.device(config.device)
        self.target = as_sampler(target, "target")
        shape = event_shape(self.target)
        self.data = DataStream(self.target, config.data_batches, config.hflip)
        self.arch: dict = {}
        if source is None:
            self.source = StandardNormal(shape)
            self.arch["source_shape"] = list(shape)
        else:
            self.source = as_sampler(source, "source")
            if event_shape(self.source) != shape:
                raise ValueError(f"source samples have shape {event_shape(self.source)} but "
                                 f"target samples have shape {shape}")
        d = int(torch.tensor(shape).prod())
        width = config.width or default_width(d)
        depth = config.depth or 3
        if (transport is None or potential is None) and len(shape) != 1:
            raise ValueError(f"default networks are MLPs for vector data; samples of shape "
                             f"{shape} need transport= and potential= networks")
        if transport is None or potential is None:  # both built, so each keeps its seed's init
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)
                default_T, default_v = default_networks(config.network, d, config.nz, width,
                                                        depth)
            if transport is None:
                self.arch["transport"] = dict(network=config.network, d=d, nz=config.nz,
                                              width=width, depth=depth)
                transport = default_T
            if potential is None:
                potential = default_v
        self.T = transport.to(self.device)
        self.v = potential.to(self.device)
        self._check_networks()
        self.divergence = get_divergence(config.divergence)
        self.psi1, self.psi2 = marginal_penalties(config.method, self.divergence)
        self.opt_T = _adam(self.T, config.lr_transport, config)
        self.opt_v = _adam(self.v, config.lr_potential, config)
        self.T_ema = _frozen(self.T) if config.ema is not None else None
        self.T_old: nn.Module = Identity()
        self.frozen: list[nn.Module] = []
        self.maps: list[Optional[dict]] = []
        self.raw_maps: list[Optional[dict]] = []  # raw T_k beside EMA maps (empty without EMA)
        self.rank, self.world = rank_and_world()
        broadcast_parameters(self.T)
        broadcast_parameters(self.v)
        # each rank draws its own batches; rank 0 of a single process uses ``seed`` itself
        self.gen = torch.Generator().manual_seed(config.seed + 100_003 * self.rank)
        self.k, self.it = 0, 0
        self.history: dict = {"k": [], "loss_v": [], "loss_T": [], "step_seconds": [],
                              "step_iterations": [], "held_out": []}
        self.held_out: Optional[tuple] = None
        self.step_elapsed = 0.0

    def _check_networks(self) -> None:
        gen = torch.Generator().manual_seed(0)
        x = self.source(2, gen).to(self.device)
        z = torch.randn(2, self.config.nz, generator=gen).to(self.device) if self.config.nz else None
        with torch.no_grad():
            try:
                y = self.T(x, z)
                w = self.v(y)
            except Exception as err:
                raise ValueError(f"the networks do not fit the data: T(x, z) with x of shape "
                                 f"{tuple(x.shape)} and z of shape "
                                 f"{None if z is None else tuple(z.shape)}, then v(T(x, z)), "
                                 f"failed: {err}") from None
        if y.shape != x.shape:
            raise ValueError(f"transport must map [n, ...] to the same shape: {tuple(x.shape)} -> "
                             f"{tuple(y.shape)}")
        if w.shape != (2,):
            raise ValueError(f"potential must return one value per sample, shape [n]; got "
                             f"{tuple(w.shape)}")

    # -- sampling -----------------------------------------------------------------------------
    def _draw(self, n: int, gen: torch.Generator
              ) -> tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """n source samples with the noise draws (z1 for T_old, z2 for T) from ``gen``."""
        x = self.source(n, gen).to(self.device)
        if not self.config.nz:
            return x, None, None
        z1 = torch.randn(n, self.config.nz, generator=gen).to(self.device)
        z2 = torch.randn(n, self.config.nz, generator=gen).to(self.device) \
            if self.config.independent_z else z1
        return x, z1, z2

    def _push(self, x: Tensor, z_old: Optional[Tensor], z_new: Optional[Tensor]
              ) -> tuple[Tensor, Tensor]:
        """(T_old(x), T(x)) for the reparametrised methods; (y, dT(y)) with y = T_old(x) naive."""
        with torch.no_grad():
            prev = self.T_old(x, z_old)
        new = self.T(prev if self.config.method == "jko-naive" else x, z_new)
        return prev, new

    def _fake(self, x: Tensor, z_old: Optional[Tensor], z_new: Optional[Tensor], h: float
              ) -> tuple[Tensor, Optional[Tensor]]:
        """Samples of the step's pushforward and their transport cost, without gradients. The
        logistic potential loss has no cost term, so T_old is not evaluated for it (except in
        "jko-naive", whose increment takes T_old's output as input): one network pass less per
        iteration, the same numbers."""
        with torch.no_grad():
            if self.config.potential_loss == "logistic" and self.config.method != "jko-naive":
                return self.T(x, z_new), None
            prev, fake = self._push(x, z_old, z_new)
            return fake, transport_cost(prev, fake, h, self.config.cost)

    # -- one iteration ------------------------------------------------------------------------
    def _set_lr(self) -> None:
        c = self.config
        global_it = sum(c.step_iterations(j) for j in range(self.k)) + self.it
        for opt, base in ((self.opt_T, c.lr_transport), (self.opt_v, c.lr_potential)):
            lr = base * _lr_factor(c, self.k, self.it, global_it, base)
            for group in opt.param_groups:
                group["lr"] = lr

    def iteration(self) -> tuple[float, float]:
        """One potential step on (E5), then one map step on (E6); returns (loss_v, loss_T)."""
        c, h, B = self.config, self.config.step_size(self.k), self.config.batch_size
        self._set_lr()
        # potential step (E5)
        Bv = c.potential_batch
        x, z1, z2 = self._draw(Bv, self.gen)
        fake, fake_cost = self._fake(x, z1, z2, h)
        y = self.data(Bv, self.gen).to(self.device)
        if c.instance_noise:
            y = y + instance_noise_std(self.k) * torch.randn(y.shape, generator=self.gen).to(y)
        loss_v = self.potential_loss(self.v(fake), self.v(y), fake_cost)
        if c.r1 > 0 and self.it % c.r1_every == 0:  # lazy R1 for r1_every > 1
            loss_v = loss_v + c.r1 * c.r1_every * r1_penalty(self.v, y)
        self.opt_v.zero_grad(set_to_none=True)
        loss_v.backward()
        average_gradients(self.v)
        self.opt_v.step()
        # map step (E6)
        x, z1, z2 = self._draw(B, self.gen)
        prev, new = self._push(x, z1, z2)
        self.v.requires_grad_(False)
        loss_T = transport_loss(transport_cost(prev, new, h, c.cost), self.v(new), self.psi2,
                                c.divergence == "jsd" and c.jsd_map_loss == "non-saturating")
        self.v.requires_grad_(True)
        self.opt_T.zero_grad(set_to_none=True)
        loss_T.backward()
        average_gradients(self.T)
        self.opt_T.step()
        if self.T_ema is not None:
            ema_update(self.T_ema, self.T, c.ema)
        return loss_v.item(), loss_T.item()

    def potential_loss(self, w_fake: Tensor, w_real: Tensor, fake_cost: Optional[Tensor]
                       ) -> Tensor:
        """The potential step's loss without R1: (E5), or the logistic loss (``potential_loss``),
        which takes no cost (``fake_cost`` may be None)."""
        if self.config.potential_loss == "logistic":
            return logistic_potential_loss(w_fake, w_real)
        return semi_dual_loss(w_fake, w_real, fake_cost, self.psi1, self.psi2)

    # -- per-step stopping rule ----------------------------------------------------------------
    def _held_out_value(self) -> float:
        """-L_v without R1 on the step's held-out draws (the semi-dual value (E3) with the default
        potential loss)."""
        c = self.config
        if self.held_out is None:
            gen = torch.Generator().manual_seed(c.seed + 1_000_003 * (self.k + 1))
            self.held_out = (*self._draw(c.stop_samples, gen),
                             self.target(c.stop_samples, gen).to(self.device))
        x, z1, z2, y = self.held_out
        fake, cost = self._fake(x, z1, z2, c.step_size(self.k))
        with torch.no_grad():
            return -self.potential_loss(self.v(fake), self.v(y), cost).item()

    def step_converged(self) -> bool:
        """Record a held-out estimate every ``stop_every`` iterations; True once the last
        ``stop_patience`` changes are all below ``stop_tol`` (always False when the rule is off)."""
        c = self.config
        if c.stop_tol <= 0 or self.it % c.stop_every:
            return False
        trace = self.history["held_out"]
        trace.append((self.k, self.it, self._held_out_value()))
        recent = [v for k, _, v in trace if k == self.k][-(c.stop_patience + 1):]
        return (len(recent) == c.stop_patience + 1
                and all(abs(b - a) < c.stop_tol for a, b in zip(recent, recent[1:])))

    # -- step boundaries ----------------------------------------------------------------------
    def sampling_map(self) -> nn.Module:
        return self.T_ema if self.T_ema is not None else self.T

    def end_step(self) -> None:
        """Freeze what step k produced and set up step k+1 (PAPER §5, "code" notes)."""
        c = self.config
        last = self.k == c.K - 1
        state = _cpu_state(self.sampling_map())
        if self.T_ema is not None:
            self.raw_maps.append(_cpu_state(self.T) if (c.keep_steps or last) else None)
        if c.method == "jko-naive":
            self.maps.append(state)
            if not last:
                self.frozen.append(_frozen(self.T))
                self.T_old = Composition(self.frozen)
                self._fresh_map()
        else:
            self.maps.append(state if (c.keep_steps or last) else None)
            if not last:
                self.T_old = _frozen(self.T)
        self.history["step_seconds"].append(self.step_elapsed)
        self.history["step_iterations"].append(self.it)
        self.step_elapsed = 0.0
        self.k, self.it = self.k + 1, 0
        self.held_out = None

    def _fresh_map(self) -> None:
        """Naive JKO: a new identity-initialised increment dT_{k+1} with its own Adam state."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 7919 * (self.k + 1))
            for m in self.T.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        if isinstance(self.T, TransportMap):
            last = self.T.mlp.out[-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.opt_T = _adam(self.T, self.config.lr_transport, self.config)
        if self.T_ema is not None:
            self.T_ema = _frozen(self.T)

    # -- persistence --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "kind": "sjko.checkpoint", "config": self.config.to_dict(), "k": self.k,
            "it": self.it, "T": self.T.state_dict(), "v": self.v.state_dict(),
            "opt_T": self.opt_T.state_dict(), "opt_v": self.opt_v.state_dict(),
            "T_ema": None if self.T_ema is None else self.T_ema.state_dict(),
            "T_old": None if isinstance(self.T_old, (Identity, Composition))
            else self.T_old.state_dict(),
            "frozen": [m.state_dict() for m in self.frozen], "maps": self.maps,
            "raw_maps": self.raw_maps,
            "history": self.history, "step_elapsed": self.step_elapsed,
            "gen": gather_objects(self.gen.get_state()), "torch_rng": torch.get_rng_state(),
            "data": gather_objects(self.data.state_dict()),
        }

    def checkpoint(self, path: Optional[Path]) -> None:
        """Write the state to ``path`` (every rank calls this: the RNG states are gathered)."""
        state = self.state_dict()
        if path is not None:
            atomic_save(state, path)

    def load_state_dict(self, s: dict) -> None:
        self.k, self.it = s["k"], s["it"]
        self.T.load_state_dict(s["T"])
        self.v.load_state_dict(s["v"])
        self.opt_T.load_state_dict(s["opt_T"])
        self.opt_v.load_state_dict(s["opt_v"])
        if self.T_ema is not None:
            self.T_ema.load_state_dict(s["T_ema"])
        if s["T_old"] is not None:
            self.T_old = _frozen(self.T)
            self.T_old.load_state_dict(s["T_old"])
        self.frozen = []
        for state in s["frozen"]:
            m = _frozen(self.T)
            m.load_state_dict(state)
            self.frozen.append(m)
        if self.frozen:
            self.T_old = Composition(self.frozen)
        self.maps, self.raw_maps, self.history = s["maps"], s["raw_maps"], s["history"]
        self.step_elapsed = s["step_elapsed"]
        if len(s["gen"]) != self.world:
            raise ValueError(f"checkpoint was written by {len(s['gen'])} process(es); resume it "
                             f"with the same number (now {self.world})")
        self.gen.set_state(s["gen"][self.rank])
        torch.set_rng_state(s["torch_rng"])
        self.data.load_state_dict(s["data"][self.rank])

    def flow(self) -> Flow:
        return Flow(self.config, _frozen(self.T).cpu(), self.maps, self.source, self.history,
                    self.arch, self.raw_maps or None)

    def sample_now(self, n: int, seed: int = 0) -> Tensor:
        """Samples of the current model (T_k in training), for callbacks."""
        flow = Flow(self.config, _frozen(self.T).cpu(), self.maps + [
            _cpu_state(self.sampling_map())], self.source, self.history, self.arch)
        return flow.sample(n, seed=seed)


def _resume(trainer: Trainer, checkpoint: Path) -> None:
    blob = safe_load(checkpoint)
    if blob.get("kind") != "sjko.checkpoint":
        raise ValueError(f"{checkpoint} is not an sjko training checkpoint")
    saved = SJKOConfig(**blob["config"]).to_dict()
    now = trainer.config.to_dict()
    diff = {k: (saved[k], now[k]) for k in now if saved.get(k) != now[k]}
    if diff:
        raise ValueError(f"{checkpoint} belongs to a run with a different configuration "
                         f"(field: saved vs now) {diff}; use another checkpoint_dir or delete it")
    trainer.load_state_dict(blob)


def train(target: SamplerLike, config: SJKOConfig, source: Optional[SamplerLike] = None,
          transport: Optional[nn.Module] = None, potential: Optional[nn.Module] = None,
          checkpoint_dir: Optional[Union[str, Path]] = None, progress: bool = True,
          callback: Optional[Callable[[TrainEvent], None]] = None) -> Flow:
    """Train a flow from ``source`` (default N(0, I)) towards ``target`` (PAPER Algorithm 1).

    Under ``torchrun`` (an initialised process group) every rank trains on its own batches of
    ``config.batch_size`` and gradients are averaged across ranks (:mod:`sjko.distributed`);
    rank 0 alone shows progress and writes checkpoints and the final flow.

    Parameters
    ----------
    target, source : a sampler ``callable(n, generator) -> Tensor[n, ...]`` or a tensor of samples.
    config : the run's :class:`SJKOConfig` (method, K, h, divergence, ...).
    transport, potential : networks ``T(x, z)`` and ``v(y) -> [n]``; default residual MLPs.
    checkpoint_dir : save the full training state there at every step boundary and every
        ``config.checkpoint_every`` iterations (atomically); calling ``train`` again with the same
        arguments resumes, bit for bit on CPU. The final flow is also saved there as ``flow.pt``.
    progress : show a tqdm bar (step k, iteration, loss_v, loss_T); rank 0 only.
    callback : called with a :class:`TrainEvent` after every iteration.
    """
    if not isinstance(config, SJKOConfig):
        raise TypeError(f"config must be an SJKOConfig, got {type(config).__name__}")
    trainer = Trainer(target, config, source, transport, potential)
    ckpt = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    if ckpt is not None and ckpt.exists():
        _resume(trainer, ckpt)
    done = sum(trainer.history["step_iterations"]) + trainer.it
    main = is_main()
    bar = tqdm(total=config.total_iterations, initial=done, disable=not (progress and main),
               desc=config.method, dynamic_ncols=True)
    try:
        while trainer.k < config.K:
            n_k = config.step_iterations(trainer.k)
            while trainer.it < n_k:
                t0 = time.perf_counter()
                loss_v, loss_T = trainer.iteration()
                if not (math.isfinite(loss_v) and math.isfinite(loss_T)):
                    where = f"; the last good checkpoint {ckpt} is intact" if ckpt else ""
                    raise TrainingDiverged(
                        f"non-finite loss at step k={trainer.k}, iteration {trainer.it} "
                        f"(loss_v={loss_v}, loss_T={loss_T}){where}. Lower the learning rates "
                        f"or h, or add an R1 penalty.", trainer.k, trainer.it, loss_v, loss_T)
                trainer.it += 1
                trainer.step_elapsed += time.perf_counter() - t0
                hist = trainer.history
                hist["k"].append(trainer.k)
                hist["loss_v"].append(loss_v)
                hist["loss_T"].append(loss_T)
                bar.update(1)
                if trainer.it % 50 == 0 or trainer.it == n_k:
                    bar.set_postfix(k=trainer.k, it=trainer.it, loss_v=f"{loss_v:.4f}",
                                    loss_T=f"{loss_T:.4f}", refresh=False)
                if callback is not None:
                    callback(TrainEvent(trainer.k, trainer.it, done + 1, loss_v, loss_T,
                                        trainer.sample_now))
                done += 1
                if trainer.it == n_k or trainer.step_converged():
                    bar.update(n_k - trainer.it)
                    trainer.end_step()
                    if ckpt is not None:
                        trainer.checkpoint(ckpt if main else None)
                    break
                if ckpt is not None and trainer.it % config.checkpoint_every == 0:
                    trainer.checkpoint(ckpt if main else None)
    finally:
        bar.close()
    flow = trainer.flow()
    if checkpoint_dir is not None and main:
        flow.save(Path(checkpoint_dir) / FLOW_NAME)
    return flow
