"""Tables and glued numbers for the notebooks (presentation only)."""
from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .train import TrainingDiverged


def mean_std(values: Iterable[float], digits: int = 2) -> str:
    """'m ± s' over seeds (just 'm' for a single value)."""
    v = np.asarray(list(values), dtype=float)
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def band(values: Iterable[float]) -> tuple[float, float, float]:
    """Median and 95 % band (2.5 and 97.5 percentiles) over runs."""
    v = np.asarray(list(values), dtype=float)
    return float(np.median(v)), float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def median_band(values: Iterable[float], digits: int = 2) -> str:
    """'m [lo, hi]': median and 95 % band over runs (:func:`band`)."""
    m, lo, hi = band(values)
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


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


def reproduce(command: str, results: Sequence, note: str = "") -> str:
    """HTML of a page's "Reproduce" box: the command, the summed wall time of the stored runs,
    and each run's hash linked to its record.json / metrics.json in the built site."""
    import html

    results = list({r.path: r for r in results}.values())
    minutes = sum(r.record.get("wall_seconds", 0.0) for r in results) / 60
    links = ", ".join(
        f'<a href="../_results/{r.record["experiment"]}/{r.record["hash"]}/record.json">'
        f'{r.record["hash"]}</a> (<a href="../_results/{r.record["experiment"]}/'
        f'{r.record["hash"]}/metrics.json">metrics</a>)' for r in results)
    extra = f"<p>{html.escape(note)}</p>" if note else ""
    return (f'<div class="admonition note sjko-reproduce"><p class="admonition-title">Reproduce'
            f'</p><p><code>{html.escape(command)}</code></p><p>{len(results)} stored run(s); '
            f'summed wall time of their computations: {minutes:.1f} min on this machine '
            f'(2 cores, one run per core).</p>{extra}<details><summary>run hashes and raw '
            f'results</summary><p>{links}</p></details></div>')


def batch_timing(name: str, profile: str) -> Optional[dict]:
    """The timing record ``sjko.batch`` left for notebook ``name`` in ``profile`` (None if none):
    wall seconds of the last execution that trained runs, the runs it computed and found."""
    import json

    from .batch import timing_file

    path = timing_file(name, profile)
    return json.loads(path.read_text()) if path.is_file() else None


def rerun_summary(name: str, profile: str, tool: str = "sjko.batch"
                  ) -> tuple[str, dict[str, str]]:
    """A sentence for the Reproduce box on the last timed rerun of notebook ``name`` in
    ``profile`` (:func:`batch_timing`), and for glue: its minutes, processes and runs as strings
    ("not measured" when no record is stored, or when the record times an earlier configuration:
    ``sjko.batch.mark_superseded``) and ``sentence``, a predicate for prose ("took 39 min wall
    ..."). ``tool``: what wrote the record."""
    timing = batch_timing(name, profile)
    unmeasured = dict(minutes="not measured", processes="–", runs="–")
    if timing is None:
        return ("No timed rerun of this profile is stored.",
                {**unmeasured, "sentence": "has no timed rerun stored"})
    minutes = f"{timing['wall_seconds'] / 60:.0f}"
    when = f"{timing['date'][:10]}, {tool}"
    scratch = timing["runs_before"] == 0
    done = (f"{minutes} min wall with {timing['processes']} single-thread processes on "
            f"{timing['cpu_count']} cores; it computed {timing['runs_computed']} runs and found "
            f"{timing['runs_before']} already stored"
            + (" (an empty result root: from scratch)" if scratch else "")
            + (f"; {timing['runs_resumed']} of the computed runs resumed a training checkpoint, "
               "and their iterations before it are not in this time"
               if timing.get("runs_resumed") else ""))
    if timing.get("superseded"):
        return (f"Not yet timed in its current configuration. The last timed rerun ({when}) was "
                f"of an earlier one ({timing['superseded']}): {done}.",
                {**unmeasured, "sentence": f"is not yet timed in its current configuration (the "
                                           f"last timed rerun, {when}, of an earlier one: "
                                           f"{minutes} min)"})
    rerun = dict(minutes=minutes, processes=f"{timing['processes']}",
                 runs=f"{timing['runs_computed']}")
    resumed = (f" ({timing['runs_resumed']} resumed from a checkpoint)"
               if timing.get("runs_resumed") else "")
    where = "from an empty result root" if scratch else (
        f"computing {timing['runs_computed']} runs{resumed} with {timing['runs_before']} "
        "already stored")
    rerun["sentence"] = (f"took {minutes} min wall {where} on {timing['processes']} "
                         f"single-thread processes ({when})")
    return f"Last timed rerun ({when}): {done}.", rerun


def toy_scores(x, toy_name: str, target, noise_level: float) -> dict:
    """Modes covered, fraction within 3 std, W2 / noise level, each mode's share of the samples
    (``mode shares``, in the toy's component order) and the largest of them (a perfect sampler:
    the largest weight) of stored 2-D samples (arrays), through
    :func:`sjko.metrics.mode_stats` and :func:`sjko.metrics.w2` -- for tables of snapshots. The
    noise level (:func:`sjko.metrics.w2_noise_floor`) is a perfect sampler's expected W2, not a
    bound."""
    import torch

    from .metrics import mode_stats, w2
    from .toys import get_toy

    xt = torch.as_tensor(np.asarray(x))
    m = mode_stats(xt, get_toy(toy_name))
    return {"modes covered": m["covered"], "within 3 std": m["within"],
            "W2 / noise level": w2(xt, torch.as_tensor(np.asarray(target))) / noise_level,
            "mode shares": m["mass"], "largest mode share": max(m["mass"])}


def failure_file(name: str) -> "Path":
    """Where a run that cannot finish records how it failed: results/failures/<name>.json."""
    from pathlib import Path

    from .experiments import results_root

    return Path(results_root()) / "failures" / f"{name}.json"


def record_failure(name: str, config_dict: dict, error: "TrainingDiverged") -> None:
    """Store a diverged run's configuration and where it diverged (a diverged GAN-like run is a
    result too)."""
    import json
    from datetime import datetime, timezone

    from .experiments import code_fingerprint

    path = failure_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "name": name, "config": config_dict, "code_fingerprint": code_fingerprint(),
        "error": type(error).__name__, "message": str(error), "k": error.k,
        "iteration_in_step": error.iteration,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}, indent=1))


def load_failure(name: str) -> Optional[dict]:
    import json

    path = failure_file(name)
    return json.loads(path.read_text()) if path.is_file() else None
