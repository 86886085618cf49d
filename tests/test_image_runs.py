"""Image GANs end to end: train on digits, MNIST, Stacked MNIST and a user's folder, score in
classifier space, record; conditional runs; curves with --eval-every; eval of samples made
elsewhere; and every bad input as one line before any training. Tiny widths, few steps."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import OptionError

from .conftest import assert_one_line_error, ganbench_process, kill_at_checkpoint, save_png_folder
from .test_image_datasets import dead_url, mnist_test_root, root  # noqa: F401  (fixtures)

TINY = ["--set", "network.width=4", "--set", "network.z_dim=16", "-q"]
DIGITS = ["run", "-d", "digits", "--steps", "4", "--eval-samples", "300", *TINY]


def metrics_of(out: Path) -> dict:
    return json.loads(next(out.glob("*/metrics.json")).read_text())


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_a_digits_run_scores_in_classifier_space(cli, tmp_path):
    result = cli(*DIGITS, "-v", "dcgan", "-o", str(tmp_path))
    assert result.code == 0, result.err
    metrics = metrics_of(tmp_path)
    for key in ("fid_classifier", "is_classifier", "kid_classifier", "precision_classifier", "coverage_classifier"):
        assert isinstance(metrics[key], float), key
    assert not any("inception" in key for key in metrics), "digits has no Inception space"
    provenance = metrics["provenance"]
    assert provenance["n_fake"] == provenance["n_real"] == 300
    assert provenance["features"]["classifier"]["dim"] > 0
    assert png_size(next(tmp_path.glob("*/samples.png")))[0] > 8 * 8 * 4  # an 8 x 8 grid of upscaled digits
    assert "| fid_classifier" in result.out


def test_the_same_image_spec_twice_gives_identical_metrics(tmp_path):
    options = dict(steps=4, overrides={"network.width": 4, "network.z_dim": 16}, eval_samples=300)
    first = ganbench.run(variant="wgan-gp", dataset="digits", out=tmp_path / "a", **options)
    second = ganbench.run(variant="wgan-gp", dataset="digits", out=tmp_path / "b", **options)
    assert (Path(first.run_dir) / "metrics.json").read_bytes() == (Path(second.run_dir) / "metrics.json").read_bytes()
    assert (Path(first.run_dir) / "history.csv").read_bytes() == (Path(second.run_dir) / "history.csv").read_bytes()


@pytest.mark.parametrize("variant", ["cgan", "projgan"])
def test_a_conditional_run_reports_class_accuracy_and_intra_fid(cli, tmp_path, variant):
    result = cli(*DIGITS, "-v", variant, "-o", str(tmp_path))
    assert result.code == 0, result.err
    metrics = metrics_of(tmp_path)
    assert 0 <= metrics["class_accuracy"] <= 1 and metrics["intra_fid_classifier"] > 0
    width, height = png_size(next(tmp_path.glob("*/samples.png")))
    block = 10 * 34 + 2  # one row of ten per class, 8 px upscaled to 32, padding 2
    assert (width, height) == (2 * block + 12, block + 14 + 14)  # real beside generated, a gap; title, captions


def test_eval_every_writes_curves_and_the_best_value(tmp_path):
    record = ganbench.run(
        variant="dcgan",
        dataset="digits",
        steps=6,
        log_every=2,
        eval_every=3,
        eval_samples=300,
        metrics=["fid_classifier"],
        overrides={"network.width": 4, "network.z_dim": 16},
        out=tmp_path,
    )
    history = (Path(record.run_dir) / "history.csv").read_text().splitlines()
    assert history[0] == "step,loss_d,loss_g,d_real,d_fake,js_estimate,g_grad_norm,fid_classifier"
    rows = {int(line.split(",")[0]): line.split(",") for line in history[1:]}
    assert sorted(rows) == [2, 3, 4, 6]
    fid = history[0].split(",").index("fid_classifier")
    assert rows[3][fid] and rows[6][fid] and not rows[2][fid]
    assert float(rows[6][fid]) == record.metrics["fid_classifier"]
    best = record.best["fid_classifier"]
    assert best["step"] in (3, 6) and best["value"] == min(float(rows[3][fid]), float(rows[6][fid]))
    assert json.loads((Path(record.run_dir) / "record.json").read_text())["best"] == record.best


def test_mnist_test_split_trains_and_scores(cli, tmp_path, mnist_test_root):  # noqa: F811
    args = ["run", "-v", "dcgan", "-d", "mnist", "--set", "dataset.split=test", "--steps", "3", *TINY]
    result = cli(*args, "--eval-samples", "500", "-m", "fid_classifier,is_classifier", "-o", str(tmp_path))
    assert result.code == 0, result.err
    metrics = metrics_of(tmp_path)
    assert metrics["fid_classifier"] > 0
    assert metrics["provenance"]["features"]["classifier"]["held_out_accuracy"] >= 0.98
    shutil.rmtree(mnist_test_root)  # a table of the run where the files are gone: no rows, a note, no fetch
    table = cli("table", str(tmp_path))
    note = "- no reference rows for mnist: its files are not in the data root here (GANBENCH_DATA)"
    assert table.code == 0 and note in table.out
    assert not mnist_test_root.exists()


def test_stacked_mnist_reports_modes(cli, tmp_path, mnist_test_root):  # noqa: F811
    args = ["run", "-v", "dcgan", "-d", "stacked-mnist", "--set", "dataset.split=test", "--steps", "2", *TINY]
    result = cli(*args, "--eval-samples", "2000", "-m", "stacked-modes,fid_classifier", "-o", str(tmp_path))
    assert result.code == 0, result.err
    metrics = metrics_of(tmp_path)
    assert 1 <= metrics["modes_captured"] <= 1000 and metrics["reverse_kl"] >= 0


@pytest.fixture
def labelled_folder(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "pets"
    folder.mkdir()
    for name, shift in (("cat", 0), ("dog", 120)):
        save_png_folder(folder / name, rng.integers(shift, shift + 100, (12, 16, 16, 3), dtype=np.uint8))
    return folder


def test_a_relative_dataset_path_is_the_folder_dash_d_names(tmp_path, labelled_folder, monkeypatch):
    """`--set dataset.path=pets` (with the sha256 its error advises) kept "pets" in the spec: a second run id for the
    images `-d pets` trains on, and a run that no other working folder could read (pass 68)."""
    from ganbench.datasets.files import read_images

    monkeypatch.chdir(tmp_path)
    digest = read_images(labelled_folder).sha256
    named = ganbench.create_spec("dcgan", "files", overrides={"dataset.path": "pets", "dataset.sha256": digest})
    assert named.dataset_options["path"] == str(labelled_folder.resolve())
    assert named.run_id == ganbench.create_spec("dcgan", "pets").run_id
    monkeypatch.setenv("HOME", str(tmp_path))
    home = ganbench.create_spec("dcgan", "files", overrides={"dataset.path": "~/pets", "dataset.sha256": digest})
    assert home.run_id == named.run_id


def test_a_users_folder_trains_with_labels_from_subfolders(cli, tmp_path, labelled_folder):
    out = tmp_path / "out"
    args = ["run", "-v", "cgan", "-d", str(labelled_folder), "--steps", "3", "--set", "batch_size=8", *TINY]
    result = cli(*args, "--eval-samples", "24", "-m", "fid_classifier,class-accuracy", "-o", str(out))
    assert result.code == 0, result.err
    spec = json.loads(next(out.glob("*/spec.json")).read_text())
    assert spec["dataset"] == "files" and spec["dataset_options"]["path"] == str(labelled_folder)
    assert len(spec["dataset_options"]["sha256"]) == 64
    assert "class_accuracy" in metrics_of(out)
    with_rows = cli("table", str(out))
    assert with_rows.code == 0 and "Reference rows, not runs" in with_rows.out
    labelled_folder.rename(tmp_path / "moved")  # no dataset of the table has reference rows now: say why
    without = cli("table", str(out))
    assert without.code == 0 and "Reference rows, not runs" not in without.out
    assert "- no reference rows for files: " in without.out and "pets does not exist" in without.out
    assert "pass a folder" not in without.out  # advice for commands that take a dataset (pass 75)


def test_eval_scores_samples_against_a_registered_dataset(cli, tmp_path):
    real = ganbench.get_dataset("digits").load().numpy()
    np.savez(tmp_path / "fakes.npz", images=real[::2])
    good = cli("eval", "--dataset", "digits", "--samples", str(tmp_path / "fakes.npz"), "--json")
    assert good.code == 0, good.err
    scores = json.loads(good.out)
    noise = np.random.default_rng(0).integers(0, 256, real[::2].shape, dtype=np.uint8)
    np.savez(tmp_path / "noise.npz", images=noise)
    bad = json.loads(cli("eval", "--dataset", "digits", "--samples", str(tmp_path / "noise.npz"), "--json").out)
    assert scores["fid_classifier"] < bad["fid_classifier"] / 10
    assert scores["precision_classifier"] > 0.9 > bad["precision_classifier"]
    assert scores["provenance"]["n_fake"] == scores["provenance"]["n_real"] == len(real[::2])


def test_eval_takes_dataset_options(cli, tmp_path, mnist_test_root):  # noqa: F811
    digits = ganbench.get_dataset("mnist")
    import dataclasses

    real = dataclasses.replace(digits, split="test").load()[:600].numpy()
    np.savez(tmp_path / "fakes.npz", images=real)
    args = ["eval", "-d", "mnist", "--set", "dataset.split=test", "--samples", str(tmp_path / "fakes.npz")]
    result = cli(*args, "-m", "fid_classifier", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["fid_classifier"] >= 0
    assert_one_line_error(cli(*args, "-m", "fid_classifier", "--set", "lr_d=1"), "dataset options only")


def test_list_shows_image_datasets_and_metric_spaces(cli):
    listing = json.loads(cli("list", "--json").out)
    datasets = {e["name"]: e for e in listing["datasets"]}
    assert datasets["digits"]["shape"] == [1, 8, 8] and datasets["digits"]["classes"] == 10
    assert datasets["digits"]["available"] is None
    assert datasets["cifar10"]["shape"] == [3, 32, 32] and datasets["cifar10"]["available"] in (True, False)
    metrics = {e["name"]: e for e in listing["metrics"]}
    assert metrics["fid"]["spaces"] == ["inception", "classifier"]
    assert set(metrics["fid"]["outputs"]) == {"fid_inception", "fid_classifier"}
    assert {"cgan", "projgan"} <= {e["name"] for e in listing["variants"] if e.get("conditional")}
    assert {"dcgan", "resnet"} <= {e["name"] for e in listing["networks"]}
    text = cli("list").out
    assert "1x8x8, 10 classes, embedded" in text and "in inception, classifier space: fid_inception" in text


def test_missing_dataset_files_offline_stop_before_training(cli, tmp_path, root, dead_url, monkeypatch):  # noqa: F811
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", [dead_url])
    start = time.perf_counter()
    result = cli("run", "-v", "dcgan", "-d", "mnist", "--steps", "3", *TINY, "-o", str(tmp_path / "out"))
    assert_one_line_error(result, str(root / "MNIST" / "raw"), "train-images-idx3-ubyte.gz", dead_url)
    assert time.perf_counter() - start < 20 and not (tmp_path / "out").exists()
    assert "score without" not in result.err  # no metric scores without the data: other --metrics cannot help
    np.save(tmp_path / "s.npy", np.zeros((50, 1, 28, 28), np.uint8))
    scored = cli("eval", "-d", "mnist", "--samples", str(tmp_path / "s.npy"), "-m", "fid_classifier")
    assert_one_line_error(scored, "train-images-idx3-ubyte.gz")
    assert "score without" not in scored.err


def test_inception_weights_missing_stop_before_training_and_name_other_metrics(
    cli, tmp_path, labelled_folder, monkeypatch, weights_file
):
    monkeypatch.delenv("GANBENCH_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr("ganbench.features.inception.weights_url", lambda: "http://127.0.0.1:9/pt_inception.pth")
    result = cli("run", "-v", "dcgan", "-d", str(labelled_folder), "--steps", "3", *TINY, "-o", str(tmp_path / "o"))
    assert_one_line_error(result, "no Inception weights", "--metrics fid_classifier")
    assert not (tmp_path / "o").exists()
    suite = tmp_path / "s.toml"  # pass 68: a suite was advised --metrics, which sweep does not take, at no line
    suite.write_text(
        f'variants = ["dcgan"]\ndatasets = ["{labelled_folder}"]\nsteps = 3\nmetrics = ["fid"]\n'
        "[set]\nnetwork.width = 4\nnetwork.z_dim = 16\nbatch_size = 8\n"
    )
    result = cli("sweep", str(suite), "-q", "-o", str(tmp_path / "o"))
    assert_one_line_error(result, "s.toml:4: no Inception weights", 'or score without inception: metrics = ["fid_')
    assert "--metrics" not in result.err and not (tmp_path / "o").exists()
    script = tmp_path / "make_data.py"  # pass 78: a file that is not weights was found out after training
    script.write_text("print('not weights')\n")
    result = cli("run", "-v", "dcgan", "-d", str(labelled_folder), "--steps", "3", *TINY, "-o", str(tmp_path / "o"),
                 "--inception-weights", str(script))  # fmt: skip
    assert_one_line_error(result, "make_data.py is not a torch weights file")
    assert not (tmp_path / "o").exists()
    truncated, other = tmp_path / "truncated.pth", tmp_path / "other.pth"  # pass 79: they passed the head's check
    truncated.write_bytes(weights_file.read_bytes()[:100_000])
    torch.save({"a": torch.zeros(3)}, other)
    named = tmp_path / "named.pth"  # pass 80: Inception's names, not its network (torchvision's has them)
    torch.save({"fc.weight": torch.zeros(2), "Mixed_7c.branch_pool.conv.weight": torch.zeros(1)}, named)
    for weights, said in (
        (truncated, "truncated or corrupt"),
        (other, "does not hold FID Inception weights"),
        (named, "Missing key(s) in state_dict"),
    ):
        result = cli("run", "-v", "dcgan", "-d", str(labelled_folder), "--steps", "3", *TINY, "-o",
                     str(tmp_path / "o"), "--inception-weights", str(weights))  # fmt: skip
        assert_one_line_error(result, said)
        assert not (tmp_path / "o").exists()


def test_image_inputs_that_cannot_train_are_one_line(cli, tmp_path, labelled_folder):
    out = str(tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(cli("run", "-v", "dcgan", "-d", str(empty), *TINY, "-o", out), "holds no images")
    mixed = save_png_folder(tmp_path / "mixed", np.zeros((2, 16, 16, 3), np.uint8))
    save_png_folder(tmp_path / "big", np.zeros((1, 24, 24, 3), np.uint8))
    (tmp_path / "big" / "000.png").rename(mixed / "zzz.png")
    assert_one_line_error(cli("run", "-v", "dcgan", "-d", str(mixed), *TINY, "-o", out), "differ in size")
    np.savez(tmp_path / "two.npz", images=np.zeros((2, 16, 16, 3), np.uint8))  # no option n_samples to raise
    two = cli("run", "-v", "dcgan", "-d", str(tmp_path / "two.npz"), *TINY, "--eval-samples", "30", "-o", out)
    assert_one_line_error(two, f"dataset 'files' ({(tmp_path / 'two.npz').resolve()}) holds 2; use more data (add")
    comma = save_png_folder(tmp_path / "cats,dogs", np.zeros((4, 30, 30, 3), np.uint8))  # a path, not two names
    assert_one_line_error(cli("run", "-v", "dcgan", "-d", str(comma), *TINY, "-o", out), "cannot be built")
    odd = save_png_folder(tmp_path / "odd", np.zeros((4, 30, 30, 3), np.uint8))
    assert_one_line_error(
        cli("run", "-v", "dcgan", "-d", str(odd), *TINY, "-m", "kid", "-o", out), "network 'dcgan' cannot be built"
    )
    assert_one_line_error(cli("run", "-v", "cgan", "-d", "grid25", "-o", out), "class-conditional", "no labels")
    flat = save_png_folder(tmp_path / "flat", np.zeros((4, 16, 16, 3), np.uint8))
    assert_one_line_error(
        cli("run", "-v", "projgan", "-d", str(flat), *TINY, "-o", out), f"({flat.resolve()}) has no labels"
    )
    for metric in ("intra-fid", "class_accuracy"):  # said the dataset offers the space it runs in, not why
        result = cli("run", "-v", "dcgan", "-d", str(flat), *TINY, "-m", metric, "-o", out)
        assert_one_line_error(result, f"({flat.resolve()}) (it needs class labels, which the dataset has none of")
    assert_one_line_error(cli("run", "-v", "cgan", "-d", "digits", "--set", "pack=2", *TINY, "-o", out), "pack=1")
    assert_one_line_error(cli("run", "-v", "dcgan", "-d", "/no/such/images", "-o", out), "existing folder")
    few = tmp_path / "few"  # 10 labelled images: too few to train a classifier on, and fewer than --eval-samples
    few.mkdir()
    for c in (0, 1):
        save_png_folder(few / str(c), np.zeros((5, 16, 16, 3), np.uint8))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        args = ["-m", "fid_classifier", "--eval-samples", "20", "-o", out]
        result = cli("run", "-v", "dcgan", "-d", str(few), *TINY, *args)
    assert_one_line_error(result, "a classifier needs at least 20 images")
    assert not said, [str(w.message) for w in said]  # the size warning's advice could not help a refused run
    assert not Path(out).exists()


def test_a_run_on_a_folder_walks_it_a_few_times_not_once_per_question(tmp_path, labelled_folder, monkeypatch):
    """Each walk looks at every file; a run asked for the folder's shape, labels and pixels 33 times."""
    import ganbench.datasets.files

    walks = []
    layout = ganbench.datasets.files.folder_layout
    monkeypatch.setattr(ganbench.datasets.files, "folder_layout", lambda p: walks.append(p) or layout(p))
    overrides = {"network.width": 4, "network.z_dim": 16, "batch_size": 8}
    record = ganbench.run(
        variant="cgan",
        dataset=str(labelled_folder),
        steps=2,
        overrides=overrides,
        eval_samples=20,
        out=tmp_path,
        metrics=["fid_classifier", "class_accuracy"],
    )
    assert record.status == "completed" and 1 <= len(walks) <= 4, len(walks)


