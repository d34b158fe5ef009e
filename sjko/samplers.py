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
