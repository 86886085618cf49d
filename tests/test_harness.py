"""Training behaviour: reproducibility, budgets, checkpoints and resume, divergence."""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path

import pytest
import torch

import ganbench
from ganbench.checkpoints import MAGIC
from ganbench.errors import CheckpointError, OutputError
from ganbench.harness import run_job, run_spec

from .conftest import ganbench_process, kill_at_checkpoint

QUICK = dict(steps=40, checkpoint_every=20, log_every=5)


def quick_run(
    out: Path, variant: str = "nsgan", dataset: str = "grid25", seed: int = 0, **kwargs
) -> ganbench.RunRecord:
    options = {**QUICK, **kwargs}
    return ganbench.run(variant=variant, dataset=dataset, seed=seed, out=out, **options)


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_run_folder_holds_every_artifact(tmp_path):
    record = quick_run(tmp_path)
    folder = Path(record.run_dir)
    names = {p.name for p in folder.iterdir()}
    assert {"spec.json", "metrics.json", "record.json", "history.csv", "samples.png", "checkpoint.pt"} <= names
    assert json.loads((folder / "spec.json").read_text())["run_id"] == record.run_id
    metrics = json.loads((folder / "metrics.json").read_text())
    prdc = {f"{name}_raw" for name in ("precision", "recall", "density", "coverage")}
    assert set(metrics) == {"modes_captured", "hq_fraction", "reverse_kl", "frechet", "provenance"} | prdc
    provenance = metrics["provenance"]
    pool = len(ganbench.get_dataset("grid25").reference())
    assert provenance["n_real"] == provenance["n_fake"] == 2500 and provenance["samples_dtype"] == "float32"
    assert provenance["real_subset"]["of"] == pool == 100_000
    assert provenance["features"] == {"raw": {"dim": 2, "dtype": "float32"}}
    assert provenance["versions"]["torch"] == torch.__version__
    history = (folder / "history.csv").read_text().splitlines()
    assert history[0] == "step,loss_d,loss_g,d_real,d_fake,js_estimate,g_grad_norm" and len(history) == 1 + 40 // 5
    assert record.status == "completed" and record.stopped_by == "steps" and record.steps_done == 40
    env = record.environment
    assert env["torch"] == torch.__version__ and "ganbench.variants.gan" in env["plugins"]


@pytest.mark.parametrize("variant", ["gan", "wgan", "wgan-gp", "lsgan", "sngan", "nsgan-r1", "pacgan3", "dcgan"])
def test_same_spec_twice_gives_bitwise_identical_metrics(tmp_path, variant):
    first = quick_run(tmp_path / "a", variant=variant, steps=12)
    second = quick_run(tmp_path / "b", variant=variant, steps=12)
    a = (Path(first.run_dir) / "metrics.json").read_bytes()
    assert a == (Path(second.run_dir) / "metrics.json").read_bytes()
    assert (Path(first.run_dir) / "history.csv").read_bytes() == (Path(second.run_dir) / "history.csv").read_bytes()
    third = quick_run(tmp_path / "c", variant=variant, steps=12, seed=1)
    assert (Path(third.run_dir) / "history.csv").read_bytes() != (Path(first.run_dir) / "history.csv").read_bytes()


def test_resume_from_a_checkpoint_equals_the_uninterrupted_run(tmp_path):
    whole = quick_run(tmp_path / "whole", variant="wgan-gp", steps=40)
    spec = ganbench.create_spec("wgan-gp", "grid25", steps=40)
    from ganbench.checkpoints import save_checkpoint
    from ganbench.harness import Trainer

    trainer = Trainer(spec, "cpu")
    trainer.fit(steps=17)  # stop mid-epoch, mid-log-interval, as a kill would
    run_dir = tmp_path / "resumed" / spec.dirname
    run_dir.mkdir(parents=True)
    save_checkpoint(run_dir / "checkpoint.pt", spec.run_id, trainer.state.state_dict())
    resumed = run_spec(spec, tmp_path / "resumed", checkpoint_every=20, log_every=5, progress=False)
    assert resumed.resumed_from == 17 and resumed.steps_done == 40
    assert (Path(whole.run_dir) / "metrics.json").read_bytes() == (run_dir / "metrics.json").read_bytes()


def test_checkpoints_load_with_weights_only(tmp_path):
    record = quick_run(tmp_path)
    raw = (Path(record.run_dir) / "checkpoint.pt").read_bytes()
    header = json.loads(raw[len(MAGIC) : raw.index(b"\n")])
    assert header["run_id"] == record.run_id and header["step"] == 40
    state = torch.load(io.BytesIO(raw[raw.index(b"\n") + 1 :]), weights_only=True)
    assert state["step"] == 40 and set(state) >= {"generator", "discriminator", "opt_g", "opt_d", "noise"}


