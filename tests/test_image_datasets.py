"""Image datasets: torchvision's sets (real MNIST test files; downloads from a local server), digits,
Stacked MNIST and a user's own images. Nothing here reaches the internet."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import pickle
import re
import shutil
import socket
import struct
import tarfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganbench
from ganbench.errors import GanbenchError, OptionError
from ganbench.imagefiles import load_image_set
from ganbench.images import to_unit_range
from ganbench.options import with_options
from ganbench.plugins import call_hook
from ganbench.resolve import resolve_dataset_name

from .conftest import save_png_folder

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MNIST_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MNIST_TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_mnist = pytest.mark.skipif(
    not all((SHARED_MNIST / f).is_file() for f in MNIST_TEST_FILES),
    reason=f"the real MNIST test files ({', '.join(MNIST_TEST_FILES)}) are not in {SHARED_MNIST}",
)


def one_line_error(exc_info: pytest.ExceptionInfo, *fragments: str) -> str:
    """The message of a GanbenchError: one line, naming every fragment."""
    assert isinstance(exc_info.value, GanbenchError), exc_info.value
    message = str(exc_info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def dataset(name: str, **options) -> ganbench.Dataset:
    return dataclasses.replace(ganbench.get_dataset(name), **options)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """An empty data root (GANBENCH_DATA); loaded splits are cached per root, so each test starts cold."""
    folder = tmp_path / "data"
    monkeypatch.setenv("GANBENCH_DATA", str(folder))
    return folder


@pytest.fixture
def mnist_test_root(root) -> Path:
    """The data root with the real MNIST test files (and no training files) in torchvision's layout."""
    if not all((SHARED_MNIST / f).is_file() for f in MNIST_TEST_FILES):
        pytest.skip(f"the real MNIST test files are not in {SHARED_MNIST}")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_TEST_FILES:
        shutil.copyfile(SHARED_MNIST / name, raw / name)
    return root


@pytest.fixture
def dead_url() -> str:
    """A URL on this machine where nothing listens: a download from it fails at once, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving tmp_path/served; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


# --- MNIST-format files written here -------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx format of MNIST: magic 2051 (uint8, 3 dims) for images, 2049 (uint8, 1 dim) for labels."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_split(folder: Path, prefix: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images), mtime=0))
    (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels), mtime=0))
    return images, labels


@pytest.fixture(params=[("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def served_idx(request, server, dead_url, monkeypatch):
    """Tiny train and test splits in the idx format, served locally; the torchvision class points at them
    (after a dead mirror, so the next mirror is tried)."""
    import torchvision.datasets

    name, cls_name = request.param
    folder, url = server
    sub = folder / cls_name
    sub.mkdir()
    splits = {"train": write_idx_split(sub, "train", 30, 1), "test": write_idx_split(sub, "t10k", 20, 2)}
    cls = getattr(torchvision.datasets, cls_name)
    resources = [(p.name, md5(p)) for p in sorted(sub.iterdir())]
    monkeypatch.setattr(cls, "mirrors", [dead_url, f"{url}{cls_name}/"])
    monkeypatch.setattr(cls, "resources", resources)
    return name, cls_name, sub, splits


# --- torchvision's sets: real MNIST test files -------------------------------------------------------


def test_mnist_test_split_loads_without_the_training_files(mnist_test_root):
    mnist = dataset("mnist", split="test")
    assert mnist.available() is True
    assert dataset("mnist", split="train").available() is False
    images, labels = mnist.load(), mnist.labels()
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and labels.shape == (10_000,)
    assert torch.bincount(labels, minlength=10).tolist() == MNIST_TEST_CLASS_COUNTS
    assert int(images.max()) == 255 and int(images.min()) == 0
    assert mnist.n_classes == 10 and mnist.shape == (1, 28, 28) and mnist.default_network == "dcgan"
    raw = mnist_test_root / "MNIST" / "raw"
    assert not any(p.name.startswith("train") for p in raw.iterdir())
    assert (raw / "t10k-images-idx3-ubyte").is_file()  # extracted next to the archive, as torchvision does


def test_n_samples_is_a_seeded_stable_nested_subset(mnist_test_root):
    full = dataset("mnist", split="test")
    a, b = dataset("mnist", split="test", n_samples=500), dataset("mnist", split="test", n_samples=500)
    small = dataset("mnist", split="test", n_samples=100)
    assert a.load().shape == (500, 1, 28, 28)
    assert torch.equal(a.load(), b.load()) and torch.equal(a.labels(), b.labels())
    assert not torch.equal(a.load(), full.load()[:500])  # a random subset, not the head

    def pairs(ds):  # (image bytes, label) of each item: a subset holds images of the split with their labels
        return {(x.numpy().tobytes(), int(y)) for x, y in zip(ds.load(), ds.labels(), strict=True)}

    assert pairs(small) <= pairs(a) <= pairs(full)
    with pytest.raises(OptionError) as exc:
        dataset("mnist", split="test", n_samples=10_001).load()
    one_line_error(exc, "n_samples", "10,000")
    with pytest.raises(OptionError):
        with_options(ganbench.get_dataset("mnist"), {"n_samples": "0"}, "dataset 'mnist'")


def test_missing_split_offline_is_one_line_naming_folder_files_and_source(mnist_test_root, dead_url, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [dead_url])
    started = time.perf_counter()
    with pytest.raises(GanbenchError) as exc:
        dataset("mnist", split="train").load()
    assert time.perf_counter() - started < 5
    raw = mnist_test_root / "MNIST" / "raw"
    one_line_error(exc, str(raw), "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", dead_url, "--data-root")


def test_a_data_root_one_or_two_levels_too_deep_names_the_one_that_holds_the_files(
    mnist_test_root, dead_url, monkeypatch
):
    """--data-root .../MNIST (the folder torchvision makes below the root) said only "not found in
    .../MNIST/MNIST/raw"."""
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [dead_url])
    for deep in (mnist_test_root / "MNIST", mnist_test_root / "MNIST" / "raw"):
        monkeypatch.setenv("GANBENCH_DATA", str(deep))
        with pytest.raises(GanbenchError) as exc:
            dataset("mnist", split="test").load()
        one_line_error(exc, f"pass --data-root (GANBENCH_DATA) {mnist_test_root} instead, which holds them")
    assert not (mnist_test_root / "MNIST" / "MNIST").exists()


def test_files_in_the_data_root_itself_are_told_to_move_into_torchvisions_folder(
    mnist_test_root, dead_url, monkeypatch
):
    """The .gz files straight in --data-root were told "copy them there or pass --data-root naming a folder that
    holds them", the folder given (pass 54)."""
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [dead_url])
    flat = mnist_test_root.parent / "flat"
    shutil.copytree(mnist_test_root / "MNIST" / "raw", flat)
    monkeypatch.setenv("GANBENCH_DATA", str(flat))
    with pytest.raises(GanbenchError) as exc:
        dataset("mnist", split="test").load()
    one_line_error(exc, f"they are in {flat} itself: move them into {flat / 'MNIST' / 'raw'}, where torchvision's")
    assert sorted(p.name for p in flat.iterdir()) == sorted(MNIST_TEST_FILES)  # nothing moved or made there


def test_missing_cifar_offline_names_batches_archive_and_url(root, dead_url, monkeypatch):
    import torchvision.datasets

    url = f"{dead_url}cifar-10-python.tar.gz"
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "url", url)
    cifar = dataset("cifar10", split="test")
    assert cifar.available() is False
    with pytest.raises(GanbenchError) as exc:
        cifar.load()
    one_line_error(exc, str(root / "cifar-10-batches-py"), "test_batch", "cifar-10-python.tar.gz", url)
    assert not root.exists()  # a mistyped data root is not made by a download that failed
    (root / "cifar-10-batches-py").mkdir(parents=True)
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(b"not the published batch")
    with pytest.raises(GanbenchError) as exc:  # there, but not the published file: said so, not 'absent'
        cifar.load()
    one_line_error(exc, "test_batch there fails its md5 check", url)