def test_a_file_linked_into_two_classes_is_said_once_by_a_run_of_two_workers(tmp_path, labelled_folder):
    """Said where the folder is named, once: each worker read the folder again and said it again, in Python's
    two-line form."""
    first = sorted((labelled_folder / "cat").iterdir())[0]
    (labelled_folder / "dog" / "linked.png").hardlink_to(first)
    args = ["-m", "fid_classifier", "--eval-samples", "20", "-s", "0-1", "--workers", "2", "-o", str(tmp_path / "o")]
    args += ["--set", "batch_size=8"]
    result = ganbench_process("run", "-v", "dcgan", "-d", str(labelled_folder), "--steps", "2", *TINY, *args)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "image file (a link)" in line]
    assert said == [
        f"warning: cat/{first.name} and dog/linked.png in {labelled_folder} are one image file (a link), counted "
        "twice under two labels; remove the links to count each image once"
    ], result.stderr


def test_a_folder_below_the_working_folder_is_named_as_typed(cli, tmp_path, monkeypatch):
    """The run keeps the whole path (it tells runs apart), but messages show the one the user typed."""
    (tmp_path / "imgs").mkdir()
    flat = save_png_folder(tmp_path / "imgs" / "a", np.zeros((4, 16, 16, 3), np.uint8))
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 5, 16, 16), np.uint8))
    monkeypatch.chdir(tmp_path)
    out = str(tmp_path / "out")
    for typed in ("imgs/a", "./imgs/a", str(flat)):
        result = cli("run", "-v", "projgan", "-d", typed, *TINY, "-o", out)
        assert_one_line_error(result, "dataset 'files' (./imgs/a) has no labels")
    assert_one_line_error(cli("run", "-v", "dcgan", "-d", "bad.npz", *TINY, "-o", out), "./bad.npz: images need 1")
    assert_one_line_error(cli("eval", "--samples", str(tmp_path / "bad.npz"), "-d", "digits"), "./bad.npz")
    with pytest.raises(ganbench.errors.OptionError, match=r"'files' \(./imgs/a\) has no labels"):  # a Path, too
        ganbench.create_spec("projgan", Path("imgs/a"))
    same = {"metrics": ["fid"], "overrides": {"network.width": 4}}
    assert ganbench.create_spec("dcgan", Path("imgs/a"), **same) == ganbench.create_spec("dcgan", str(flat), **same)
    monkeypatch.chdir(tmp_path / "imgs" / "a")
    result = cli("run", "-v", "projgan", "-d", ".", *TINY, "-o", out)
    assert_one_line_error(result, "dataset 'files' (.) has no labels")
    assert not Path(out).exists()


