"""Sample-quality metrics for digit images that can fail, and the cases that must make them fail.

* :func:`precision_recall` -- improved precision and recall (Kynkäänniemi et al. 2019): k-NN
  balls around real and generated feature vectors (k = 3); precision is the share of samples
  inside the real manifold, recall the share of real images inside the samples' manifold.
* :class:`DigitClassifier` / :func:`train_classifier` -- a small CNN trained on the MNIST
  training split: class shares of the samples, and a feature space for precision / recall and a
  Fréchet distance (:func:`feature_fid`).
* :func:`copy_share` -- the share of samples nearer to a training digit than almost any real
  held-out digit is (memorisation).
* :func:`background_level` / :func:`clean_background` -- faint background noise, measured and
  removed (a diagnostic of what Inception sees that the classifier does not).
* :func:`sanity_cases` -- real held-out digits, pure noise, speckled, blurred, thickened
  (dilated), 1-px shifted digits, a single repeated digit and copies of training digits: a
  metric is trusted only after it ranks these correctly.
* :class:`DigitScores` -- all of the above for one set of samples, and :data:`RULE`, the
  acceptance rule the images page applies (chosen on the sanity cases).
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from scipy.linalg import LinAlgWarning
from torch import Tensor, nn

from .fid import frechet_distance, statistics


def _kth_radius(x: Tensor, k: int) -> Tensor:
    """Distance of each row to its k-th nearest other row."""
    d = torch.cdist(x, x)
    return d.kthvalue(k + 1, dim=1).values  # the 1st nearest is the point itself


def _coverage(points: Tensor, centres: Tensor, radii: Tensor) -> float:
    """Share of points within radius of at least one centre."""
    inside = torch.zeros(len(points), dtype=torch.bool)
    for chunk in torch.arange(len(points)).split(1024):
        inside[chunk] = (torch.cdist(points[chunk], centres) <= radii[None]).any(1)
    return float(inside.float().mean())


def precision_recall(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, k: int = 3
                     ) -> tuple[float, float]:
    """Improved precision and recall of ``fake`` against ``real`` (rows = feature vectors)."""
    real = torch.as_tensor(np.asarray(real), dtype=torch.float32).flatten(1)
    fake = torch.as_tensor(np.asarray(fake), dtype=torch.float32).flatten(1)
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"need more than k={k} real and generated samples; got {len(real)} and "
                         f"{len(fake)}")
    return (_coverage(fake, real, _kth_radius(real, k)),
            _coverage(real, fake, _kth_radius(fake, k)))


class DigitClassifier(nn.Module):
    """Two conv blocks and a 64-unit feature layer; input [n, 1, H, W] in [-1, 1]."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(64 * 16, 64), nn.ReLU())
        self.head = nn.Linear(64, classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


CLASSIFIER_THREADS = 2
"""Torch threads the classifier trains on, whatever the calling process uses: CPU training is
bit-reproducible only at a fixed thread count (a one-thread batch worker and a two-thread
notebook train different classifiers, held-out accuracy 0.959 vs 0.958). Two is the count the
stored classifier was trained with (retrained at two threads: bit-identical weights)."""


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_classifier(x: Tensor, y: Tensor, epochs: int = 8, seed: int = 0,
                     batch_size: int = 64) -> DigitClassifier:
    """Fit :class:`DigitClassifier` with Adam (lr 1e-3), small random shifts as augmentation,
    on :data:`CLASSIFIER_THREADS` threads (the same weights in any process)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitClassifier(int(y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    with _torch_threads(CLASSIFIER_THREADS):
        for _ in range(epochs):
            for idx in torch.randperm(len(x), generator=gen).split(batch_size):
                dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
                xb = torch.roll(x[idx], shifts=(dx, dy), dims=(2, 3))
                loss = F.cross_entropy(model(xb), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return model.eval()


@torch.no_grad()
def _batched(fn, x: Tensor, batch_size: int = 500) -> Tensor:
    return torch.cat([fn(b) for b in x.split(batch_size)])


def classifier_features(model: DigitClassifier, x: Tensor) -> Tensor:
    return _batched(model.features, x)


def accuracy(model: DigitClassifier, x: Tensor, y: Tensor) -> float:
    return float((_batched(model, x).argmax(1) == y).float().mean())


def class_shares(model: DigitClassifier, x: Tensor) -> np.ndarray:
    """Share of samples the classifier assigns to each class."""
    pred = _batched(model, x).argmax(1)
    return torch.bincount(pred, minlength=model.head.out_features).numpy() / len(x)


def feature_fid(real_features: Tensor, fake_features: Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID's formula).

    A degenerate set (one repeated image) has a singular covariance; scipy then warns that the
    matrix square root is inaccurate. The distance is still large and is reported as is.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", LinAlgWarning)
        return frechet_distance(*statistics(np.asarray(real_features, np.float64)),
                                *statistics(np.asarray(fake_features, np.float64)))


def _nearest_distance(x: Tensor, reference: Tensor) -> Tensor:
    """Pixel-space distance of each row of x to its nearest row of reference."""
    ref = reference.flatten(1)
    return torch.cat([torch.cdist(c.flatten(1), ref).min(1).values for c in x.split(500)])


def copy_threshold(train: Tensor, held_out: Tensor, quantile: float = 0.01) -> float:
    """The ``quantile`` of the held-out digits' pixel distances to their nearest training digit:
    a sample nearer than this to a training digit counts as a near-copy."""
    return float(torch.quantile(_nearest_distance(held_out, train), quantile))


def _share_nearer(x: Tensor, train: Tensor, threshold: float) -> float:
    return float((_nearest_distance(x, train) < threshold).float().mean())


def copy_share(train: Tensor, held_out: Tensor, x: Tensor, quantile: float = 0.01) -> float:
    """Share of ``x`` closer (pixel L2) to its nearest training digit than
    :func:`copy_threshold`: about ``quantile`` for fresh digits, near 1 for a sampler that
    reproduces training digits."""
    return _share_nearer(x, train, copy_threshold(train, held_out, quantile))


#: The acceptance rule "these samples are digits", chosen on the sanity cases (images page):
#: (metric, lower bound, upper bound), None for no bound.
RULE = (("pixel_precision", 0.4, None), ("feature_precision", 0.7, None),
        ("feature_recall", 0.6, None), ("share_min", 0.05, None), ("share_max", None, 0.15),
        ("copy_share", None, 0.05))


#: The names of the scores :data:`RULE` reads.
RULE_METRICS = tuple(name for name, _, _ in RULE)


class DigitScores:
    """Scores of digit samples against fixed references: ``train`` (the 4 000 training digits,
    the manifold of precision / recall and the copy check), ``held_out`` (the copy threshold,
    computed once) and a trained :class:`DigitClassifier` (features and class shares).

    Inception FID is not part of these scores: it is a separate, slow stage on CPU
    (:func:`sjko.images.recipe.image_inception_fid`) that the acceptance rule does not use.
    """

    def __init__(self, train: Tensor, held_out: Tensor, classifier: DigitClassifier) -> None:
        self.train, self.held_out, self.classifier = train, held_out, classifier
        self.train_features = classifier_features(classifier, train)
        self.copy_threshold = copy_threshold(train, held_out)

    def __call__(self, x: Tensor) -> dict[str, float]:
        """Every score of ``x`` (the :data:`RULE_METRICS` and a few more)."""
        if x.shape[1:] != self.train.shape[1:]:
            raise ValueError(f"samples of shape {tuple(x.shape[1:])} but the reference digits "
                             f"are {tuple(self.train.shape[1:])}")
        feats = classifier_features(self.classifier, x)
        shares = class_shares(self.classifier, x)
        px, fx = precision_recall(self.train, x), precision_recall(self.train_features, feats)
        return {"pixel_precision": px[0], "pixel_recall": px[1], "feature_precision": fx[0],
                "feature_recall": fx[1], "feature_fd": feature_fid(self.train_features, feats),
                "share_min": float(shares.min()), "share_max": float(shares.max()),
                "copy_share": _share_nearer(x, self.train, self.copy_threshold)}


def accepted(scores: dict[str, float]) -> bool:
    """Does a set of scores pass :data:`RULE`?"""
    return all((lo is None or scores[name] >= lo) and (hi is None or scores[name] <= hi)
               for name, lo, hi in RULE)


#: Pixel value below which a pixel counts as background (images in [-1, 1], -1 black).
BACKGROUND = -0.5


def background_level(x: Tensor, below: float = BACKGROUND) -> float:
    """Mean brightness above black of the background pixels (value < ``below``): faint noise
    over the background raises it, stroke shapes do not. A diagnostic, not part of the rule."""
    background = x < below
    if not background.any():
        raise ValueError(f"no pixel below {below}: no background to measure")
    return float((x + 1)[background].mean())


def clean_background(x: Tensor, below: float = BACKGROUND) -> Tensor:
    """``x`` with every pixel below ``below`` set to black (-1): faint background noise removed,
    strokes kept."""
    return torch.where(x < below, torch.full_like(x, -1.0), x)


def sanity_cases(real: Tensor, seed: int = 0, train: Tensor | None = None
                 ) -> dict[str, Tensor]:
    """The cases a digit metric must rank: the real images themselves, noise, 5 % speckle,
    Gaussian blur (sigma 1 px), dilation (3x3 max filter: thick digits), a 1-px shift and one
    repeated digit, and (with ``train``) as many training digits, copied. Images in [-1, 1],
    same count as ``real``."""
    gen = torch.Generator().manual_seed(seed)
    n = len(real)
    speckle = torch.rand(real.shape, generator=gen) < 0.05
    coords = torch.arange(-2, 3, dtype=torch.float32)
    g = torch.exp(-coords ** 2 / 2)
    kernel = (g[:, None] * g[None]) / (g.sum() ** 2)
    blurred = F.conv2d(F.pad(real, (2, 2, 2, 2), mode="replicate"), kernel[None, None])
    cases = {
        "real held-out": real,
        "noise": torch.rand(real.shape, generator=gen) * 2 - 1,
        "speckle 5 %": torch.where(speckle, -real, real),
        "blur (σ = 1 px)": blurred,
        "dilated (3×3)": F.max_pool2d(real, 3, stride=1, padding=1),
        "shifted 1 px": torch.roll(real, shifts=1, dims=3),
        "one repeated digit": real[torch.randint(n, (1,), generator=gen)].repeat(n, 1, 1, 1),
    }
    if train is not None:
        cases["training copies"] = train[torch.randperm(len(train), generator=gen)[:n]]
    return cases
