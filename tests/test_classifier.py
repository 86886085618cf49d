"""ganbench's classifier feature space and the metrics that read it (stacked modes, class metrics).

Independent oracles: held-out accuracy on the real MNIST test digits; scipy's entropy for
reverse KL; pytorch-fid's Fréchet distance for intra-FID; scikit-learn's accuracy_score.
The MNIST classifier is trained once per session (conftest shares cache_dir()/classifiers);
tests that break cache entries use a cache folder of their own.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

import ganbench.features.classifier as clf
from ganbench.arrays import FeatureError
from ganbench.dataset import Dataset
from ganbench.errors import GanbenchError
from ganbench.images import ImageDataset
from ganbench.metric import EvalContext
from ganbench.metrics.class_metrics import CLASS_ACCURACY, INTRA_FID, class_accuracy, intra_fid
from ganbench.metrics.stacked_modes import STACKED_MODES, mode_counts, stacked_modes
from ganbench.plugins import registries

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
QUICK = clf.Recipe(epochs=2, min_steps=0)  # enough to test the machinery, not accuracy


# ---------------------------------------------------------------- data


@pytest.fixture(scope="session")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 digits as uint8 (N, 1, 8, 8) in 0..255 and int64 labels."""
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = datasets.load_digits()
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None]
    return torch.from_numpy(images).contiguous(), torch.from_numpy(bunch.target.astype(np.int64))


@pytest.fixture(scope="session")
def mnist(tmp_path_factory) -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 real MNIST test digits, uint8 (N, 1, 28, 28), and their labels."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    names = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    if not all((MNIST / f"{n}.gz").is_file() for n in names):
        pytest.skip(f"the MNIST test-set files {', '.join(n + '.gz' for n in names)} are not in {MNIST}")
    raw = tmp_path_factory.mktemp("mnist")
    for name in names:
        with gzip.open(MNIST / f"{name}.gz") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    images = read_image_file(str(raw / names[0])).unsqueeze(1).contiguous()
    return images, read_label_file(str(raw / names[1])).long()


@pytest.fixture
def mnist_classifier(mnist) -> clf.TrainedClassifier:
    """Trained once per session: later calls find it in memory or in the session's shared cache."""
    return clf.classifier_from_data(*mnist, progress=False)


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test's own (not the session's shared classifiers), nothing in memory."""
    folder = tmp_path / "own-cache"
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(folder))
    clf.forget()
    yield folder
    clf.forget()


@pytest.fixture
def trainings(monkeypatch) -> list[int]:
    """Counts calls of train_classifier."""
    calls: list[int] = []
    real = clf.train_classifier

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(clf, "train_classifier", counting)
    return calls


@dataclass(frozen=True)
class LabelledImages(ImageDataset):
    """Images and labels held by the test (``stacked_channels``: Stacked-MNIST-like samples)."""

    data: tuple = field(default=(), metadata={"option": False}, compare=False)
    stacked_channels: int = field(default=0, metadata={"option": False})

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data[0].shape[1:])

    @property
    def n_classes(self) -> int:
        return 0 if self.data[1] is None else 10

    def load(self) -> torch.Tensor:
        return self.data[0]

    def labels(self) -> torch.Tensor | None:
        return self.data[1]


def context(dataset: Dataset, real, fake, real_labels=None, fake_labels=None) -> EvalContext:
    """An evaluation context whose features come from the registered extractors."""

    def extract(name: str, which: str, samples: torch.Tensor) -> torch.Tensor:
        return registries().feature_extractors.get(name).extract(samples, dataset)

    return EvalContext(dataset, real, fake, extract, real_labels=real_labels, fake_labels=fake_labels)


def stack(images: torch.Tensor, triples: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) digits indexed by (M, 3) triples -> (M, 3, H, W) stacked samples."""
    return images[:, 0][triples]


# ---------------------------------------------------------------- training


@pytest.mark.slow
def test_mnist_held_out_accuracy(mnist_classifier):
    assert mnist_classifier.n_train == 9000 and mnist_classifier.n_held_out == 1000
    assert mnist_classifier.held_out_accuracy >= 0.98


def test_held_out_accuracy_is_what_it_says(digits, own_cache):
    """The recorded accuracy equals the classifier's accuracy on the seeded 10% it never saw."""
    trained = clf.classifier_from_data(*digits, QUICK, progress=False)
    _, held = clf.split(len(digits[0]), QUICK)
    _, logits = trained.apply(digits[0][held])
    assert trained.held_out_accuracy == pytest.approx((logits.argmax(1) == digits[1][held]).double().mean().item())
    train, _ = clf.split(len(digits[0]), QUICK)
    assert sorted(torch.cat([train, held]).tolist()) == list(range(len(digits[0])))