def test_a_failed_download_leaves_no_folders_behind(root, dead_url, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "mirrors", [dead_url])
    (root / "mine").mkdir(parents=True)  # the user's: kept
    with pytest.raises(GanbenchError):
        dataset("fashion-mnist", split="test").load()
    assert [p.name for p in root.iterdir()] == ["mine"]  # no FashionMNIST/raw/.ganbench-download.lock
    raw = root / "FashionMNIST" / "raw"  # a folder of the user's holding a damaged archive (pass 97: the refused
    raw.mkdir(parents=True)  # run left its lock there)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"truncated download")
    with pytest.raises(GanbenchError):
        dataset("fashion-mnist", split="test").load()
    assert sorted(p.name for p in raw.iterdir()) == ["t10k-images-idx3-ubyte.gz"]


# --- torchvision's download code against a local server --------------------------------------------


def test_download_fetches_only_the_split_verifies_and_loads(served_idx, root):
    name, cls_name, _, splits = served_idx
    test = dataset(name, split="test")
    assert test.available() is False
    images, labels = test.load(), test.labels()
    expected_images, expected_labels = splits["test"]
    assert torch.equal(images, torch.from_numpy(expected_images)[:, None])
    assert torch.equal(labels, torch.from_numpy(expected_labels).long())
    raw = root / cls_name / "raw"
    assert sorted(p.name for p in raw.iterdir() if not p.name.startswith(".")) == [
        "t10k-images-idx3-ubyte",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert test.available() is True and dataset(name, split="train").available() is False
    train = dataset(name, split="train")
    assert torch.equal(train.load(), torch.from_numpy(splits["train"][0])[:, None])


def test_a_corrupt_local_archive_is_downloaded_again(served_idx, root):
    name, cls_name, _, splits = served_idx
    raw = root / cls_name / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"truncated download")
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"stale")
    test = dataset(name, split="test")
    assert test.available() is False  # a file that fails its md5 does not count
    assert torch.equal(test.labels(), torch.from_numpy(splits["test"][1]).long())


def test_a_download_that_fails_its_md5_is_refused(served_idx, root):
    name, cls_name, served, _ = served_idx
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not the published file"))
    test = dataset(name, split="test")
    with pytest.raises(GanbenchError) as exc:
        test.load()
    one_line_error(exc, str(root / cls_name / "raw"), "t10k-images-idx3-ubyte.gz", "md5")
    assert test.available() is False
    with pytest.raises(GanbenchError):  # refused again, not accepted on a second try
        test.load()


def test_a_truncated_extraction_is_extracted_again_from_the_verified_archive(served_idx, root, monkeypatch):
    from ganbench.datasets import torchvision_sets

    name, cls_name, _, splits = served_idx
    dataset(name, split="test").load()
    plain = root / cls_name / "raw" / "t10k-images-idx3-ubyte"
    plain.write_bytes(plain.read_bytes()[:100])
    monkeypatch.setattr(torchvision_sets, "_splits", {})  # a new process
    assert torch.equal(dataset(name, split="test").load(), torch.from_numpy(splits["test"][0])[:, None])


def test_a_byte_changed_in_an_extracted_file_is_not_read_but_extracted_again(mnist_test_root, monkeypatch):
    """torchvision checks the archives' md5, not what it extracted from them: ganbench compares the two."""
    from ganbench.datasets import torchvision_sets

    first = dataset("mnist", split="test").load().clone()
    plain = mnist_test_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    flipped = bytearray(plain.read_bytes())
    flipped[5000] ^= 0xFF
    plain.write_bytes(bytes(flipped))
    monkeypatch.setattr(torchvision_sets, "_splits", {})  # a new process
    assert torch.equal(dataset("mnist", split="test").load(), first)
    assert plain.read_bytes()[5000] != flipped[5000]


def test_a_missing_labels_archive_is_named_alone_and_nothing_is_extracted(mnist_test_root, dead_url, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [dead_url])
    raw = mnist_test_root / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(GanbenchError) as exc:
        dataset("mnist", split="test").load()
    one_line_error(exc, "expected t10k-labels-idx1-ubyte.gz there", dead_url)
    assert "t10k-images-idx3-ubyte.gz and" not in str(exc.value)
    assert sorted(p.name for p in raw.iterdir() if not p.name.startswith(".")) == ["t10k-images-idx3-ubyte.gz"]


def test_extracted_files_nothing_verifies_are_part_of_the_run_id(tmp_path, monkeypatch):
    """Pass 77: idx files read without their .gz (nothing checks them) were not part of the run's identity, so a
    run on another data root's different files was handed the first one's record."""
    ids = {}
    for root_name, seed in (("a", 0), ("b", 1), ("c", 0)):
        raw = tmp_path / root_name / "MNIST" / "raw"
        raw.mkdir(parents=True)
        rng = np.random.default_rng(seed)
        (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)))
        (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(20) % 10))
        monkeypatch.setenv("GANBENCH_DATA", str(tmp_path / root_name))
        for name in ("mnist", "stacked-mnist"):
            ids[root_name, name] = ganbench.create_spec("dcgan", name, overrides={"dataset.split": "test"}).run_id
    for name in ("mnist", "stacked-mnist"):
        assert ids["a", name] == ids["c", name] != ids["b", name], name  # the same bytes: the same run


def test_a_suite_records_that_a_dataset_read_verified_files(tmp_path, monkeypatch):
    """Pass 80: a baseline recorded no ``unverified_files`` for MNIST read from its verified archives, which a check
    reads as a baseline made before the key, so it compared runs on any loose files with it without a word."""
    from ganbench.suites import UNVERIFIED, load_suite

    monkeypatch.setenv("GANBENCH_DATA", str(tmp_path / "empty"))  # nothing loose here: nothing unverified
    suite = tmp_path / "s.toml"
    suite.write_text('variants = ["dcgan"]\ndatasets = ["mnist", "stacked-mnist", "ring8"]\nsteps = 2\n')
    loaded = load_suite(suite)
    assert loaded.data_of("mnist")[UNVERIFIED] is None and loaded.data_of("stacked-mnist")[UNVERIFIED] is None
    assert UNVERIFIED not in loaded.data_of("ring8")  # no files: nothing to record


