"""A trained flow: the maps of every JKO step, sampling, save and load."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Optional, Union

import torch
from torch import Tensor, nn

from .checkpoint import atomic_save, safe_load
from .config import SJKOConfig
from .networks import default_networks
from .samplers import Sampler, StandardNormal

SAMPLE_CHUNK = 8192


class Flow:
    """Samples of mu_k for every kept step k of a trained flow.

    ``maps[j]`` holds the (sampling) weights after step j: for the reparametrised methods T_j
    itself (mu_{j+1} = T_j # mu, one network evaluation), for "jko-naive" the increment dT_j
    (mu_{j+1} = dT_j o ... o dT_0 # mu, j+1 evaluations). ``maps[j]`` is None for steps that were
    not kept (``keep_steps=False`` keeps only the last). With EMA, ``maps`` holds the EMA weights
    and ``raw_maps`` the raw T_j (the map the next step starts from); without EMA they coincide.
    """

    def __init__(self, config: SJKOConfig, transport: nn.Module, maps: list[Optional[dict]],
                 source: Sampler, history: dict, arch: dict,
                 raw_maps: Optional[list[Optional[dict]]] = None) -> None:
        self.config = config
        self.transport = transport
        self.maps = maps
        self.raw_maps = maps if raw_maps is None else raw_maps
        self.source = source
        self.history = history
        self.arch = arch

    @property
    def K(self) -> int:
        return len(self.maps)

    def _module(self, state: dict) -> nn.Module:
        net = copy.deepcopy(self.transport)
        net.load_state_dict(state)
        return net.eval()

    def _chain(self, step: int, raw: bool) -> list[nn.Module]:
        if self.config.method == "jko-naive":
            needed = list(range(step))
        else:
            needed = [step - 1]
        maps = self.raw_maps if raw else self.maps
        missing = [j + 1 for j in needed if maps[j] is None]
        if missing:
            raise ValueError(f"step {step} was not kept: train with keep_steps=True to sample "
                             f"intermediate steps (available: {self.available_steps()})")
        return [self._module(maps[j]) for j in needed]

    def available_steps(self) -> list[int]:
        """Steps k whose mu_k can be sampled."""
        if self.config.method == "jko-naive":
            return list(range(self.K + 1))
        return [0] + [j + 1 for j, m in enumerate(self.maps) if m is not None]

    @torch.no_grad()
    def sample(self, n: int, step: Optional[int] = None, seed: Optional[int] = None,
               raw: bool = False) -> Tensor:
        """n samples of mu_step (0 = source, K = last, None = final) with the EMA weights when
        EMA is on, or with the raw T_k if ``raw`` (the same draws of x and z either way)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer; got {n!r}")
        step = self.K if step is None else step
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= self.K:
            raise ValueError(f"step must be an integer in [0, {self.K}]; got {step!r}")
        gen = torch.Generator().manual_seed(self.config.seed + 1 if seed is None else seed)
        x = self.source(n, gen)
        z = torch.randn(n, self.config.nz, generator=gen) if self.config.nz else None
        if step == 0:
            return x
        chain = self._chain(step, raw)
        device = torch.device(self.config.device)
        out = []
        for i in range(0, n, SAMPLE_CHUNK):
            y = x[i:i + SAMPLE_CHUNK].to(device)
            zc = z[i:i + SAMPLE_CHUNK].to(device) if z is not None else None
            for net in chain:
                y = net.to(device)(y, zc)
            out.append(y.cpu())
        return torch.cat(out)

    def save(self, path: Union[str, Path]) -> None:
        """Write the flow to one file (atomically)."""
        atomic_save({"kind": "sjko.Flow", "config": self.config.to_dict(), "maps": self.maps,
                     "history": self.history, "arch": self.arch, "raw_maps": self.raw_maps,
                     "source": repr(self.source)}, Path(path))


def load_flow(path: Union[str, Path], transport: Optional[nn.Module] = None,
              source: Optional[Sampler] = None) -> Flow:
    """Load a flow written by :meth:`Flow.save`.

    Flows trained with the default networks and source rebuild themselves; for custom ones pass
    an untrained ``transport`` module of the same architecture and the ``source`` sampler.
    """
    blob = safe_load(Path(path))
    if blob.get("kind") != "sjko.Flow":
        raise ValueError(f"{path} is not a saved sjko.Flow (a training checkpoint? use "
                         f"sjko.train(..., checkpoint_dir=...) to resume it)")
    config = SJKOConfig(**blob["config"])
    arch = blob["arch"]
    if transport is None:
        if "transport" not in arch:
            raise ValueError(f"{path} was trained with a custom transport network: pass "
                             f"load_flow(path, transport=<an instance of that network>)")
        spec = dict(arch["transport"])
        transport, _ = default_networks(spec.pop("network", "residual"), **spec)
    if source is None:
        if "source_shape" not in arch:
            raise ValueError(f"{path} was trained with a custom source {blob['source']}: pass "
                             f"load_flow(path, source=<that sampler>)")
        source = StandardNormal(arch["source_shape"])
    return Flow(config, transport, blob["maps"], source, blob["history"], arch,
                blob.get("raw_maps"))
