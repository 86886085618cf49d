"""`ganbench list` from its cache: as fast as --help (no torch), the same text as a fresh listing, and
rebuilt when what it shows may have changed (the data folder, a plugin's code: test_plugin_distribution)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from .conftest import ganbench_process

IN_PROCESS = (
    "import json, sys; from click.testing import CliRunner; import ganbench.cli as c; "
    "r = CliRunner().invoke(c.cli, ['list']); print(json.dumps([r.exit_code, r.output, 'torch' in sys.modules]))"
)


def list_in_a_process(env: dict[str, str]) -> tuple[int, str, bool]:
    """(exit code, output, whether torch was imported) of `ganbench list` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", IN_PROCESS], capture_output=True, text=True, env=env, check=True)
    code, output, torch_imported = json.loads(done.stdout)
    return code, output, torch_imported


def environment(tmp_path) -> dict[str, str]:
    import os

    return {**os.environ, "GANBENCH_CACHE_DIR": str(tmp_path / "cache"), "GANBENCH_DATA": str(tmp_path / "data")}


def sha256_of(listing) -> str:
    """The checksum a cache entry carries: sha256 of the listing as JSON with sorted keys."""
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()


def test_a_second_list_reads_the_cache_without_torch_and_prints_the_same(tmp_path):
    env = environment(tmp_path)
    cold = ganbench_process("list", env=env)
    assert cold.returncode == 0 and "stylegan2" in cold.stdout and "options (--set): network.z_dim=" in cold.stdout
    code, warm, torch_imported = list_in_a_process(env)
    assert code == 0 and warm == cold.stdout and not torch_imported
    as_json = json.loads(ganbench_process("list", "--json", env=env).stdout)
    assert [f"{kind}:" for kind in as_json] == [line for line in warm.splitlines() if not line.startswith(" ")]


def test_metrics_and_extractors_show_no_options_executors_theirs(tmp_path):
    listed = json.loads(ganbench_process("list", "--json", env=environment(tmp_path)).stdout)
    assert all(e["options"] == {} for kind in ("metrics", "feature_extractors") for e in listed[kind])
    text = ganbench_process("list", env=environment(tmp_path)).stdout
    assert "description=" not in text and "options (--executor-option): max_retries=" in text


def test_a_change_in_the_data_folder_rebuilds_the_listing(tmp_path):
    env = environment(tmp_path)
    assert ganbench_process("list", env=env).returncode == 0
    key = json.loads((tmp_path / "cache" / "list.json").read_text())["key"]
    (tmp_path / "data" / "MNIST" / "raw").mkdir(parents=True)  # a download begins: availability may change
    code, output, torch_imported = list_in_a_process(env)
    assert code == 0 and torch_imported  # rebuilt from the plugins
    assert json.loads((tmp_path / "cache" / "list.json").read_text())["key"] != key
    assert "1x28x28, 10 classes, train split missing; test split missing," in output


def test_each_split_of_a_dataset_is_listed_present_or_missing(tmp_path):
    """A data root holding MNIST's test split was listed "files missing" (the default split's), and `files`, the
    prototype of a user's own data, "unlabelled, embedded" (pass 54)."""
    import shutil

    from .test_image_datasets import MNIST_TEST_FILES, SHARED_MNIST

    if not all((SHARED_MNIST / f).is_file() for f in MNIST_TEST_FILES):
        pytest.skip(f"the real MNIST test files are not in {SHARED_MNIST}")
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_TEST_FILES:
        shutil.copyfile(SHARED_MNIST / name, raw / name)
    output = ganbench_process("list", env=environment(tmp_path)).stdout
    assert "1x28x28, 10 classes, train split missing; test split present, 10,000 steps" in output
    assert "shape, classes and files from the data named, 10,000 steps" in output
    assert "unlabelled, embedded" not in output.split("  files ")[1].splitlines()[1]
    os.truncate(raw / MNIST_TEST_FILES[1], 1000)  # changed in place: its folder's time is the same (pass 55)
    output = ganbench_process("list", env=environment(tmp_path)).stdout
    assert "1x28x28, 10 classes, train split missing; test split missing, 10,000 steps" in output


def test_a_corrupt_or_unreadable_cache_is_rebuilt(tmp_path):
    env = environment(tmp_path)
    fresh = ganbench_process("list", env=env).stdout
    cache = tmp_path / "cache" / "list.json"
    key = json.loads(cache.read_text())["key"]
    damaged = [{"variants": 5}, {"variants": [{"name": 1}]}, {}, json.loads(cache.read_text())["listing"]]
    damaged[-1]["variants"][0]["name"] += "X"  # one name changed: listed as it is not
    for garbage in (
        b"{not json",
        b'{"key": 1, "listing": 2}',
        b"[" * 100_000,
        *(json.dumps({"key": key, "listing": listing}).encode() for listing in damaged),  # the right key
        *(json.dumps({"key": key, "sha256": sha256_of(bad), "listing": bad}).encode() for bad in damaged[:2]),
    ):  # the last: edits that recomputed the checksum but left no listing's shape
        (tmp_path / f"garbage-{len(list(tmp_path.glob('garbage-*')))}").write_bytes(garbage)
    script = (  # one process lists after each garbage, its plugins forgotten each time as a fresh process has none
        "import json, pathlib, sys; from click.testing import CliRunner; import ganbench.cli as c, ganbench.plugins\n"
        "cache, out = pathlib.Path(sys.argv[1]), []\n"
        "for garbage in sorted(pathlib.Path(sys.argv[2]).glob('garbage-*'), key=lambda p: int(p.name[8:])):\n"
        "    cache.write_bytes(garbage.read_bytes())\n"
        "    ganbench.plugins.reset()\n"
        "    r = CliRunner().invoke(c.cli, ['list'])\n"
        "    out.append([r.exit_code, r.stdout, r.stderr, bool(json.loads(cache.read_text())['listing'])])\n"
        "print(json.dumps(out))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(cache), str(tmp_path)], env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert len(listed) == 9 and all(each == [0, fresh, "", True] for each in listed)  # each written anew
    cache.unlink()
    os.mkfifo(cache)  # reading it would wait for a writer forever
    assert ganbench_process("list", env=env, timeout=60).stdout == fresh
    assert cache.is_file() and json.loads(cache.read_text())["listing"]  # replaced by a good entry
    cache.unlink()
    cache.mkdir()  # an empty folder where the cache file goes: replaced
    assert list_in_a_process(env)[1] == fresh and cache.is_file()
    cache.unlink()
    cache.mkdir()
    (cache / "x").write_text("someone's")  # a folder with files: listed all the same, the folder left alone
    assert list_in_a_process(env)[:2] == (0, fresh) and cache.is_dir()