@pytest.mark.slow
def test_a_leaderboard_and_a_table_keep_runs_on_other_unverified_files_apart(cli, tmp_path, monkeypatch):
    """Pass 78: `leaderboard check` on another data root's idx files (nothing verifies them) was judged against the
    baseline ("improved", p 0), and `table` made one run on each the best "among runs scored against the same data"."""
    from .conftest import assert_one_line_error

    monkeypatch.delenv("GANBENCH_DATA", raising=False)
    for root_name, seed in (("a", 0), ("b", 1)):
        raw = tmp_path / root_name / "MNIST" / "raw"
        raw.mkdir(parents=True)
        rng = np.random.default_rng(seed)
        (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)))
        (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(40) % 10))
    suite = tmp_path / "m.toml"
    suite.write_text(
        'variants = ["dcgan"]\ndatasets = ["mnist"]\nsteps = 2\nmetrics = ["fid_classifier"]\neval_samples = 40\n'
        '[set]\ndataset.split = "test"\nnetwork.width = 4\nnetwork.z_dim = 8\nbatch_size = 8\n'
    )
    results = str(tmp_path / "results")
    root_a, root_b = str(tmp_path / "a"), str(tmp_path / "b")
    assert cli("leaderboard", "update", str(suite), "--results", results, "-q", "--data-root", root_a).code == 0
    result = cli("leaderboard", "check", str(suite), "--results", results, "-q", "--data-root", root_b)
    assert_one_line_error(result, "was made on mnist with unverified_files=", "(the data changed since)")
    assert f"leaderboard update {suite} --data-root {root_b}`" in result.err  # pass 80: it read the default root
    empty = str(tmp_path / "empty")  # pass 79: files not here were called changed, and `update` advised
    for command in ("check", "show"):
        result = cli("leaderboard", command, str(suite), "--results", results, "--data-root", empty)
        assert_one_line_error(result, "from files nothing verifies", "pass --data-root (GANBENCH_DATA) naming")
    assert cli("leaderboard", "show", str(suite), "--data-root", root_a).code == 0
    baseline = tmp_path / "m.baseline.json"  # one made before baselines recorded the files: not "changed"
    made = json.loads(baseline.read_text())
    del made["made"]["data"]["mnist"]["unverified_files"]
    baseline.write_text(json.dumps(made))
    assert cli("leaderboard", "check", str(suite), "--results", results, "-q", "--data-root", root_a).code == 0
    made["made"]["data"]["mnist"]["unverified_files"] = None  # pass 80: made on verified files, read as "before"
    baseline.write_text(json.dumps(made))
    result = cli("leaderboard", "check", str(suite), "--results", results, "-q", "--data-root", root_a)
    assert_one_line_error(result, "with unverified_files=null; its data now has unverified_files=", "changed since")
    assert cli("sweep", str(suite), "-o", results, "-q", "--data-root", root_b).code == 0
    monkeypatch.setenv("GANBENCH_DATA", root_b)
    table = cli("table", results)
    rows = [line for line in table.out.splitlines() if line.startswith("| mnist   | dcgan ")]
    assert len(rows) == 2 and not any("**" in row for row in rows), table.out  # neither the best of the other data
    assert "no reference rows for mnist (code.data=" in table.out and "not those its runs read" in table.out, table.out


def test_extracted_files_rewritten_in_one_process_are_read_again(root):
    """Pass 78: the split read was kept per (data root, split), so a Python session that rewrote the files trained
    the new run id on the old images."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    names, times = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"), {}
    triples = torch.tensor([[0, 1, 2], [19, 5, 7]])
    for seed in (0, 1):
        images = np.random.default_rng(seed).integers(0, 256, (20, 28, 28), dtype=np.uint8)
        (raw / names[0]).write_bytes(idx_bytes(images))
        (raw / names[1]).write_bytes(idx_bytes(np.arange(20) % 10))
        for name in names:  # pass 80: rewritten as cp -p or tar x do, mtime kept (one N: one size)
            stat = (raw / name).stat()
            os.utime(raw / name, ns=times.setdefault(name, (stat.st_atime_ns, stat.st_mtime_ns)))
        with pytest.warns(UserWarning, match="have no .gz archive beside them"):
            assert np.array_equal(dataset("mnist", split="test").load()[:, 0].numpy(), images)
        # pass 80: stacked-mnist kept the digits per (device, split, data root): its run trained on the old ones
        stacked = dataset("stacked-mnist", split="test", n_samples=4, eval_samples=4)
        assert torch.equal(stacked.to_model(triples), to_unit_range(torch.from_numpy(images)[triples]))


def test_a_16_bit_colour_key_is_said_as_transparency(tmp_path):
    """Pass 78: Pillow compares a 16-bit PNG's colour key with 8-bit pixels, so no pixel matched and the key that
    did hide a pixel went unsaid."""
    import zlib

    from ganbench.imagefiles import _read

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = np.random.default_rng(0).integers(0, 65536, (8, 8, 3), dtype=np.uint16)
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", 8, 8, 16, 2, 0, 0, 0)  # 16-bit RGB
    key = pixels[0, 0].astype(">u2").tobytes()  # the first pixel is see-through
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tRNS", key) + chunk(b"IDAT", zlib.compress(rows))
    (tmp_path / "keyed.png").write_bytes(png + chunk(b"IEND", b""))
    assert _read(tmp_path / "keyed.png")[1] is True
    pixels[0, 0] = (0, 0, 200)  # pass 79: a key under 256, which Pillow compares with the pixels' high bytes
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tRNS", struct.pack(">HHH", 0, 0, 200))
    (tmp_path / "small.png").write_bytes(png + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    assert _read(tmp_path / "small.png")[1] is True


@needs_mnist
def test_files_their_archives_verify_leave_the_run_id_as_the_options_make_it(mnist_test_root):
    spec = ganbench.create_spec("dcgan", "mnist", overrides={"dataset.split": "test"})
    assert spec.code["dataset"].count(" ") == 2, spec.code  # "ganbench.datasets.torchvision_sets 0.1.0 <sha>"


def test_extracted_files_without_archives_are_read_with_a_warning_and_junk_is_named(mnist_test_root, monkeypatch):
    import gzip

    from ganbench.datasets import torchvision_sets

    raw = mnist_test_root / "MNIST" / "raw"
    for name in MNIST_TEST_FILES:
        (raw / name.removesuffix(".gz")).write_bytes(gzip.decompress((raw / name).read_bytes()))
        (raw / name).unlink()
    with pytest.warns(UserWarning, match="have no .gz archive beside them to verify them against"):
        assert dataset("mnist", split="test").load().shape == (10_000, 1, 28, 28)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"junk!")
    monkeypatch.setattr(torchvision_sets, "_splits", {})  # a new process
    with pytest.raises(GanbenchError) as exc, warnings.catch_warnings():
        warnings.simplefilter("error")  # the error alone: no warning before it
        dataset("mnist", split="test").load()
    one_line_error(exc, "t10k-labels-idx1-ubyte is not a valid idx file", "delete it")
    labels = np.arange(10_000) % 10
    labels[7] = 200  # a valid idx file of labels MNIST has not
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    monkeypatch.setattr(torchvision_sets, "_splits", {})
    with pytest.raises(GanbenchError) as exc, warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset("mnist", split="test").load()
    one_line_error(exc, "10000 labels from 0 to 200, not (N, 1, 28, 28) and N labels 0..9")


# --- CIFAR-10 in its real archive layout -----------------------------------------------------------


def cifar_archive(folder: Path, per_batch: int = 4) -> dict[str, tuple[np.ndarray, list[int]]]:
    """cifar-10-python.tar.gz as published: cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}."""
    rng = np.random.default_rng(3)
    batches = {}
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:

        def add(name: str, content: dict) -> None:
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
            data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            labels = [(i + j) % 10 for j in range(per_batch)]
            batches[name] = data, labels
            add(
                name,
                {"batch_label": name, "labels": labels, "data": data, "filenames": [f"{name}_{j}.png" for j in labels]},
            )
        add("batches.meta", {"label_names": [f"class{c}" for c in range(10)], "num_cases_per_batch": per_batch})
    return batches


@pytest.fixture
def served_cifar(server, monkeypatch):
    import torchvision.datasets

    folder, url = server
    batches = cifar_archive(folder)
    staging = folder / "unpacked"
    with tarfile.open(folder / "cifar-10-python.tar.gz") as tar:
        tar.extractall(staging)
    sums = {name: md5(staging / "cifar-10-batches-py" / name) for name in batches}
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "url", f"{url}cifar-10-python.tar.gz")
    monkeypatch.setattr(cls, "tgz_md5", md5(folder / "cifar-10-python.tar.gz"))
    monkeypatch.setattr(cls, "train_list", [[f"data_batch_{k}", sums[f"data_batch_{k}"]] for k in range(1, 6)])
    monkeypatch.setattr(cls, "test_list", [["test_batch", sums["test_batch"]]])
    return folder, batches


def test_cifar10_downloads_verifies_and_loads_each_split(served_cifar, root):
    _, batches = served_cifar
    test = dataset("cifar10", split="test")
    images = test.load()
    data, labels = batches["test_batch"]
    assert images.shape == (4, 3, 32, 32) and images.dtype == torch.uint8
    assert torch.equal(images, torch.from_numpy(data).reshape(4, 3, 32, 32))
    assert test.labels().tolist() == labels and test.labels().dtype == torch.int64
    assert (root / "cifar-10-python.tar.gz").is_file() and (root / "cifar-10-batches-py" / "test_batch").is_file()
    train = dataset("cifar10", split="train", n_samples=7)
    assert dataset("cifar10", split="train").load().shape == (20, 3, 32, 32)
    assert train.load().shape == (7, 3, 32, 32)
    expected = np.concatenate([batches[f"data_batch_{k}"][0] for k in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert torch.equal(dataset("cifar10", split="train").load(), torch.from_numpy(expected))
    assert test.default_network == "resnet" and test.available() is True


def test_cifar10_archive_that_fails_its_md5_is_refused(served_cifar, root, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(GanbenchError) as exc:
        dataset("cifar10", split="test").load()
    one_line_error(exc, "test_batch", "cifar-10-python.tar.gz", "md5")
    assert not (root / "cifar-10-batches-py").exists()


# --- digits ---------------------------------------------------------------------------------------


def test_digits_are_scikit_learns_8x8_images_scaled_to_uint8():
    digits = ganbench.get_dataset("digits")
    images, labels = digits.load(), digits.labels()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.uint8
    assert int(images.max()) == 255 and int(images.min()) == 0
    assert labels.dtype == torch.int64 and sorted(labels.unique().tolist()) == list(range(10))
    from sklearn.datasets import load_digits

    raw = load_digits()
    assert torch.equal(images[:, 0], torch.from_numpy(np.rint(raw.images * 255 / 16).astype(np.uint8)))
    assert digits.feature_spaces == ("classifier",) and digits.eval_samples == 1797 and digits.n_classes == 10
    assert digits.default_network == "dcgan" and digits.available() is None


# --- Stacked MNIST on the real test digits -----------------------------------------------------------


def test_stacked_mnist_items_are_triples_gathered_into_channels(mnist_test_root):
    stacked = dataset("stacked-mnist", split="test", n_samples=1000)
    mnist = dataset("mnist", split="test")
    digits = mnist.load()
    items = stacked.load()
    assert items.shape == (1000, 3) and items.dtype == torch.int64
    assert int(items.min()) >= 0 and int(items.max()) < 10_000
    assert torch.equal(items, dataset("stacked-mnist", split="test", n_samples=1000).load())
    assert not torch.equal(items, dataset("stacked-mnist", split="test", n_samples=1000, data_seed=1).load())
    batch = stacked.to_model(items[:16])
    assert batch.shape == (16, 3, 28, 28) and batch.dtype == torch.float32
    assert float(batch.min()) >= -1 and float(batch.max()) <= 1
    for c in range(3):
        assert torch.equal(batch[:, c], to_unit_range(digits[items[:16, c], 0]))
    assert stacked.stacked_channels == 3 and stacked.n_classes == 0 and stacked.labels() is None
    assert stacked.shape == (3, 28, 28) and stacked.available() is True
    assert stacked.metrics == ("stacked-modes", "fid", "kid")
    images, labels = stacked.classifier_data()
    assert images.shape == (10_000, 1, 28, 28) and torch.equal(labels, mnist.labels())


def test_stacked_mnist_reference_and_triple_labels(mnist_test_root):
    stacked = dataset("stacked-mnist", split="test")
    mnist = dataset("mnist", split="test")
    reference, triples = stacked.reference(), stacked.triple_labels()
    assert stacked.eval_samples == 26_000
    assert reference.shape == (26_000, 3, 28, 28) and reference.dtype == torch.uint8
    assert triples.shape == (26_000, 3) and triples.dtype == torch.int64
    flat = mnist.load()[:, 0].flatten(1)
    for i in (0, 1, 12_345, 25_999):  # each channel is the MNIST digit its label says
        for c in range(3):
            row = (flat == reference[i, c].flatten()).all(1).nonzero()[:, 0]
            assert int(triples[i, c]) in mnist.labels()[row].tolist()
    modes = triples[:, 0] * 100 + triples[:, 1] * 10 + triples[:, 2]
    assert len(modes.unique()) == 1000
    assert torch.equal(reference, stacked.reference())
    assert not torch.equal(stacked.reference_triples()[:1000], stacked.load()[:1000])  # their own draw


# --- a user's own images -----------------------------------------------------------------------------


def save_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def files_dataset(path: Path) -> ganbench.Dataset:
    """What ``--dataset PATH`` makes: the hook's options applied to the registered prototype."""
    name, options = resolve_dataset_name(str(path))
    assert name == "files"
    return with_options(ganbench.get_dataset(name), options, "dataset 'files'")


