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
# # Reproducibility
#
# Every stored run behind this book, read from `results/<experiment>/<hash>/record.json`: its
# configuration hash, seed, the git commit and package version that produced it, wall time, host,
# and the command that regenerates it. A run is reloaded (not retrained) as long as its
# parameters and the package's training code are unchanged; `--force` recomputes everything.
# A run made by an earlier version of the code and carried over by `python -m sjko.migrate`
# (a change shown not to alter it) says so in the column "carried over", with its original
# fingerprint; the evidence is in its `record.json`.
#
# ```bash
# python -m sjko.batch --profile quick --force          # every notebook
# python -m sjko.batch --profile quick --only toy --force
# ```

# %% tags=["parameters"]
profile = "quick"
force = False

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import display

from sjko import experiments

NOTEBOOK_OF = {"toy": "toy, ablation_k_h, ablation_divergence (Fig. 3: scripts/fig3)",
               "flow1d": "ou_benchmark",
               "ou": "ou_benchmark", "ou_em": "ou_benchmark", "complexity": "complexity"}
CURRENT = {experiments.code_fingerprint(), experiments.code_fingerprint(("images",))}
all_records = experiments.all_records()
records = [r for r in all_records if r.get("code_fingerprint") in CURRENT]
stale = len(all_records) - len(records)
rows = []
for r in records:
    p = r["params"]
    cfg = p.get("config", {})
    rows.append({"experiment": r["experiment"], "hash": r["hash"],
                 "what": p.get("toy") or (f"d={p['d']}" if "d" in p else "") or str(p.get("target", "")),
                 "method": cfg.get("method", ""), "K": cfg.get("K", ""), "h": cfg.get("h", ""),
                 "seed": r.get("seed", cfg.get("seed", "")), "commit": r["git_commit"][:10],
                 "version": r["package_version"], "wall s": r["wall_seconds"], "host": r["host"],
                 "created": r["created"],
                 "carried over": ", ".join(f"from {m['from_fingerprint']} ({m['date'][:10]})"
                                           for m in r.get("rekeyed", [])),
                 "regenerate": f"python -m sjko.batch --only {NOTEBOOK_OF.get(r['experiment'], '?')} --force"})
table = pd.DataFrame(rows)
print(f"{len(table)} stored runs of the current training code, "
      f"{table['wall s'].sum() / 60:.1f} min of computation in total" if len(table)
      else "no stored runs of the current training code yet")
if stale:
    print(f"{stale} older run(s) in the cache were made by other versions of the training code "
          "and are not used by any page")
pd.set_option("display.max_rows", 500)
carried = [r for r in records if r.get("rekeyed")]
if carried:
    print(f"{len(carried)} of them were carried over from earlier code versions; evidence:")
    for evidence in sorted({m["evidence"] for r in carried for m in r["rekeyed"]}):
        print(" -", evidence)
display(table)
