"""The settings and readings shared by the two images pages (sjko.image_pages)."""
import pytest

from sjko import image_pages


def test_unknown_profile_is_named():
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        image_pages.profile("fast")


@pytest.mark.parametrize("name", sorted(image_pages.PROFILES))
def test_every_method_gets_the_same_iterations_and_the_lazy_r1(name):
    P = image_pages.profile(name)
    methods = image_pages.methods(P)
    budgets = {cfg.total_iterations for cfg, _ in methods.values()}
    assert budgets == {P["N0"] + (P["K"] - 1) * P["N"]}
    assert {(cfg.r1, cfg.r1_every) for cfg, _ in methods.values()} == {(1.0, image_pages.R1_EVERY)}
    assert methods["S-JKO"][0].cost == "mean" and methods["S-JKO (textbook)"][0].cost == "sum"
    # the textbook step is the same effective step d h as the dimension-averaged one
    assert methods["S-JKO (textbook)"][0].h == pytest.approx(methods["S-JKO"][0].h * image_pages.D)
    calls = image_pages.run_calls(P)
    assert len(calls) == sum(len(seeds) for _, seeds in methods.values())
    assert all(args["config"].seed == s for (_, s), args in calls.items())


@pytest.mark.parametrize("name", sorted(image_pages.PROFILES))
def test_long_calls_change_only_the_later_steps_iterations(name):
    P = image_pages.profile(name)
    page, long = image_pages.run_calls(P), image_pages.long_calls(P)
    assert {m for m, _ in long} == set(image_pages.LONG_METHODS)
    assert {s for _, s in long} == set(P["seeds"])
    total = P["N0"] + (P["K"] - 1) * P["long_N"]
    for key, args in long.items():
        cfg, ref = args["config"], page[key]["config"]
        assert cfg.total_iterations == total
        if cfg.K > 1:  # S-JKO: the first step as on the page, every later one at long_N
            assert (cfg.iters_first_step, cfg.iters_per_step) == (ref.iters_first_step,
                                                                  P["long_N"])
        assert cfg.replace(iters_per_step=ref.iters_per_step) == ref
        assert {k: v for k, v in args.items() if k != "config"} == \
            {k: v for k, v in page[key].items() if k != "config"}


def test_long_budgets_name_the_full_profiles_own_runs():
    """The quick page's longer section shows its own longer runs and the full profile's S-JKO
    and source-fixed UOTM runs, exactly as that profile trains them; each budget has a glue
    stem."""
    budgets = image_pages.long_budgets(image_pages.profile("quick"))
    full = image_pages.profile("full")
    assert list(budgets) == ["quick", "full"]
    assert budgets["quick"] == image_pages.long_calls(image_pages.profile("quick"))
    assert budgets["full"] == {key: args for key, args in image_pages.run_calls(full).items()
                               if key[0] in image_pages.LONG_METHODS}
    assert image_pages.long_budgets(full) == {}
    assert image_pages.glue_budgets(image_pages.profile("quick")) == {"full": "full",
                                                                     "long": "quick"}
    assert image_pages.glue_budgets(full) == {"full": None, "long": None}
    assert all(name in image_pages.LONG_GLUE for P in image_pages.PROFILES.values()
               for name in P["long_profiles"])


def test_seeds_passing_counts_each_part_of_the_rule():
    good = {"pixel_precision": 0.9, "feature_precision": 0.9, "feature_recall": 0.9,
            "copy_share": 0.0, "share_min": 0.09, "share_max": 0.11}
    scores = [good, {**good, "share_min": 0.04}, {**good, "copy_share": 0.5}]
    assert image_pages.seeds_passing(scores, "legible") == "2/3"
    assert image_pages.seeds_passing(scores, "class shares") == "2/3"
    assert image_pages.seeds_passing([], "legible") == "0/0"


def test_long_script_names_the_profiles_on_bad_input():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "images-long"
    out = subprocess.run([sys.executable, str(script), "fast"], capture_output=True, text=True)
    assert out.returncode != 0
    assert "usage: scripts/images-long [PROFILE]" in out.stderr and "quick" in out.stderr


def test_last_step_and_seed_values_read_the_last_jko_step():
    m = {"feature_fd": 3.0, "steps": {"1": {"raw": {"feature_fd": 9.0}},
                                      "2": {"raw": {"feature_fd": 5.0}}}}
    assert image_pages.last_step(m, "raw") == {"feature_fd": 5.0}
    assert image_pages.last_step({}, "raw") == {}
    by_seed = {0: m, 1: {"feature_fd": 4.0}}
    assert image_pages.seed_values(by_seed, "feature_fd") == [3.0, 4.0]
    assert image_pages.seed_values(by_seed, "feature_fd", "raw") == [5.0]


def test_separation_needs_disjoint_ranges_and_a_gap_larger_than_two_draws():
    names = ("A", "B")
    assert "fewer than two seeds" in image_pages.separation([1.0], [2.0, 3.0], "feature_fd",
                                                            names)
    assert image_pages.separation([1.0, 3.0], [2.0, 4.0], "feature_fd", names) == \
        "the seed ranges overlap"
    far = image_pages.separation([1.0, 2.0], [5.0, 6.0], "feature_fd", names, spread=1.0)
    assert "A better" in far and "larger than two draws" in far  # lower FD is better
    near = image_pages.separation([1.0, 2.0], [2.5, 3.0], "feature_fd", names, spread=1.0)
    assert "not a separation" in near
    higher = image_pages.separation([0.1, 0.2], [0.5, 0.6], "feature_recall", names)
    assert "B better" in higher and "not scored" in higher  # higher recall is better


def test_seed_range_formats_one_or_many_values():
    assert image_pages.seed_range([0.05, 0.125, 0.1]) == "0.050–0.125"
    assert image_pages.seed_range([2.0], 1) == "2.0"
    assert image_pages.seed_range([]) == "not computed (profile)"


def test_rule_parts_split_legibility_from_class_shares():
    from sjko.images import quality

    good = {"pixel_precision": 0.6, "feature_precision": 0.8, "feature_recall": 0.7,
            "share_min": 0.08, "share_max": 0.12, "copy_share": 0.0}
    assert quality.accepted(good)
    assert image_pages.rule_parts(good) == {"legible": True, "class shares": True}
    assert image_pages.rule_parts({**good, "share_min": 0.04}) == {"legible": True,
                                                                   "class shares": False}
    assert image_pages.rule_parts({**good, "copy_share": 0.5}) == {"legible": False,
                                                                   "class shares": True}


def test_core_minutes_adds_what_a_resumed_run_trained_before_its_resume():
    from types import SimpleNamespace as Run

    whole = Run(record={"wall_seconds": 600.0}, metrics={"resumed_from_iteration": 0,
                                                          "iterations_per_second": 5.0})
    old = Run(record={"wall_seconds": 60.0}, metrics={})  # stored before runs could resume
    # 2 000 of 20 000 iterations before the resume, 18 000 after it at 6 it/s (3 000 s of
    # training, 3 120 s of computation with the scoring): 2 000 / 6 s are added
    resumed = Run(record={"wall_seconds": 3120.0},
                  metrics={"resumed_from_iteration": 2000, "iterations_per_second": 6.0})
    minutes, n = image_pages.core_minutes([whole, old, resumed])
    assert n == 1 and minutes == pytest.approx((600 + 60 + 3120 + 2000 / 6) / 60)
    assert image_pages.core_minutes([]) == (0.0, 0)