@pytest.fixture
def class_folder(tmp_path) -> tuple[Path, dict[str, list[np.ndarray]]]:
    rng = np.random.default_rng(4)
    folder = tmp_path / "pets"
    content = {"dog": [], "cat": []}
    for cls, n in (("dog", 3), ("cat", 2)):
        for i in range(n):
            image = rng.integers(0, 256, (8, 8), dtype=np.uint8)
            save_png(folder / cls / f"{i}.png", image)
            content[cls].append(image)
    return folder, content


def test_folder_with_class_subfolders_gives_sorted_class_labels(class_folder):
    folder, content = class_folder
    ds = files_dataset(folder)
    images, labels = ds.load(), ds.labels()
    assert images.shape == (5, 1, 8, 8) and images.dtype == torch.uint8  # all grey: one channel
    assert labels.tolist() == [0, 0, 1, 1, 1]  # cat, dog: sorted names
    assert torch.equal(images[:, 0], torch.from_numpy(np.stack(content["cat"] + content["dog"])))
    assert ds.n_classes == 2 and ds.shape == (1, 8, 8) and "classifier" in ds.feature_spaces
    assert ds.path == str(folder.resolve()) and len(ds.sha256) == 64


def test_flat_folder_is_unlabelled_and_grey_joins_rgb_as_three_channels(tmp_path):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    save_png(tmp_path / "flat" / "a.png", rgb)
    save_png(tmp_path / "flat" / "b.png", grey)
    ds = files_dataset(tmp_path / "flat")
    images = ds.load()
    assert images.shape == (2, 3, 8, 8) and ds.labels() is None and ds.n_classes == 0
    assert torch.equal(images[0], torch.from_numpy(rgb).permute(2, 0, 1))
    assert all(torch.equal(images[1, c], torch.from_numpy(grey)) for c in range(3))
    assert ds.feature_spaces == ("inception",) and ds.eval_samples == 2


