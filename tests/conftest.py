"""Shared fixtures: a clean plugin manager per test that changes plugins, CLI helpers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganbench import plugins
from ganbench.checkpoints import FILENAME as CHECKPOINT
from ganbench.checkpoints import checkpoint_header
from ganbench.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own reference-statistics cache (also seen by the CLI processes it starts)."""
    folder = tmp_path_factory.mktemp("cache")
    # ...but trained classifiers are shared by the whole session (training MNIST's takes
    # seconds): cache_dir()/classifiers is a link to one session folder. Tests that corrupt
    # classifier entries point GANBENCH_CACHE_DIR elsewhere themselves.
    shared = tmp_path_factory.getbasetemp() / "classifiers"
    shared.mkdir(exist_ok=True)
    (folder / "classifiers").symlink_to(shared, target_is_directory=True)
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(folder))
    monkeypatch.setenv("GANBENCH_TENSORBOARD", "0")  # on where a test asks for it (test_loggers.py)
    return folder


@pytest.fixture
def fresh_plugins():
    """Plugins registered inside the test are gone after it."""
    plugins.reset()
    yield plugins
    plugins.reset()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys):
    """Run ``ganbench ARGS`` in process; returns exit code, stdout, stderr."""

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


def ganbench_process(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``ganbench`` console script in a new process."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "ganbench"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit code 2, a single 'Error: ...' line on stderr naming every fragment, no traceback."""
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def refused_plugin(plugins, plugin, name: str | None, *fragments: str) -> str:
    """The one-line PluginError, naming every fragment, with which ``register_plugin`` refuses a plugin whose
    registration fails; asserts the manager is left as it was (the plugin gone, the next call not blamed on it)."""
    from ganbench.errors import PluginError

    before = plugins.plugin_origins()
    with pytest.raises(PluginError) as caught:
        plugins.register_plugin(plugin, name=name)
    assert plugins.plugin_origins() == before
    assert plugins.registries().variants.get("nsgan").name == "nsgan"
    message = str(caught.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory):
    """A FID Inception weights file with seeded random values (no download here)."""
    from ganbench.testing import random_fid_weights

    path = tmp_path_factory.mktemp("weights") / "fid_inception_random.pth"
    torch.save(random_fid_weights(), path)
    return path


def save_png_folder(folder, images_u8_nhwc):
    from PIL import Image

    folder.mkdir()
    for i, image in enumerate(images_u8_nhwc):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture
def image_sets(tmp_path):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (24, 24, 24, 3), dtype=np.uint8)  # 22 fakes: 2 a split for IS's 10 splits
    fake = np.clip(real.astype(int)[:22] + rng.integers(-60, 60, (22, 24, 24, 3)), 0, 255).astype(np.uint8)
    np.savez(tmp_path / "real.npz", images=real)
    return real, fake, tmp_path / "real.npz", save_png_folder(tmp_path / "fake", fake)


def exploding_variant():
    """lsgan with learning rates of 1e12 and RMSProp, on the dataset's network (none of lsgan's per-kind
    defaults, whose tanh layers would saturate rather than overflow): its losses reach inf within a few steps."""
    import dataclasses

    import ganbench

    lsgan = ganbench.get_variant("lsgan")
    return dataclasses.replace(lsgan, name="exploding", lr_d=1e12, lr_g=1e12, optimizer="rmsprop", defaults={})


@pytest.fixture
def exploding(fresh_plugins):
    """The variant ``exploding`` is registered for the test (it diverges)."""
    import ganbench

    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(exploding_variant())

    fresh_plugins.register_plugin(Plugin(), name="exploding-plugin")
    return "exploding"


def kill_at_checkpoint(args: list[str], out: Path, step: int, env: dict) -> Path:
    """Start ``ganbench ARGS --out OUT``, SIGKILL it once its checkpoint holds ``step`` steps; the checkpoint."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ganbench"), *args, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    deadline, checkpoint = time.time() + 300, None
    while time.time() < deadline and checkpoint is None:
        found = list(out.glob("*/checkpoint.pt"))
        if found and checkpoint_header(found[0])["step"] >= step:
            checkpoint = found[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint is not None, "no checkpoint appeared"
    assert not (checkpoint.parent / "record.json").exists(), "the run finished before it could be killed"
    return checkpoint


def write_mixture_suite(path: Path, variants: str, steps: int, seeds: str) -> Path:
    """A suite of ``variants`` (comma-separated) on ring8, on the small ``mlp`` with batches of 64 (these tests are
    about sweeps, not the papers' networks and batches: wgan-gp's take 0.25 s a step on a CPU, 0.02 s so)."""
    names = ", ".join(f'"{v}"' for v in variants.split(","))
    path.write_text(
        f'variants = [{names}]\ndatasets = ["ring8"]\nseeds = "{seeds}"\nsteps = {steps}\nnetwork = "mlp"\n'
        "[set]\nbatch_size = 64\n"
    )
    return path


def metrics_by_run(out: Path) -> dict[str, bytes]:
    """Each run folder's metrics.json, bytes, by folder name."""
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("*/metrics.json"))}


def wait_for_checkpoint(out: Path, variant: str, step: int, driver: subprocess.Popen) -> Path:
    """The run folder's checkpoint once it holds ``step`` steps or more."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert driver.poll() is None, driver.communicate()[1].decode()
        for checkpoint in out.glob(f"*{variant}*/{CHECKPOINT}"):
            try:
                if checkpoint_header(checkpoint)["step"] >= step:
                    return checkpoint
            except Exception:  # being replaced right now
                pass
        time.sleep(0.05)
    raise AssertionError(f"no {variant} checkpoint at step >= {step} within 180 s")


def kill_a_worker_mid_sweep(
    command: list[str], out: Path, env: dict | None = None, variant: str = "wgan-gp", step: int = 300
) -> tuple[Path, bytes, int, subprocess.CompletedProcess]:
    """Start ``command`` (a sweep writing to ``out``), SIGKILL the process training ``variant`` once its
    checkpoint holds ``step`` steps, and let the sweep finish: (its checkpoint, the killed process's
    command line, the checkpoint's step at the kill, the finished sweep)."""
    from ganbench.locks import OWNER

    driver = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        checkpoint = wait_for_checkpoint(out, variant, step, driver)
        owner = json.loads((checkpoint.parent / OWNER).read_text())["pid"]
        cmdline = Path(f"/proc/{owner}/cmdline").read_bytes()
        os.kill(owner, signal.SIGKILL)
        killed_at = checkpoint_header(checkpoint)["step"]  # the dead worker writes no more; a restart takes seconds
        stdout, stderr = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    return (
        checkpoint,
        cmdline,
        killed_at,
        subprocess.CompletedProcess(command, driver.returncode, stdout.decode(), stderr.decode()),
    )


def processes_with(field: int, value: int) -> list[int]:
    """Pids whose /proc/PID/stat field (after the command name: 1 = parent pid, 3 = session id) is ``value``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[field]) == value:
            pids.append(int(stat.parent.name))
    return pids


def extractor_and_metric(extractor, metric):
    """A plugin that registers one feature extractor and one metric (reading it)."""
    import ganbench

    class Plugin:
        @ganbench.hookimpl
        def register_feature_extractors(self, register):
            register(extractor)

        @ganbench.hookimpl
        def register_metrics(self, register):
            register(metric)

    return Plugin()
