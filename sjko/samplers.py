"""Samplers: ``callable(n, generator) -> Tensor[n, ...]``, the one interface for mu and nu."""
from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor

Sampler = Callable[[int, torch.Generator], Tensor]
SamplerLike = Union[Sampler, Tensor]


class StandardNormal:
    """N(0, I) on tensors of a given event shape (the default source mu)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(int(s) for s in shape)

    def __call__(self, n: int, generator: torch.Generator) -> Tensor:
        return torch.randn((n, *self.shape), generator=generator)

    def __repr__(self) -> str:
        return f"StandardNormal(shape={self.shape})"


class Empirical:
    """Uniform resampling (with replacement) of a fixed data tensor."""

    def __init__(self, data: Tensor) -> None:
        if data.ndim < 2 or data.shape[0] == 0:
            raise ValueError(f"data samples must have shape [n, ...] with n >= 1; got "
                             f"{tuple(data.shape)}")
        if not torch.isfinite(data).all():
            raise ValueError("data samples contain NaN or infinite values")
        self.data = data.detach().float().cpu()

    def __call__(self, n: int, generator: torch.Generator) -> Tensor:
        idx = torch.randint(self.data.shape[0], (n,), generator=generator)
        return self.data[idx]

    def __repr__(self) -> str:
        return f"Empirical(n={self.data.shape[0]}, shape={tuple(self.data.shape[1:])})"


def as_sampler(obj: SamplerLike, role: str) -> Sampler:
    """Turn a tensor of samples or a sampler into a sampler; check it returns [n, ...] tensors."""
    sampler = Empirical(obj) if isinstance(obj, Tensor) else obj
    if not callable(sampler):
        raise TypeError(f"{role} must be a callable(n, generator) -> Tensor or a tensor of "
                        f"samples; got {type(obj).__name__}")
    probe = sampler(2, torch.Generator().manual_seed(0))
    if not isinstance(probe, Tensor) or probe.ndim < 2 or probe.shape[0] != 2:
        raise ValueError(f"{role} sampler must return a tensor of shape [n, ...]; for n=2 it "
                         f"returned {getattr(probe, 'shape', type(probe).__name__)}")
    return sampler


def event_shape(sampler: Sampler) -> tuple[int, ...]:
    """Shape of one sample."""
    return tuple(sampler(1, torch.Generator().manual_seed(0)).shape[1:])


class DataStream:
    """Batches of the target as ``SJKOConfig.data_batches`` asks: "iid" draws, "stratified"
    batches of a component toy, or shuffled "epochs" over a data tensor; ``hflip`` flips image
    batches left-right with probability 1/2 per sample (authors' CIFAR-10 pipeline).
    The epoch order and position are part of the training checkpoint (one per process).
    """

    def __init__(self, sampler: Sampler, mode: str = "iid", hflip: bool = False) -> None:
        self.sampler, self.mode, self.hflip = sampler, mode, hflip
        if mode == "stratified" and not getattr(sampler, "stratifiable", False):
            raise ValueError("data_batches='stratified' needs a target made of components with "
                             "a stratified(n, generator) method, such as the 25gaussians, "
                             "8gaussians and two_circles toys of sjko.toys")
        if mode == "epochs" and not isinstance(sampler, Empirical):
            raise ValueError("data_batches='epochs' needs the target as a tensor of samples "
                             "(a finite data set)")
        if hflip and len(event_shape(sampler)) != 3:
            raise ValueError(f"hflip needs image data of shape [n, C, H, W]; samples have shape "
                             f"{event_shape(sampler)}")
        self.order: Tensor | None = None
        self.pos = 0

    def _epoch_batch(self, n: int, generator: torch.Generator) -> Tensor:
        data = self.sampler.data
        if n > data.shape[0]:
            raise ValueError(f"batch size {n} exceeds the {data.shape[0]} data samples of one "
                             f"epoch")
        if self.order is None or self.pos + n > len(self.order):
            self.order, self.pos = torch.randperm(data.shape[0], generator=generator), 0
        idx = self.order[self.pos:self.pos + n]
        self.pos += n
        return data[idx]

    def __call__(self, n: int, generator: torch.Generator) -> Tensor:
        if self.mode == "stratified":
            y = self.sampler.stratified(n, generator)
        elif self.mode == "epochs":
            y = self._epoch_batch(n, generator)
        else:
            y = self.sampler(n, generator)
        if self.hflip:
            flip = torch.rand(n, generator=generator) < 0.5
            y = torch.where(flip[:, None, None, None], y.flip(-1), y)
        return y

    def state_dict(self) -> dict:
        return {"order": self.order, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.order, self.pos = state["order"], state["pos"]
