import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


def gaussian_1d(mean: float, std: float):
    """A seeded sampler of N(mean, std^2) in 1-D."""
    return lambda n, g: mean + std * torch.randn(n, 1, generator=g)
