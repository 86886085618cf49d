"""Loggers: TensorBoard events that hold what history.csv holds, read back by TensorBoard's own reader;
the on_evaluation hook; samples.png of images beside real ones."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from PIL import Image

import ganbench
from ganbench.results import strict_json

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator", reason="tensorboard is not installed"
)


def read_events(run_dir):
    events = event_accumulator.EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def history(run_dir) -> dict[str, dict[int, float]]:
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    return {k: {int(r["step"]): float(r[k]) for r in rows if r[k]} for k in rows[0] if k != "step"}


def test_tensorboard_holds_every_value_of_history_csv_and_the_samples_of_each_evaluation(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "1")
    record = ganbench.run(
        variant="nsgan", dataset="ring8", network="mlp", steps=30, eval_every=10, log_every=5, out=tmp_path
    )
    run_dir = tmp_path / record.run_dir.split("/")[-1]
    events, logged = read_events(run_dir), history(run_dir)
    logged = {tag: values for tag, values in logged.items() if values}  # no mode captured: reverse_kl is empty
    assert set(events.Tags()["scalars"]) == set(logged)
    assert {"loss_d", "d_real", "js_estimate", "g_grad_norm", "modes_captured", "frechet"} <= set(logged)
    for tag, values in logged.items():
        scalars = {e.step: e.value for e in events.Scalars(tag)}
        assert scalars.keys() == values.keys(), tag
        for step, value in values.items():
            assert scalars[step] == pytest.approx(value, rel=1e-6), (tag, step)  # events store float32
    images = events.Images("samples")
    assert [i.step for i in images] == [10, 20, 30]
    with Image.open(run_dir / "samples.png") as png:
        assert (images[-1].width, images[-1].height) == png.size  # the last evaluation's picture


def test_a_resumed_runs_events_hide_what_the_dead_process_logged_after_its_checkpoint(
    fresh_plugins, tmp_path, monkeypatch
):
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "1")

    class Killed(KeyboardInterrupt):
        """A kill, as near as Python comes: Ctrl-C, which ganbench lets through (a plugin's failure it would not)."""

    class Crash:
        @ganbench.hookimpl
        def on_step_end(self, step):
            if step == 20:  # called before the built-in loggers: they logged up to step 15
                raise Killed("killed at step 20")

    fresh_plugins.register_plugin(Crash(), name="crash")
    options = dict(variant="nsgan", dataset="ring8", network="mlp", steps=20, log_every=5, checkpoint_every=10)
    with pytest.raises(Killed, match="killed at step 20"):
        ganbench.run(**options, out=tmp_path)
    fresh_plugins.unregister_plugin("crash")
    record = ganbench.run(**options, out=tmp_path)
    assert record.resumed_from == 10
    run_dir = tmp_path / record.run_dir.split("/")[-1]
    events, logged = read_events(run_dir), history(run_dir)
    assert len(list((run_dir / "tensorboard").iterdir())) == 2  # one events file per process
    for tag in ("loss_d", "g_grad_norm"):
        scalars = [(e.step, e.value) for e in events.Scalars(tag)]
        assert [s for s, _ in scalars] == [5, 10, 15, 20]  # step 15 once: the resumed process's, not the dead one's
        assert [v for _, v in scalars] == pytest.approx([logged[tag][s] for s, _ in scalars], rel=1e-6)


def test_a_run_trained_again_or_resumed_at_its_end_logs_each_step_once(tmp_path, monkeypatch):
    """--force starts at step 0: the first attempt's event files are removed. A run killed
    after its last checkpoint is evaluated again there, but loggers were told already."""
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "1")
    options = dict(variant="nsgan", dataset="ring8", network="mlp", steps=20, eval_every=10, log_every=10)
    record = ganbench.run(**options, out=tmp_path)
    record = ganbench.run(**options, out=tmp_path, force=True)
    run_dir = tmp_path / record.run_dir.split("/")[-1]
    assert len(list((run_dir / "tensorboard").iterdir())) == 1  # the discarded attempt's events are gone
    (run_dir / "record.json").unlink()  # as if killed after the final checkpoint, before the record
    record = ganbench.run(**options, out=tmp_path)
    assert record.resumed_from == 20
    events = read_events(run_dir)
    assert [e.step for e in events.Scalars("loss_d")] == [10, 20]
    assert [e.step for e in events.Scalars("frechet")] == [10, 20]
    assert [i.step for i in events.Images("samples")] == [10, 20]


def test_a_run_forced_afresh_with_tensorboard_off_keeps_no_events_of_the_attempt_before(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "1")
    options = dict(variant="nsgan", dataset="ring8", network="mlp", steps=5, eval_samples=100, out=tmp_path)
    run_dir = tmp_path / ganbench.run(**options).run_dir.split("/")[-1]
    assert list((run_dir / "tensorboard").iterdir())
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "0")
    ganbench.run(**options, force=True)
    assert not list((run_dir / "tensorboard").iterdir())  # curves of a record that is no longer the run's


