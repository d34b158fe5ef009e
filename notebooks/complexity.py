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
# # Complexity: O(K) S-JKO vs the O(K²) naive JKO
#
# **What this page shows.** The naive scheme learns one increment per step and reaches $\mu_k$
# by composing $k$ frozen networks, at every training iteration and at sampling time (the paper
# attributes this $O(K^2)$ training to JKO-Flow and JKO-iFlow; JKO-Flow's public code instead
# trains on a buffer of pushed particles, in $O(K)$, and still samples in $K$ evaluations). S-JKO's
# reparametrisation (E4) keeps a single frozen $T_{k-1}$: one evaluation per sample, whatever $k$.
# All timings below come from one run on this machine (both methods interleaved).

# %% tags=["parameters"]
profile = "quick"
force = False

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import sjko
from sjko import bench, experiments, plotting, report

PROFILES = {
    "smoke": dict(ks=[1, 3], iters=4, Ks=[1, 2, 4], N=2, width=32),
    "quick": dict(ks=[1, 5, 10, 20], iters=200, Ks=[1, 2, 4, 8, 16, 32], N=20, width=128),
    "full": dict(ks=[1, 5, 10, 20, 50], iters=500, Ks=[1, 2, 4, 8, 16, 32, 64], N=50,
                  width=128),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)
cfg = sjko.SJKOConfig(batch_size=400, nz=2, width=P["width"])


def compute(folder):
    return {"per_iteration": bench.complexity(P["ks"], P["iters"], cfg),
            "scaling": bench.training_time_vs_K(P["Ks"], P["N"], cfg)}


res = experiments.run_or_load("complexity", {"profile": P, "config": cfg.to_dict()}, compute,
                              command="python -m sjko.batch --only complexity")
per_it = {m: {int(k): v for k, v in d.items()} for m, d in res.metrics["per_iteration"].items()}
scaling = {m: {int(k): v for k, v in d.items()} for m, d in res.metrics["scaling"].items()}
print(f"measured on {res.record['host']} ({res.record['cpu_count']} CPUs), {res.record['created']}")

# %% [markdown]
# ## Seconds per iteration at JKO step k

# %%
rows = [{"k": k, "S-JKO ms/it": 1e3 * per_it["sjko"][k], "naive ms/it": 1e3 * per_it["jko-naive"][k],
         "naive / S-JKO": per_it["jko-naive"][k] / per_it["sjko"][k],
         "S-JKO k / k=1": per_it["sjko"][k] / per_it["sjko"][P["ks"][0]],
         "naive k / k=1": per_it["jko-naive"][k] / per_it["jko-naive"][P["ks"][0]]}
        for k in P["ks"]]
tab = pd.DataFrame(rows).round(2)
display(tab)

# %% [markdown]
# ## Whole runs: training time, sampling time and stored parameters vs K

# %%
Ks = P["Ks"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
labels = {"sjko": "S-JKO", "jko-naive": "naive JKO"}
for m in ["sjko", "jko-naive"]:
    color = plotting.METHOD_COLORS[m]
    axes[0].plot(Ks, [scaling[m][K]["train_seconds"] for K in Ks], "o-", color=color, label=labels[m])
    axes[1].plot(Ks, [scaling[m][K]["sample_seconds"] for K in Ks], "o-", color=color, label=labels[m])
    axes[2].plot(Ks, [scaling[m][K]["stored_map_parameters"] for K in Ks], "o-", color=color,
                 label=labels[m])
for ax, ylabel in zip(axes, ["training time (s)", "time to sample 10 000 points (s)",
                             "stored map parameters"]):
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("number of JKO steps K")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
fig.tight_layout()
plotting.save(fig, res.file("complexity.png"))
big = [K for K in Ks if K >= 4]
big = big if len(big) >= 2 else Ks  # a slope needs two points
slopes = {m: bench.loglog_slope(big, [scaling[m][K]["train_seconds"] for K in big])
          for m in scaling}
print("log-log slope of training time vs K (K >= 4):", {m: round(s, 2) for m, s in slopes.items()})
fits = {m: bench.fit_linear_quadratic(Ks, [scaling[m][K]["train_seconds"] for K in Ks])
        for m in scaling}
for m, (alpha, beta) in fits.items():
    print(f"{labels[m]}: training seconds ~ {alpha:.3f} K + {beta:.5f} K^2")
alpha, beta = fits["jko-naive"]
crossover = alpha / beta if beta > 0 else float("inf")
print(f"naive: the K^2 term overtakes the linear one at K ~ {crossover:.0f} "
      "(slopes on a log-log plot approach 2 only beyond that)")

# %%
kmax, k0 = P["ks"][-1], P["ks"][0]
report.glue("cx_sjko_flat", f"{per_it['sjko'][kmax] / per_it['sjko'][k0]:.2f}")
report.glue("cx_naive_growth", f"{per_it['jko-naive'][kmax] / per_it['jko-naive'][k0]:.2f}")
report.glue("cx_ratio_kmax", f"{per_it['jko-naive'][kmax] / per_it['sjko'][kmax]:.2f}")
report.glue("cx_kmax", f"{kmax}")
report.glue("cx_slope_sjko", f"{slopes['sjko']:.2f}")
report.glue("cx_slope_naive", f"{slopes['jko-naive']:.2f}")
Kmax = Ks[-1]
report.glue("cx_sample_ratio", f"{scaling['jko-naive'][Kmax]['sample_seconds'] / scaling['sjko'][Kmax]['sample_seconds']:.1f}")
report.glue("cx_Kmax", f"{Kmax}")
report.glue("cx_crossover", f"{crossover:.0f}")

# %% tags=["remove-input"]
from IPython.display import HTML
display(HTML(report.reproduce("python -m sjko.batch --profile quick --only complexity", [res])))
