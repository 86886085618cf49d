"""Helpers for testing plugins: register one for a with-block, check a variant trains, and
build FID Inception weights offline.

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
from typing import Any
from unittest import mock

import torch

from ganbench.plugins import register_plugin, unregister_plugin
from ganbench.results import METRICS, RunRecord


@contextmanager
def registered(plugin: ModuleType | object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` inside the block and unregister it after; yields its plugin name."""
    name = register_plugin(plugin, name=name)
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


def random_fid_weights(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict for pytorch-fid's FID Inception: its own architecture, seeded random values.

    For offline tests and benchmarks (the real weights need a download): ``fid_inception_v3()``
    is built with the network's own uninitialised state dict in place of the download, then
    every float tensor is replaced with seeded He-scaled normals (batch-norm variances near 1,
    so activations keep a sensible scale through the 94 layers). Same arithmetic and speed as
    the real weights, different features.
    """
    import pytorch_fid.inception as pf

    captured = {}
    real_factory = pf.torchvision.models.inception_v3

    def capture(*args: Any, **kwargs: Any) -> torch.nn.Module:
        captured["net"] = real_factory(*args, **kwargs)
        return captured["net"]

    def architecture_only(*args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        return {k: v.clone() for k, v in captured["net"].state_dict().items()}

    with mock.patch.object(pf.torchvision.models, "inception_v3", capture):
        with mock.patch.object(pf, "load_state_dict_from_url", architecture_only):
            net = pf.fid_inception_v3()
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, value in net.state_dict().items():
        if not value.is_floating_point():
            state[name] = value
        elif name.endswith("running_var"):
            state[name] = 1 + 0.1 * torch.rand(value.shape, generator=gen)
        elif value.dim() > 1:
            state[name] = torch.randn(value.shape, generator=gen) * (2 / value[0].numel()) ** 0.5
        else:
            state[name] = 0.1 * torch.randn(value.shape, generator=gen) + (1.0 if name.endswith(".weight") else 0.0)
    return state
