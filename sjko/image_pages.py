"""Settings and readings shared by the two images pages (``notebooks/images.py``: the trainings
and the acceptance rule's metrics; ``notebooks/images_inception.py``: pytorch-fid's Inception FID
of the same stored samples), so that both name exactly the same runs in the result cache.

Every setting here is the companion's unless its docstring says otherwise; the pages state the
provenance of each. Presentation, not training code: not part of the code fingerprint.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .config import SJKOConfig

#: Run profiles: ``K``, ``N0``, ``N`` the JKO schedule, ``seeds`` of S-JKO and source-fixed UOTM
#: (UOTM and the textbook S-JKO take the first), ``n`` scored samples per run, ``grid`` images
#: per stored grid, ``n_real`` held-out digits in the sanity table, ``epochs`` of the classifier;
#: ``long``: the longer-training section (``long_N`` iterations in every step after the first):
#: "train" its runs, "load" them only if stored (``scripts/images-long`` trains them; they are
#: not part of the profile's hour) or "skip" it; ``long_profiles``: the profiles whose
#: :func:`long_calls` it shows (:func:`long_budgets`).
PROFILES = {
    "smoke": dict(n_real=1000, epochs=1, K=2, N0=4, N=2, batch=16, seeds=(0,), n=64, grid=16,
                  long="train", long_N=3, long_profiles=("smoke",)),
    "quick": dict(n_real=1000, epochs=10, K=4, N0=3000, N=1000, batch=64, seeds=(0, 1, 2),
                  n=1000, grid=36, long="load", long_N=2000, long_profiles=("quick", "full")),
    "full": dict(n_real=1000, epochs=10, K=8, N0=6000, N=2000, batch=64, seeds=(0, 1, 2),
                 n=1000, grid=36, long="skip", long_N=2000, long_profiles=()),
}
#: Glue-key stem of each budget of the longer-training section (``img_<stem>_...``).
LONG_GLUE = {"smoke": "long", "quick": "long", "full": "full"}
#: The methods of the longer-training section (:func:`long_calls`).
LONG_METHODS = ("S-JKO", "source-fixed UOTM")
#: Image dimension of the 28x28 digits: the textbook preset's step is d h.
D = 28 * 28
#: R1 every fourth iteration with four times the weight (lazy R1, Karras et al. 2020): the
#: penalty's double backward is about a quarter of an iteration's time on CPU.
R1_EVERY = 4
#: Metric columns of the tables, in order.
COLUMNS = {"pixel_precision": "pixel precision", "pixel_recall": "pixel recall",
           "feature_precision": "feature precision", "feature_recall": "feature recall",
           "feature_fd": "feature FD", "share_min": "min class share",
           "share_max": "max class share", "copy_share": "near-copies",
           "inception_fid": "Inception FID"}
LOWER_IS_BETTER = {"feature_fd", "inception_fid"}
#: Glue-key stem of each method (the findings page cites ``img_<key>_...``, ``imgfid_<key>``).
GLUE_KEYS = {"S-JKO": "sjko", "source-fixed UOTM": "sfuotm", "UOTM": "uotm",
             "S-JKO (textbook)": "textbook"}


def profile(name: str) -> dict:
    """The settings of profile ``name`` ("smoke", "quick" or "full")."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[name]


def methods(P: dict) -> dict[str, tuple[SJKOConfig, tuple[int, ...]]]:
    """The compared methods with their seeds, at one iteration budget: S-JKO with the
    ``"authors-code"`` preset, source-fixed UOTM and UOTM with the same preset and every
    iteration in their one step, and S-JKO with the ``"textbook"`` preset at the same effective
    step d h. Shared settings (companion): Adam rates 2e-4 for both networks with the authors'
    global cosine decay to 5e-5, R1 lambda = 1 applied lazily (every ``R1_EVERY``-th
    iteration), EMA 0.999, n_z = 32, KL."""
    common = dict(batch_size=P["batch"], nz=32, lr_transport=2e-4, lr_potential=2e-4, r1=1.0,
                  r1_every=R1_EVERY, ema=0.999, cosine_lr="global", lr_min=5e-5,
                  divergence="kl")
    sjko_cfg = SJKOConfig.preset("authors-code", K=P["K"], h=0.1, iters_first_step=P["N0"],
                                 iters_per_step=P["N"], data_batches="epochs", **common)
    one_step = dict(K=1, iters_first_step=None, iters_per_step=sjko_cfg.total_iterations)
    seeds = tuple(P["seeds"])
    return {
        "S-JKO": (sjko_cfg, seeds),
        "source-fixed UOTM": (sjko_cfg.replace(method="sf-uotm", **one_step), seeds),
        "UOTM": (sjko_cfg.replace(method="uotm", **one_step), seeds[:1]),
        "S-JKO (textbook)": (SJKOConfig.preset(
            "textbook", K=P["K"], h=0.1 * D, iters_first_step=P["N0"], iters_per_step=P["N"],
            **common), seeds[:1]),
    }


def run_calls(P: dict) -> dict[tuple[str, int], dict]:
    """Keyword arguments of :func:`sjko.images.recipe.image_run` for every (method, seed)."""
    run_args = dict(dataset="mnist", size=28, preset="encdec", n_samples=P["n"], score="digits",
                    grid=P["grid"], digit_epochs=P["epochs"])
    return {(name, s): dict(config=cfg.replace(seed=s), **run_args)
            for name, (cfg, seeds) in methods(P).items() for s in seeds}