def test_training_is_deterministic_and_leaves_global_state_alone(digits):
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first, info1 = clf.train_classifier(*digits, QUICK, device="cpu", progress=False)
    assert torch.equal(torch.get_rng_state(), state), "training moved torch's global RNG"
    assert torch.get_num_threads() == threads
    torch.manual_seed(456)  # another global state: the same weights
    second, info2 = clf.train_classifier(*digits, QUICK, device="cpu", progress=False)
    a, b = first.state_dict(), second.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert info1["held_out_accuracy"] == info2["held_out_accuracy"]
    other, _ = clf.train_classifier(*digits, clf.Recipe(seed=1, epochs=2, min_steps=0), device="cpu", progress=False)
    assert not torch.equal(other.state_dict()["head.1.weight"], a["head.1.weight"])


def test_architecture_follows_the_image_size():
    def arch(c: int, size: int) -> clf.Architecture:
        return clf.Architecture.for_data(torch.zeros(2, c, size, size, dtype=torch.uint8), torch.tensor([0, 9]))

    assert [arch(1, s).stages for s in (8, 28, 32, 64)] == [1, 2, 2, 3]
    assert arch(3, 32).base_width == 2 * arch(1, 32).base_width
    for c, size in ((1, 8), (1, 28), (3, 32), (3, 64)):
        a = arch(c, size)
        features, logits = clf.SmallCNN(a).eval()(torch.zeros(2, c, size, size))
        assert features.shape == (2, clf.HIDDEN) and logits.shape == (2, 10)


# ---------------------------------------------------------------- the cache


def test_second_use_loads_from_disk(digits, own_cache, trainings):
    first = clf.classifier_from_data(*digits, QUICK, progress=False)
    assert len(trainings) == 1
    assert clf.classifier_from_data(*digits, QUICK, progress=False) is first  # in memory
    clf.forget()
    again = clf.classifier_from_data(*digits, QUICK, progress=False)
    assert len(trainings) == 1, "the cached classifier was trained again"
    assert again is not first and again.sha256 == first.sha256
    assert again.held_out_accuracy == first.held_out_accuracy
    a, b = first.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)
    assert list((own_cache / "classifiers").iterdir()) == [clf.entry_path(first.sha256)]


