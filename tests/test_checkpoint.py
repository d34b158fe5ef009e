"""Checkpoint/resume: bit-exact resumption, atomic files, clear errors."""
import math

import pytest
import torch

import sjko
from sjko.train import CHECKPOINT_NAME, FLOW_NAME

CFG = sjko.SJKOConfig(K=3, h=1.0, iters_per_step=30, batch_size=64, nz=2, width=16, depth=1,
                      lr_transport=1e-3, lr_potential=1e-3, ema=0.9, cosine_lr="global",
                      instance_noise=True, checkpoint_every=10, keep_steps=True, seed=5)


class Interrupt(Exception):
    pass


def stop_at(k, it):
    def callback(event):
        if event.k == k and event.iteration == it:
            raise Interrupt

    return callback


def _load(path):
    return torch.load(path, weights_only=False)


def _assert_same_state(a, b):
    for key in ("T", "v", "T_ema"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)
    for key in ("opt_T", "opt_v"):
        for pid, st in a[key]["state"].items():
            for name, val in st.items():
                assert torch.equal(val, b[key]["state"][pid][name]), (key, pid, name)
    assert len(a["maps"]) == len(b["maps"])
    for ma, mb in zip(a["maps"], b["maps"]):
        assert all(torch.equal(ma[n], mb[n]) for n in ma)
    assert len(a["gen"]) == len(b["gen"]) == 1 and torch.equal(a["gen"][0], b["gen"][0])
    assert a["history"]["loss_v"] == b["history"]["loss_v"]


@pytest.mark.parametrize("method", ["sjko", "jko-naive"])
def test_resume_inside_step_two_is_bit_exact(tmp_path, method):
    cfg = CFG.replace(method=method)
    toy = sjko.get_toy("8gaussians")
    full = sjko.train(toy, cfg, checkpoint_dir=tmp_path / "full", progress=False)
    with pytest.raises(Interrupt):
        sjko.train(toy, cfg, checkpoint_dir=tmp_path / "cut", progress=False,
                   callback=stop_at(1, 25))
    mid = _load(tmp_path / "cut" / CHECKPOINT_NAME)
    assert (mid["k"], mid["it"]) == (1, 20)  # the last checkpoint before the interruption
    resumed = sjko.train(toy, cfg, checkpoint_dir=tmp_path / "cut", progress=False)
    _assert_same_state(_load(tmp_path / "full" / CHECKPOINT_NAME),
                       _load(tmp_path / "cut" / CHECKPOINT_NAME))
    assert torch.equal(full.sample(200, step=2), resumed.sample(200, step=2))
    assert torch.equal(full.sample(200), resumed.sample(200))


def test_finished_run_is_loaded_not_retrained(tmp_path):
    toy = sjko.get_toy("8gaussians")
    sjko.train(toy, CFG, checkpoint_dir=tmp_path, progress=False)
    calls = []
    again = sjko.train(toy, CFG, checkpoint_dir=tmp_path, progress=False, callback=calls.append)
    assert calls == []
    assert torch.equal(again.sample(50), sjko.load_flow(tmp_path / FLOW_NAME).sample(50))


def test_changed_config_is_refused(tmp_path):
    toy = sjko.get_toy("8gaussians")
    sjko.train(toy, CFG.replace(K=1), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="different configuration.*'h'"):
        sjko.train(toy, CFG.replace(K=1, h=2.0), checkpoint_dir=tmp_path, progress=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_checkpoint_names_the_file(tmp_path, damage):
    toy = sjko.get_toy("8gaussians")
    cfg = CFG.replace(K=1)
    sjko.train(toy, cfg, checkpoint_dir=tmp_path, progress=False)
    path = tmp_path / CHECKPOINT_NAME
    data = path.read_bytes()
    path.write_bytes(b"not a checkpoint" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(sjko.CheckpointError, match=f"{path}.*truncated or corrupt"):
        sjko.train(toy, cfg, checkpoint_dir=tmp_path, progress=False)


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    toy = sjko.get_toy("8gaussians")
    calls = {"n": 0}

    def poisoned(n, g):
        calls["n"] += 1
        x = toy(n, g)
        return x * float("inf") if calls["n"] > 45 else x

    with pytest.raises(sjko.TrainingDiverged, match="non-finite loss at step k=1.*intact") as err:
        sjko.train(poisoned, CFG, checkpoint_dir=tmp_path, progress=False)
    assert err.value.k == 1 and err.value.iteration > 10  # after the last good checkpoint
    assert f"k=1, iteration {err.value.iteration} " in str(err.value)
    assert not math.isfinite(err.value.loss_v)
    good = _load(tmp_path / CHECKPOINT_NAME)
    assert (good["k"], good["it"]) == (1, 10)
    assert all(torch.isfinite(t).all() for t in good["T"].values())


def test_flow_save_load_round_trip(tmp_path):
    flow = sjko.train(sjko.get_toy("moons"), CFG.replace(K=2), progress=False)
    flow.save(tmp_path / "f.pt")
    back = sjko.load_flow(tmp_path / "f.pt")
    for k in range(3):
        assert torch.equal(flow.sample(64, step=k), back.sample(64, step=k))
    with pytest.raises(ValueError, match="not a saved sjko.Flow"):
        torch.save({"kind": "other"}, tmp_path / "x.pt")
        sjko.load_flow(tmp_path / "x.pt")


def test_intermediate_steps_need_keep_steps():
    flow = sjko.train(sjko.get_toy("moons"), CFG.replace(K=2, keep_steps=False), progress=False)
    flow.sample(5, step=2)
    with pytest.raises(ValueError, match="keep_steps=True"):
        flow.sample(5, step=1)


def test_load_only_mode_raises_for_missing_runs(tmp_path, monkeypatch):
    from sjko import experiments
    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path))
    monkeypatch.setenv("SJKO_LOAD_ONLY", "1")
    with pytest.raises(experiments.ResultMissing, match="not in the result cache.*make it"):
        experiments.run_or_load("demo", {"a": 1}, lambda folder: {"x": 1}, command="make it")
    monkeypatch.setenv("SJKO_LOAD_ONLY", "")
    experiments.run_or_load("demo", {"a": 1}, lambda folder: {"x": 1})
    monkeypatch.setenv("SJKO_LOAD_ONLY", "1")
    assert experiments.run_or_load("demo", {"a": 1}, lambda folder: {"x": 2}).metrics == {"x": 1}


def test_flow_keeps_raw_maps_beside_ema_and_saves_them(tmp_path):
    flow = sjko.train(sjko.get_toy("moons"), CFG, checkpoint_dir=tmp_path, progress=False)
    raw_last = _load(tmp_path / CHECKPOINT_NAME)["T"]  # the raw T at the end of training
    assert all(torch.equal(raw_last[n], flow.raw_maps[-1][n]) for n in raw_last)
    ema, raw = flow.sample(64, step=2, seed=0), flow.sample(64, step=2, seed=0, raw=True)
    assert not torch.allclose(ema, raw)
    flow.save(tmp_path / "f.pt")
    back = sjko.load_flow(tmp_path / "f.pt")
    assert torch.equal(back.sample(64, step=2, seed=0, raw=True), raw)
    plain = sjko.train(sjko.get_toy("moons"), CFG.replace(ema=None, K=1), progress=False)
    assert torch.equal(plain.sample(32, seed=0, raw=True), plain.sample(32, seed=0))
