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
# # Ablations: KL vs JSD vs χ², and the authors'-code switches
#
# **What this page shows.** The paper's Table 5 (CIFAR-10, $K=50$) has JSD degrade less than KL
# at the largest $h$. We sweep $h$ for the three divergences on a 2-D toy (8-Gaussians, $K=10$,
# the companion's `"textbook"` preset and learning rates 10× the paper's toy ones) — a toy
# analogue of the design, not the paper's setting. Then, starting from the textbook preset, we
# switch on one at a time each behaviour of the paper's algorithm and of the authors' code
# ({doc}`../theory/departures`), and finally the whole `"paper"` and `"authors-code"` presets.

# %% tags=["parameters"]
profile = "quick"
force = False

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import sjko
import sjko.presets
from sjko import experiments, plotting, recipes, report

PROFILES = {
    "smoke": dict(toy="8gaussians", seeds=[0], hs=[2.0], K=2, N=4, width=32, batch=64,
                  n_eval=300),
    "quick": dict(toy="8gaussians", seeds=[0, 1], hs=[0.5, 2.0, 8.0], K=10, N=100, width=64,
                  batch=256, n_eval=2000),
    "full": dict(toy="8gaussians", seeds=[0, 1, 2], hs=[0.5, 2.0, 8.0, 32.0], K=10, N=5000,
                  width=128, batch=400, n_eval=2000),
}
P = PROFILES[profile]
plotting.setup()
experiments.set_force(force)
base = sjko.SJKOConfig.preset("textbook", K=P["K"], iters_per_step=P["N"], batch_size=P["batch"], width=P["width"],
                       lr_transport=1e-3, lr_potential=2e-4, nz=2)


STORED = []


def run(cfg, **labels):
    out = []
    for seed in P["seeds"]:
        STORED.append(recipes.toy_run(P["toy"], cfg.replace(seed=seed), n_eval=P["n_eval"]))
        m = STORED[-1].metrics
        out.append({**labels, "seed": seed, "W2 / noise level": m["w2_ratio"],
                    "within 3 std": m["within"], "modes covered": m["covered"]})
    return out


div_df = pd.DataFrame([row for div in ["kl", "jsd", "chi2"] for h in P["hs"]
                       for row in run(base.replace(divergence=div, h=h), divergence=div, h=h)])
display(report.summary_table(div_df, ["divergence", "h"],
                             ["W2 / noise level", "within 3 std", "modes covered"]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for col, metric in enumerate(["W2 / noise level", "within 3 std"]):
    series = {}
    for div in ["kl", "jsd", "chi2"]:
        g = div_df[div_df.divergence == div].groupby("h")[metric]
        series[div.upper()] = (g.mean().values, g.std(ddof=1).fillna(0).values)
    plotting.errorbar_lines(P["hs"], series, "step size h", metric, logx=True, ax=axes[col])
fig.tight_layout()
plotting.save(fig, experiments.results_root() / "ablation_divergence.png")

# %% [markdown]
# ## One switch at a time, then the whole presets ($h = 2$ in the textbook cost)
#
# Sampling uses the EMA weights when EMA is on; at this budget the EMA with decay 0.999
# (half-life $\ln 2/0.001\approx 693$ iterations) still averages in the early, near-identity maps.

# %%
h_mid = P["hs"][len(P["hs"]) // 2]
variants = {
    "textbook (defaults)": {},
    "instance noise": dict(instance_noise=True),
    "independent z": dict(independent_z=True),
    "mean cost (h scaled by d)": dict(cost="mean", h=h_mid / 2),
    "R1, λ = 0.2 (code's λ/2 form)": dict(r1=0.2),
    "EMA 0.999": dict(ema=0.999),
    "global cosine schedule": dict(cosine_lr="global", lr_min=1e-5),
    "paper preset": sjko.presets.preset_values("paper") | dict(h=h_mid / 2),
    "authors-code preset": sjko.presets.preset_values("authors-code") | dict(h=h_mid / 2),
}
sw_rows = []
for div in ["kl", "jsd"]:
    for name, changes in variants.items():
        sw_rows += run(base.replace(divergence=div, h=h_mid).replace(**changes), divergence=div,
                       variant=name)
    sw_rows += run(base.replace(divergence="jsd", h=h_mid, jsd_map_loss="non-saturating"),
                   divergence="jsd", variant="non-saturating map loss") if div == "jsd" else []
sw_df = pd.DataFrame(sw_rows)
display(report.summary_table(sw_df, ["divergence", "variant"],
                             ["W2 / noise level", "within 3 std", "modes covered"]))

# %%
sw = sw_df.groupby(["divergence", "variant"])["W2 / noise level"].mean()
report.glue("div_jsd_semidual_mid", f"{sw['jsd', 'textbook (defaults)']:.2f}")
report.glue("div_jsd_nonsat_mid", f"{sw['jsd', 'non-saturating map loss']:.2f}")
report.glue("div_kl_indep_z_mid", f"{sw['kl', 'independent z']:.2f}")
report.glue("div_kl_default_mid", f"{sw['kl', 'textbook (defaults)']:.2f}")
report.glue("div_h_mid", f"{h_mid}")
for name in ["R1, λ = 0.2 (code's λ/2 form)", "EMA 0.999", "global cosine schedule",
             "paper preset", "authors-code preset"]:
    key = name.split(",")[0].split(" ")[0].lower().replace("-", "_")
    for div in ["kl", "jsd"]:
        report.glue(f"div_{div}_{key}_mid", f"{sw[div, name]:.2f}")
g = div_df.groupby(["divergence", "h"])["W2 / noise level"].mean()
for div in ["kl", "jsd", "chi2"]:
    report.glue(f"div_{div}_largest_h", f"{g[div, P['hs'][-1]]:.2f}")
    report.glue(f"div_{div}_smallest_h", f"{g[div, P['hs'][0]]:.2f}")

# %% tags=["remove-input"]
from IPython.display import HTML
display(HTML(report.reproduce("python -m sjko.batch --profile quick --only ablation_divergence",
                              STORED)))
