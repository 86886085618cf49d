"""The contract between ganbench and its plugins: every hook, one docstring each.

Built-ins implement these hooks exactly as third-party plugins do. Registration hooks
hand the plugin a ``register`` callback; ganbench validates what is registered (name
syntax, type, duplicates) in one place, ``ganbench.registry``, and names the plugin in
any error. Hooks are always called by keyword, so an implementation may accept any
subset of the arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

RunSpec = Any
"""A ``ganbench.spec.RunSpec`` (named, not imported: the contract depends on no other ganbench module)."""
RunRecord = Any
"""A ``ganbench.results.RunRecord``."""

hookspec = pluggy.HookspecMarker("ganbench")
hookimpl = pluggy.HookimplMarker("ganbench")

LOGGER_HOOKS = ("on_run_start", "on_step_end", "on_evaluation", "on_run_end")
"""The hooks ganbench calls one plugin at a time, each with its own copy of the values (so not as wrappers)."""


@hookspec
def register_variants(register: Callable[[Any], None]) -> None:
    """Register training recipes: call ``register(variant)`` with ``ganbench.Variant`` objects.

    A variant is losses, regularizers, discriminator modifiers, critic steps and optimizer
    defaults; it never chooses the network, so variants compare on equal networks.
    """


@hookspec
def register_datasets(register: Callable[[Any], None]) -> None:
    """Register datasets: call ``register(dataset)`` with ``ganbench.Dataset`` objects.

    A dataset declares its sample shape, its default network, the metrics that apply to
    it and, for mixtures, its modes.
    """


@hookspec(firstresult=True)
def resolve_dataset(name: str) -> tuple[str, dict[str, Any]] | None:
    """Claim a ``--dataset`` value that no plugin registered (a path to a user's images, say).

    Return ``(registered dataset name, options)``, e.g. ``("files", {"path": ..., "sha256": ...})``,
    or None to leave the name to other plugins. The first plugin that claims it wins; the
    options are recorded in the run spec, so they should identify the data (a checksum).
    """


@hookspec
def register_networks(register: Callable[[Any], None]) -> None:
    """Register network families: call ``register(network)`` with ``ganbench.Network`` objects.

    A network builds a generator and a discriminator for a given sample shape.
    """


@hookspec
def register_metrics(register: Callable[[Any], None]) -> None:
    """Register metrics: call ``register(metric)`` with ``ganbench.Metric`` objects.

    A metric maps real and generated samples of a dataset to named numbers, and says for
    each number whether higher or lower is better.
    """


@hookspec
def register_feature_extractors(register: Callable[[Any], None]) -> None:
    """Register feature extractors: call ``register(extractor)`` with ``ganbench.FeatureExtractor``.

    Metrics ask for features by extractor name, so a metric such as FID can be computed
    in any feature space (raw vectors, a classifier, Inception).
    """


@hookspec
def register_executors(register: Callable[[Any], None]) -> None:
    """Register executors: call ``register(executor)`` with ``ganbench.Executor`` objects.

    An executor runs a list of run specs (in process, in a pool, on a cluster) and returns
    their records; one failing or diverging run never stops the others.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``ganbench`` command line: ``@cli.command()`` inside the hook."""


@hookspec
def on_run_start(spec: RunSpec, run_dir: str, start_step: int, log_every: int) -> None:
    """Called before the first training step; ``start_step`` > 0 when a run resumes. ``log_every`` is this
    process's cadence of ``on_step_end`` (a resumed run may have logged at another)."""


@hookspec
def on_step_end(spec: RunSpec, run_dir: str, step: int, logs: dict[str, float]) -> None:
    """Called every ``log_every`` generator steps with scalar logs (losses, penalties).

    Runs on the training hot path: keep it cheap.
    """


@hookspec
def on_evaluation(spec: RunSpec, run_dir: str, step: int, scores: dict[str, Any], samples_png: str) -> None:
    """Called after each evaluation (every ``eval_every`` steps and at the end) with its scores
    (metric outputs, as in metrics.json) and the path of the picture of the samples it scored
    (the run's samples.png, rewritten at each evaluation)."""


@hookspec
def on_run_end(spec: RunSpec, run_dir: str, record: RunRecord) -> None:
    """Called once a run is finished, diverged or ran out of budget, after evaluation."""