def test_one_class_offers_no_classifier_space_and_says_why(tmp_path):
    """A folder of one class subfolder offered the classifier space, which then refused to train on one class: offline,
    the Inception advice named classifier metrics and the classifier's named Inception's, in a loop (pass 65)."""
    from ganbench.errors import OptionError
    from ganbench.selection import select_metrics

    rng = np.random.default_rng(7)
    for i in range(4):
        save_png(tmp_path / "one" / "cats" / f"{i}.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    np.savez(tmp_path / "one.npz", images=rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8), labels=np.zeros(4, int))
    for data, labelled in ((tmp_path / "one", "a subfolder per class"), (tmp_path / "one.npz", "an array 'labels'")):
        ds = files_dataset(data)
        assert ds.n_classes == 1 and ds.feature_spaces == ("inception",)
        said = f"(it offers inception; a classifier space needs labelled images of two classes or more: {labelled}"
        with pytest.raises(OptionError, match=re.escape(said)):
            select_metrics(ds, ["fid_classifier"])


def test_float_images_rounding_flattens_to_one_or_two_levels_are_refused(tmp_path):
    """Pass 77: floats in [0, 0.001] (images divided by 255 twice) were rounded to all-black images, then trained
    and scored without a word. Float images that span [0, 1], binary ones included, are read."""
    from ganbench.datasets.files import ImagesError, read_images

    rng = np.random.default_rng(3)
    u8 = rng.integers(0, 256, (6, 8, 8, 1), dtype=np.uint8)
    for name, images, levels in (("tiny", u8 / 255 * 1e-3, "one level"), ("twice", u8 / 255 / 255, "two levels")):
        np.savez(tmp_path / f"{name}.npz", images=images.astype(np.float32))
        with pytest.raises(ImagesError) as exc:
            read_images(tmp_path / f"{name}.npz")
        one_line_error(exc, f"rounded to 0..255 they are {levels}", "were they divided by 255 twice?")
    np.savez(tmp_path / "binary.npz", images=(u8 > 128).astype(np.float32))
    assert read_images(tmp_path / "binary.npz").images.unique().tolist() == [0, 255]
    np.savez(tmp_path / "flat.npz", images=np.full((6, 8, 8, 1), 0.5, np.float32))  # constant: said elsewhere
    assert read_images(tmp_path / "flat.npz").images.unique().tolist() == [128]


def test_opaque_images_with_an_alpha_channel_are_not_said_to_lose_transparency(tmp_path):
    """Pass 77: images saved as RGBA or LA whose every pixel is opaque were "read without transparency"."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.full((8, 8, 4), 255, np.uint8), "RGBA").save(folder / "a.png")
    Image.fromarray(np.full((8, 8, 2), 255, np.uint8), "LA").convert("RGBA").save(folder / "b.png")
    palette = Image.fromarray(np.zeros((8, 8), np.uint8), "P")
    palette.putpalette([9, 9, 9] * 256)
    palette.save(folder / "c.png", transparency=bytes([255, 0]))  # entry 1 see-through, no pixel uses it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image_set(folder).shape == (3, 3, 8, 8)
    see_through = np.full((8, 8, 4), 255, np.uint8)
    see_through[0, 0, 3] = 254
    Image.fromarray(see_through, "RGBA").save(folder / "d.png")
    with pytest.warns(UserWarning, match="1 image with transparency"):
        load_image_set(folder)


def test_images_rewritten_with_their_mtime_kept_are_read_again(tmp_path):
    """Pass 80: files were known by size and mtime, which cp -p, tar x and rsync -t keep: a Python session handed a
    rewritten .npz (or folder) of the same shape its old images, under the old sha256 and run id."""
    from ganbench.datasets.files import read_images

    folder = tmp_path / "pngs"
    for seed in (0, 1):
        nhwc = np.random.default_rng(seed).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
        np.savez(tmp_path / "x.npz", images=nhwc)
        shutil.rmtree(folder, ignore_errors=True)
        save_png_folder(folder, nhwc)
        for path in (tmp_path / "x.npz", *folder.iterdir()):
            os.utime(path, ns=(0, 10**18))  # the same mtime each time
        for path in (tmp_path / "x.npz", folder):
            assert np.array_equal(read_images(path).images.permute(0, 2, 3, 1).numpy(), nhwc), (path, seed)


def test_npz_with_and_without_labels(tmp_path):
    rng = np.random.default_rng(6)
    nhwc = rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    np.savez(tmp_path / "labelled.npz", images=nhwc, labels=np.array([0, 1, 2, 0, 1, 2]))
    ds = files_dataset(tmp_path / "labelled.npz")
    assert torch.equal(ds.load(), torch.from_numpy(nhwc).permute(0, 3, 1, 2))
    assert ds.labels().tolist() == [0, 1, 2, 0, 1, 2] and ds.n_classes == 3
    unit = rng.random((5, 1, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "plain.npz", x=unit, y=np.arange(5) % 2)
    np.savez(tmp_path / "unlabelled.npz", images=unit)
    assert files_dataset(tmp_path / "plain.npz").labels().tolist() == [0, 1, 0, 1, 0]
    plain = files_dataset(tmp_path / "unlabelled.npz")
    assert plain.labels() is None
    assert torch.equal(plain.load(), torch.from_numpy(np.rint(unit * 255).astype(np.uint8)))
    # a dict saved with torch.save under an .npz name: its images were read, its labels dropped unsaid (pass 54)
    torch.save({"images": torch.from_numpy(nhwc), "labels": torch.tensor([2, 1, 0, 2, 1, 0])}, tmp_path / "t.npz")
    saved = files_dataset(tmp_path / "t.npz")
    assert torch.equal(saved.load(), torch.from_numpy(nhwc).permute(0, 3, 1, 2))
    assert saved.labels().tolist() == [2, 1, 0, 2, 1, 0] and saved.n_classes == 3
    for labels, said in (  # not a tensor: dropped unsaid (pass 55); bool: an error naming no file
        ([2, 1, 0, 2, 1, 0], "its 'labels' entry is a list, not a tensor; save it as one"),
        (torch.tensor([True, False] * 3), f"the label tensor in {tmp_path / 'odd.npz'} must be real numbers, not bool"),
    ):
        torch.save({"images": torch.from_numpy(nhwc), "labels": labels}, tmp_path / "odd.npz")
        with pytest.raises(GanbenchError, match=re.escape(said)):
            files_dataset(tmp_path / "odd.npz").labels()


def test_a_folder_that_is_not_of_images_is_refused_before_its_walk_goes_far(tmp_path, monkeypatch):
    """`-d /` walked the whole disk as classes bin, etc, ... before anything refused it: the first class folder
    without images ends the walk, and so does a class folder whose first entries hold none."""
    import ganbench.imagefiles

    walked = []
    listdir = ganbench.imagefiles.os.listdir
    monkeypatch.setattr(ganbench.imagefiles.os, "listdir", lambda p: walked.append(Path(p).name) or listdir(p))
    (tmp_path / "disk" / "bin").mkdir(parents=True)
    (tmp_path / "disk" / "bin" / "ls").write_bytes(b"\x7fELF")
    save_png(tmp_path / "disk" / "usr" / "share" / "icon.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "disk")
    one_line_error(exc, f"folder {tmp_path / 'disk'} holds no images (.jpg", "nor below its first, bin; name a fold")
    assert "usr" not in walked and "share" not in walked
    for i in range(12):
        (tmp_path / "home" / "me" / f"notes{i}.txt").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "home" / "me" / f"notes{i}.txt").write_text("")
    save_png(tmp_path / "home" / "me" / "zz" / "late.png", np.zeros((8, 8), np.uint8))
    monkeypatch.setattr(ganbench.imagefiles, "MAX_ENTRIES_WITHOUT_IMAGES", 10)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path)
    one_line_error(exc, f"class folder {tmp_path / 'home'} holds no image among the first 10 entries below it")
    save_png(tmp_path / "home" / "me" / "a.png", np.zeros((8, 8), np.uint8))  # an image early: the walk goes on
    assert len(files_dataset(tmp_path / "home").load()) == 2


def test_user_image_errors_are_one_line(tmp_path):
    save_png(tmp_path / "sizes" / "a.png", np.zeros((8, 8), np.uint8))
    save_png(tmp_path / "sizes" / "b.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "sizes")
    one_line_error(exc, "differ in size", "a.png is 8x8", "b.png is 16x16")

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "empty")
    one_line_error(exc, "holds no images", str((tmp_path / "empty").resolve()))

    save_png(tmp_path / "broken" / "good.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "broken" / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "broken")
    one_line_error(exc, "cannot read image", "bad.png (cannot identify image file); remove or replace it")
    assert str(exc.value).count("bad.png") == 1  # Pillow's message named it again, whole

    np.savez(tmp_path / "bad_labels.npz", images=np.zeros((3, 8, 8, 1), np.uint8), labels=np.array([1, 2, 3]))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "bad_labels.npz")
    one_line_error(exc, "class 0 has no image")

    with pytest.raises(GanbenchError) as exc:
        ganbench.get_dataset("files").load()
    one_line_error(exc, "'path'", "--dataset PATH")


def test_a_folder_or_class_holding_only_hidden_entries_says_they_are_skipped(tmp_path):
    """ "holds no images" of a folder whose images are all hidden (.a/, .x.png): true to ganbench, not to its user."""
    save_png(tmp_path / "top" / ".a" / "0.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "top")
    one_line_error(exc, "holds no images", "but hidden entries (.a, ...), skipped: to use them, rename them without")
    save_png(tmp_path / "first" / "a" / ".x.png", np.zeros((8, 8), np.uint8))
    save_png(tmp_path / "first" / "b" / "0.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(GanbenchError) as exc:  # the walk's early stop, at the first class folder
        files_dataset(tmp_path / "first")
    one_line_error(exc, "nor below its first, a but hidden entries (.x.png, ...), skipped")
    save_png(tmp_path / "cls" / "a" / "0.png", np.zeros((8, 8), np.uint8))
    save_png(tmp_path / "cls" / "b" / ".x.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "cls")
    one_line_error(exc, "class folder", "b holds no images but hidden entries (.x.png, ...), skipped", "remove it")


def test_labels_far_out_of_range_are_one_line_at_once(tmp_path):
    np.savez(tmp_path / "huge.npz", images=np.zeros((3, 8, 8, 1), np.uint8), labels=np.array([0, 1, 2**40]))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(tmp_path / "huge.npz")
    one_line_error(exc, "class 2 has no image")


def test_a_link_back_up_a_class_folder_is_walked_once(class_folder):
    """ImageFolder follows links; a loop (a link to a folder above) would repeat images or never end."""
    folder, _ = class_folder
    (folder / "dog" / "up").symlink_to(folder, target_is_directory=True)
    (folder / "cat" / "self").symlink_to(folder / "cat", target_is_directory=True)
    ds = files_dataset(folder)
    assert ds.labels().tolist() == [0, 0, 1, 1, 1]


def test_sixteen_bit_pngs_of_a_training_folder_are_scaled(tmp_path):
    from PIL import Image

    (tmp_path / "deep").mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), 257 * (100 + i), dtype=np.uint16)).save(tmp_path / "deep" / f"{i}.png")
    assert files_dataset(tmp_path / "deep").load()[:, 0, 0, 0].tolist() == [100, 101]


def test_sha256_follows_the_pixels_and_a_changed_set_is_refused(class_folder):
    folder, content = class_folder
    before = files_dataset(folder)
    changed = content["cat"][0].copy()
    changed[0, 0] ^= 1
    save_png(folder / "cat" / "0.png", changed)
    after = files_dataset(folder)
    assert after.sha256 != before.sha256
    with pytest.raises(GanbenchError) as exc:
        dataclasses.replace(before).load()  # the old spec's options, on the new pixels
    one_line_error(exc, "changed", str(folder.resolve()), "--dataset")
    save_png(folder / "cat" / "0.png", content["cat"][0])
    assert files_dataset(folder).sha256 == before.sha256  # the same pixels: the same digest
    for typed in ("xyz", "0" * 63, "g" * 64):  # a digest typed wrong was told the images had changed (pass 66)
        with pytest.raises(GanbenchError) as exc:
            dataclasses.replace(before, sha256=typed)
        one_line_error(exc, "option 'sha256' is the images' digest, 64 hex digits, not", "leave it out")
    assert dataclasses.replace(before, sha256=before.sha256.upper()).sha256 == before.sha256  # capitals: the same


def test_resolve_dataset_claims_paths_and_ignores_registered_names(class_folder, tmp_path, monkeypatch):
    folder, _ = class_folder
    np.savez(tmp_path / "set.npz", images=np.zeros((2, 8, 8, 1), np.uint8))
    claimed = call_hook("resolve_dataset", name=str(folder))
    assert claimed[0] == "files" and claimed[1]["path"] == str(folder.resolve())
    assert call_hook("resolve_dataset", name=str(tmp_path / "set.npz"))[0] == "files"
    monkeypatch.chdir(tmp_path)
    shutil.copytree(folder, tmp_path / "mnist")  # a folder that shares a registered name
    assert call_hook("resolve_dataset", name="mnist") is None
    assert call_hook("resolve_dataset", name="no-such-folder") is None
    (tmp_path / "notes.txt").write_text("not images")
    assert call_hook("resolve_dataset", name="notes.txt") is None
    name, options = resolve_dataset_name("pets")  # a relative path is recorded absolute
    assert name == "files" and options == {"path": str(folder.resolve()), "sha256": claimed[1]["sha256"]}


def test_labels_at_the_top_of_uint64_are_one_error_without_an_overflow_warning():
    import warnings

    from ganbench.datasets.files import ImagesError, _check_labels

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImagesError, match="class 2 has no image"):
            _check_labels(np.array([0, 1, 2**64 - 1], dtype=np.uint64), 3, "x.npz:labels")


@pytest.mark.parametrize("link, fragment", [(".", "is a link to the folder"), ("..", "itself or one above it"),
                                            ("cat", "class folders cat and kitty in")])  # fmt: skip
def test_a_class_folder_that_is_a_link_to_the_top_or_to_another_class_is_one_line(class_folder, link, fragment):
    """A link to the folder itself was a class of every image (and advice to move images that were already where
    it asked); a second name of a class counted its images under two labels."""
    folder, _ = class_folder
    (folder / "kitty").symlink_to(folder / link if link != "." else folder, target_is_directory=True)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, fragment, "remove the link")


def test_a_link_deep_in_a_class_folder_to_a_folder_above_is_one_line_not_a_walk_outside(class_folder):
    """A link below a class folder to a folder above the image folder walked the images around it (30 images
    from a sibling folder counted as cats, without a word). Links to folders kept elsewhere are still followed."""
    folder, _ = class_folder
    elsewhere = folder.parent / "elsewhere"
    for i in range(3):
        save_png(elsewhere / f"{i}.png", np.full((8, 8), i, np.uint8))
    (folder / "cat" / "kept").symlink_to(elsewhere, target_is_directory=True)  # images kept elsewhere: followed
    assert files_dataset(folder).labels().tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    (folder / "dog" / "deeper").mkdir()
    (folder / "dog" / "deeper" / "up").symlink_to(folder.parent.parent, target_is_directory=True)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, "deeper/up is a link to the folder", "itself or one above it", "remove the link")


@pytest.mark.parametrize("into", ["subfolder", "whole class", "shared elsewhere"])
def test_a_link_deep_in_one_class_into_another_class_is_one_line(class_folder, into):
    """A link in cat to dog's subfolder labelled dog's images cat, without a word, or (with all of dog's images
    behind it) called dog empty; two classes linking one folder kept elsewhere gave it whichever came first."""
    folder, _ = class_folder
    sub = folder / "dog" / "sub"
    save_png(sub / "9.png", np.zeros((8, 8), np.uint8))
    if into == "shared elsewhere":
        sub = folder.parent / "elsewhere"
        save_png(sub / "9.png", np.zeros((8, 8), np.uint8))
        (folder / "dog" / "kept").symlink_to(sub, target_is_directory=True)
    (folder / "cat" / "deep").mkdir()
    (folder / "cat" / "deep" / "zz").symlink_to(folder / "dog" if into == "whole class" else sub)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, "cat/deep/zz", "are one folder (a link), under the class folders", "remove the link")


@pytest.mark.parametrize("link", ["hard", "symbolic"])
def test_an_image_file_linked_into_two_classes_counts_under_both_with_one_warning(class_folder, link):
    """Counted under both labels, as ImageFolder counts it, but no longer without a word: the warning names both
    names and says they are one file. A folder de-duplicated with hard links is a user's data: not refused."""
    folder, _ = class_folder
    make = (lambda new, old: new.hardlink_to(old)) if link == "hard" else (lambda new, old: new.symlink_to(old))
    make(folder / "dog" / "9.png", folder / "cat" / "0.png")
    make(folder / "dog" / "8.png", folder / "cat" / "1.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = files_dataset(folder)
        labels, images = ds.labels(), ds.load()
    assert labels.tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert torch.equal(images[5], images[1]) and torch.equal(images[6], images[0])  # dog/8 is cat/1, dog/9 cat/0
    said = {str(w.message) for w in caught}
    assert len(said) == 1, said
    (message,) = said
    assert "\n" not in message
    for fragment in ("cat/1.png and dog/8.png", "are one image file (a link), counted twice under two labels",
                     "(and 1 more like it); remove the links"):  # fmt: skip
        assert fragment in message, message


def test_an_image_file_linked_twice_into_one_folder_is_said_once_and_unlinked_ones_say_nothing(class_folder):
    folder, _ = class_folder
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a folder without links, nor for a link to a folder elsewhere
        files_dataset(folder).load()
    (folder / "cat" / "again.png").symlink_to("0.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files_dataset(folder).load()
    (message,) = {str(w.message) for w in caught}
    assert "cat/0.png and cat/again.png" in message and "counted twice;" in message and "labels" not in message
    (folder / "cat" / "again.png").unlink()
    (folder / "dog" / "9.png").hardlink_to(folder / "cat" / "0.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(load_image_set(folder)) == 6  # samples to score: their folders' names are not labels
    (message,) = {str(w.message) for w in caught}
    assert "cat/0.png and dog/9.png" in message and "counted twice;" in message and "labels" not in message


def test_entries_named_as_images_that_are_no_files_are_skipped_with_one_warning(class_folder):
    """A link to nothing, a FIFO and a link to a device named *.png were skipped without a word (as ImageFolder
    skips them): an image the user meant to train on could be missing unnoticed."""
    folder, _ = class_folder
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digest = files_dataset(folder).sha256
    (folder / "cat" / "a-lost.png").symlink_to(folder / "nowhere.png")
    os.mkfifo(folder / "dog" / "pipe.png")
    (folder / "dog" / "zero.png").symlink_to("/dev/null")
    (folder / "dog" / ".hidden.png").symlink_to(folder / "nowhere.png")  # hidden: skipped as before, unsaid
    (folder / "dog" / "notes.txt").symlink_to(folder / "nowhere.txt")  # not named as an image: unsaid
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert files_dataset(folder).sha256 == digest  # the same images, the same run
        assert len(load_image_set(folder / "dog")) == 3
    said = [str(w.message) for w in caught]
    assert said == [
        f"{folder}: 3 entries named as images are not image files, skipped (the first cat/a-lost.png, a symbolic "
        "link to nothing); restore or remove them",
        f"{folder / 'dog'}: 2 entries named as images are not image files, skipped (the first pipe.png, a FIFO); "
        "restore or remove them",
    ], said


@pytest.mark.parametrize("locked", ["dog/sub", "dog", "."])
def test_a_folder_that_cannot_be_read_is_one_line_not_skipped(class_folder, monkeypatch, locked):
    """An unreadable folder below a class folder was skipped, as os.walk skips it: a non-root user trained on
    the images around it, without a word. An unreadable class folder was said to hold no images; the top, a
    traceback."""
    folder, _ = class_folder
    save_png(folder / "dog" / "sub" / "9.png", np.zeros((8, 8), np.uint8))
    barred = (folder / locked).resolve()
    listdir, iterdir = ganbench.imagefiles.os.listdir, Path.iterdir

    def refuse(path):
        if Path(path).resolve() == barred:
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(ganbench.imagefiles.os, "listdir", lambda p: refuse(p) or listdir(p))
    monkeypatch.setattr(Path, "iterdir", lambda self: refuse(self) or iterdir(self))
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    shown = "pets" if locked == "." else f"pets/{locked}"
    one_line_error(exc, f"cannot read the folder {folder.parent / shown} (Permission denied); make it readable")


def test_an_image_this_user_may_not_read_is_not_called_damaged_and_an_empty_one_says_so(class_folder, monkeypatch):
    """ "remove or replace it" of a file that is fine but unreadable (chmod 000) would drop an image from the data;
    an empty file was "cannot identify image file"."""
    from PIL import Image

    folder, _ = class_folder
    barred, open_image = (folder / "cat" / "1.png").resolve(), Image.open

    def refuse(path, *args, **kwargs):
        if Path(path).resolve() == barred:
            raise PermissionError(13, "Permission denied", str(path))
        return open_image(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, "cat/1.png (Permission denied); make it readable (chmod a+r, or run as its owner)")
    assert "remove" not in str(exc.value)
    monkeypatch.setattr(Image, "open", open_image)
    (folder / "dog" / "0.png").write_bytes(b"")
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, "cannot read image", "dog/0.png (an empty file, 0 bytes); remove or replace it")


def test_an_entry_that_cannot_be_looked_at_is_one_line_naming_it(class_folder, monkeypatch):
    """A link into a folder this user may not enter (/proc/1/cwd, or mode r-- for a non-root user): a
    PermissionError traceback from is_dir() before."""
    folder, _ = class_folder
    (folder / "cat" / "locked").symlink_to(folder / "dog", target_is_directory=True)
    stat = Path.stat

    def denied(self, *args, **kwargs):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    with pytest.raises(GanbenchError) as exc:
        files_dataset(folder)
    one_line_error(exc, "cannot look at", "cat/locked (Permission denied)", "make it readable, or remove it")


@pytest.mark.parametrize("what", ["fifo", "device", "foreign file", "hard link", "folder"])
def test_an_extracted_file_that_is_a_fifo_a_device_or_a_link_out_is_never_written_through(
    served_idx, root, monkeypatch, tmp_path, what
):
    """A FIFO there hung the extraction; a link to /dev/zero was read without end; a link to a file outside the
    data root had that file overwritten with MNIST's labels, without a word."""
    import os

    from ganbench.datasets import torchvision_sets

    name, cls_name, _, splits = served_idx
    first = dataset(name, split="test").load().clone()
    plain = root / cls_name / "raw" / "t10k-labels-idx1-ubyte"
    plain.unlink()
    precious = tmp_path / "precious.txt"
    precious.write_text("my notes")
    if what == "fifo":
        os.mkfifo(plain)
    elif what == "folder":  # "cannot extract ...gz (Is a directory)": the archive named, not the folder in the way
        plain.mkdir()
    elif what == "hard link":  # its other name, outside the data root, was overwritten with MNIST's labels
        os.link(precious, plain)
    else:
        plain.symlink_to("/dev/zero" if what == "device" else precious)
    monkeypatch.setattr(torchvision_sets, "_splits", {})  # a new process
    if what in ("foreign file", "hard link"):
        assert torch.equal(dataset(name, split="test").load(), first)
        assert precious.read_text() == "my notes" and not plain.is_symlink() and plain.is_file()
        return
    with pytest.raises(GanbenchError) as exc:
        dataset(name, split="test").load()
    one_line_error(exc, str(plain), "not a file; remove it, and ganbench extracts it again")


def test_a_registered_name_beside_data_of_that_name_wins_and_says_so(tmp_path, monkeypatch):
    """`-d digits` beside a folder ./digits of images trained on scikit-learn's digits without a word (pass 49 F2);
    it still does (a registered name wins), but a warning names the folder and how to pick it."""
    from ganbench.evaluation import resolve_dataset
    from ganbench.resolve import create_spec
    from ganbench.suites import load_suite

    images = np.random.default_rng(0).integers(0, 256, (24, 8, 8, 3), dtype=np.uint8)
    save_png_folder(tmp_path / "digits", images)
    (tmp_path / "ring8").mkdir()  # a folder of no images (MNIST's raw files, say) is not data of that name
    (tmp_path / "ring8" / "t10k-images-idx3-ubyte").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning) as said:
        assert create_spec("nsgan", "digits").dataset == "digits"
        assert create_spec("nsgan", "ring8").dataset == "ring8"
        assert create_spec("nsgan", "./digits").dataset == "files"
    assert [str(w.message) for w in said if "registered dataset" in str(w.message)] == [
        "dataset 'digits' is the registered dataset of that name, not the data at ./digits; to train "
        "on that data, name it as a path: './digits'"
    ]

    suite_folder = tmp_path / "suites"
    suite_folder.mkdir()
    save_png_folder(suite_folder / "digits", images)
    text = 'variants = ["nsgan"]\ndatasets = ["digits"]\nseeds = [0]\nsteps = 2\n'
    (suite_folder / "s.toml").write_text(text)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # a suite reads paths beside itself: its folder's digits is named
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        suite = load_suite(suite_folder / "s.toml")
        assert [spec.dataset for spec in suite.specs()] == ["digits"] and suite.outputs()
    told = [str(w.message) for w in said if "registered dataset" in str(w.message)]
    assert len(told) == 1 and told[0].endswith("to train on that data, write './digits' in the suite")  # once
    (suite_folder / "s.toml").write_text(text.replace('"digits"', '"./digits"'))  # run from its own folder by
    monkeypatch.chdir(suite_folder)  # its bare name, "./digits" was "digits", the registered one (pass 93)
    specs = {spelt: load_suite(spelt).specs()[0] for spelt in ("s.toml", "./s.toml", str(suite_folder / "s.toml"))}
    assert {s.dataset for s in specs.values()} == {"files"} and len({s.run_id for s in specs.values()}) == 1
    (suite_folder / "t.toml").write_text(text.replace('"digits"', '"./ring8"'))  # no such folder: refused
    with pytest.raises(GanbenchError, match=r"dataset .\./ring8. is neither a registered dataset"):
        load_suite("t.toml").specs()
    monkeypatch.chdir(tmp_path / "elsewhere")
    save_png_folder(tmp_path / "elsewhere" / "ring8", images)  # `eval -d ring8` said nothing (pass 52 F6)
    with pytest.warns(UserWarning, match=r"dataset 'ring8' is the registered dataset of that name, not the data at"):
        resolve_dataset("ring8", None)


def test_transparency_frames_and_gifs_are_read_as_torchvision_reads_them_and_said(tmp_path):
    """Two see-through images that look alike trained as pure red and pure blue, a 3-page TIFF as one image and
    GIFs beside PNGs were left out, all without a word (pass 50 F4). Still read as ImageFolder reads them (the same
    data as torchvision's), now said once each, naming the first file."""
    from ganbench.datasets.files import read_images

    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, channel in (("a.png", 0), ("b.png", 2)):
        pixels = np.zeros((8, 8, 4), np.uint8)
        pixels[..., channel] = 255  # alpha 0: both invisible
        Image.fromarray(pixels, "RGBA").save(folder / name)
    keyed = np.full((8, 8, 3), 7, np.uint8)
    Image.fromarray(keyed).save(folder / "c.png", transparency=(7, 7, 7))  # RGB with a colour key (pass 51 F5)
    palette = Image.fromarray(np.zeros((8, 8), np.uint8), "P")  # per-entry alpha: Pillow's "convert to RGBA" advice
    palette.putpalette([9, 9, 9] * 256)  # was told as damage (pass 52 F5)
    palette.save(folder / "d.png", transparency=bytes([0] * 4 + [255] * 12))
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 128, 255)]
    frames[0].save(folder / "m.tif", save_all=True, append_images=frames[1:])
    frames[1].save(folder / "g.gif", save_all=True, append_images=frames[2:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = load_image_set(folder)
    assert images[:, :, 0, 0].tolist() == [[255, 0, 0], [0, 0, 255], [7, 7, 7], [9, 9, 9], [0, 0, 0]]
    shown = folder  # outside the working folder: named in full
    assert sorted(str(w.message) for w in caught) == [
        f"{shown}: 1 file of several frames (the first m.tif, 3): only the first frame is read, as torchvision's "
        "loader reads it; save each frame as an image of its own if they are data",
        f"{shown}: 1 image of a format torchvision's ImageFolder does not read (.gif), skipped as it skips them (the "
        "first g.gif); convert them to .png to train on them",
        f"{shown}: 4 images with transparency (the first a.png) read without it, as torchvision's loader reads them; "
        "flatten them onto a background if it matters",
    ]
    assert len(read_images(folder).notes) == 3  # the same, said where `run -d` names the folder
    torchvision_datasets = pytest.importorskip("torchvision.datasets")
    (tmp_path / "tv" / "x").mkdir(parents=True)
    for f in folder.iterdir():
        shutil.copy(f, tmp_path / "tv" / "x" / f.name)
    theirs = torchvision_datasets.ImageFolder(str(tmp_path / "tv"))
    assert [Path(p).name for p, _ in theirs.samples] == ["a.png", "b.png", "c.png", "d.png", "m.tif"]
    assert [np.asarray(theirs[i][0])[0, 0].tolist() for i in range(5)] == images[:, :, 0, 0].tolist()


def test_a_suite_reads_the_data_beside_it_after_the_working_folder_moves(tmp_path, monkeypatch):
    """load_suite("s1/s.toml"), then os.chdir elsewhere: its runs trained on another folder's s1/data/pets.npz,
    and its baseline was looked for there, without a word (pass 74). Both stay beside the suite as loaded."""
    from ganbench.suites import load_suite

    rng = np.random.default_rng(0)
    for root in (tmp_path, tmp_path / "other"):
        (root / "s1" / "data").mkdir(parents=True)
        np.savez(root / "s1" / "data" / "pets.npz", images=rng.integers(0, 256, (24, 8, 8, 3), dtype=np.uint8))
    text = 'variants = ["nsgan"]\ndatasets = ["./data/pets.npz"]\nseeds = [0]\nsteps = 2\nmetrics = ["fid"]\n'
    (tmp_path / "s1" / "s.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    suite = load_suite("s1/s.toml")
    assert suite.baseline_path == Path("s1/s.baseline.json")  # as spelt, while the working folder is the same
    [before] = suite.specs()
    monkeypatch.chdir(tmp_path / "other")
    [after] = suite.specs()
    assert after.dataset_options == before.dataset_options
    assert after.dataset_options["path"] == str(tmp_path / "s1" / "data" / "pets.npz")
    assert suite.baseline_path == tmp_path / "s1" / "s.baseline.json"
    assert suite.data_of("./data/pets.npz") == load_suite(tmp_path / "s1" / "s.toml").data_of("./data/pets.npz")
    assert str(suite.error("x", "steps")).startswith(f"{tmp_path / 's1' / 's.toml'}:4: ")  # a file there (pass 75)
    monkeypatch.chdir(tmp_path)
    assert str(suite.error("x", "steps")).startswith("s1/s.toml:4: ")
    moved = dataclasses.replace(suite, path=Path("other/s1/s.toml"))  # kept s1's folder, and compared equal
    assert moved.specs()[0].dataset_options["path"] == str(tmp_path / "other" / "s1" / "data" / "pets.npz")
    assert moved.baseline_path == Path("other/s1/s.baseline.json")
