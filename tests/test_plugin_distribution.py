"""Third-party plugins as real distributions: built and installed by pip, found by entry point.

Each distribution is pip-installed into its own target folder that only the subprocess
sees (PYTHONPATH), so the test environment stays as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT, ganbench_process

pytestmark = pytest.mark.slow


def pip_install(project: Path, target: Path) -> dict[str, str]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(project),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"PYTHONPATH": str(target)}


def make_distribution(root: Path, dist: str, module: str, body: str) -> Path:
    project = root / dist
    (project / module).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "2.5.0"

        [project.entry-points.ganbench]
        {module} = "{module}"
        """)
    )
    (project / module / "__init__.py").write_text(textwrap.dedent(body))
    return project


@pytest.fixture(scope="module")
def example_env(tmp_path_factory):
    return pip_install(ROOT / "plugins" / "ganbench-example", tmp_path_factory.mktemp("example"))


def test_the_example_distribution_appears_in_list(example_env):
    result = ganbench_process("list", "--json", env=example_env)
    assert result.returncode == 0, result.stderr
    entry = next(e for e in json.loads(result.stdout)["variants"] if e["name"] == "nsgan-ttur")
    assert entry["source"] == "ganbench-example" and entry["version"] == "0.1.0" and "Heusel" in entry["about"]
    assert "nsgan-ttur" not in ganbench_process("list").stdout, "the plugin leaked into the test environment"


