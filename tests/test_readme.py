"""The README's promises: its main job learns what the README says it learns, and ganbench's own
modules import without a circle."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest

from .conftest import ROOT, ganbench_process


def main_job() -> list[str]:
    """The arguments of the `ganbench run` that the README's first command ends with."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"\*\*Install and run the main job\*\*.*?```bash\n(.*?)\n```", text, re.S)
    assert block, "the README's main job command is missing"
    command = block.group(1).split("&& ganbench ", 1)[1]
    return shlex.split(command)


@pytest.mark.slow
def test_the_readme_main_job_visibly_learns(tmp_path):
    """At least 90% of the modes captured and a quarter of the samples high-quality (issue: 'budgets that reach
    learning'): the reference rows' floors score 0.3% (one Gaussian) and 0.4% (uniform noise). Not a majority: one
    seed's fraction is 57% on one CPU and 43% on another, whose float kernels round otherwise. How long it takes is
    printed, not asserted: this machine is shared."""
    args = main_job()
    assert args[0] == "run"
    done = ganbench_process(*args, "--out", str(tmp_path), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (folder,) = tmp_path.glob("*/metrics.json")
    metrics = json.loads(folder.read_text())
    record = json.loads((folder.parent / "record.json").read_text())
    dataset = record["spec"]["dataset"]
    from ganbench import get_dataset

    modes = len(get_dataset(dataset).modes.means)
    print(f"main job: {metrics['modes_captured']}/{modes} modes, hq {metrics['hq_fraction']:.3f}, "
          f"wall {record['wall_seconds']:.0f} s")  # fmt: skip
    assert metrics["modes_captured"] >= 0.9 * modes
    assert metrics["hq_fraction"] >= 0.25
    assert (folder.parent / "samples.png").is_file()


def imports_of(path: Path) -> set[str]:
    """The ganbench modules a file imports, anywhere in it (inside functions and TYPE_CHECKING blocks too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ganbench"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ganbench"))
    return found


def test_no_import_circle_among_ganbench_modules():
    package = ROOT / "ganbench"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in package.rglob("*.py")
    }
    edges = {m: {d for d in imports_of(p) if d in modules and d not in (m, "ganbench")} for m, p in modules.items()}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(edges[module]):
            if state.get(dep) == "open":
                raise AssertionError("import circle: " + " -> ".join(path[path.index(dep) :] + [module, dep]))
            if dep not in state:
                visit(dep, path + [module])
        state[module] = "done"

    for module in sorted(modules):
        if module not in state:
            visit(module, [])
