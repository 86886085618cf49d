"""Reference rows of the mixtures and images, pinned to closed forms and to numpy's own estimates (not to
ganbench's output)."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Literal

import numpy as np
import pytest
import torch

import ganbench
import ganbench.reference_rows
from ganbench.reference_rows import floor_warnings, reference_samples, reference_scores
from ganbench.spec import EVAL_SEED

N = 2500
HQ = 1 - math.exp(-9 / 2)  # P(|x - mean| <= 3 sigma) for an isotropic 2-D Gaussian: a chi-square with 2 dof


def four_se(p: float, n: int = N) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module", params=["grid25", "ring8"])
def mixture(request):
    ds = ganbench.get_dataset(request.param)
    return ds, reference_scores(ds, ds.metrics, N, EVAL_SEED)


def test_real_samples_score_the_closed_form_ceiling(mixture):
    ds, scores = mixture
    real = scores["real"]
    assert real["modes_captured"] == len(ds.modes.means)
    assert abs(real["hq_fraction"] - HQ) <= four_se(HQ)
    assert real["reverse_kl"] < 0.02  # 2,500 samples over at most 25 equal modes


def test_total_collapse_scores_one_mode_and_reverse_kl_log_k(mixture):
    ds, scores = mixture
    one = scores["one-mode"]
    assert one["modes_captured"] == 1
    assert one["reverse_kl"] == pytest.approx(math.log(len(ds.modes.means)), abs=1e-9)
    assert abs(one["hq_fraction"] - HQ) <= four_se(HQ)


def test_uniform_noise_is_high_quality_in_proportion_to_the_discs_area(mixture):
    ds, scores = mixture
    data = ds.load().double().numpy()
    box = np.prod(data.max(0) - data.min(0))
    expected = len(ds.modes.means) * math.pi * (3 * ds.modes.sigma) ** 2 / box  # every disc lies inside the box
    assert abs(scores["uniform"]["hq_fraction"] - expected) <= four_se(expected)


def test_the_gaussian_has_the_datas_mean_and_covariance(mixture):
    ds, _ = mixture
    data = ds.load().double().numpy()
    fitted = reference_samples(ds, "gaussian", 200_000, 0).double().numpy()
    np.testing.assert_allclose(fitted.mean(0), data.mean(0), atol=0.02 * data.std())
    np.testing.assert_allclose(np.cov(fitted.T), np.cov(data.T), rtol=0.02, atol=0.02 * data.var())


def test_reference_samples_are_seeded():
    ds = ganbench.get_dataset("ring8")
    for kind in ("real", "gaussian", "uniform", "one-mode"):
        a, b = reference_samples(ds, kind, 100, 5), reference_samples(ds, kind, 100, 5)
        assert a.equal(b) and not a.equal(reference_samples(ds, kind, 100, 6))
    with pytest.raises(ValueError, match="unknown reference kind"):
        reference_samples(ds, "blob", 10, 0)


def test_a_floor_as_good_as_the_ceiling_is_flagged():
    scores = {
        "real": {"frechet": 0.007, "modes_captured": 25},
        "gaussian": {"frechet": 0.006, "modes_captured": 21},
        "uniform": {"frechet": 0.036, "modes_captured": 16},
        "one-mode": {"frechet": 48.1, "modes_captured": 1},
    }
    lines = floor_warnings(scores, {"frechet": "lower", "modes_captured": "higher"}, "grid25")
    assert len(lines) == 1 and lines[0].startswith("frechet on grid25: gaussian 0.006")


def test_eval_prints_reference_columns_and_warns_off_protocol(cli, tmp_path):
    points = ganbench.get_dataset("grid25").load()[:3000].numpy()
    np.save(tmp_path / "fakes.npy", points)
    result = cli("eval", "-d", "grid25", "--samples", str(tmp_path / "fakes.npy"))
    assert result.code == 0, result.err
    assert "| metric         | samples | [real] | [gaussian] | [uniform] | [one-mode] |" in result.out
    assert "the grid25 protocol scores 2,500" in result.err and len(result.err.strip().splitlines()) == 1


# Images: digits (embedded), scored in the classifier space ganbench trains on the digits' labels.


@pytest.fixture(scope="module")
def digits_rows():
    ds = ganbench.get_dataset("digits")
    names = ["fid_classifier", "recall_classifier", "class_accuracy"]
    return ds, reference_scores(ds, names, ds.eval_samples, EVAL_SEED)


def test_image_rows_order_real_above_the_fitted_gaussian_above_noise_and_collapse(digits_rows):
    _, scores = digits_rows
    fid = {kind: scores[kind]["fid_classifier"] for kind in scores}
    assert fid["real"] < 2 < fid["gaussian"] < fid["uniform"] and fid["gaussian"] < fid["one-mode"]
    assert scores["one-mode"]["recall_classifier"] < 0.01 < 0.9 < scores["real"]["recall_classifier"]
    # labels travel with the images: the classifier (98% held out) agrees with the real rows' own classes,
    # and the noise rows' random classes are chance
    assert scores["real"]["class_accuracy"] > 0.95
    assert scores["uniform"]["class_accuracy"] < 0.2 and scores["gaussian"]["class_accuracy"] < 0.3


def test_image_samplers_are_what_they_say(digits_rows):
    ds, _ = digits_rows
    pool, labels = ds.reference(), ds.reference_labels()
    one, one_labels = ganbench.reference_rows.reference_draw(ds, "one-mode", 50, 3)
    assert (one == one[0]).all() and (one_labels == one_labels[0]).all()
    assert any(torch.equal(one[0], image) and label == one_labels[0] for image, label in zip(pool, labels, strict=True))
    real, real_labels = ganbench.reference_rows.reference_draw(ds, "real", 400, 3)
    index = {bytes(image.numpy()): int(label) for image, label in zip(pool, labels, strict=True)}
    assert all(index.get(bytes(image.numpy())) == int(label) for image, label in zip(real, real_labels, strict=True))
    noise = reference_samples(ds, "uniform", 4000, 3)
    counts = np.bincount(noise.numpy().ravel(), minlength=256)
    assert noise.dtype == torch.uint8 and counts.min() > 0.7 * counts.mean()  # every level, about equally
    data = pool.double().reshape(len(pool), -1)
    fitted = ganbench.reference_rows.fitted_gaussian(data, 100_000, torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(fitted.mean(0), data.numpy().mean(0), atol=0.02 * data.std().item())
    np.testing.assert_allclose(np.cov(fitted.T), np.cov(data.numpy().T), atol=0.02 * data.var().item())
    drawn = reference_samples(ds, "gaussian", 10, 0)  # those draws, rounded and clamped to pixel values
    gen = torch.Generator().manual_seed(0)
    torch.randint(10, (10,), generator=gen)  # the row's random classes come first
    pixels = ganbench.reference_rows.fitted_gaussian(data, 10, gen)
    assert drawn.dtype == torch.uint8 and torch.equal(drawn.flatten(1), pixels.round().clamp(0, 255).to(torch.uint8))


def test_the_real_row_of_a_dataset_with_two_splits_holds_the_other_splits_images():
    images, labels = ganbench.get_dataset("digits").load(), ganbench.get_dataset("digits").labels()

    @dataclasses.dataclass(frozen=True)
    class Split(type(ganbench.get_dataset("digits"))):
        split: Literal["train", "test"] = "train"

        def load(self):
            return images[:1000] if self.split == "train" else images[1000:]

        def labels(self):
            return labels[:1000] if self.split == "train" else labels[1000:]

        def available(self):
            return True

    train = Split("halves")
    held_out = {bytes(image.numpy()) for image in images[1000:]}
    real, real_labels = ganbench.reference_rows.reference_draw(train, "real", 500, 0)
    assert all(bytes(image.numpy()) in held_out for image in real)
    assert len({bytes(image.numpy()) for image in real}) > 450  # drawn without replacement (the digits repeat little)
    assert "halves's test images" in ganbench.reference_rows.reference_note(train)
    back = ganbench.reference_rows.reference_draw(dataclasses.replace(train, split="test"), "real", 2000, 0)[0]
    assert len(back) == 2000 and all(bytes(image.numpy()) not in held_out for image in back[:200])


def test_eval_of_image_samples_prints_the_reference_columns(cli, tmp_path):
    samples = tmp_path / "noise.npy"
    np.save(samples, np.random.default_rng(0).integers(0, 256, size=(300, 1, 8, 8)).astype(np.uint8))
    result = cli("eval", "-d", "digits", "--samples", str(samples))
    assert result.code == 0, result.err
    header = next(line for line in result.out.splitlines() if "[real]" in line)
    assert all(f"[{kind}]" in header for kind in ("real", "gaussian", "uniform", "one-mode"))
    fid = next(line for line in result.out.splitlines() if line.startswith("| fid_classifier "))
    mine, real, gaussian, uniform, one = (float(cell) for cell in fid.strip("| \n").split("|")[1:])
    assert real < gaussian < uniform and abs(mine - uniform) < 0.25 * uniform  # noise scores as the noise row


def test_eval_on_real_images_in_a_file_scores_the_reference_columns_against_all_of_them(cli, tmp_path):
    """A user's real images are scored whole; the reference columns were scored against a seeded subset of as many
    as the samples (pass 57): samples equal to the [uniform] row's draws scored 3.0 there and 3.5 beside them."""
    from sklearn.datasets import load_digits

    from ganbench.evaluation import resolve_dataset
    from ganbench.reference_rows import reference_draw

    digits = load_digits()
    real = tmp_path / "real.npz"
    np.savez(real, images=np.round(digits.images * 255 / 16).astype(np.uint8)[..., None], labels=digits.target)
    drawn = reference_draw(resolve_dataset(str(real), {}), "uniform", 300, EVAL_SEED)[0]
    np.save(tmp_path / "uniform.npy", drawn.numpy())
    result = cli("eval", "-d", str(real), "--samples", str(tmp_path / "uniform.npy"), "-m", "fid_classifier")
    assert result.code == 0, result.err
    fid = next(line for line in result.out.splitlines() if line.startswith("| fid_classifier "))
    mine, real_row, gaussian, uniform, one = (float(cell) for cell in fid.strip("| \n").split("|")[1:])
    assert mine == uniform and real_row < gaussian < uniform


def test_floor_notes_name_the_setting_they_are_of(cli, tmp_path):
    """Runs at two N gave two "frechet on ring8: ..." notes, unlike in numbers and alike in words (pass 68)."""
    out = str(tmp_path / "r")
    for n in ("20", "40"):
        args = [
            "run",
            "-v",
            "nsgan",
            "-d",
            "ring8",
            "--steps",
            "2",
            "--eval-samples",
            n,
            "-m",
            "modes",
            "-q",
            "-o",
            out,
        ]
        assert cli(*args).code == 0
    notes = [line for line in cli("table", out).out.splitlines() if "cannot tell these samples apart" in line]
    assert notes and all(re.search(r" on ring8 \(eval_samples=(20|40)\): ", line) for line in notes), notes
    assert {"20", "40"} == {re.search(r"eval_samples=(\d+)", line)[1] for line in notes}, notes
