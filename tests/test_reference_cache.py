"""Reference statistics: computed once, kept on disk, keyed, atomic, never trusted when corrupt."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import zipfile

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from ganbench.reference import ReferenceStats, cache_dir

from .conftest import extractor_and_metric

KEY = {"dataset": "toy", "split": "test", "n": 60, "extractor": "toy-net", "weights_sha256": "ab" * 32}


class Counting:
    """A feature computation that counts its calls."""

    def __init__(self, features: np.ndarray) -> None:
        self.features, self.calls = features, 0

    def __call__(self) -> torch.Tensor:
        self.calls += 1
        return torch.from_numpy(self.features)


@pytest.fixture
def toy():
    return Counting(np.random.default_rng(0).standard_normal((60, 6)).astype(np.float32))


def fill(stats: ReferenceStats) -> None:
    stats.features, stats.gaussian(), stats.radii(5)


def test_statistics_are_computed_once_then_read_from_disk(toy):
    first = ReferenceStats.cached(KEY, toy)
    fill(first)
    assert toy.calls == 1
    assert {p.name for p in first.folder.iterdir()} == {"features.npz", "gaussian.npz", "radii-k5.npz"}
    assert first.folder.parent == cache_dir() / "reference"

    again = ReferenceStats.cached(dict(KEY), toy)
    mean, cov = again.gaussian()
    assert toy.calls == 1
    np.testing.assert_array_equal(again.features.numpy(), toy.features)
    x = toy.features.astype(np.float64)
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False), rtol=1e-12)
    brute = np.sort(cdist(x, x), axis=1)[:, 5]  # column 0 is the point itself
    np.testing.assert_allclose(again.radii(5).numpy(), brute, rtol=1e-12)


@pytest.mark.parametrize("field", ["n", "weights_sha256", "split", "dataset"])
def test_a_different_key_is_a_different_entry(toy, field):
    _ = ReferenceStats.cached(KEY, toy).features
    changed = {**KEY, field: KEY[field] * 2 if field == "n" else "other"}
    _ = ReferenceStats.cached(changed, toy).features
    assert toy.calls == 2


def truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def garbage(path):
    path.write_bytes(b"not an npz at all")


def tamper(path):
    """A valid npz whose values were changed but whose recorded checksum was kept."""
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["features"] = arrays["features"] + 1
    np.savez(path, **arrays)


def foreign_key(path):
    """An entry copied from another key: valid arrays and checksum, but not this key's."""
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["key"]["n"] = 999
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)


def flipped_header(path):
    """One byte of an array's header changed, the zip's checksums recomputed: numpy's tokenizer fails on it."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["features.npy"] = members["features.npy"].replace(b"(", b"\xd7", 1)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def fifo(path):
    """A FIFO in the entry's place: opening it would wait for a writer forever."""
    path.unlink()
    os.mkfifo(path)


def empty_folder(path):
    """An empty folder in the entry's place (a hand-made cache): removed, and the entry written there."""
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [truncate, garbage, tamper, foreign_key, flipped_header, fifo, empty_folder])
def test_a_corrupt_entry_is_recomputed_never_trusted(toy, damage, caplog):
    _ = ReferenceStats.cached(KEY, toy).features
    path = ReferenceStats.cached(KEY, toy).folder / "features.npz"
    damage(path)
    with caplog.at_level(logging.WARNING, logger="ganbench"):
        features = ReferenceStats.cached(KEY, toy).features
    assert toy.calls == 2
    np.testing.assert_array_equal(features.numpy(), toy.features)
    assert "recomputing" in caplog.text
    _ = ReferenceStats.cached(KEY, toy).features  # the rewritten entry is good again
    assert toy.calls == 2


def test_a_folder_of_files_at_an_entry_is_said_once_and_named(toy, caplog):
    """Not ours to remove: the advice is to remove it, not to set GANBENCH_CACHE_DIR (which is writable)."""
    _ = ReferenceStats.cached(KEY, toy).features
    path = ReferenceStats.cached(KEY, toy).folder / "features.npz"
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("someone's")
    with caplog.at_level(logging.WARNING, logger="ganbench"):
        for _ in range(3):
            np.testing.assert_array_equal(ReferenceStats.cached(KEY, toy).features.numpy(), toy.features)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said  # unreadable, once; cannot be written, once
    assert said[1] == f"cannot write cache entry {path}: a folder or other non-file is there; remove it"
    assert (path / "keep").read_text() == "someone's"