@pytest.mark.slow
def test_kill_9_of_an_image_run_then_resume_gives_identical_metrics(tmp_path):
    args = ["run", "-v", "wgan-gp", "-d", "digits", "--steps", "200", "--checkpoint-every", "10", *TINY]
    args += ["--eval-samples", "300", "--eval-every", "100"]
    env = {"OMP_NUM_THREADS": "1"}
    whole = ganbench_process(*args, "--out", str(tmp_path / "whole"), env=env, timeout=600)
    assert whole.returncode == 0, whole.stderr
    checkpoint = kill_at_checkpoint(args, tmp_path / "killed", 30, env)
    resumed = ganbench_process(*args, "--out", str(tmp_path / "killed"), env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    whole_dir = next((tmp_path / "whole").iterdir())
    for name in ("metrics.json", "history.csv"):
        assert (whole_dir / name).read_bytes() == (checkpoint.parent / name).read_bytes(), name
    a, b = (json.loads((d / "record.json").read_text()) for d in (whole_dir, checkpoint.parent))
    assert a["best"] == b["best"] and b["resumed_from"] >= 30


def test_class_metrics_named_for_several_variants_go_to_the_conditional_ones(cli, tmp_path):
    """One --metrics list serves every variant of a command (or suite): class accuracy and intra-FID
    are computed for cgan and left out for dcgan; named for unconditional variants alone, an error."""
    alone = cli(*DIGITS, "-v", "dcgan", "-m", "fid_classifier,class_accuracy", "-o", str(tmp_path / "alone"))
    assert_one_line_error(alone, "'class_accuracy' needs a class-conditional variant")
    assert not (tmp_path / "alone").exists()
    np.save(tmp_path / "s.npy", np.zeros((50, 1, 8, 8), np.uint8))  # eval has no variant to blame (pass 68)
    scored = cli("eval", "-d", "digits", "--samples", str(tmp_path / "s.npy"), "-m", "class_accuracy")
    assert_one_line_error(scored, "'class_accuracy' scores samples by the classes they were generated for, which eval")
    result = cli(*DIGITS, "-v", "dcgan,cgan", "-m", "fid_classifier,class_accuracy", "-o", str(tmp_path))
    assert result.code == 0, result.err
    metrics = {p.parent.name.split("__")[1]: json.loads(p.read_text()) for p in tmp_path.glob("*/metrics.json")}
    assert "class_accuracy" in metrics["cgan"] and "fid_classifier" in metrics["cgan"]
    assert "class_accuracy" not in metrics["dcgan"] and "fid_classifier" in metrics["dcgan"]
    table = cli("table", str(tmp_path), "-m", "class_accuracy").out.splitlines()
    dcgan = next(line for line in table if "| dcgan" in line)
    assert "–" in dcgan and "missing" not in dcgan  # never computed for dcgan: not applicable, not missing


def test_a_suites_class_metrics_apply_to_its_conditional_variants_only(tmp_path):
    from ganbench.suites import load_suite

    path = tmp_path / "mixed.toml"
    path.write_text(
        'variants = ["dcgan", "cgan"]\ndatasets = ["digits"]\nsteps = 10\n'
        'metrics = ["fid_classifier", "class_accuracy"]\n'
    )
    chosen = {spec.variant: spec.eval.metrics for spec in load_suite(path).specs()}
    assert chosen == {"dcgan": ("fid",), "cgan": ("fid", "class-accuracy")}  # digits: the classifier space alone
    path.write_text(path.read_text().replace('"dcgan", "cgan"', '"dcgan", "wgan-gp"'))
    with pytest.raises(ganbench.errors.GanbenchError, match=r"mixed.toml:4: .*needs a class-conditional variant"):
        load_suite(path)


def test_a_leaderboard_over_your_own_folder_checks_and_ranks_against_its_own_baseline(cli, tmp_path, labelled_folder):
    """The baseline names the dataset as the suite does (the folder), not as the spec records it (files)."""
    suite = tmp_path / "mine.toml"
    suite.write_text(
        f'variants = ["dcgan", "sngan"]\ndatasets = ["{labelled_folder}"]\nseeds = "0-1"\nsteps = 2\n'
        'metrics = ["fid_classifier"]\neval_samples = 24\n[set]\nbatch_size = 8\n"network.width" = 4\n'
        '"network.z_dim" = 16\n[tolerance]\nfid_classifier = 1.0\n'
    )
    results = str(tmp_path / "results")
    assert cli("leaderboard", "update", str(suite), "--results", results, "-q").code == 0
    baseline = json.loads((tmp_path / "mine.baseline.json").read_text())
    assert {r["dataset"] for r in baseline["runs"]} == {str(labelled_folder)}
    checked = cli("leaderboard", "check", str(suite), "--results", results, "-q")
    assert checked.code == 0 and "identical" in checked.out, checked.err
    shown = cli("leaderboard", "show", str(suite))
    assert shown.code == 0 and "| dcgan |" in shown.out and "| sngan |" in shown.out


def test_nothing_is_written_into_the_images_a_run_trains_on(cli, tmp_path, labelled_folder, monkeypatch):
    """A results folder or a report inside the -d folder became data: a run folder a third class, a samples.png an
    image of another size, a JUnit file an image that cannot be read; every later run on the folder failed."""
    monkeypatch.chdir(tmp_path)
    suite = tmp_path / "mine.toml"
    suite.write_text(
        'variants = ["dcgan"]\ndatasets = ["pets"]\nseeds = "0"\nsteps = 2\nmetrics = ["fid_classifier"]\n'
        'eval_samples = 24\n[set]\nbatch_size = 8\n"network.width" = 4\n"network.z_dim" = 16\n'
    )
    assert cli("leaderboard", "update", str(suite), "--results", "results", "-q").code == 0
    before = sorted((p, p.read_bytes()) for p in labelled_folder.rglob("*") if p.is_file())
    run = ["run", "-v", "dcgan", "-d", "pets", "--steps", "2", "--set", "batch_size=8", "--eval-samples", "24"]
    run += ["-m", "fid_classifier", *TINY]
    inside = "would be read as its data by the next run: name a place outside it"
    for args, words in (
        ([*run, "-o", "pets/cat/out"], "results folder pets/cat/out is inside dataset ./pets; what ganbench"),
        ([*run, "-o", "pets", "--seed", "0,1"], "--out pets is dataset ./pets; what ganbench writes there"),
        (["sweep", str(suite), "-o", "pets/dog", "-q"], "results folder pets/dog is inside dataset ./pets"),
        (["leaderboard", "check", str(suite), "--results", "results", "--junit", "pets/cat/j.png"], "--junit"),
        (["plot", "results", "-o", "pets/cat/figures"], "figures folder pets/cat/figures is inside dataset ./pets"),
    ):
        assert_one_line_error(cli(*args), words, inside)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "pets/dog/summary.png")  # refused by its name first, now
    summary = cli("leaderboard", "check", str(suite), "--results", "results", "-q")
    assert_one_line_error(summary, "$GITHUB_STEP_SUMMARY pets/dog/summary.png is a .png file, not a step summary")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "pets/dog/summary.md")
    summary = cli("leaderboard", "check", str(suite), "--results", "results", "-q")
    assert_one_line_error(summary, "$GITHUB_STEP_SUMMARY pets/dog/summary.md is inside dataset ./pets", inside)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    with pytest.raises(OptionError, match="results folder .*pets/cat is inside dataset"):
        options = dict(steps=2, metrics=["fid_classifier"], eval_samples=24, overrides={"batch_size": 8})
        ganbench.run("dcgan", "pets", out=labelled_folder / "cat", **options)
    assert sorted((p, p.read_bytes()) for p in labelled_folder.rglob("*") if p.is_file()) == before
    assert cli(*run, "-o", "elsewhere").code == 0  # the folder trains as before


