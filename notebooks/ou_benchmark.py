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
# # The Ornstein–Uhlenbeck benchmark, with its floor
#
# Setup of {cite:t}`mokrov2021jkoicnn` (PAPER §7): $F(\rho) = \mathrm{KL}(\rho\,\|\,\nu)$ with
# $\nu = N(b, A^{-1})$ for a random SPD $A$ and random $b$, $\mu_0 = N(0, I)$, JKO step
# $h = 0.05$. The true flow $\rho_t$ is Gaussian in closed form. S-JKO is trained with the KL
# conjugate and samples of $\nu$ as data, and scored by $\log_{10}$ SymKL between the Gaussian
# fitted to its samples of $\mu_k$ ($t = kh$) and $\rho_t$.
#
# The **floor** is what no JKO method can beat: the exact JKO scheme's own discretisation error
# (exact Gaussian JKO at $h = 0.05$ vs the true flow) and the finite-sample floor of the SymKL
# estimator at the same number of samples.

# %% tags=["parameters"]
profile = "quick"
force = False
dims = None
times = None
seeds = None
iters_per_step = None

# %%
import numpy as np
import pandas as pd
from IPython.display import display
import matplotlib.pyplot as plt

import sjko
from sjko import experiments, paper, plotting, recipes, report

PROFILES = {
    "smoke": dict(dims=[2], times=[0.1], seeds=[0], N=5, n_eval=2000, particles=2000,
                  width=32, N1d=5, K1d=2, cells=40, diag_d=2, diag=[(64, 5), (256, 5), (64, 20)]),
    "quick": dict(dims=[2, 4, 6, 10], times=[0.5, 0.9], seeds=[0, 1, 2], N=400, n_eval=100_000,
                  particles=50_000, width=None, N1d=400, K1d=4, cells=200, diag_d=10,
                  diag=[(512, 400), (8192, 400), (512, 2000)]),
    "paper": dict(dims=[2, 4, 6, 10], times=[0.5, 0.9], seeds=[0, 1, 2], N=1000,
                  n_eval=100_000, particles=50_000, width=None, N1d=1000, K1d=4, cells=300,
                  diag_d=10, diag=[(512, 1000), (8192, 1000), (512, 5000)]),
}
P = dict(PROFILES[profile])
P.update({k: v for k, v in dict(dims=dims, times=times, seeds=seeds, N=iters_per_step).items()
          if v is not None})
plotting.setup()
experiments.set_force(force)
# Fast potential, per-step cosine decay: each JKO step is solved to convergence (issue 2 calibration).
OU_CONFIG = sjko.SJKOConfig(h=0.05, iters_per_step=P["N"], batch_size=512, nz=0, width=P["width"],
                            lr_transport=3e-4, lr_potential=1e-3, cosine_lr="per-step")

# %%
rows = []
for d in P["dims"]:
    for seed in P["seeds"]:
        res = recipes.ou_run(d, seed, P["times"], OU_CONFIG, n_eval=P["n_eval"])
        em = recipes.euler_maruyama_ou(d, seed, P["times"], particles=P["particles"])
        for t in P["times"]:
            m = res.metrics["times"][str(t)]
            rows.append({"d": d, "seed": seed, "t": t, "S-JKO (ours)": m["log10_symkl"],
                         "Euler-Maruyama 50K (ours)": em["times"][str(t)],
                         "floor: exact JKO vs true flow": m["log10_exact_jko"],
                         "floor: SymKL estimator": m["log10_estimator_floor"],
                         "ours vs exact JKO": m["log10_exact_jko_vs_learned"],
                         "train s": res.metrics["train_seconds"]})
df = pd.DataFrame(rows)
# the floor of a sample-based score: exact-JKO error plus estimator noise (in SymKL, not log)
df["floor"] = np.log10(10 ** df["floor: exact JKO vs true flow"] + 10 ** df["floor: SymKL estimator"])
df["above floor"] = df["S-JKO (ours)"] - df["floor"]

# %% [markdown]
# ## Table: $\log_{10}$ SymKL (lower is better), mean ± std over seeds

# %%
ours = ["S-JKO (ours)", "Euler-Maruyama 50K (ours)", "floor", "floor: exact JKO vs true flow",
        "floor: SymKL estimator", "above floor"]
long = []
for t in P["times"]:
    sub = df[df.t == t]
    for name in ours:
        long.append({"t": t, "method": name, **{d: report.mean_std(sub[sub.d == d][name])
                                                  for d in P["dims"]}})
    for name, vals in paper.OU_LOG10_SYMKL.get(t, {}).items():
        long.append({"t": t, "method": name, **{d: f"{vals[d]:.1f}" for d in P["dims"] if d in vals}})
table = pd.DataFrame(long)
display(table)
print(f"training time per run: {df.groupby(['d', 'seed'])['train s'].first().mean():.0f} s "
      f"(mean), total {df.groupby(['d', 'seed'])['train s'].first().sum() / 60:.1f} min")

# %%
fig, axes = plt.subplots(1, len(P["times"]), figsize=(5 * len(P["times"]), 3.6), squeeze=False)
for ax, t in zip(axes[0], P["times"]):
    sub = df[df.t == t].groupby("d")
    series = {name: (sub[name].mean().values, sub[name].std(ddof=1).fillna(0).values)
              for name in ["S-JKO (ours)", "Euler-Maruyama 50K (ours)", "floor"]}
    plotting.errorbar_lines(P["dims"], series, "dimension d", "log10 SymKL", f"t = {t}", ax=ax)
    for name, vals in paper.OU_LOG10_SYMKL.get(t, {}).items():
        ds = [d for d in P["dims"] if d in vals]
        ax.plot(ds, [vals[d] for d in ds], ls="--", marker="x", label=name)
    ax.legend(fontsize=7)
