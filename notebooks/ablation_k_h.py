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
# # Ablations: the number of steps K and the step size h
#
# **What this page shows.** The paper's Table 4 varies K at a **fixed total iteration budget**
# (N = budget / K per step) and Table 5 varies h at K = 50, both by CIFAR-10 FID. We run the
# same two designs on a 2-D toy (8-Gaussians, `"textbook"` preset, learning rates 10× the
# paper's toy ones; the h sweep at K = 10, not 50) and report W2 / noise level and the fraction
# of samples within 3 std of a mode (mean ± std over seeds). The paper's CIFAR-10 numbers are
# drawn beside ours only for the direction of the trend: a toy W2 and a CIFAR-10 FID are not
# comparable quantities. Profile `full` is a longer budget with the same companion settings.

# %% tags=["parameters"]
profile = "quick"
force = False

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

import sjko
from sjko import experiments, paper, plotting, recipes, report

PROFILES = {
    "smoke": dict(toy="8gaussians", seeds=[0], budget=8, Ks=[1, 2], hs=[0.5, 2.0], K_h=2,
                  width=32, batch=64, n_eval=300),
    "quick": dict(toy="8gaussians", seeds=[0, 1, 2], budget=1500, Ks=[1, 2, 5, 10, 20],
                  hs=[0.1, 0.5, 2.0, 8.0], K_h=10, width=64, batch=256, n_eval=2000),
    "full": dict(toy="8gaussians", seeds=[0, 1, 2], budget=50000, Ks=[1, 2, 5, 10, 20, 50],
                  hs=[0.1, 0.5, 2.0, 8.0], K_h=10, width=128, batch=400, n_eval=2000),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)
base = sjko.SJKOConfig.preset("textbook", h=2.0, batch_size=P["batch"], width=P["width"], lr_transport=1e-3,
                       lr_potential=2e-4, nz=2)


STORED = []


def sweep(configs):
    rows = []
    for label, cfg in configs.items():
        for seed in P["seeds"]:
            STORED.append(recipes.toy_run(P["toy"], cfg.replace(seed=seed), n_eval=P["n_eval"]))
            m = STORED[-1].metrics
            rows.append({"value": label, "seed": seed, "W2 / noise level": m["w2_ratio"],
                         "within 3 std": m["within"], "modes covered": m["covered"]})
    return pd.DataFrame(rows)


k_df = sweep({K: base.replace(K=K, iters_per_step=P["budget"] // K) for K in P["Ks"]})
h_df = sweep({h: base.replace(K=P["K_h"], h=h, iters_per_step=P["budget"] // P["K_h"])
              for h in P["hs"]})
display(report.summary_table(k_df, ["value"], ["W2 / noise level", "within 3 std", "modes covered"])
        .rename(columns={"value": "K"}))
display(report.summary_table(h_df, ["value"], ["W2 / noise level", "within 3 std", "modes covered"])
        .rename(columns={"value": "h"}))

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
for row, (df, name, ref_table, xlabel) in enumerate([
        (k_df, "K", paper.CIFAR_FID_VS_K, "number of steps K (fixed total budget)"),
        (h_df, "h", paper.CIFAR_FID_VS_H, "step size h")]):
    g = df.groupby("value")
    xs = sorted(g.groups)
    for col, metric in enumerate(["W2 / noise level", "within 3 std"]):
        ax = axes[row, col]
        plotting.errorbar_lines(xs, {"sjko": (g[metric].mean().values,
                                              g[metric].std(ddof=1).fillna(0).values)},
                                xlabel, f"{P['toy']}: {metric}", logx=True, ax=ax)
    twin = axes[row, 0].twinx()
    for i, (div, vals) in enumerate(ref_table.items()):
        twin.plot(list(vals), list(vals.values()), ls="--", marker="x",
                  color=plotting.PALETTE[2 + i], label=f"paper CIFAR-10 FID ({div.upper()}), trend only")
    twin.set_ylabel("paper: CIFAR-10 FID")
    twin.legend(fontsize=7, loc="upper right")
    twin.grid(False)
fig.tight_layout()
plotting.save(fig, experiments.results_root() / "ablation_k_h.png")

# %%
for name, df in [("K", k_df), ("h", h_df)]:
    g = df.groupby("value")["W2 / noise level"].mean()
    report.glue(f"abl_best_{name}", f"{g.idxmin()}")
    report.glue(f"abl_worst_{name}", f"{g.idxmax()}")

# %% tags=["remove-input"]
from IPython.display import HTML
display(HTML(report.reproduce("python -m sjko.batch --profile quick --only ablation_k_h",
                              STORED)))