def test_a_check_against_a_baseline_made_on_other_images_is_refused_and_a_moved_checkout_is_not(
    cli, tmp_path_factory, labelled_folder, monkeypatch
):
    """The baseline records what identifies the data (its sha256), the path as the suite writes it: one changed
    pixel is a different task, refused in one line with the baseline kept; the same images in another checkout
    (a CI's, at another absolute path, run from another folder) are the same task."""
    from PIL import Image

    project = labelled_folder.parent
    suite = project / "mine.toml"
    suite.write_text(
        'variants = ["dcgan"]\ndatasets = ["pets"]\nseeds = "0-1"\nsteps = 2\nmetrics = ["fid_classifier"]\n'
        'eval_samples = 24\n[set]\nbatch_size = 8\n"network.width" = 4\n"network.z_dim" = 16\n'
    )
    monkeypatch.chdir(project)
    assert cli("leaderboard", "update", "mine.toml", "--results", "results", "-q").code == 0
    made = json.loads((project / "mine.baseline.json").read_text())["made"]["data"]
    assert made["pets"]["path"] == "pets" and len(made["pets"]["sha256"]) == 64
    (project / "twice.toml").write_text(suite.read_text().replace('["pets"]', '["pets", "./pets"]'))
    assert_one_line_error(cli("leaderboard", "update", "twice.toml", "--results", "results", "-q"),
                          "twice.toml:2: datasets 'pets' and './pets' are the same data; keep one")  # fmt: skip
    assert not (project / "twice.baseline.json").exists()

    elsewhere = tmp_path_factory.mktemp("clone") / "project"
    shutil.copytree(project, elsewhere)
    monkeypatch.chdir(elsewhere)
    assert cli("leaderboard", "check", "mine.toml", "--results", "results", "-q").code == 0
    monkeypatch.chdir(elsewhere.parent)  # the suite's path "pets" is read from the suite's folder, not this one
    assert cli("leaderboard", "check", "project/mine.toml", "--results", "project/results", "-q").code == 0
    shutil.rmtree(elsewhere / "pets")
    gone = cli("leaderboard", "check", "project/mine.toml", "--results", "project/results", "-q")
    assert_one_line_error(gone, "mine.toml:2: unknown dataset 'pets'", f"'pets' beside the suite, in {elsewhere}")

    monkeypatch.chdir(project)
    before = (project / "mine.baseline.json").read_bytes()
    image = next((labelled_folder / "cat").iterdir())
    pixels = np.array(Image.open(image))
    pixels[0, 0, 0] ^= 1
    Image.fromarray(pixels).save(image)
    result = cli("leaderboard", "check", "mine.toml", "--results", "results", "-q")
    assert_one_line_error(result, "was made on pets with sha256=", "(the data changed since)", "leaderboard update")
    assert (project / "mine.baseline.json").read_bytes() == before
    shown = cli("leaderboard", "show", "mine.toml", "--results", "results")  # "none of the runs is in results;
    assert_one_line_error(shown, "(the data changed since)")  # run sweep first", which trains anew (pass 75)
    (project / "empty").mkdir()  # a folder that never held a run: a sweep there, not the baseline (pass 76)
    shown = cli("leaderboard", "show", "mine.toml", "--results", "empty")
    assert_one_line_error(shown, "none of the 2 runs of suite 'mine' is in empty", "run `ganbench sweep mine.toml")


