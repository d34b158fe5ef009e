"""Carrying stored runs across a code change that adds a configuration field (sjko.migrate)."""
import json

import pytest

from sjko import SJKOConfig, report
from sjko.experiments import code_fingerprint, config_hash, run_or_load
from sjko.migrate import main, rekey

OLD_FP = "0123456789abcdef"


def _store(root, experiment, params, fingerprint=OLD_FP, metrics=None):
    """A finished run as an older version of the code would have written it."""
    key = f"{abs(hash(json.dumps(params, sort_keys=True))) % 16 ** 12:012x}"
    folder = root / experiment / key
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics or {"value": 1.5}))
    (folder / "record.json").write_text(json.dumps(
        {"experiment": experiment, "hash": key, "params": params, "code_fingerprint": fingerprint,
         "git_commit": "abc", "wall_seconds": 12.0}))
    return key


def _never(folder):
    raise AssertionError("a migrated run must load, not train")


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path))
    monkeypatch.delenv("SJKO_FORCE", raising=False)
    return tmp_path


def test_rekeyed_runs_load_under_the_current_code_with_the_new_field(root):
    old_config = SJKOConfig(K=3).to_dict()
    del old_config["potential_loss"]
    old = _store(root, "ou", {"d": 2, "config": old_config})
    child = _store(root, "fid", {"run": old}, metrics={"fid": 3.0})
    other = _store(root, "ou", {"d": 3, "config": old_config}, fingerprint="ffffffffffffffff")
    (root / "failures").mkdir()
    (root / "failures" / "fig3_x.json").write_text(json.dumps(
        {"name": "fig3_x", "config": old_config, "code_fingerprint": OLD_FP, "k": 0}))
    moved = rekey({OLD_FP: ()}, {"potential_loss": "semi-dual"}, "identical metrics")
    new_params = {"d": 2, "config": SJKOConfig(K=3).to_dict()}
    assert moved[old] == config_hash("ou", new_params)
    loaded = run_or_load("ou", new_params, _never)
    assert loaded.hit and loaded.metrics == {"value": 1.5}
    assert loaded.record["code_fingerprint"] == code_fingerprint()
    assert loaded.record["git_commit"] == "abc" and loaded.record["wall_seconds"] == 12.0
    (entry,) = loaded.record["rekeyed"]
    assert entry["from_hash"] == old and entry["from_fingerprint"] == OLD_FP
    assert entry["evidence"] == "identical metrics"
    # the run that names the moved run by hash follows it
    assert run_or_load("fid", {"run": moved[old]}, _never).metrics == {"fid": 3.0}
    failure = report.load_failure("fig3_x")  # a diverged run's record follows too
    assert failure["config"] == SJKOConfig(K=3).to_dict()
    assert failure["code_fingerprint"] == code_fingerprint() and failure["rekeyed"]
    # a run of another fingerprint is left where it was
    assert (root / "ou" / other / "record.json").is_file()
    assert not (root / "ou" / old).exists()


def test_rekey_refuses_without_evidence_unknown_fields_or_a_clash(root):
    old_config = SJKOConfig().to_dict()
    del old_config["potential_loss"]
    old = _store(root, "ou", {"config": old_config})
    with pytest.raises(ValueError, match="evidence"):
        rekey({OLD_FP: ()}, {"potential_loss": "semi-dual"}, " ")
    with pytest.raises(ValueError, match="not SJKOConfig fields"):
        rekey({OLD_FP: ()}, {"potential_shape": 1}, "ok")
    target = config_hash("ou", {"config": SJKOConfig().to_dict()})
    (root / "ou" / target).mkdir()
    (root / "ou" / target / "record.json").write_text("{}")
    with pytest.raises(ValueError, match="already hold"):
        rekey({OLD_FP: ()}, {"potential_loss": "semi-dual"}, "ok")
    assert (root / "ou" / old / "record.json").is_file()  # nothing moved


def test_command_line_dry_run_moves_nothing(root, capsys):
    old_config = SJKOConfig().to_dict()
    del old_config["potential_loss"]
    old = _store(root, "ou", {"config": old_config})
    main(["--fingerprint", f"{OLD_FP}=", "--add", 'potential_loss="semi-dual"',
          "--evidence", "x", "--dry-run"])
    assert "would move 1 runs" in capsys.readouterr().out
    assert (root / "ou" / old / "record.json").is_file()


def test_recompute_stored_finds_identical_and_changed_metrics(root):
    import subprocess
    import sys
    from pathlib import Path

    from sjko import recipes

    cfg = SJKOConfig(h=0.05, iters_per_step=5, batch_size=64, nz=0, width=8)
    folder = recipes.ou_run(1, 0, [0.1], cfg, n_eval=256).path
    script = Path(__file__).resolve().parents[1] / "scripts" / "recompute-stored"
    same = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True,
                          text=True)
    assert same.returncode == 0 and "same" in same.stdout, same.stdout + same.stderr
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["times"]["0.1"]["solver"] += 1e-3
    (folder / "metrics.json").write_text(json.dumps(metrics))
    changed = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True,
                             text=True)
    assert changed.returncode == 1 and "DIFFERENT" in changed.stdout
    assert ".times.0.1.solver" in changed.stdout


def test_command_line_without_a_new_field_rekeys_a_code_only_change(root):
    # e.g. a new network choice: the stored parameters stay as they are, only the hash moves
    params = {"d": 2, "config": SJKOConfig(K=3).to_dict()}
    old = _store(root, "ou", params)
    main(["--fingerprint", f"{OLD_FP}=", "--evidence", "recomputed: identical"])
    new = config_hash("ou", params)
    assert new != old and not (root / "ou" / old).exists()
    record = json.loads((root / "ou" / new / "record.json").read_text())
    assert record["params"] == params and record["rekeyed"][-1]["added"] == {}
    assert run_or_load("ou", params, _never).metrics == {"value": 1.5}
