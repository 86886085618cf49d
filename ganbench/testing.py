"""Helpers for testing plugins: register one for a with-block, and check a variant trains.

from ganbench.testing import registered, check_variant

def test_my_variant(tmp_path):
    with registered(my_plugin_module):
        check_variant("my-variant", tmp_path)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from ganbench.plugins import register_plugin, unregister_plugin
from ganbench.results import METRICS, RunRecord


@contextmanager
def registered(plugin: ModuleType | object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` inside the block and unregister it after; yields its plugin name."""
    name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
    register_plugin(plugin, name=name)
    try:
        yield name
    finally:
        unregister_plugin(name)


def check_variant(variant: str, out: str | Path, dataset: str = "ring8", steps: int = 20) -> RunRecord:
    """Train ``variant`` twice for a few steps: it must complete and give identical metrics."""
    from ganbench import run

    first = run(variant=variant, dataset=dataset, steps=steps, out=Path(out) / "first")
    second = run(variant=variant, dataset=dataset, steps=steps, out=Path(out) / "second")
    if first.status != "completed":
        raise AssertionError(f"variant {variant!r} {first.status} after {first.steps_done} steps: {first.error}")
    a, b = (json.loads((Path(r.run_dir) / METRICS).read_text()) for r in (first, second))
    if a != b:
        raise AssertionError(f"variant {variant!r} is not reproducible: {a} != {b}")
    return first
