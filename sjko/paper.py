"""Numbers reported in the paper (PAPER.md §7), for side-by-side tables. Never computed here."""

# log10 SymKL on the OU benchmark: {t: {method: {d: value}}}
OU_LOG10_SYMKL = {
    0.5: {"S-JKO (paper)": {2: -2.3, 4: -0.9, 6: -1.8, 10: -0.1},
          "JKO-ICNN (paper)": {2: -2.6, 4: -2.1, 6: -1.8, 10: -1.8},
          "Euler-Maruyama 50K (paper)": {2: -2.1, 4: -1.0, 6: -0.4, 10: 0.4}},
    0.9: {"S-JKO (paper)": {2: -2.4, 4: -1.2, 6: -0.8, 10: -0.1},
          "JKO-ICNN (paper)": {2: -2.4, 4: -2.1, 6: -2.2, 10: -1.8},
          "Euler-Maruyama 50K (paper)": {2: -2.3, 4: -1.0, 6: -0.3, 10: 0.4}},
}

# CIFAR-10 FID ablations (Tables 4 and 5 of the paper)
CIFAR_FID_VS_K = {"kl": {10: 2.77, 25: 2.83, 50: 2.62, 100: 2.73, 200: 2.67},
                  "jsd": {10: 3.15, 25: 3.23, 50: 2.86, 100: 2.83, 200: 2.66}}
CIFAR_FID_VS_H = {"kl": {0.01: 2.91, 0.05: 2.71, 0.1: 2.62, 0.2: 6.11},
                  "jsd": {0.01: 3.82, 0.05: 3.03, 0.1: 2.83, 0.2: 2.75}}

# CIFAR-10 FID, main table
CIFAR_FID = {"S-JKO (KL)": 2.62, "S-JKO (JSD)": 2.66, "S-JKO small (KL)": 8.78,
             "S-JKO small (JSD)": 8.24, "UOTM": 2.97, "source-fixed UOTM (large)": 7.53,
             "source-fixed UOTM (small)": 14.4, "OTM": 7.68, "JKO-Flow": 23.1, "JKO-iFlow": 29.1}
