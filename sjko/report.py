"""Tables and glued numbers for the notebooks (presentation only)."""
from __future__ import annotations

import contextlib
import os
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd


def mean_std(values: Iterable[float], digits: int = 2) -> str:
    """'m ± s' over seeds (just 'm' for a single value)."""
    v = np.asarray(list(values), dtype=float)
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def summary_table(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str],
                  digits: int = 2) -> pd.DataFrame:
    """Group rows (one per seed) by ``by`` and format every metric as mean ± std."""
    return df.groupby(list(by), sort=False)[list(metrics)].agg(
        lambda s: mean_std(s, digits)).reset_index()


def glue(name: str, value, display: bool = False) -> None:
    """myst-nb glue, so the book's prose cites numbers from the executed run."""
    from myst_nb import glue as _glue
    _glue(name, value, display=display)


@contextlib.contextmanager
def load_only(enabled: bool = True) -> Iterator[None]:
    """Inside the block, runs missing from the result cache raise
    :class:`sjko.experiments.ResultMissing` instead of training (``SJKO_LOAD_ONLY``)."""
    old = os.environ.get("SJKO_LOAD_ONLY")
    if enabled:
        os.environ["SJKO_LOAD_ONLY"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SJKO_LOAD_ONLY", None)
        else:
            os.environ["SJKO_LOAD_ONLY"] = old
