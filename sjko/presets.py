"""Algorithm presets: the paper's algorithm, the authors' code and the textbook JKO step.

Every behaviour on which the paper (its App. A and Algorithms 1-3), the authors' code
(Jae-Moo/Scalable-JKO: ``train.py``, ``train_JSD.py``, ``dataset.py``, ``models/``) and the
companion's default differ is one row of ``BEHAVIOURS``. A row names the
:class:`~sjko.config.SJKOConfig` field that switches it (or ``None`` when it is not reproduced,
with the reason) and its value under each preset. The book page "Paper, authors' code and
companion" is this table; a test keeps the two identical.

Provenance levels: "paper" is what the paper states (as read in PAPER.md §5, itself from a
reading report of the paper, not the PDF); "authors' code" is what their repository does;
"companion" is our choice for the textbook default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

PRESET_NAMES = ("textbook", "paper", "authors-code")


@dataclass(frozen=True)
class Behaviour:
    """One row of the provenance table.

    ``values`` maps each preset to the field's value (only for rows with a ``field``); ``paper``
    and ``code`` describe the behaviour at each provenance level; ``ablated`` names the book page
    that measures the switch, or "not ablated".
    """

    name: str
    paper: str
    code: str
    companion: str
    field: Optional[str]
    values: Optional[dict[str, Any]]
    ablated: str


def _v(textbook: Any, paper: Any, code: Any) -> dict[str, Any]:
    return {"textbook": textbook, "paper": paper, "authors-code": code}


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("transport cost", "‖x−y‖²/(2dh), dimension-averaged (App. A, Eqs. 31–33)",
              "‖x−y‖²/(2dh) (`cost` = mean over dims, `0.5 * c / h`)",
              "‖x−y‖²/(2h), the textbook JKO step the exact references solve",
              "cost", _v("sum", "mean", "mean"), "ablation_divergence"),
    Behaviour("noise in the map loss (E6)", "independent z₁ ≠ z₂ for T_old and T (Algorithm 2)",
              "independent z₁ ≠ z₂", "one shared z, so T_k = ΔT_k ∘ T_{k−1} sample by sample",
              "independent_z", _v(False, True, True), "ablation_divergence"),
    Behaviour("JSD map loss", "non-saturating c + softplus(−w) (Eqs. 31–33, Algorithm 3)",
              "c + softplus(−w) (`train_JSD.py`)", "semi-dual c − v, the lemma's c-transform",
              "jsd_map_loss", _v("semi-dual", "non-saturating", "non-saturating"),
              "ablation_divergence"),
    Behaviour("R1 penalty", "λ E‖∇v‖² on real data", "(λ/2) E‖∇w‖² on (noisy) real data; "
              "CIFAR λ = 0.2, toys none", "off; `r1=λ` gives the code's (λ/2)E‖∇w‖², "
              "`r1=2λ` the paper's λE‖∇v‖²; `r1_every=m` applies it every m-th iteration with "
              "weight mλ (lazy, StyleGAN2's)", "r1", _v(0.0, 0.0, 0.0), "ablation_divergence"),
    Behaviour("instance noise", "not stated", "σ_k = 1/(32(k+1)) Gaussian noise on real data in "
              "(E5)", "off", "instance_noise", _v(False, False, True), "ablation_divergence"),
    Behaviour("default networks (vector data)", "not stated",
              "generator T = g(x, z), not residual, random init (T₀ ≠ Id, though T_old = Id in "
              "phase 0); residual blocks of three Linear+SiLU layers with a 1/√2 skip scale; "
              "z through a two-layer embedding", "residual T = x + g(x, z), last layer zero so "
              "T₀ = Id (ablated only within the whole preset)", "network",
              _v("residual", "residual", "authors-toy"), "ablation_divergence, toy"),
    Behaviour("toy data batches", "not stated", "stratified: exactly batch/m samples from "
              "each of the m modes or circles (`SquareGaussian`, `Circles`)",
              "i.i.d. draws (ablated only within the whole preset)",
              "data_batches", _v("iid", "iid", "stratified"), "ablation_divergence, toy"),
    Behaviour("image data batches", "not stated", "shuffled epochs without replacement, last "
              "partial batch dropped (`DataLoader(shuffle=True, drop_last=True)`)",
              "i.i.d. draws with replacement", "data_batches",
              _v("iid", "iid", "epochs"), "not ablated"),
    Behaviour("horizontal flips", "not stated", "random horizontal flips of CIFAR-10 and "
              "CelebA-HQ", "off", "hflip", _v(False, False, False), "not ablated"),
    Behaviour("cosine horizon (JSD)", "not stated", "`train.py`: N₀ + N(K−1); `train_JSD.py`: "
              "N₀ + N·K, so the JSD schedule never reaches its floor", "N₀ + N(K−1)",
              "cosine_horizon", _v("run", "run", "run"), "not ablated"),
    Behaviour("learning-rate schedule", "cosine to 5e-5 (CIFAR)", "`--lr_scheduler`: one cosine "
              "decay over all phases (CIFAR commands)", "none; `per-step` restarts it in every "
              "step", "cosine_lr", _v("none", "none", "none"), "ablation_divergence"),
    Behaviour("EMA", "EMA 0.9999 (CIFAR)", "`--use_ema`; samples from EMA weights, T_old from "
              "raw weights", "off", "ema", _v(None, None, None), "ablation_divergence"),
    Behaviour("phase boundaries", "T_k warm-starts from T_{k−1}", "only T_old refreshed; "
              "potential, Adam states, EMA and schedule carry over", "as the code",
              None, None, "not ablated"),
    Behaviour("potential's minibatch-stddev layer", "not stated", "DDGAN discriminators append "
              "the batch std as a feature: v(y) of one sample depends on its batch; real and "
              "fake are scored in separate passes", "real and fake scored in separate passes "
              "(as the code); the image potential's layer is the `batch_stddev` argument of "
              "`sjko.images.models.DDGANPotential`", None, None, "not ablated"),
    Behaviour("source-side loss φ₂ = softplus", "not stated", "`--phi2 softplus`: "
              "f*(s) = 2 softplus(s) − 2 log 2", "not reproduced: no f-divergence of the paper "
              "has this conjugate", None, None, "not ablated"),
    Behaviour("gradient clipping", "not stated", "`--clip` (off by default)",
              "not reproduced: off in every documented command", None, None, "not ablated"),
    Behaviour("Loss_inv α-schedule", "not stated", "`--loss_scheduler`: f* replaced by "
              "α f*(·/α) with α scheduled per phase (off by default)",
              "not reproduced: off in every documented command", None, None, "not ablated"),
    Behaviour("“Small” model T₀", "~0.4M-parameter DCGAN/ResNet pair", "`--model_name otm`: "
              "T_old in phase 0 is bicubic upsampling of 3×8×8 noise, source of dimension 192",
              "not reproduced: the companion's small image pair maps N(0, I) of image shape",
              None, None, "not ablated"),
    Behaviour("FID of saved samples", "FID on 50 000 samples (pytorch-fid)",
              "samples written as JPEG files, then read back for FID",
              "lossless: FID on the float samples (JPEG artefacts change FID)", None, None,
              "not ablated"),
)


def preset_values(name: str) -> dict[str, Any]:
    """The fields a preset sets (the rows of ``BEHAVIOURS`` with a field)."""
    if name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(PRESET_NAMES)}")
    out: dict[str, Any] = {}
    for b in BEHAVIOURS:
        if b.field is not None and b.field not in out:
            out[b.field] = b.values[name]
    return out


def preset_fields(name: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :class:`SJKOConfig` for ``preset(name, **overrides)``.

    The authors' code uses ``train_JSD.py`` for JSD, whose cosine horizon is N₀ + N·K: the
    ``"authors-code"`` preset follows the divergence given in ``overrides``.
    """
    fields = preset_values(name)
    if name == "authors-code" and overrides.get("divergence") == "jsd":
        fields["cosine_horizon"] = "run+step"
    fields.update(overrides)
    return fields


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The provenance table as Markdown (the body of the book's departures page)."""
    lines = ["| behaviour | paper | authors' code | companion default | switch: textbook / paper "
             "/ authors-code | where ablated |", "|---|---|---|---|---|---|"]
    for b in BEHAVIOURS:
        if b.field is None:
            switch = "none"
        else:
            values = " / ".join(f"`{b.values[p]!r}`" for p in PRESET_NAMES)
            switch = f"`{b.field}`: {values}"
        where = b.ablated if b.ablated == "not ablated" else ", ".join(
            f"{{doc}}`../results/{page}`" for page in b.ablated.split(", "))
        lines.append("| " + " | ".join(_cell(c) for c in (b.name, b.paper, b.code, b.companion,
                                                          switch, where)) + " |")
    return "\n".join(lines)


def write_table(page: str) -> None:
    """Replace the provenance table in a Markdown page (from its header row to the next blank
    line) by :func:`markdown_table`: ``python -m sjko.presets book/theory/departures.md``."""
    from pathlib import Path

    path = Path(page)
    lines = path.read_text().split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| behaviour |"))
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    lines[start:end] = markdown_table().split("\n")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    import sys

    write_table(sys.argv[1])