class Hostile:
    """A pickle whose loading would run code (it would create the file its argument names)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "foreign", "hostile pickle", "fifo"])
def test_a_damaged_entry_is_retrained_with_a_warning(digits, own_cache, trainings, caplog, damage, tmp_path):
    first = clf.classifier_from_data(*digits, QUICK, progress=False)
    path = clf.entry_path(first.sha256)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip a byte":
        state = first.model.state_dict()["features.5.weight"]  # the feature layer: most of the file
        at = data.index(state.cpu().numpy().tobytes()[:64]) + 10
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])
    elif damage == "hostile pickle":
        import pickle

        path.write_bytes(pickle.dumps(Hostile(str(tmp_path / "PWNED")), protocol=4))
    elif damage == "fifo":  # opening it would wait for a writer forever
        path.unlink()
        os.mkfifo(path)
    else:  # an intact entry of other data under this key's name
        other = clf.classifier_from_data(digits[0][:500], digits[1][:500], QUICK, progress=False)
        shutil.copy(clf.entry_path(other.sha256), path)
    clf.forget()
    count = len(trainings)
    with caplog.at_level(logging.WARNING, logger="ganbench"), warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's own about the file ("pickle protocol 4") would be a second line
        again = clf.classifier_from_data(*digits, QUICK, progress=False)
    assert len(trainings) == count + 1 and not (tmp_path / "PWNED").exists()
    said = [r.getMessage() for r in caplog.records]
    assert any("unusable" in m and str(path) in m for m in said), caplog.text
    assert all(len(m) < 400 and "weights_only" not in m and "\n" not in m for m in said), said
    a, b = first.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "the retrained classifier differs"
    clf.forget()
    caplog.clear()
    clf.classifier_from_data(*digits, QUICK, progress=False)  # rewritten: loads cleanly
    assert len(trainings) == count + 1 and not caplog.records


def test_the_key_changes_with_data_and_recipe(digits):
    images, labels = digits
    key = clf.key_sha256(clf.cache_key(images, labels, QUICK, torch.device("cpu")))
    pixel = images.clone()
    pixel[0, 0, 0, 0] ^= 1
    label = labels.clone()
    label[0] = (label[0] + 1) % 10
    others = [
        clf.cache_key(pixel, labels, QUICK, torch.device("cpu")),
        clf.cache_key(images, label, QUICK, torch.device("cpu")),
        clf.cache_key(images, labels, clf.Recipe(epochs=3, min_steps=0), torch.device("cpu")),
        clf.cache_key(images, labels, QUICK, torch.device("cuda")),
    ]
    assert len({key, *map(clf.key_sha256, others)}) == 5
    assert key == clf.key_sha256(clf.cache_key(images.clone(), labels.clone(), QUICK, torch.device("cpu")))


def test_an_unwritable_cache_costs_time_not_results(digits, own_cache, tmp_path, monkeypatch, caplog):
    reference = clf.classifier_from_data(*digits, QUICK, progress=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(blocker / "cache"))
    clf.forget()
    with caplog.at_level(logging.WARNING, logger="ganbench"):
        trained = clf.classifier_from_data(*digits, QUICK, progress=False)
    assert "cannot write cache entries such as" in caplog.text and "set GANBENCH_CACHE_DIR" in caplog.text
    assert trained.sha256 == reference.sha256 and trained.held_out_accuracy == reference.held_out_accuracy


# ---------------------------------------------------------------- extraction


def test_stacked_channels_are_classified_one_by_one(digits, own_cache):
    trained = clf.classifier_from_data(*digits, QUICK, progress=False)
    images = digits[0]
    triples = torch.randint(len(images), (300, 3), generator=torch.Generator().manual_seed(0))
    features, logits = trained.apply(stack(images, triples))
    assert features.shape == (300, 3 * clf.HIDDEN) and logits.shape == (300, 30)
    for c in range(3):
        f, y = trained.apply(images[triples[:, c]])
        torch.testing.assert_close(features[:, c * clf.HIDDEN : (c + 1) * clf.HIDDEN], f, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(logits[:, c * 10 : (c + 1) * 10], y, rtol=1e-5, atol=1e-5)
    with pytest.raises(FeatureError, match="multiple of 1 channel"):
        trained.apply(torch.zeros(2, 1, 9, 9, dtype=torch.uint8))


def test_extractors_through_the_registry(digits):
    dataset = LabelledImages("test-digits", data=digits)
    extractors = registries().feature_extractors
    features, logits = extractors.get("classifier"), extractors.get("classifier-logits")
    assert features.is_space and not logits.is_space
    assert features.caches_reference and not logits.caches_reference
    features.check(dataset)
    x = features.extract(digits[0][:50], dataset)
    assert x.shape == (50, clf.HIDDEN) and x.dtype == torch.float32
    assert logits.extract(digits[0][:50], dataset).shape == (50, 10)
    trained = clf.classifier_for(dataset)
    assert features.fingerprint(dataset) == {"classifier_sha256": trained.sha256}
    info = features.provenance(dataset)
    assert info["classifier_sha256"] == trained.sha256 and info["held_out_accuracy"] >= 0.95
    assert {"architecture", "epochs", "seed", "device", "n_train", "n_held_out"} <= info.keys()


def test_unlabelled_data_is_one_clear_error(digits):
    dataset = LabelledImages("no-labels", data=(digits[0], None))
    with pytest.raises(GanbenchError) as info:
        registries().feature_extractors.get("classifier").check(dataset)
    message = str(info.value)
    assert "\n" not in message and "labelled" in message and "--metrics" in message and "no-labels" in message


# ---------------------------------------------------------------- stacked modes


def one_hot_logits(tuples: list[tuple[int, ...]], classes: int = 10) -> torch.Tensor:
    t = torch.tensor(tuples)
    return torch.nn.functional.one_hot(t, classes).reshape(len(t), -1).float()


def test_stacked_modes_by_hand():
    from scipy.stats import entropy

    logits = one_hot_logits([(1, 2, 3), (1, 2, 3), (4, 5, 6), (0, 0, 0)])
    counts = mode_counts(logits, 3)
    assert len(counts) == 1000 and counts[123] == 2 and counts[456] == 1 and counts[0] == 1 and counts.sum() == 4
    scores = stacked_modes(logits, 3)
    assert scores["modes_captured"] == 3
    assert scores["reverse_kl"] == pytest.approx(entropy(counts / 4, np.full(1000, 1e-3)), rel=1e-12)
    assert scores["reverse_kl"] == pytest.approx(0.5 * math.log(0.5) + 0.5 * math.log(0.25) + math.log(1000))

    one = stacked_modes(one_hot_logits([(7, 0, 7)] * 26), 3)
    assert one == {"modes_captured": 1, "reverse_kl": math.log(1000)}

    every = stacked_modes(one_hot_logits([(i // 100, i // 10 % 10, i % 10) for i in range(1000)]), 3)
    assert every["modes_captured"] == 1000 and abs(every["reverse_kl"]) < 1e-12

    two = mode_counts(one_hot_logits([(2, 1), (0, 2)], classes=3), 2)  # 3^2 modes, first channel most significant
    assert two.tolist() == [0, 0, 1, 0, 0, 0, 0, 1, 0]
    with pytest.raises(FeatureError):
        stacked_modes(torch.zeros(4, 31), 3)


@pytest.mark.slow
def test_real_stacked_digits_cover_every_mode(mnist, mnist_classifier):
    from scipy.stats import entropy

    images, labels = mnist
    triples = torch.randint(len(images), (26_000, 3), generator=torch.Generator().manual_seed(2017))
    dataset = LabelledImages("stacked-test", data=mnist, stacked_channels=3)
    assert clf.classifier_for(dataset).sha256 == mnist_classifier.sha256  # the same classifier, not retrained
    fake = stack(images, triples)
    assert STACKED_MODES.applies_to(dataset) and not STACKED_MODES.applies_to(LabelledImages("d", data=mnist))
    scores = STACKED_MODES.compute(context(dataset, fake, fake))
    truth = np.bincount((labels[triples] * torch.tensor([100, 10, 1])).sum(1).numpy(), minlength=1000)
    assert scores["modes_captured"] >= 990 and scores["reverse_kl"] < 0.1
    assert abs(scores["reverse_kl"] - entropy(truth / truth.sum(), np.full(1000, 1e-3))) < 0.02
    single = STACKED_MODES.compute(context(dataset, fake, fake[torch.zeros(26_000, dtype=torch.long)]))
    assert single["modes_captured"] == 1 and single["reverse_kl"] == math.log(1000)


# ---------------------------------------------------------------- class metrics


def test_class_accuracy_of_real_images(digits):
    from sklearn.metrics import accuracy_score

    images, labels = digits
    dataset = LabelledImages("test-digits", data=digits)
    assert CLASS_ACCURACY.conditional and CLASS_ACCURACY.applies_to(dataset)
    right = CLASS_ACCURACY.compute(context(dataset, images, images, labels, labels))["class_accuracy"]
    logits = clf.classifier_for(dataset).apply(images)[1]
    assert right == pytest.approx(accuracy_score(labels.numpy(), logits.argmax(1).numpy()), abs=1e-12)
    assert right >= 0.97
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
    wrong = CLASS_ACCURACY.compute(context(dataset, images, images, labels, shuffled))["class_accuracy"]
    assert abs(wrong - 0.1) < 0.03
    with pytest.raises(FeatureError, match="labels"):
        class_accuracy(logits, None)


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # pytorch-fid's sqrtm call
def test_intra_fid_against_pytorch_fid():
    from pytorch_fid.fid_score import calculate_frechet_distance

    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(600, 4, generator=gen), torch.randn(500, 4, generator=gen) * 1.5 + 0.3
    real_labels, fake_labels = torch.arange(600) % 3, torch.arange(500) % 3
    fake_labels[fake_labels == 2] = 1  # class 2 is never generated
    mean, per_class, note = intra_fid(real, real_labels, fake, fake_labels, n_classes=3)
    oracle = []
    for c in (0, 1):
        r, f = real[real_labels == c].double().numpy(), fake[fake_labels == c].double().numpy()
        oracle.append(
            calculate_frechet_distance(r.mean(0), np.cov(r, rowvar=False), f.mean(0), np.cov(f, rowvar=False))
        )
    assert per_class[:2] == pytest.approx(oracle, rel=1e-6) and per_class[2] is None
    assert mean == pytest.approx(np.mean(oracle), rel=1e-6)
    assert "classes 2" in note


@pytest.mark.slow
def test_intra_fid_of_real_halves_and_of_wrong_classes(mnist, mnist_classifier):
    images, labels = mnist
    dataset = LabelledImages("mnist-test", data=mnist)
    a, b = slice(0, 5000), slice(5000, 10_000)
    same = INTRA_FID.compute(context(dataset, images[a], images[b], labels[a], labels[b]), "classifier")
    wrong = INTRA_FID.compute(context(dataset, images[a], images[b], labels[a], (labels[b] + 1) % 10), "classifier")
    assert set(same) == {"intra_fid_classifier", "intra_fid_classifier_per_class"}
    assert len(same["intra_fid_classifier_per_class"]) == 10
    assert same["intra_fid_classifier"] * 20 < wrong["intra_fid_classifier"]
    assert INTRA_FID.output_names(("classifier",)) == {"intra_fid_classifier": "lower"}
