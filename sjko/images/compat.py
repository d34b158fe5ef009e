"""Import torchvision (and so pytorch-fid) on a CPU-only torch with PyPI's CUDA torchvision.

PyPI's torchvision 0.28.0 is a CUDA build: on the CPU torch 2.13.0 wheel its compiled ops cannot
load, and its Python side then registers fake kernels for ops that were never defined, so
``import torchvision`` dies with "operator torchvision::nms does not exist". When (and only when)
loading the compiled library fails, we define the schemas of the two ops it registers fakes for.
Models, transforms and datasets then work; ``torchvision.ops.nms`` itself stays unavailable.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import torch

_SHIM: list = []


def _compiled_ops_load() -> bool:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("torchvision is not installed: pip install -r requirements.txt")
    for lib in Path(spec.submodule_search_locations[0]).glob("_C*.so"):
        try:
            torch.ops.load_library(str(lib))
            return True
        except (OSError, RuntimeError):
            return False
    return False


def import_torchvision() -> ModuleType:
    """``import torchvision``, defining the missing op schemas first when its ops cannot load."""
    if not _SHIM and not _compiled_ops_load():
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        _SHIM.append(lib)
    import torchvision

    return torchvision