fig.tight_layout()
plotting.save(fig, res.file("ou_symkl_vs_d.png"))

# %%
for t in P["times"]:
    for d in P["dims"]:
        sub = df[(df.t == t) & (df.d == d)]
        report.glue(f"ou_t{t}_d{d}_ours", report.mean_std(sub["S-JKO (ours)"]))
        report.glue(f"ou_t{t}_d{d}_floor", report.mean_std(sub["floor"]))
report.glue("ou_max_above_floor", f"{df['above floor'].max():.2f}")
report.glue("ou_total_minutes", f"{df.groupby(['d', 'seed'])['train s'].first().sum() / 60:.0f}")

# %% [markdown]
# ## What limits the high-dimensional cells
#
# One JKO step ($t = h$) at the largest dimension, seed 0, scored against the **exact** first
# step: the baseline settings, a 16× larger batch (same iterations), and 5× more iterations
# (same batch). If the error were optimisation or capacity, more iterations would help; if it is
# the variance of the sample estimate of $\int e^{-v}d\nu$, the batch does.

# %%
diag_rows = []
for batch_size, n_iter in P["diag"]:
    r = recipes.ou_run(P["diag_d"], 0, [OU_CONFIG.h], OU_CONFIG.replace(batch_size=batch_size,
                       iters_per_step=n_iter), n_eval=P["n_eval"])
    diag_rows.append({"d": P["diag_d"], "batch": batch_size, "iterations": n_iter,
                      "log10 SymKL(learned μ_1, exact μ_1)":
                      r.metrics["times"][str(OU_CONFIG.h)]["log10_exact_jko_vs_learned"]})
diag = pd.DataFrame(diag_rows)
display(diag.round(2))
col = "log10 SymKL(learned μ_1, exact μ_1)"
report.glue("ou_diag_d", f"{P['diag_d']}")
report.glue("ou_diag_batch_gain", f"{diag[col][0] - diag[col][1]:.2f}")
report.glue("ou_diag_iter_gain", f"{diag[col][0] - diag[col][2]:.2f}")
report.glue("ou_diag_batch_factor", f"{P['diag'][1][0] // P['diag'][0][0]}")
report.glue("ou_diag_iter_factor", f"{P['diag'][2][1] // P['diag'][0][1]}")

# %% [markdown]
# ## 1-D: every learned step against the exact JKO step, KL and JSD
#
# The exact reference is the 1-D quantile solver (`sjko.reference.quantile_jko_step`), valid for
# any $f$. Two targets: $N(1.5, 0.5^2)$ overlaps the source; $N(4, 0.5^2)$ lies 8 target-stds
# away, where the first exact step $\mu_1$ sits in a region without data (PAPER §8).

# %%
CASES = {"overlapping N(1.5, 0.5²), h = 0.5": (recipes.Target1D(1.5, 0.5), 0.5),
         "far N(4, 0.5²), h = 0.1": (recipes.Target1D(4.0, 0.5), 0.1)}
base1d = sjko.SJKOConfig(K=P["K1d"], iters_per_step=P["N1d"], batch_size=512, nz=0, width=64,
                         lr_transport=3e-4, lr_potential=1e-3, cosine_lr="per-step")
rows1d = []
for case, (target, h) in CASES.items():
    for div in ["kl", "jsd"]:
        for seed in P["seeds"]:
            r = recipes.flow_1d_run(target, base1d.replace(h=h, divergence=div, seed=seed),
                                    cells=P["cells"])
            for s in r.metrics["steps"]:
                rows1d.append({"case": case, "divergence": div, "seed": seed, **s})
d1 = pd.DataFrame(rows1d)
display(report.summary_table(d1, ["case", "divergence", "k"], ["mean_error", "std_error"], 3))

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
for col, case in enumerate(CASES):
    for row, stat in enumerate(["mean", "std"]):
        ax = axes[row, col]
        for i, div in enumerate(["kl", "jsd"]):
            g = d1[(d1.case == case) & (d1.divergence == div)].groupby("k")
            ks = np.array(sorted(g.groups))
            ax.errorbar(ks, g[stat].mean(), yerr=g[stat].std(ddof=1).fillna(0), marker="o",
                        color=plotting.PALETTE[i], capsize=3, label=f"S-JKO {div.upper()}")
            ax.plot(ks, g[f"exact_{stat}"].mean(), color=plotting.PALETTE[i], ls="--",
                    label=f"exact JKO {div.upper()}")
        ax.set_xlabel("JKO step k")
        ax.set_ylabel(f"{stat} of μ_k")
        ax.set_title(case, fontsize=10)
        ax.legend(fontsize=7)
fig.tight_layout()
plotting.save(fig, r.file("ou_1d_steps.png"))

# %%
for case_key, case in zip(["overlap", "far"], CASES):
    for div in ["kl", "jsd"]:
        sub = d1[(d1.case == case) & (d1.divergence == div)]
        report.glue(f"flow1d_{case_key}_{div}_max_mean_err", f"{sub.mean_error.abs().max():.3f}")
        report.glue(f"flow1d_{case_key}_{div}_max_std_err", f"{sub.std_error.abs().max():.3f}")
        first = sub[sub.k == 1]
        report.glue(f"flow1d_{case_key}_{div}_first_mean_err", report.mean_std(first.mean_error, 3))