def test_the_example_variant_trains_from_the_cli(example_env, tmp_path):
    result = ganbench_process(
        "run",
        "--variant",
        "nsgan-ttur",
        "--dataset",
        "ring8",
        "--steps",
        "30",
        "-q",
        "--out",
        str(tmp_path),
        env=example_env,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(next(tmp_path.glob("*/record.json")).read_text())
    assert record["status"] == "completed"
    options = record["spec"]["variant_options"]
    assert (options["lr_d"], options["lr_g"], options["betas"]) == (4e-4, 1e-4, [0.5, 0.999])  # derive: its own win
    assert options["batch_size"] == 100 and record["spec"]["network"] == "pacgan-mlp"  # nsgan's on 2-D data
    assert record["environment"]["plugins"]["example"] == {"source": "ganbench-example", "version": "0.1.0"}


def test_a_plugin_that_raises_at_import_is_named(tmp_path):
    project = make_distribution(tmp_path, "ganbench-broken", "ganbench_broken", "raise ImportError('needs libfoo')\n")
    env = pip_install(project, tmp_path / "site")
    result = ganbench_process("list", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: plugin 'ganbench_broken' (distribution ganbench-broken 2.5.0) failed to import: "
        "ImportError: needs libfoo; fix it or `pip uninstall ganbench-broken`"
    )


def test_two_plugins_registering_one_name_are_both_named(tmp_path):
    body = """\
        import dataclasses
        import ganbench

        @ganbench.hookimpl
        def register_datasets(register):
            from ganbench.datasets.mog import RING8
            register(dataclasses.replace(RING8, name="ring8"))
        """
    project = make_distribution(tmp_path, "ganbench-clash", "ganbench_clash", body)
    env = pip_install(project, tmp_path / "site")
    result = ganbench_process("run", "--variant", "nsgan", "--dataset", "ring8", "--steps", "5", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert (  # named as pip knows it, with the remedy that works: the built-in keeps its name
        "dataset 'ring8' is registered by both plugin 'ganbench.datasets.mog' (built into ganbench) and plugin "
        "'ganbench_clash' (ganbench-clash " in lines[0]
    )
    assert lines[0].endswith("rename the other's, or `pip uninstall ganbench-clash`"), lines[0]


def test_list_shows_a_plugin_edited_or_installed_since_its_last_listing(tmp_path):
    body = """\
        import ganbench

        @ganbench.hookimpl
        def register_variants(register):
            from ganbench.plugins import registries
            register(registries().variants.get("nsgan").derive("edited", paper="{paper}"))
        """
    project = make_distribution(tmp_path, "ganbench-edited", "ganbench_edited", body.format(paper="First draft"))
    cache = {"GANBENCH_CACHE_DIR": str(tmp_path / "cache")}
    assert "edited" not in ganbench_process("list", env=cache).stdout
    env = {**pip_install(project, tmp_path / "site"), **cache}
    assert "First draft" in ganbench_process("list", env=env).stdout  # installed since: rebuilt
    installed = tmp_path / "site" / "ganbench_edited" / "__init__.py"
    installed.write_text(textwrap.dedent(body.format(paper="Second draft, longer")))
    listed = ganbench_process("list", env=env).stdout
    assert "Second draft, longer" in listed and "First draft" not in listed


def test_a_plugin_s_prints_leave_the_output_whole_and_its_own_command_prints_to_stdout(tmp_path):
    """Pass 60: prints at a plugin's import or in its register_commands, and a dataset's in worker processes
    (--workers 2) or through sys.stdout.buffer, came before `list --json`'s or `run`'s output; a plugin's own
    command printed to stderr. All of them go to stderr now, but a plugin command's output."""
    body = """\
        import dataclasses
        import sys

        import click
        import ganbench

        print("hello at import")

        @ganbench.hookimpl
        def register_commands(cli):
            print("hello in register_commands")

            @cli.command("hello")
            def hello():
                print("HELLO-print")
                click.echo("HELLO-echo")

        @ganbench.hookimpl
        def register_datasets(register):
            ring = type(ganbench.get_dataset("ring8"))

            @dataclasses.dataclass(frozen=True)
            class Chatty(ring):
                def load(self):
                    print("hello from load")
                    sys.stdout.buffer.write(b"hello in bytes\\n")
                    sys.stdout.flush()
                    return super().load()

            register(Chatty("chatty", n_samples=2000))
        """
    project = make_distribution(tmp_path, "ganbench-chatty", "ganbench_chatty", body)
    env = pip_install(project, tmp_path / "site")
    hello = ganbench_process("hello", env=env)
    assert hello.returncode == 0 and hello.stdout == "HELLO-print\nHELLO-echo\n", hello
    assert "hello at import" in hello.stderr and "hello in register_commands" in hello.stderr
    listed = ganbench_process("list", "--json", env=env)
    assert listed.returncode == 0 and "chatty" in [d["name"] for d in json.loads(listed.stdout)["datasets"]]
    run = ["run", "-v", "nsgan,gan", "-d", "chatty", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    trained = ganbench_process(*run, "--workers", "2", "-o", str(tmp_path / "out"), env=env)
    assert trained.returncode == 0, trained.stderr
    assert "hello" not in trained.stdout and trained.stdout.startswith("|"), trained.stdout
    assert trained.stderr.count("hello from load") >= 2 and "hello in bytes" in trained.stderr


PLUG = """\
import torch.nn.functional as F
import fp90acme.other
import fp90utils
import ganbench


def d_loss(d_real, d_fake):
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean() + fp90acme.other.penalty(d_real)


def g_loss(d_fake):
    return F.softplus(-d_fake).mean() + fp90utils.penalty(d_fake)


@ganbench.hookimpl
def register_variants(register):
    register(ganbench.get_variant("nsgan").derive("fp90-ns", d_loss=d_loss, g_loss=g_loss))
"""
PENALTY = "LAMBDA = {}\n\n\ndef penalty(d):\n    return LAMBDA * (d**2).mean()\n"
UTILS = "import fp90deep\n\n\ndef penalty(d):\n    return {} * fp90deep.penalty(d)\n"


def project(root: Path, dist: str, version: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> Path:
    """A distribution ``dist`` at ``version`` holding ``files`` (packages named fp90*, namespaces too), requiring
    ``requires``; a plugin when it holds fp90plug."""
    folder = root / f"{dist}-{version}"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    entry = '\n[project.entry-points.ganbench]\nfp90plug = "fp90plug"\n' if "fp90plug/__init__.py" in files else ""
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{dist}"\nversion = "{version}"\ndependencies = {list(requires)!r}\n{entry}'
        '[tool.setuptools.packages.find]\ninclude = ["fp90*"]\nnamespaces = true\n'
    )
    return folder


def into_site_packages(folder: Path, *projects: Path) -> Path:
    """``projects`` pip-installed into ``folder``/site-packages (a folder of that name is where installed libraries
    live, to the run id as to Python)."""
    site = folder / "site-packages"
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target"]
    subprocess.run([*command, str(site), *map(str, projects)], check=True, capture_output=True)
    return site


def test_an_installed_plugin_counts_the_distributions_its_code_uses_by_their_versions(tmp_path):
    """Pass 90: an installed plugin's loss calling another installed distribution (fp90utils.penalty) kept its run
    id when that distribution was upgraded (installed code counts by name and version, never its globals, so the
    helper's version must count); a part of a namespace package that two distributions share (fp90acme.core,
    fp90acme.other) counted as whichever was listed first. Pass 91: what the helper requires in turn (fp90deep)
    kept it too. An upgrade comes first on the path, before the set every id is measured with."""
    deep = [project(tmp_path, "fp90-deep", v, {"fp90deep/__init__.py": PENALTY.format(x)}) for v, x in
            (("1.0", 0.0), ("2.0", 100.0))]  # fmt: skip
    utils = [project(tmp_path, "fp90-utils", v, {"fp90utils/__init__.py": UTILS.format(x)}, ("fp90-deep",)) for v, x
             in (("1.0.0", 1.0), ("2.0.0", 3.0))]  # fmt: skip
    core = [project(tmp_path, "fp90-acme-core", v, {"fp90acme/core/__init__.py": PENALTY.format(x)}) for v, x in
            (("1.0", 0.0), ("1.1", 100.0))]  # fmt: skip
    other = [project(tmp_path, "fp90-acme-other", v, {"fp90acme/other/__init__.py": PENALTY.format(x)}) for v, x in
             (("6.0", 0.0), ("7.0", 100.0))]  # fmt: skip
    plugin = project(tmp_path, "fp90-plug", "1.0", {"fp90plug/__init__.py": PLUG}, ("fp90-utils",))
    base = into_site_packages(tmp_path / "base", plugin, utils[0], deep[0], core[0], other[0])

    (tmp_path / "local_losses.py").write_text(LOCAL)

    def run_ids(upgrade: Path | None = None) -> tuple[str, str]:
        """The run ids of the plugin's variant and of a variant whose losses are a local file's."""
        path = [into_site_packages(tmp_path / upgrade.name, upgrade)] if upgrade else []
        inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*path, base, *inherited]))}
        found = subprocess.run([sys.executable, "-c", IDS], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert found.returncode == 0, found.stderr
        plugin_id, local_id = found.stdout.split()
        return plugin_id, local_id

    first = run_ids()
    assert [a != b for a, b in zip(run_ids(utils[1]), first, strict=True)] == [True, True]  # the helper upgraded
    assert [a != b for a, b in zip(run_ids(deep[1]), first, strict=True)] == [True, True]  # what it requires
    assert [a != b for a, b in zip(run_ids(other[1]), first, strict=True)] == [True, False]  # the part the plugin
    assert [a != b for a, b in zip(run_ids(core[1]), first, strict=True)] == [False, True]  # calls; the local loss's


LOCAL = """\
import torch.nn.functional as F


def g_loss(d_fake):  # installed modules imported in a body: loaded by the plugin (fp90utils), or not (fp90acme.core)
    import fp90acme.core
    import fp90utils

    return F.softplus(-d_fake).mean() + fp90utils.penalty(d_fake) + fp90acme.core.penalty(d_fake)
"""
IDS = """\
import ganbench, local_losses


class Local:
    @ganbench.hookimpl
    def register_variants(self, register):
        register(ganbench.get_variant("nsgan").derive("fp90-local", g_loss=local_losses.g_loss))


ganbench.register_plugin(Local(), name="fp90-local")
print(ganbench.create_spec("fp90-ns", "ring8", steps=5).run_id)
print(ganbench.create_spec("fp90-local", "ring8", steps=5).run_id)
"""


def test_two_distributions_whose_entry_points_share_a_name_both_register(tmp_path):
    """Pass 97: two plugins whose entry points a template named alike (``plugin``): the second was dropped without
    a word, and its variant was "unknown"."""
    site = tmp_path / "site"
    for letter in "ab":
        (site / f"fp97ep{letter}").mkdir(parents=True)
        (site / f"fp97ep{letter}" / "__init__.py").write_text(
            "import ganbench\n@ganbench.hookimpl\ndef register_variants(register):\n"
            "    from ganbench.plugins import registries\n"
            f"    register(registries().variants.get('nsgan').derive('ep-{letter}', paper='EP {letter}'))\n"
        )
        info = site / f"fp97ep{letter}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fp97ep{letter}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[ganbench]\nplugin = fp97ep{letter}\n")
    env = {"PYTHONPATH": str(site), "GANBENCH_CACHE_DIR": str(tmp_path / "cache")}
    listed = ganbench_process("list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "ep-a" in listed.stdout and "ep-b" in listed.stdout