def test_an_unwritable_tensorboard_folder_is_one_warning_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "1")
    options = dict(variant="nsgan", dataset="ring8", network="mlp", steps=10, out=tmp_path)
    spec = ganbench.create_spec("nsgan", "ring8", network="mlp", steps=10)
    (tmp_path / spec.dirname).mkdir()
    (tmp_path / spec.dirname / "tensorboard").write_text("a file where the folder goes")
    record = ganbench.run(**options)
    assert record.status == "completed" and (tmp_path / spec.dirname / "metrics.json").is_file()
    warnings = [line for line in capsys.readouterr().err.splitlines() if "TensorBoard" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: TensorBoard events of") and "goes on" in warnings[0]


def test_tensorboard_off_writes_no_events(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "0")
    record = ganbench.run(variant="nsgan", dataset="ring8", network="mlp", steps=10, out=tmp_path)
    assert not (tmp_path / record.run_dir.split("/")[-1] / "tensorboard").exists()


def test_a_tensorboard_setting_that_is_neither_on_nor_off_is_warned_of_once(monkeypatch):
    from ganbench.loggers import tensorboard

    monkeypatch.setattr(tensorboard, "_warned", [])
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "offf")
    with pytest.warns(UserWarning, match="GANBENCH_TENSORBOARD='offf' is neither 0 .off. nor 1 .on.") as caught:
        tensorboard.enabled()
        tensorboard.enabled()
    assert len(caught) == 1
    for off in ("0", "OFF", " no "):
        monkeypatch.setenv("GANBENCH_TENSORBOARD", off)
        assert not tensorboard.enabled()


def test_on_evaluation_is_called_at_each_evaluation_with_scores_and_the_samples_picture(fresh_plugins, tmp_path):
    calls = []

    class Plugin:
        @ganbench.hookimpl
        def on_evaluation(self, step, scores, samples_png):
            with Image.open(samples_png) as png:
                calls.append((step, dict(scores), png.size))

    fresh_plugins.register_plugin(Plugin(), name="watcher")
    record = ganbench.run(variant="nsgan", dataset="ring8", network="mlp", steps=20, eval_every=10, out=tmp_path)
    assert [c[0] for c in calls] == [10, 20]
    numbers = {k: v for k, v in record.metrics.items() if v is None or isinstance(v, float | int)}
    assert strict_json(calls[-1][1]) == numbers  # hooks get NaN where the record (as its files) holds null
    assert all(math.isfinite(c[1]["frechet"]) for c in calls)


def test_image_samples_sit_beside_real_ones_captioned(tmp_path):
    """The left block is the dataset's real images (a seeded draw), the right one the generated images."""
    from ganbench.images import REAL_SHOWN_SEED, save_grid

    digits = ganbench.get_dataset("digits")
    real = digits.reference()
    fake = torch.zeros(64, 1, 8, 8, dtype=torch.uint8)
    save_grid(fake, tmp_path / "both.png", real=real)
    save_grid(fake, tmp_path / "alone.png")
    both = np.asarray(Image.open(tmp_path / "both.png").convert("L"))
    alone = np.asarray(Image.open(tmp_path / "alone.png").convert("L"))
    caption = both.shape[0] - alone.shape[0]
    assert caption > 0 and both.shape[1] > 2 * alone.shape[1]
    np.testing.assert_array_equal(both[caption:, -alone.shape[1] :], alone)  # generated: the right block
    first = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(REAL_SHOWN_SEED))[0], 0]
    tile = both[caption + 2 : caption + 2 + 32, 2 : 2 + 32]  # 8x8 digits are shown 4x, after a 2-pixel border
    np.testing.assert_array_equal(tile, first.numpy().repeat(4, 0).repeat(4, 1))
    assert both[:caption].min() < 128  # the captions are drawn


def test_conditional_samples_show_real_rows_of_the_same_classes(tmp_path):
    from ganbench.images import save_grid

    digits = ganbench.get_dataset("digits")
    real, real_labels = digits.reference(), digits.reference_labels()
    labels = torch.arange(100) % 10
    fake = (labels * 25).to(torch.uint8)[:, None, None, None].expand(100, 1, 8, 8).contiguous()
    save_grid(fake, tmp_path / "rows.png", labels, 10, real=real, real_labels=real_labels)
    picture = np.asarray(Image.open(tmp_path / "rows.png").convert("L"))
    assert picture.shape[0] > 10 * 32  # a row per class in both blocks
    few = fake[:5]  # --eval-samples 5 of 10 classes: a class without a sample was a ZeroDivisionError, no record
    save_grid(few, tmp_path / "few.png", labels[:5], 10, real=real, real_labels=real_labels)
    with Image.open(tmp_path / "few.png") as written:
        assert written.size[0] > 0
