"""ganbench: train GAN variants under fixed seeds and budgets, measure them, compare them.

Public API (mirrors the command line)::

    record = ganbench.run(variant="wgan-gp", dataset="grid25", seed=0, steps=2000, out="results")
    scores = ganbench.evaluate_samples("grid25", points)
    mine = dataclasses.replace(ganbench.get_variant("nsgan"), name="mine", lr_d=1e-4)

Plugins implement hooks marked with ``ganbench.hookimpl``; see ``ganbench.hookspecs``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganbench.errors import GanbenchError, path_errors
from ganbench.hookspecs import hookimpl

if TYPE_CHECKING:
    from ganbench.dataset import Dataset, Modes
    from ganbench.evaluation import evaluate_samples
    from ganbench.executor import Executor
    from ganbench.metric import EvalContext, FeatureExtractor, Metric
    from ganbench.network import Network
    from ganbench.plugins import register_plugin, unregister_plugin
    from ganbench.resolve import create_spec
    from ganbench.results import RunRecord, load_results
    from ganbench.spec import Budget, RunSpec
    from ganbench.variant import Defaults, Variant

_LAZY = {
    "Dataset": "ganbench.dataset",
    "Modes": "ganbench.dataset",
    "evaluate_samples": "ganbench.evaluation",
    "Executor": "ganbench.executor",
    "plot_results": "ganbench.figures",
    "EvalContext": "ganbench.metric",
    "FeatureExtractor": "ganbench.metric",
    "Metric": "ganbench.metric",
    "Network": "ganbench.network",
    "register_plugin": "ganbench.plugins",
    "registries": "ganbench.plugins",
    "unregister_plugin": "ganbench.plugins",
    "create_spec": "ganbench.resolve",
    "RunRecord": "ganbench.results",
    "load_results": "ganbench.results",
    "Budget": "ganbench.spec",
    "RunSpec": "ganbench.spec",
    "load_suite": "ganbench.suites",
    "run_suite": "ganbench.sweeps",
    "Defaults": "ganbench.variant",
    "Variant": "ganbench.variant",
}
"""The public names that need torch (or pandas), imported on first use: ``import ganbench`` (and so the
CLI's ``--help``) stays fast."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


try:
    __version__ = importlib.metadata.version("ganbench")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Budget",
    "Dataset",
    "Defaults",
    "EvalContext",
    "Executor",
    "FeatureExtractor",
    "GanbenchError",
    "Metric",
    "Modes",
    "Network",
    "RunRecord",
    "RunSpec",
    "Variant",
    "create_spec",
    "evaluate_samples",
    "get_dataset",
    "get_network",
    "get_variant",
    "hookimpl",
    "load_results",
    "load_suite",
    "plot_results",
    "register_plugin",
    "run",
    "run_suite",
    "unregister_plugin",
]


def get_variant(name: str) -> Variant:
    """The registered variant called ``name``."""
    from ganbench.plugins import registries

    return registries().variants.get(name)


def get_dataset(name: str) -> Dataset:
    """The registered dataset called ``name``."""
    from ganbench.plugins import registries

    return registries().datasets.get(name)


def get_network(name: str) -> Network:
    """The registered network family called ``name``."""
    from ganbench.plugins import registries

    return registries().networks.get(name)


@path_errors()
def run(
    variant: str,
    dataset: str,
    *,
    seed: int = 0,
    steps: int | None = None,
    max_seconds: float | None = None,
    network: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    metrics: Sequence[str] | None = None,
    eval_samples: int | None = None,
    eval_every: int | None = None,
    truncation: float | None = None,
    out: str | Path = "results",
    force: bool = False,
    checkpoint_every: int = 1000,
    log_every: int = 10,
    progress: bool = False,
    device: str | None = None,
) -> RunRecord:
    """Train ``variant`` on ``dataset`` and score it; like ``ganbench run``.

    ``steps`` defaults to the dataset's budget. A finished run with the same spec is returned
    from disk unless ``force``; an interrupted one resumes from its checkpoint.
    """
    from ganbench.harness import run_spec
    from ganbench.paths import path_argument
    from ganbench.resolve import create_spec

    out = path_argument(out, "out", "a results folder")
    spec = create_spec(
        variant,
        dataset,
        network=network,
        seed=seed,
        steps=steps,
        max_seconds=max_seconds,
        overrides=overrides,
        metrics=metrics,
        eval_samples=eval_samples,
        eval_every=eval_every,
        truncation=truncation,
    )
    return run_spec(
        spec, out, force=force, checkpoint_every=checkpoint_every, log_every=log_every, progress=progress, device=device
    )
