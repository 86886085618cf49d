"""Inception features: equal to pytorch-fid's InceptionV3 with the same weights; weights resolution.

No network here, so the test builds a weights file itself: pytorch-fid's FID Inception
architecture with seeded random weights.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

import ganbench
from ganbench.arrays import FeatureError
from ganbench.features import inception
from ganbench.features.inception import WEIGHTS_ENV, WeightsError, inception_features, load_weights, resolve_weights
from ganbench.images import as_unit_nchw
from ganbench.testing import random_fid_weights

pf = pytest.importorskip("pytorch_fid.inception")


def pytorch_fid_pool3(state, images01: torch.Tensor) -> np.ndarray:
    """pytorch-fid's own path: InceptionV3([3]) with these weights, as get_activations runs it."""
    with mock.patch.object(pf, "load_state_dict_from_url", lambda *a, **k: state):
        model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    with torch.no_grad():
        return model(images01)[0].squeeze(3).squeeze(2).numpy()


def test_features_equal_pytorch_fid_with_the_same_weights(weights_file):
    images = torch.rand(6, 3, 40, 48, generator=torch.Generator().manual_seed(1))
    ours = inception_features(images, weights=weights_file, batch_size=4)
    ref = pytorch_fid_pool3(torch.load(weights_file, weights_only=True), images)
    assert ours["pool3"].shape == (6, 2048) and ours["logits"].shape == (6, 1008)
    np.testing.assert_allclose(ours["pool3"].numpy(), ref, rtol=1e-5, atol=1e-5)
    fc = torch.load(weights_file, weights_only=True)["fc.weight"].double()
    np.testing.assert_allclose(
        ours["logits"].numpy(), (torch.from_numpy(ref).double() @ fc.T).numpy(), rtol=1e-5, atol=1e-4
    )
    assert len(ours["weights_sha256"]) == 64


def test_features_do_not_depend_on_batch_size_or_layout(weights_file):
    images = (torch.rand(5, 32, 32, 3, generator=torch.Generator().manual_seed(2)) * 255).to(torch.uint8)
    one = inception_features(images, weights=weights_file, batch_size=1)["pool3"]
    many = inception_features(images.permute(0, 3, 1, 2), weights=weights_file, batch_size=64)["pool3"]
    np.testing.assert_allclose(one.numpy(), many.numpy(), rtol=1e-5, atol=1e-5)


def test_extraction_shows_a_progress_bar(weights_file, capsys):
    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    inception_features(images, weights=weights_file, batch_size=2, progress=True)
    assert "Inception features" in capsys.readouterr().err
    inception_features(images, weights=weights_file, batch_size=2, progress=False)
    assert capsys.readouterr().err == ""


def test_image_inputs_are_normalised():
    u8 = np.full((2, 8, 8, 1), 255, np.uint8)
    out = as_unit_nchw(u8)
    assert out.shape == (2, 3, 8, 8) and out.dtype == torch.float32 and float(out.min()) == 1.0
    with pytest.raises(FeatureError, match=r"must lie in \[0, 1\]"):
        as_unit_nchw(np.full((2, 3, 8, 8), 2.0))
    with pytest.raises(FeatureError, match="1 or 3 channels"):
        as_unit_nchw(np.zeros((2, 5, 8, 8)))
    with pytest.raises(FeatureError, match="4-D"):
        as_unit_nchw(np.zeros((8, 8)))


def test_weights_resolve_explicit_then_environment_then_hub_cache(tmp_path, monkeypatch, weights_file):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert resolve_weights(weights_file) == weights_file
    monkeypatch.setenv(WEIGHTS_ENV, str(weights_file))
    assert resolve_weights() == weights_file
    monkeypatch.delenv(WEIGHTS_ENV)
    cached = tmp_path / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(weights_file.read_bytes())
    with pytest.raises(WeightsError, match="is not pytorch-fid's weights file: its sha256 does not begin with 6726"):
        resolve_weights()  # pass 77: other weights under pytorch-fid's name were recorded as its
    published = f"pt_inception-2015-12-05-{hashlib.sha256(weights_file.read_bytes()).hexdigest()[:8]}.pth"
    monkeypatch.setattr(inception, "weights_url", lambda: f"https://example.org/{published}")
    cached.rename(cached.with_name(published))
    assert resolve_weights() == cached.with_name(published)
    with pytest.raises(WeightsError, match="do not exist"):
        resolve_weights(tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="are a folder, not a weights file"):
        resolve_weights(tmp_path)


def test_runs_scored_with_other_inception_weights_are_other_runs(tmp_path, monkeypatch, weights_file, image_sets):
    """Pass 77: the weights were not part of the run's identity, so a run with other weights was handed the
    first one's record. pytorch-fid's file is the same run however it was found (the hub cache, or named)."""
    real_npz = str(image_sets[2])
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    other = tmp_path / "other.pth"
    torch.save(random_fid_weights(seed=1), other)
    copy = tmp_path / "copy.pth"
    copy.write_bytes(weights_file.read_bytes())

    def run_id(weights: Path | None) -> str:
        if weights is None:
            monkeypatch.delenv(WEIGHTS_ENV, raising=False)
        else:
            monkeypatch.setenv(WEIGHTS_ENV, str(weights))
        return ganbench.create_spec("dcgan", real_npz, metrics=["fid"]).run_id

    assert run_id(weights_file) == run_id(copy) != run_id(other)
    published = f"pt_inception-2015-12-05-{hashlib.sha256(weights_file.read_bytes()).hexdigest()[:8]}.pth"
    monkeypatch.setattr(inception, "weights_url", lambda: f"https://example.org/{published}")
    assert run_id(None) == run_id(weights_file) != run_id(other)  # now weights_file is "pytorch-fid's"
    with pytest.raises(WeightsError, match="do not exist"):
        run_id(tmp_path / "gone.pth")


