"""Atomic, validated persistence of training state and flows."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


class CheckpointError(RuntimeError):
    """A checkpoint or saved flow that cannot be read back."""


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safe_load(path: Path) -> dict:
    """Load a file written by :func:`atomic_save`; a clear error names a missing or corrupt file."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CheckpointError(f"{path} is truncated or corrupt and cannot be loaded "
                              f"({type(err).__name__}: {err}); delete it to start over") from None
    if not isinstance(blob, dict):
        raise CheckpointError(f"{path} does not hold an sjko checkpoint or flow")
    return blob
