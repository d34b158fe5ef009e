"""Every notebook runs under papermill at the smoke profile; the batch fails loudly; the cache
hits on a repeat and misses on a changed field."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sjko
from sjko import batch, experiments, recipes

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = batch.discover(ROOT / "notebooks")


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path / "results"))
    monkeypatch.delenv("SJKO_FORCE", raising=False)
    return tmp_path / "results"


def test_the_expected_notebooks_exist():
    assert {"toy", "ablation_k_h", "ablation_divergence", "complexity",
            "ou_benchmark"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_at_smoke_profile(name, smoke_notebooks):
    outcome = smoke_notebooks["outcome"][name]
    if isinstance(outcome, Exception):
        raise outcome
    nb = json.loads((smoke_notebooks["executed"] / f"{name}.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    params = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert params and "profile = \"smoke\"" in "".join(params[0]["source"])
    results = smoke_notebooks["results"]
    if name != batch.LAST:  # the reproducibility listing only reads what others stored
        assert list(results.glob("*/*/record.json")), "the notebook stored no run"


def test_notebooks_hold_no_algorithm_code():
    for name in NOTEBOOKS:
        text = (ROOT / "notebooks" / f"{name}.py").read_text()
        for forbidden in ("import torch", "backward(", "optim.", "nn.Module", "def train"):
            assert forbidden not in text, (name, forbidden)


def _tiny(**changes):
    return sjko.SJKOConfig(K=1, iters_per_step=3, batch_size=16, width=8, depth=1, nz=0,
                           **changes)


def test_cache_hits_on_repeat_and_misses_on_a_changed_field(results):
    first = recipes.toy_run("8gaussians", _tiny(), n_eval=50)
    again = recipes.toy_run("8gaussians", _tiny(), n_eval=50)
    other = recipes.toy_run("8gaussians", _tiny(h=0.5), n_eval=50)
    assert not first.hit and again.hit and not other.hit
    assert again.path == first.path != other.path
    assert again.metrics == first.metrics
    rec = again.record
    for key in ("params", "seed", "git_commit", "package_version", "wall_seconds", "host",
                "code_fingerprint", "created"):
        assert key in rec
    forced = experiments.run_or_load("toy", {"x": 1}, lambda folder: {"v": 1}, force=True)
    assert not forced.hit


def test_cache_misses_when_training_code_changes(results, monkeypatch):
    first = recipes.toy_run("8gaussians", _tiny(), n_eval=50)
    monkeypatch.setattr(experiments, "code_fingerprint", lambda subpackages=(): "changed-code")
    second = recipes.toy_run("8gaussians", _tiny(), n_eval=50)
    assert not second.hit and second.path != first.path


def test_interrupted_run_leaves_nothing_that_looks_finished(results):
    def boom(folder):
        (folder / "half.txt").write_text("partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        experiments.run_or_load("toy", {"y": 2}, boom)
    assert not list(results.glob("toy/*/record.json"))
    assert not list(results.glob("toy/*"))


def test_failing_notebook_makes_the_batch_exit_non_zero(tmp_path, results):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    header = (ROOT / "notebooks" / "toy.py").read_text().split("# %%")[0]
    (nbdir / "bad.py").write_text(header + '# %% tags=["parameters"]\nprofile = "quick"\n'
                                  'force = False\n\n# %%\nraise ValueError("deliberate failure")\n')
    (nbdir / "good.py").write_text(header + '# %% tags=["parameters"]\nprofile = "quick"\n'
                                   'force = False\n\n# %%\nprint(profile)\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.ipynb").write_text("{}")  # a stale output from an earlier run
    proc = subprocess.run([sys.executable, "-m", "sjko.batch", "--profile", "smoke",
                           "--notebooks", str(nbdir), "--output", str(out)],
                          capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    assert proc.returncode != 0
    assert "bad" in proc.stderr and "deliberate failure" in proc.stderr
    assert not (out / "bad.ipynb").exists()
    assert (out / "good.ipynb").exists()


def test_fingerprint_ignores_docstrings_and_comments_but_not_code():
    base = 'def f(x):\n    """Doc."""\n    return x + 1\n'
    assert experiments._code_only(base) == experiments._code_only(
        'def f(x):\n    """Other doc."""\n    # a comment\n    return x + 1\n')
    assert experiments._code_only(base) != experiments._code_only(
        'def f(x):\n    """Doc."""\n    return x + 2\n')