def test_a_baseline_records_the_weights_its_runs_were_scored_with(tmp_path, monkeypatch, weights_file, image_sets):
    """Pass 78: `leaderboard check` with other --inception-weights compared the two spaces' FIDs with the baseline's
    without a word: the weights are a setting its baseline records, and a check with others is refused."""
    from ganbench.suites import load_suite

    suite = tmp_path / "s.toml"
    suite.write_text(f'variants = ["dcgan"]\ndatasets = ["{image_sets[2]}"]\nsteps = 2\nmetrics = ["fid"]\n')
    other = tmp_path / "other.pth"
    torch.save(random_fid_weights(seed=1), other)
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert load_suite(suite).settings["features"] == {"inception": {"weights": "pt_inception-2015-12-05-6726825d.pth"}}
    settings = []
    for weights in (weights_file, other):
        monkeypatch.setenv(WEIGHTS_ENV, str(weights))
        settings.append(load_suite(suite).settings["features"]["inception"]["weights"])
    assert settings[0] != settings[1] and all(s.startswith("sha256 ") for s in settings)
    from ganbench.leaderboard import BaselineError, check_fits, make_baseline

    baseline = make_baseline(load_suite(suite), [])  # made with `other`
    monkeypatch.delenv(WEIGHTS_ENV)
    with pytest.raises(BaselineError, match=r"features=.*; score with the weights it was made with \(--inception-w"):
        check_fits(load_suite(suite), baseline)  # pass 79: told to update, with weights not on this machine
    del baseline["made"]["settings"]["features"]  # made before baselines recorded them: not "changed"
    with pytest.raises(BaselineError) as refused:
        check_fits(load_suite(suite), baseline)
    assert "features" not in str(refused.value) and "has no run" in str(refused.value), refused.value
    suite.write_text('variants = ["dcgan"]\ndatasets = ["ring8"]\nsteps = 2\n')
    assert "features" not in load_suite(suite).settings  # baselines without Inception read as before


def test_no_weights_and_no_network_names_the_three_ways_within_seconds(tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    start = time.perf_counter()
    with pytest.raises(WeightsError) as info:
        resolve_weights()
    assert time.perf_counter() - start < 30
    message = str(info.value)
    assert "--inception-weights" in message and WEIGHTS_ENV in message and "checkpoints" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "is not a torch weights file"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'", "is not a torch weights file"),  # a .npy named .pth
        (b"PK\x03\x04truncated", "is truncated or corrupt"),
        (b"\x80\x04garbage", "holds something other than tensors, or is damaged"),
    ],
)
def test_corrupt_weights_give_a_clear_error(tmp_path, content, fragment):
    path = tmp_path / "broken.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=fragment):
        inception_features(np.zeros((1, 3, 8, 8), np.float32), weights=path)


def test_a_foreign_state_dict_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(WeightsError, match="does not hold FID Inception weights"):
        inception_features(np.zeros((1, 3, 8, 8), np.float32), weights=path)


def _torchvision_like(state: dict) -> dict:
    """torchvision's ImageNet Inception-v3 as pytorch-fid's names see it: an auxiliary head, 1000 classes."""
    return {**state, "AuxLogits.fc.weight": torch.zeros(1000, 768), "fc.weight": torch.zeros(1000, 2048)}


@pytest.mark.parametrize(
    "change, fragment",
    [
        (_torchvision_like, 'Unexpected key(s) in state_dict: "AuxLogits.fc.weight"'),
        (lambda s: {**s, "fc.weight": s["fc.weight"][:, :100]}, "size mismatch for fc.weight"),
        (lambda s: {k: s[k] for k in ("fc.weight", "Mixed_7c.branch_pool.conv.weight")}, "Missing key(s)"),
        # pass 81: NaN trained, then failed; integers scored FID 0.000; meta tensors failed after training
        (lambda s: {**s, "fc.weight": s["fc.weight"] * math.nan}, "fc.weight holds NaN or infinite values"),
        (lambda s: {k: v.long() for k, v in s.items()}, "values, not float32"),
        (lambda s: {k: v.to("meta") for k, v in s.items()}, "is a meta tensor, which holds no values"),
    ],
)
def test_a_state_dict_with_inceptions_names_but_not_its_network_is_refused(tmp_path, weights_file, change, fragment):
    """Pass 80: two names were all that was checked; torchvision's Inception-v3 has both, trained, then failed."""
    path = tmp_path / "other.pth"
    torch.save(change(torch.load(weights_file)), path)
    with pytest.raises(WeightsError) as caught:
        load_weights(path)
    assert "does not hold FID Inception weights" in str(caught.value) and fragment in str(caught.value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400, str(caught.value)
