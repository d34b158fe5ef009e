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
# # Images: S-JKO vs source-fixed UOTM at the same budget
#
# The paper's headline results are CIFAR-10 and CelebA-HQ FIDs on a GPU. On a 2-core CPU we run
# the same training loop on scikit-learn's real 8×8 digits, upsampled to 16×16, with the authors'
# image settings (dimension-averaged cost, R1 on real data, EMA, cosine schedule, z-injected map)
# and a 4× narrowed DCGAN/ResNet pair. FID uses pytorch-fid's Inception on grey images repeated to
# RGB and resized to 299×299: it ranks models trained here; it is **not** comparable with
# CIFAR-10 FIDs (different data, resolution and sample count). The FID of real digits against the
# data statistics at the same sample count is shown as the floor.
#
# Profiles: `smoke` (seconds, no FID), `cpu`/`quick` (digits, minutes), `gpu` (CIFAR-10, small
# pair, one GPU, under an hour), `paper` (CIFAR-10, PAPER §6).

# %% tags=["parameters"]
profile = "quick"
force = False
data_root = "data"

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import sjko
from sjko import experiments, plotting, report
from sjko.images import data, recipe

CPU = dict(dataset="digits", size=16, preset="tiny", K=5, N=300, N0=300, batch=64, nz=32,
           seeds=[0, 1, 2], n_fid=500, fid=True, device="cpu", ema=0.999, h=0.1)
PROFILES = {
    "smoke": dict(CPU, K=2, N=3, N0=3, batch=16, seeds=[0], n_fid=16, fid=False),
    "cpu": CPU,
    "quick": CPU,
    "gpu": dict(dataset="cifar10", size=32, preset="small", K=10, N=2000, N0=5000, batch=256,
                nz=100, seeds=[0], n_fid=10000, fid=True, device="cuda", ema=0.999, h=0.1),
    "full": dict(dataset="cifar10", size=32, preset="large", K=50, N=2000, N0=10000,
                  batch=256, nz=100, seeds=[0], n_fid=50000, fid=True, device="cuda",
                  ema=0.9999, h=0.1),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)
base = sjko.SJKOConfig(K=P["K"], h=P["h"], iters_per_step=P["N"], iters_first_step=P["N0"],
                       batch_size=P["batch"], nz=P["nz"], cost="mean", r1=0.2, ema=P["ema"],
                       cosine_lr="global", lr_min=5e-5, lr_transport=2e-4, lr_potential=1e-4,
                       device=P["device"])
budget = base.total_iterations
METHODS = {"sjko": base,
           "sf-uotm": base.replace(method="sf-uotm", K=1, iters_per_step=budget,
                                   iters_first_step=None)}
print(f"{P['dataset']} {P['size']}x{P['size']}, preset {P['preset']}, {budget} iterations per run")

# %%
runs, rows = {}, []
for method, cfg in METHODS.items():
    for seed in P["seeds"]:
        res = recipe.image_run(P["dataset"], P["size"], P["preset"], cfg.replace(seed=seed),
                               n_fid=P["n_fid"], compute_fid=P["fid"], data_root=data_root)
        runs[method, seed] = res
        m = res.metrics
        rows.append({"method": method, "seed": seed, "FID": m.get("fid", float("nan")),
                     "train s": m["train_seconds"], "it/s": m["iterations_per_second"],
                     "map params": m["map_parameters"], "potential params": m["potential_parameters"]})
df = pd.DataFrame(rows)
display(report.summary_table(df, ["method"], ["FID", "train s", "it/s"]))
if P["fid"]:
    floor = f"{recipe.fid_floor(P['dataset'], P['size'], P['n_fid']).metrics['fid']:.2f}"
    fids = {m: report.mean_std(df[df.method == m]["FID"]) for m in METHODS}
    # the FID network has no classifier to check on a photo; check its features carry meaning
    sanity = recipe.inception_sanity(n=300).metrics
    sanity = {k: f"{v:.2f}" for k, v in sanity.items()}
    print(f"FID floor (real images, same count): {floor}")
    print(f"nearest-class-mean accuracy on pool3 features of 300 digits: FID weights "
          f"{sanity['fid_weights']}, random initialisation {sanity['random_init']}")
else:
    floor = "not computed (profile without FID)"
    fids = {m: floor for m in METHODS}
    sanity = {"fid_weights": floor, "random_init": floor}
report.glue("img_fid_floor", floor)
for method, value in fids.items():
    report.glue(f"img_fid_{method.replace('-', '_')}", value)
report.glue("img_sanity_trained", sanity["fid_weights"])
report.glue("img_sanity_random", sanity["random_init"])
report.glue("img_budget", f"{budget}")

# %% [markdown]
# ## Sample grids per JKO step (S-JKO, seed 0) and final samples of both methods

# %%
res = runs["sjko", P["seeds"][0]]
steps = sorted(int(p.stem.removeprefix("grid_step")) for p in res.path.glob("grid_step*.npz"))
fig, axes = plt.subplots(1, len(steps), figsize=(2.6 * len(steps), 2.9))
for ax, k in zip(axes, steps):
    plotting.image_grid(data.load_lossless(res.file(f"grid_step{k}.npz")).numpy()[:36], nrow=6,
                        title=f"μ_{k}", ax=ax)
fig.tight_layout()
plotting.save(fig, res.file("grids_per_step.png"))

fig, axes = plt.subplots(1, len(METHODS), figsize=(5.5, 3))
for ax, method in zip(axes, METHODS):
    r = runs[method, P["seeds"][0]]
    last = max(int(p.stem.removeprefix("grid_step")) for p in r.path.glob("grid_step*.npz"))
    plotting.image_grid(data.load_lossless(r.file(f"grid_step{last}.npz")).numpy()[:36], nrow=6,
                        title=method, ax=ax)
fig.tight_layout()
plotting.save(fig, res.file("final_grids.png"))
