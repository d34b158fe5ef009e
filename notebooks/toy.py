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
# # 2-D toys: UOTM vs source-fixed UOTM vs S-JKO
#
# The paper's Fig. 3 compares UOTM {cite:p}`choi2023uotm`, source-fixed UOTM (S-JKO with one
# step) and S-JKO on 25-Gaussians and two-circles, qualitatively. Here every method gets the
# **same total number of iterations**, and we measure what the pictures suggest: W2 to fresh
# target samples relative to the W2 noise floor (two independent target sets of the same size),
# the number of modes covered, and the fraction of samples within 3 std of a mode (W2 alone
# cannot tell a blurry model from a sharp one).
#
# Cost convention: `cost="sum"` with h = 2 equals the paper's h = 1 with its
# dimension-averaged cost in 2-D.

# %% tags=["parameters"]
profile = "quick"
force = False

# %%
import pandas as pd
from IPython.display import display

import sjko
from sjko import experiments, plotting, recipes, report

PROFILES = {
    "smoke": dict(seeds=[0], K=2, N=10, batch=64, width=32, n_eval=300, grid_toys=["moons"],
                  lr_T=1e-3, lr_v=2e-4),
    "quick": dict(seeds=[0, 1, 2], K=10, N=200, batch=256, width=128, n_eval=2000,
                  grid_toys=["8gaussians", "checkerboard", "spiral", "moons"],
                  lr_T=1e-3, lr_v=2e-4),
    "paper": dict(seeds=[0, 1, 2], K=10, N=5000, batch=400, width=128, n_eval=2000,
                  grid_toys=["8gaussians", "checkerboard", "spiral", "moons"],
                  lr_T=1e-4, lr_v=2e-5),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)
MAIN_TOYS = ["25gaussians", "two_circles"]
base = sjko.SJKOConfig(K=P["K"], h=2.0, iters_per_step=P["N"], batch_size=P["batch"],
                       width=P["width"], lr_transport=P["lr_T"], lr_potential=P["lr_v"], nz=2)
budget = base.total_iterations
METHODS = {
    "sjko": base.replace(keep_steps=True),
    "sf-uotm": base.replace(method="sf-uotm", K=1, iters_per_step=budget),
    "uotm": base.replace(method="uotm", K=1, iters_per_step=budget),
}
snapshots = sorted({max(1, budget // 10), budget // 3, 2 * budget // 3, budget})
print(f"profile={profile}: {budget} iterations per run, seeds {P['seeds']}")

# %%
runs = {}
rows = []
for toy in MAIN_TOYS:
    for method, cfg in METHODS.items():
        for seed in P["seeds"]:
            res = recipes.toy_run(toy, cfg.replace(seed=seed), n_eval=P["n_eval"],
                                  snapshots=snapshots)
            runs[toy, method, seed] = res
            m = res.metrics
            rows.append({"toy": toy, "method": method, "seed": seed, "W2": m["w2"],
                         "W2 / floor": m["w2_ratio"], "modes covered": m["covered"],
                         "within 3 std": m["within"], "train s": m["train_seconds"],
                         "cached": res.hit})
df = pd.DataFrame(rows)
table = report.summary_table(df, ["toy", "method"],
                             ["W2 / floor", "modes covered", "within 3 std", "train s"])
display(table)

# %% [markdown]
# ## Samples during training (Fig. 3 of the paper)
# Rows: methods; columns: fraction of the common iteration budget (seed 0). Grey: target.

# %%
for toy in MAIN_TOYS:
    panels = {}
    for method in METHODS:
        arrays = recipes.load_samples(runs[toy, method, P["seeds"][0]])
        for it in snapshots:
            panels[f"{method}, it {it}"] = arrays[f"snapshot_{it}"]
    target = recipes.load_samples(runs[toy, "sjko", P["seeds"][0]])["target"]
    fig = plotting.scatter_grid(panels, ncols=len(snapshots), target=target, lim=10.5)
    fig.suptitle(f"{toy}: samples at increasing iterations", y=1.01)
    plotting.save(fig, runs[toy, "sjko", P["seeds"][0]].file(f"training_{toy}.png"))

# %% [markdown]
# ## S-JKO's JKO steps μ_k
# With `keep_steps=True` every step's map is kept; μ_k is one network evaluation away.

# %%
for toy in MAIN_TOYS:
    res = runs[toy, "sjko", P["seeds"][0]]
    arrays = recipes.load_samples(res)
    panels = {f"μ_{k}": arrays[f"step_{k}"] for k in range(P["K"] + 1)}
    fig = plotting.scatter_grid(panels, ncols=min(6, len(panels)), target=arrays["target"],
                                lim=10.5)
    plotting.save(fig, res.file(f"steps_{toy}.png"))

# %% [markdown]
# ## The other toys (S-JKO, seed 0)

# %%
grid = {}
for toy in P["grid_toys"]:
    res = recipes.toy_run(toy, METHODS["sjko"].replace(seed=P["seeds"][0]), n_eval=P["n_eval"])
    arrays = recipes.load_samples(res)
    grid[f"{toy} (target)"] = arrays["target"]
    grid[f"{toy} (S-JKO)"] = arrays["final"]
fig = plotting.scatter_grid(grid, ncols=4, lim=8)
plotting.save(fig, res.file("grid.png"))

# %%
for (toy, method), g in df.groupby(["toy", "method"]):
    key = f"toy_{toy}_{method}".replace("-", "_")
    report.glue(f"{key}_w2ratio", f"{g['W2 / floor'].mean():.2f}")
    report.glue(f"{key}_modes", f"{g['modes covered'].mean():.1f}")
    report.glue(f"{key}_within", f"{100 * g['within 3 std'].mean():.0f}%")
report.glue("toy_budget", f"{budget}")