def test_a_suite_whose_batch_outgrows_its_images_is_advised_in_the_suites_terms(cli, tmp_path, labelled_folder):
    """`sweep` takes no --set: the advice was "lower --set batch_size", which the suite commands refuse."""
    suite = tmp_path / "big.toml"
    suite.write_text(
        f'variants = ["dcgan"]\ndatasets = ["{labelled_folder}"]\nsteps = 2\nmetrics = ["fid_classifier"]\n'
    )
    result = cli("sweep", str(suite), "-o", str(tmp_path / "out"), "-q")
    assert_one_line_error(result, f"{suite}: variant 'dcgan' takes batches of 128", "; lower [set] batch_size")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "runs", [["-s", "0-1"], ["-s", "0-1", "--workers", "2"], ["--executor-option", "max_retries=0"]]
)
def test_runs_whose_batch_outgrows_their_images_are_refused_before_any(cli, tmp_path, labelled_folder, runs):
    """Two seeds (or any executor option) went past the checks of one run: each run failed apart, and the command
    printed an empty table and "2 run folders in out" of folders never made, exit 1."""
    args = ["run", "-v", "dcgan", "-d", str(labelled_folder), "--steps", "2", "-m", "fid_classifier", "-q"]
    result = cli(*args, *runs, "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "variant 'dcgan' takes batches of 128 samples but dataset", "lower --set batch_size")
    assert not (tmp_path / "out").exists()


def test_a_folder_named_with_a_trailing_space_or_twice_is_the_folder_typed_once(cli, tmp_path, labelled_folder):
    """`-d "pets "` trained on ./pets (the space stripped, as between comma-separated names); `-d ./pets,pets`
    ran one folder twice: "2 run folders" of one, and with --workers 2 the second worker refused by the first."""
    spaced = tmp_path / "pets "
    shutil.copytree(labelled_folder, spaced)
    shutil.rmtree(spaced / "dog")  # other images: a run on it is another run
    save_png_folder(spaced / "dog", np.full((12, 16, 16, 3), 7, np.uint8))
    args = ["-v", "dcgan", "--steps", "1", *TINY, "--set", "batch_size=8", "-m", "fid_classifier", "--eval-samples"]
    result = cli("run", *args, "20", "-d", str(spaced), "-o", str(tmp_path / "o"))
    assert result.code == 0, result.err
    (spec,) = [json.loads(p.read_text()) for p in (tmp_path / "o").glob("*/spec.json")]
    assert spec["dataset_options"]["path"] == str(spaced)
    twice = f"{labelled_folder},{labelled_folder}/../{labelled_folder.name}"
    result = cli("run", *args, "20", "-d", twice, "--workers", "2", "-o", str(tmp_path / "t"))
    assert result.code == 0, result.err
    assert len(list((tmp_path / "t").iterdir())) == 1 and "skipped" not in result.err, result.err


def test_a_suites_dataset_path_is_read_from_the_suites_folder(cli, tmp_path, labelled_folder, monkeypatch):
    """`[set] dataset.path = "pets"` was read from the working folder: the suite worked from its own folder and failed
    from the repository's root, at the datasets line (pass 69)."""
    from ganbench.datasets.files import read_images
    from ganbench.suites import load_suite

    digest = read_images(labelled_folder).sha256
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    suite = tmp_path / "s.toml"
    text = 'variants = ["dcgan"]\ndatasets = ["files"]\nsteps = 2\n[set]\ndataset.path = "pets"\n'
    text += f'dataset.sha256 = "{digest}"\n'
    suite.write_text(text)
    (spec,) = load_suite(suite).specs()
    assert spec.dataset_options["path"] == str(labelled_folder.resolve())
    monkeypatch.chdir(tmp_path)  # one run id from any working folder
    assert spec.run_id == load_suite(suite).specs()[0].run_id
    monkeypatch.chdir(other)
    suite.write_text(text.replace('"pets"', '"nope"'))
    assert_one_line_error(cli("leaderboard", "show", str(suite)), "s.toml:5: dcgan on files: ", "nope does not exist")


def test_a_baseline_of_a_suites_dataset_path_checks_in_another_checkout(cli, tmp_path, labelled_folder, monkeypatch):
    """The baseline kept the path whole: a copy of the repository was told its data had changed; without a digest,
    the advice named the data from the working folder, which a suite reads from its own (pass 70)."""
    from ganbench.datasets.files import read_images

    first = tmp_path / "first"
    first.mkdir()
    shutil.move(labelled_folder, first / "pets")
    text = 'name = "p"\nvariants = ["dcgan"]\ndatasets = ["files"]\nsteps = 2\nmetrics = ["fid_classifier"]\n'
    text += "eval_samples = 20\n[set]\nnetwork.width = 4\nnetwork.z_dim = 16\nbatch_size = 8\n"
    (first / "p.toml").write_text(text + 'dataset.path = "pets"\n')
    result = cli("leaderboard", "update", str(first / "p.toml"), "-q", "--results", str(first / "r"))
    assert_one_line_error(result, "needs option 'sha256'", 'pass datasets = ["pets"] instead of [set] dataset.path')
    digest = read_images(first / "pets").sha256
    (first / "p.toml").write_text(text + f'dataset.path = "pets"\ndataset.sha256 = "{digest}"\n')
    made = cli("leaderboard", "update", str(first / "p.toml"), "-q", "--results", str(first / "r"))
    assert made.code == 0, made.err
    assert '"path": "pets"' in (first / "p.baseline.json").read_text()
    second = tmp_path / "second"
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("r"))
    checked = cli("leaderboard", "check", str(second / "p.toml"), "-q", "--results", str(second / "r"))
    assert checked.code == 0, checked.err
    assert "identical" in checked.out
    for spelling in ("./pets", "pets/", str(second / "pets")):  # respelt, the same data: "it changed" (pass 71)
        (second / "p.toml").write_text(text + f'dataset.path = "{spelling}"\ndataset.sha256 = "{digest}"\n')
        again = cli("leaderboard", "check", str(second / "p.toml"), "-q", "--results", str(second / "r"))
        assert again.code == 0 and "identical" in again.out, again.err
    shutil.copytree(first / "pets", first / "it's")  # a shell quotes it 'it'"'"'s': said at the datasets line
    (first / "p.toml").write_text(text + 'dataset.path = "it\'s"\n')
    result = cli("leaderboard", "update", str(first / "p.toml"), "-q", "--results", str(first / "r"))
    assert_one_line_error(result, "p.toml:11: dcgan on files: dataset 'files' needs option 'sha256'")