def test_a_finished_run_is_not_trained_again_unless_forced(tmp_path):
    first = quick_run(tmp_path)
    record_file = Path(first.run_dir) / "record.json"
    before = record_file.read_bytes()
    again = quick_run(tmp_path)
    assert record_file.read_bytes() == before and again.wall_seconds == first.wall_seconds
    forced = quick_run(tmp_path, force=True)
    assert record_file.read_bytes() != before and forced.metrics == first.metrics


def test_max_seconds_ends_the_run_and_says_so(tmp_path):
    record = quick_run(tmp_path, steps=10**7, max_seconds=0.5)
    assert record.stopped_by == "max_seconds" and record.status == "completed"
    assert 0 < record.steps_done < 10**7
    # the budget is checked before each step: training stops soon after it (loosely: this machine is shared)
    step_seconds = record.train_seconds / record.steps_done
    assert 0.5 <= record.train_seconds <= 0.5 + max(2.0, 5 * step_seconds)
    assert record.metrics["modes_captured"] >= 0


def test_a_diverged_run_is_recorded_and_the_others_go_on(tmp_path, exploding):
    specs = [ganbench.create_spec(v, "ring8", steps=60) for v in ("exploding", "nsgan")]
    executor = ganbench.registries().executors.get("local")
    records = executor.run([(run_job, {"spec": s.to_dict(), "out": str(tmp_path), "progress": False}) for s in specs])
    bad, good = records
    assert bad.status == "diverged" and bad.stopped_by == "diverged"
    assert 1 <= bad.diverged_at < 60 and bad.steps_done == bad.diverged_at
    assert bad.metrics == {}
    assert json.loads((Path(bad.run_dir) / "record.json").read_text())["diverged_at"] == bad.diverged_at
    assert good.status == "completed" and good.steps_done == 60


def test_a_corrupt_checkpoint_is_refused_and_nothing_is_touched(tmp_path):
    spec = ganbench.create_spec("nsgan", "grid25", steps=40)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    (run_dir / "checkpoint.pt").write_bytes(b"PK\x03\x04 this is not a checkpoint")
    (run_dir / "history.csv").write_text("step,loss_d,loss_g\n5,1,1\n")
    before = folder_digest(run_dir)
    with pytest.raises(CheckpointError, match="not a ganbench checkpoint.*--force"):
        run_spec(spec, tmp_path, progress=False)
    assert folder_digest(run_dir) == before


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    other = quick_run(tmp_path / "other", seed=1)
    spec = ganbench.create_spec("nsgan", "grid25", steps=40)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    (run_dir / "checkpoint.pt").write_bytes((Path(other.run_dir) / "checkpoint.pt").read_bytes())
    with pytest.raises(CheckpointError, match=f"belongs to run {other.run_id}"):
        run_spec(spec, tmp_path, progress=False)


def test_an_unwritable_output_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write results"):
        quick_run(blocker / "results")


def test_samples_png_marks_modes(tmp_path):
    record = quick_run(tmp_path)
    png = (Path(record.run_dir) / "samples.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.slow
def test_kill_9_mid_run_then_the_same_command_resumes_to_identical_metrics(tmp_path):
    args = ["run", "-v", "wgan-gp", "-d", "ring8", "-n", "mlp", "--steps", "300", "--checkpoint-every", "50", "-q"]
    one_thread = {"OMP_NUM_THREADS": "1"}  # tiny networks: one thread is fastest, and robust on a busy machine
    whole = ganbench_process(*args, "--out", str(tmp_path / "whole"), env=one_thread, timeout=600)
    assert whole.returncode == 0, whole.stderr
    checkpoint = kill_at_checkpoint(args, tmp_path / "killed", 100, one_thread)
    resumed = ganbench_process(*args, "--out", str(tmp_path / "killed"), env=one_thread, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    record = json.loads((checkpoint.parent / "record.json").read_text())
    assert record["resumed_from"] >= 100 and record["steps_done"] == 300
    whole_dir = next((tmp_path / "whole").iterdir())
    assert (whole_dir / "metrics.json").read_bytes() == (checkpoint.parent / "metrics.json").read_bytes()
    assert (whole_dir / "history.csv").read_bytes() == (checkpoint.parent / "history.csv").read_bytes()
    assert not math.isnan(record["metrics"]["frechet"])


def test_a_finished_run_found_again_names_the_folder_it_lies_in_now(tmp_path):
    """Results folders get moved and copied: the record of a run found there names where it is, not where it ran."""
    import shutil

    options = dict(steps=3, metrics=["modes"], eval_samples=200)
    first = ganbench.run("nsgan", "ring8", out=tmp_path / "before", **options)
    shutil.move(tmp_path / "before", tmp_path / "after")
    again = ganbench.run("nsgan", "ring8", out=tmp_path / "after", **options)
    assert again.run_dir == str(tmp_path / "after" / Path(first.run_dir).name)