@pytest.mark.parametrize("taken", ["a dangling link", "a file for its folder"])
def test_a_path_taken_inside_a_writable_cache_is_named_not_the_cache(toy, tmp_path, caplog, taken):
    """Both said "set GANBENCH_CACHE_DIR to a writable folder", of a writable cache: removing the one path is the
    fix (pass 54)."""
    _ = ReferenceStats.cached(KEY, toy).features
    folder = ReferenceStats.cached(KEY, toy).folder
    path = folder / "features.npz"
    if taken == "a dangling link":  # replaced by the entry since pass 55 (links are never written through)
        path.unlink()
        path.symlink_to(tmp_path / "nowhere" / "features.npz")
        said_of = None
    else:
        shutil.rmtree(folder)
        folder.write_text("not a folder")
        said_of = f"cannot write cache entry {path}: {folder} is a file; remove it"
    with caplog.at_level(logging.WARNING, logger="ganbench"):
        for _ in range(2):
            np.testing.assert_array_equal(ReferenceStats.cached(KEY, toy).features.numpy(), toy.features)
    said = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert said == ([said_of] if said_of else [])
    if said_of is None:
        assert path.is_file() and not path.is_symlink() and not (tmp_path / "nowhere").exists()


def test_an_unwritable_cache_costs_time_not_results(toy, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    with caplog.at_level(logging.WARNING, logger="ganbench"):
        np.testing.assert_array_equal(ReferenceStats.cached(KEY, toy).features.numpy(), toy.features)
    assert "cannot write" in caplog.text


def test_writes_leave_no_temporary_files(toy):
    stats = ReferenceStats.cached(KEY, toy)
    fill(stats)
    assert not [p for p in stats.folder.iterdir() if p.name.startswith(".")]


def test_eval_reuses_real_inception_statistics(cli, image_sets, weights_file, monkeypatch):
    import ganbench.features.inception as inception

    real, fake, real_npz, fake_dir = image_sets
    passes = []
    original = inception.inception_features
    monkeypatch.setattr(inception, "inception_features", lambda x, **kw: passes.append(len(x)) or original(x, **kw))
    args = ("eval", "--dataset", str(real_npz), "--samples", str(fake_dir), "--inception-weights", str(weights_file))
    first = cli(*args, "--metrics", "fid,is,kid,prdc", "--json")
    assert first.code == 0, first.err
    assert sorted(passes) == [len(fake), len(real)]

    passes.clear()
    second = cli(*args, "--metrics", "fid,is,kid,prdc", "--json")
    assert second.code == 0, second.err
    assert passes == [len(fake)], "the real images went through Inception again"
    assert json.loads(second.out) == json.loads(first.out)

    provenance = json.loads(second.out)["provenance"]
    assert provenance["n_real"] == len(real) and provenance["n_fake"] == len(fake)
    features = provenance["features"]["inception"]
    assert features["weights_sha256"] == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    assert features["dim"] == 2048 and features["dtype"] == "float32"
    assert features["batch_size"] == 50 and features["device"] == "cpu"
    assert provenance["features"]["inception-logits"]["dim"] == 1008
    assert provenance["versions"]["torch"] == torch.__version__ and "pytorch-fid" in provenance["versions"]


def _scaling_plugin(scale_by_two: bool):
    """A plugin of an extractor whose reference is cached (its code multiplies by 1.0 or, edited, by 2.0), and a
    Fréchet distance in its space."""
    from ganbench.gaussian import frechet_distance, gaussian_statistics
    from ganbench.metric import FeatureExtractor, Metric

    class Once(FeatureExtractor):
        caches_reference = True

        def extract(self, samples, dataset=None):
            return samples.reshape(len(samples), -1).double() * 1.0

        def fingerprint(self, dataset=None):
            return {"n": 1, "samples_sha256": "mine"}  # its own keys: they must not replace the cache key's

    class Twice(Once):
        def extract(self, samples, dataset=None):
            return samples.reshape(len(samples), -1).double() * 2.0

    class MyFid(Metric):
        def compute(self, ctx, space=None):
            mean, cov = ctx.reference("scaled").gaussian()
            return {"myfid": frechet_distance(mean, cov, *gaussian_statistics(ctx.features("scaled", "fake")))}

    scaled = (Twice if scale_by_two else Once)("scaled")
    return extractor_and_metric(scaled, MyFid("myfid", outputs={"myfid": "lower"}, uses=("scaled",)))


def test_an_extractor_whose_code_changed_computes_its_reference_again(fresh_plugins):
    """The cache key holds the extractor's code, as run ids do (pass 57): a plugin edited between two evaluations
    read the real features its old code made. Features twice as large make a Fréchet distance 4 times as large."""
    from ganbench import evaluate_samples

    samples = np.random.default_rng(1).normal(size=(400, 2)).astype(np.float32)
    fresh_plugins.register_plugin(_scaling_plugin(False), name="scaler")
    first = evaluate_samples("ring8", samples, metrics=["myfid"])["myfid"]
    fresh_plugins.unregister_plugin("scaler")
    fresh_plugins.register_plugin(_scaling_plugin(True), name="scaler")
    assert evaluate_samples("ring8", samples, metrics=["myfid"])["myfid"] == pytest.approx(4 * first, rel=1e-9)
    assert len(list((cache_dir() / "reference").iterdir())) == 2