def test_a_suites_dataset_respelt_checks_against_its_baseline(cli, tmp_path, labelled_folder, monkeypatch):
    """`datasets = ["pets"]` in the baseline, `["./pets"]` (or "pets/", its absolute path) now: the same folder and
    the same runs, but the check said the budget had changed, "steps=2 on pets; now steps=2 on ./pets" (pass 72)."""
    monkeypatch.chdir(tmp_path)
    text = 'name = "q"\nvariants = ["dcgan"]\ndatasets = ["pets"]\nsteps = 2\nmetrics = ["fid_classifier"]\n'
    text += "eval_samples = 20\n[set]\nnetwork.width = 4\nnetwork.z_dim = 16\nbatch_size = 8\n"
    (tmp_path / "q.toml").write_text(text)
    made = cli("leaderboard", "update", "q.toml", "-q", "--results", "r")
    assert made.code == 0, made.err
    for spelling in ("./pets", "pets/", str(labelled_folder)):
        (tmp_path / "q.toml").write_text(text.replace('["pets"]', f'["{spelling}"]'))
        checked = cli("leaderboard", "check", "q.toml", "-q", "--results", "r")
        assert checked.code == 0 and "identical" in checked.out, checked.err
        shown = cli("leaderboard", "show", "q.toml")
        assert shown.code == 0 and "dcgan" in shown.out, shown.err
    (tmp_path / "q.toml").write_text(text.replace('["pets"]', '["pets2"]'))
    shutil.copytree(labelled_folder, tmp_path / "pets2")  # the same images elsewhere: another dataset of the suite
    assert_one_line_error(cli("leaderboard", "check", "q.toml", "-q", "--results", "r"), "baseline q.baseline.json")


