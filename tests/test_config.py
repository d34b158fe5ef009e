import pytest

from sjko import SJKOConfig

INVALID = [
    ("K", 0), ("K", 2.5), ("K", True), ("h", 0.0), ("h", -1.0), ("h", float("nan")),
    ("h0", 0.0), ("iters_per_step", 0), ("iters_first_step", -3), ("divergence", "tv"),
    ("method", "gan"), ("batch_size", 0), ("lr_transport", 0.0), ("lr_potential", -1e-3),
    ("betas", (0.5,)), ("betas", (0.5, 1.0)), ("betas", "adam"), ("r1", -0.1),
    ("ema", 1.0), ("ema", 0.0), ("ema", True), ("cosine_lr", "linear"), ("lr_min", -1.0),
    ("lr_min", 1.0), ("instance_noise", 1), ("independent_z", "yes"), ("cost", "l1"),
    ("jsd_map_loss", "wgan"), ("nz", -1), ("width", 0), ("depth", 0), ("keep_steps", None),
    ("checkpoint_every", 0), ("seed", -1), ("device", ""), ("network", "cnn"),
    ("data_batches", "shuffled"), ("hflip", 1), ("cosine_horizon", "forever"),
    ("potential_batch_size", 0), ("stop_tol", -1.0), ("stop_every", 0), ("stop_patience", 0),
    ("stop_samples", 0), ("potential_loss", "hinge"), ("iters_late", (0, 100)),
    ("iters_late", (3,)), ("iters_late", (3, 0)), ("iters_late", (2, 1.5)), ("fused_adam", 1),
    ("r1_every", 0), ("r1_every", 1.5),
]


@pytest.mark.parametrize("field,value", INVALID)
def test_every_invalid_field_is_rejected_with_its_name(field, value):
    with pytest.raises(ValueError, match=rf"SJKOConfig\.{field}="):
        SJKOConfig(**{field: value})


def test_every_field_has_an_invalid_case():
    from dataclasses import fields
    covered = {f for f, _ in INVALID}
    assert {f.name for f in fields(SJKOConfig)} == covered


@pytest.mark.parametrize("method", ["sf-uotm", "uotm", "otm"])
def test_single_step_methods_need_K_1(method):
    with pytest.raises(ValueError, match="SJKOConfig.K=.*single-step"):
        SJKOConfig(method=method, K=3)
    assert SJKOConfig(method=method, K=1).K == 1


def test_uotm_rejects_jsd():
    with pytest.raises(ValueError, match="SJKOConfig.divergence"):
        SJKOConfig(method="uotm", K=1, divergence="jsd")


def test_defaults_follow_h_and_n():
    c = SJKOConfig(h=0.3, iters_per_step=7)
    assert c.step_size(0) == 0.3 and c.step_iterations(0) == 7
    c = c.replace(h=0.5, iters_per_step=9)  # the first step follows a replaced h and N
    assert c.step_size(0) == 0.5 and c.step_iterations(0) == 9 and c.total_iterations == 9 * c.K
    c = SJKOConfig(K=3, h=0.3, h0=2.0, iters_per_step=7, iters_first_step=11)
    assert [c.step_size(k) for k in range(3)] == [2.0, 0.3, 0.3]
    assert c.total_iterations == 11 + 2 * 7


def test_late_steps_take_their_own_iterations():
    c = SJKOConfig(K=5, iters_per_step=7, iters_first_step=11, iters_late=[3, 2])
    assert c.iters_late == (3, 2)  # lists (JSON) become tuples
    assert [c.step_iterations(k) for k in range(5)] == [11, 7, 7, 2, 2]
    assert c.total_iterations == 11 + 7 + 7 + 2 + 2
    assert SJKOConfig(**c.to_dict()) == c


def test_round_trip_and_frozen():
    c = SJKOConfig(K=2, betas=[0.1, 0.2])
    assert c.betas == (0.1, 0.2)
    assert SJKOConfig(**c.to_dict()) == c
    with pytest.raises(Exception):
        c.K = 3


@pytest.mark.parametrize("change", [dict(divergence="jsd"), dict(method="uotm", K=1),
                                    dict(method="otm", K=1)])
def test_logistic_potential_loss_needs_kl_and_a_fixed_source(change):
    with pytest.raises(ValueError, match="SJKOConfig.potential_loss=.*divergence='kl'"):
        SJKOConfig(potential_loss="logistic", **change)
    SJKOConfig(potential_loss="logistic", method="sf-uotm", K=1)


def test_stopping_rule_rejects_a_global_schedule():
    with pytest.raises(ValueError, match="SJKOConfig.stop_tol=.*global"):
        SJKOConfig(stop_tol=0.01, cosine_lr="global")


def test_cosine_horizon():
    c = SJKOConfig(K=4, iters_per_step=10, iters_first_step=30)
    assert c.schedule_iterations == 30 + 3 * 10
    assert c.replace(cosine_horizon="run+step").schedule_iterations == 30 + 4 * 10


# The preset table, field by field (PAPER.md §5 and the authors' train.py / train_JSD.py).
PRESET_TABLE = {
    #  field            textbook     paper             authors-code
    "cost":           ("sum",       "mean",           "mean"),
    "independent_z":  (False,       True,             True),
    "jsd_map_loss":   ("semi-dual", "non-saturating", "non-saturating"),
    "r1":             (0.0,         0.0,              0.0),
    "instance_noise": (False,       False,            True),
    "network":        ("residual",  "residual",       "authors-toy"),
    "data_batches":   ("iid",       "iid",            "stratified"),
    "hflip":          (False,       False,            False),
    "cosine_horizon": ("run",       "run",            "run"),
    "cosine_lr":      ("none",      "none",           "none"),
    "ema":            (None,        None,             None),
}


@pytest.mark.parametrize("i,name", list(enumerate(["textbook", "paper", "authors-code"])))
def test_presets_field_by_field(i, name):
    from sjko.presets import preset_values
    cfg = SJKOConfig.preset(name)
    assert preset_values(name) == {f: row[i] for f, row in PRESET_TABLE.items()}
    for field, row in PRESET_TABLE.items():
        assert getattr(cfg, field) == row[i], field


def test_textbook_preset_is_the_default():
    assert SJKOConfig.preset("textbook") == SJKOConfig()


def test_preset_overrides_and_the_jsd_horizon():
    cfg = SJKOConfig.preset("authors-code", divergence="jsd", K=3, h=0.1)
    assert (cfg.divergence, cfg.K, cfg.h, cfg.cosine_horizon) == ("jsd", 3, 0.1, "run+step")
    assert SJKOConfig.preset("authors-code", cost="sum").cost == "sum"
    with pytest.raises(ValueError, match="unknown preset 'gan'"):
        SJKOConfig.preset("gan")


def test_departures_page_is_the_preset_table():
    """book/theory/departures.md holds one row per sjko.presets.BEHAVIOURS entry, in order
    (regenerate it with ``python -m sjko.presets book/theory/departures.md``)."""
    from pathlib import Path
    from sjko.presets import BEHAVIOURS, markdown_table
    page = (Path(__file__).resolve().parents[1] / "book/theory/departures.md").read_text()
    assert markdown_table() in page
    assert len(BEHAVIOURS) >= 18
