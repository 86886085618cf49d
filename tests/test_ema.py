"""The generator's moving average: its decay schedules, its arithmetic, its runs and their resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import ganbench
from ganbench.checkpoints import save_checkpoint
from ganbench.ema import GeneratorEMA, ema_decay_at
from ganbench.errors import OptionError
from ganbench.harness import Trainer, run_spec
from ganbench.plugins import registries
from ganbench.results import strict_json

from .conftest import assert_one_line_error, ganbench_process, kill_at_checkpoint

NSGAN = registries().variants.get("nsgan")
QUICK = dict(steps=30, checkpoint_every=10, log_every=5, eval_samples=500)


def test_biggans_decay_copies_g_until_ema_start_then_holds():
    v = NSGAN.derive("x", ema_decay=0.9999, ema_start=1000)
    assert [ema_decay_at(v, step) for step in (1, 1000, 1001, 50_000)] == [0.0, 0.0, 0.9999, 0.9999]


def test_stylegans_half_life_ramps_up_with_the_images_seen():
    v = NSGAN.derive("x", ema_kimg=500, ema_rampup=0.05, batch_size=64)
    assert ema_decay_at(v, 1) == 0.0  # no image seen before the first update: the average is G
    # step 101: 6,400 images seen, so the half-life is 0.05 * 6,400 = 320 images: 0.5 ** (64 / 320)
    assert ema_decay_at(v, 101) == pytest.approx(0.8705505632961241, rel=1e-15)
    # ramped up (0.05 * images > 500k after 156,251 steps): 0.5 ** (64 / 500,000)
    assert ema_decay_at(v, 200_000) == pytest.approx(0.9999112810966431, rel=1e-15)
    flat = NSGAN.derive("y", ema_kimg=10, batch_size=100)
    assert ema_decay_at(flat, 1) == ema_decay_at(flat, 10**6) == pytest.approx(0.5**0.01)


@pytest.mark.parametrize("buffers", ["average", "copy"])
def test_the_average_of_weights_and_buffers_is_the_published_recursion(buffers):
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    v = NSGAN.derive("x", ema_decay=0.5, ema_start=1, ema_buffers=buffers)
    ema = GeneratorEMA(g, v)
    history = []
    for step in (1, 2, 3):
        with torch.no_grad():
            g[0].weight.add_(torch.randn(4, 3))
        g(torch.randn(8, 3))  # training mode: BatchNorm's running statistics move
        history.append((g[0].weight.detach().clone(), g[1].running_mean.clone()))
        ema.update(step)
    (w1, m1), (w2, m2), (w3, m3) = history
    # step 1 copies G (ema_start = 1), then a_t = 0.5 a_{t-1} + 0.5 g_t
    expected_w = 0.5 * (0.5 * w1 + 0.5 * w2) + 0.5 * w3
    torch.testing.assert_close(ema.module[0].weight, expected_w, rtol=1e-6, atol=1e-7)
    expected_m = 0.5 * (0.5 * m1 + 0.5 * m2) + 0.5 * m3 if buffers == "average" else m3
    torch.testing.assert_close(ema.module[1].running_mean, expected_m, rtol=1e-6, atol=1e-7)
    assert ema.module[1].num_batches_tracked == g[1].num_batches_tracked == 3  # integers are copied
    assert not any(p.requires_grad for p in ema.module.parameters())


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"ema_decay": -0.1}, "ema_decay"),
        ({"ema_start": -1}, "ema_start"),
        ({"ema_kimg": float("nan")}, "ema_kimg"),
        ({"ema_buffers": "median"}, "ema_buffers"),
        ({"ema_decay": 0.999, "ema_kimg": 10}, "two forms of one average"),
    ],
)
def test_bad_ema_options_are_refused_where_they_are_declared(overrides, fragment):
    with pytest.raises(OptionError, match=fragment):
        ganbench.create_spec("nsgan", "ring8", overrides=overrides)


def test_bad_ema_options_on_the_command_line_are_one_line(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--set", "ema_decay=0.9", "--set", "ema_kimg=5", "-o", str(out))
    assert_one_line_error(result, "two forms of one average")
    assert not out.exists()


def test_the_average_never_changes_training_and_equals_g_before_it_starts(tmp_path):
    plain = ganbench.run("nsgan", "ring8", out=tmp_path / "plain", **QUICK)
    averaged = ganbench.run("nsgan", "ring8", out=tmp_path / "ema", overrides={"ema_decay": 0.9}, **QUICK)
    late = ganbench.run("nsgan", "ring8", out=tmp_path / "late", overrides={"ema_decay": 0.9, "ema_start": 30}, **QUICK)
    plain_scores = strict_json(plain.metrics)  # as written: NaN (reverse_kl of no mode) is null
    assert plain.raw_metrics == {}
    assert strict_json(averaged.raw_metrics) == plain_scores  # G trains as it does without an average
    assert strict_json(averaged.metrics) != plain_scores  # and the average is another generator
    assert strict_json(late.metrics) == strict_json(late.raw_metrics) == plain_scores  # one that only copied G is G
    record = json.loads((Path(averaged.run_dir) / "record.json").read_text())
    assert record["raw_metrics"] == strict_json(averaged.raw_metrics)
    assert json.loads((Path(averaged.run_dir) / "metrics.json").read_text()) == strict_json(averaged.metrics)
    assert ganbench.results.read_record(Path(averaged.run_dir)) is not None


@pytest.mark.parametrize("overrides", [{"ema_decay": 0.8, "ema_start": 5}, {"ema_kimg": 1, "ema_rampup": 0.05}])
def test_a_run_with_an_average_resumes_bit_for_bit(tmp_path, overrides):
    whole = ganbench.run("nsgan", "ring8", out=tmp_path / "whole", overrides=overrides, **QUICK)
    spec = ganbench.create_spec("nsgan", "ring8", steps=30, eval_samples=500, overrides=overrides)
    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=13)  # stopped between checkpoints, as a kill would
    run_dir = tmp_path / "resumed" / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, trainer.state.state_dict())
    resumed = run_spec(spec, tmp_path / "resumed", checkpoint_every=10, log_every=5, progress=False)
    assert resumed.resumed_from == 13
    assert strict_json([resumed.metrics, resumed.raw_metrics]) == strict_json([whole.metrics, whole.raw_metrics])
    assert (run_dir / "metrics.json").read_bytes() == (Path(whole.run_dir) / "metrics.json").read_bytes()


def test_a_checkpoint_without_the_average_does_not_fit_a_run_with_one(tmp_path):
    spec = ganbench.create_spec("nsgan", "ring8", steps=30, overrides={"ema_decay": 0.9})
    plain = Trainer(ganbench.create_spec("nsgan", "ring8", steps=30), "cpu")
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, plain.state.state_dict())
    with pytest.raises(ganbench.errors.CheckpointError, match="does not fit this run"):
        run_spec(spec, tmp_path, progress=False)


@pytest.mark.slow
def test_kill_9_of_an_image_run_with_an_average_resumes_to_identical_scores(tmp_path):
    """dcgan on digits: batch norm in G, so the average's buffers are checkpointed and resumed too."""
    args = ["run", "-v", "dcgan", "-d", "digits", "--steps", "120", "--checkpoint-every", "10", "-q"]
    args += ["--set", "network.width=4", "--set", "network.z_dim=16", "--eval-samples", "300"]
    args += ["--set", "ema_decay=0.95", "--set", "ema_start=20"]
    env = {"OMP_NUM_THREADS": "1"}
    whole = ganbench_process(*args, "--out", str(tmp_path / "whole"), env=env, timeout=600)
    assert whole.returncode == 0, whole.stderr
    checkpoint = kill_at_checkpoint(args, tmp_path / "killed", 40, env)
    resumed = ganbench_process(*args, "--out", str(tmp_path / "killed"), env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    whole_dir = next((tmp_path / "whole").iterdir())
    for name in ("metrics.json", "history.csv"):
        assert (whole_dir / name).read_bytes() == (checkpoint.parent / name).read_bytes(), name
    a, b = (json.loads((d / "record.json").read_text()) for d in (whole_dir, checkpoint.parent))
    assert a["raw_metrics"] == b["raw_metrics"] and a["metrics"] != a["raw_metrics"]
    assert b["resumed_from"] >= 40