def long_calls(P: dict) -> dict[tuple[str, int], dict]:
    """:func:`run_calls` of the longer-training section: the ``LONG_METHODS`` with every
    step after the first at ``P["long_N"]`` iterations (the one-step methods get the same total),
    everything else as the profile's runs."""
    calls = run_calls({**P, "N": P["long_N"]})
    return {key: args for key, args in calls.items() if key[0] in LONG_METHODS}


def long_budgets(P: dict) -> dict[str, dict[tuple[str, int], dict]]:
    """The longer-training section's budgets: profile name -> its :func:`long_calls`. The full
    profile's ``long_N`` is its own ``N``, so its entry is the full profile's own S-JKO and
    source-fixed UOTM runs (K = 8, 20 000 iterations)."""
    return {name: long_calls(profile(name)) for name in P["long_profiles"]}


def glue_budgets(P: dict) -> dict[str, Optional[str]]:
    """Every glue stem of ``LONG_GLUE`` -> the budget of ``P`` it names (None where the
    profile does not show it: its keys are glued as "not computed")."""
    return {stem: next((b for b in P["long_profiles"] if LONG_GLUE[b] == stem), None)
            for stem in sorted(set(LONG_GLUE.values()))}


def last_step(metrics: dict, kind: str) -> dict:
    """Scores of a run's last JKO step's scored samples: ``kind`` "sampling" (EMA) or "raw"."""
    steps = metrics.get("steps", {})
    return steps[max(steps, key=int)].get(kind, {}) if steps else {}


def seed_values(by_seed: dict[int, dict], col: str, weights: str = "EMA") -> list[float]:
    """One metric over a method's seeds (``by_seed``: seed -> metrics): the final EMA samples'
    scores, or with ``weights="raw"`` the raw T_K's."""
    scores = [m if weights == "EMA" else last_step(m, "raw") for m in by_seed.values()]
    return [m[col] for m in scores if col in m]


def rule_parts(scores: dict) -> dict[str, bool]:
    """The acceptance rule (:data:`sjko.images.quality.RULE`) in two parts: ``"legible"``, every
    term but the class shares (pixel and feature precision, feature recall, no near-copies),
    and ``"class shares"``, every class within its band."""
    from .images.quality import RULE

    def ok(names: set) -> bool:
        return all((lo is None or scores[n] >= lo) and (hi is None or scores[n] <= hi)
                   for n, lo, hi in RULE if n in names)

    shares = {n for n, _, _ in RULE if n.startswith("share_")}
    return {"legible": ok({n for n, _, _ in RULE} - shares), "class shares": ok(shares)}


def seeds_passing(scores: list[dict], part: str) -> str:
    """'k/n': how many of ``scores`` (one per seed) pass ``part`` of the rule
    (:func:`rule_parts`: "legible" or "class shares")."""
    return f"{sum(rule_parts(m)[part] for m in scores)}/{len(scores)}"


def separation(a: list[float], b: list[float], col: str, names: tuple[str, str],
               spread: Optional[float] = None) -> str:
    """Do the seed ranges [min, max] of two methods' values ``a`` and ``b`` of metric ``col``
    overlap, and is the gap larger than ``spread``, how much two draws of samples from the same
    weights differ (None: not measured for this metric)? A sentence."""
    if len(a) < 2 or len(b) < 2:
        return "not measured (fewer than two seeds)"
    gap = max(min(b) - max(a), min(a) - max(b))
    if gap <= 0:
        return "the seed ranges overlap"
    better = names[0] if (np.mean(a) < np.mean(b)) == (col in LOWER_IS_BETTER) else names[1]
    if spread is None or np.isnan(spread):
        return (f"the seed ranges do not overlap ({better} better, gap {gap:.3g}; a second draw "
                "of samples is not scored on this metric)")
    if gap > spread:
        return (f"the seed ranges do not overlap ({better} better), by a gap ({gap:.3g}) larger "
                f"than two draws of the same weights differ ({spread:.3g})")
    return (f"the seed ranges do not overlap ({better} better), but by less ({gap:.3g}) than "
            f"two draws of the same weights can differ ({spread:.3g}): not a separation")


def seed_range(values: list[float], digits: int = 3) -> str:
    """'lo–hi' of a metric over seeds (one value for one seed; a note when there is none)."""
    if not values:
        return "not computed (profile)"
    lo, hi = min(values), max(values)
    return f"{lo:.{digits}f}" if lo == hi else f"{lo:.{digits}f}–{hi:.{digits}f}"


def core_minutes(results: Sequence) -> tuple[float, int]:
    """Core-minutes of stored runs (``sjko.experiments.Result``) and how many of them resumed a
    checkpoint. A run's record times its computation; a resumed run's record only the part after
    the resume, so the iterations done before it (``metrics["resumed_from_iteration"]``) are
    added at the rate the run then measured (``iterations_per_second``): an estimate."""
    seconds, resumed = 0.0, 0
    for r in results:
        seconds += r.record["wall_seconds"]
        before = r.metrics.get("resumed_from_iteration") or 0
        if before and "diverged" not in r.metrics:
            seconds += before / r.metrics["iterations_per_second"]
            resumed += 1
    return seconds / 60, resumed