def test_two_baseline_datasets_never_fold_into_one_respelt(cli, tmp_path, monkeypatch):
    """b.npz made a link to a.npz, the suite respelt as ["./a.npz"]: both of the baseline's datasets were read as
    ./a.npz, its seeds counted twice (n=2 of seeds "0"), b.npz dropped, and the check passed (pass 73)."""
    from ganbench.suites import load_suite

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8), np.arange(24) % 2
    for name in ("a.npz", "b.npz"):
        np.savez(tmp_path / name, images=images, labels=labels)
    text = 'name = "q"\nvariants = ["dcgan"]\ndatasets = ["a.npz", "b.npz"]\nsteps = 2\nmetrics = ["fid_classifier"]\n'
    text += "eval_samples = 20\n[set]\nnetwork.width = 4\nnetwork.z_dim = 16\nbatch_size = 8\n"
    (tmp_path / "q.toml").write_text(text)
    made = cli("leaderboard", "update", "q.toml", "-q", "--results", "r")
    assert made.code == 0, made.err
    (tmp_path / "b.npz").unlink()
    (tmp_path / "b.npz").symlink_to("a.npz")
    (tmp_path / "q.toml").write_text(text.replace('["a.npz", "b.npz"]', '["./a.npz"]'))
    checked = cli("leaderboard", "check", "q.toml", "-q", "--results", "r")
    assert_one_line_error(checked, "baseline q.baseline.json was made with steps=2 on a.npz, 2 on b.npz")
    suite = load_suite("q.toml")
    assert not suite.same_data_path("x" * 300, "./a.npz") and not suite.same_data_path("d/" * 3000, "./a.npz")
