"""The ``ganbench`` command line. ``main()`` loads plugins, lets them add commands, then runs.

Every error a user can cause ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import click

from ganbench.errors import GanbenchError, OptionError, UnknownNameError
from ganbench.features.inception import WEIGHTS_ENV


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganbench")
def cli() -> None:
    """Train, measure and compare GAN variants under fixed seeds and budgets."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _number(text: str | None, kind: type) -> Any:
    """``kind(text)`` if it parses; else the text itself, for the spec to reject with its own message."""
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        return text


def _seeds(values: tuple[str, ...]) -> list[int]:
    seeds: list[int] = []
    for item in _split(values) or ["0"]:
        lo, dash, hi = item.partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if dash and lo else [int(item)]
        except ValueError:
            raise OptionError(f"--seed takes integers or ranges like 0-4, not {item!r}") from None
    return seeds


@cli.command()
@click.option(
    "--variant", "-v", "variants", multiple=True, required=True, help="Variant name(s); repeat or comma-separate."
)
@click.option("--dataset", "-d", "datasets", multiple=True, required=True, help="Dataset name(s).")
@click.option("--seed", "-s", "seeds", multiple=True, help="Seed(s): 0, 0,1,2 or 0-4. Default 0.")
@click.option("--steps", default="10000", show_default=True, help="Generator updates.")
@click.option("--max-seconds", default=None, help="Stop training after this many seconds.")
@click.option("--network", "-n", default=None, help="Network family (default: the dataset's).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override an option: lr_d=1e-4, dataset.sigma=0.1, network.width=256.",
)
@click.option("--metrics", "-m", default=None, help="Comma-separated metrics (default: the dataset's).")
@click.option("--eval-samples", default="2500", show_default=True, help="Generated samples to score.")
@click.option(
    "--out", "-o", default="results", show_default=True, type=click.Path(file_okay=False), help="Results folder."
)
@click.option("--force", is_flag=True, help="Train again even if the run is finished.")
@click.option(
    "--checkpoint-every", default=1000, show_default=True, type=click.IntRange(min=1), help="Steps between checkpoints."
)
@click.option(
    "--log-every", default=10, show_default=True, type=click.IntRange(min=1), help="Steps between history rows."
)
@click.option("--executor", default="local", show_default=True, help="Executor for several runs.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Parallel runs (local executor: processes).",
)
@click.option("--device", default=None, help="torch device (default: cuda if available, else cpu).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def run(
    variants,
    datasets,
    seeds,
    steps,
    max_seconds,
    network,
    sets,
    metrics,
    eval_samples,
    out,
    force,
    checkpoint_every,
    log_every,
    executor,
    workers,
    device,
    quiet,
) -> None:
    """Train variant(s) on dataset(s) for seed(s), score them, and record every run."""
    from ganbench.harness import run_job, run_spec
    from ganbench.plugins import registries
    from ganbench.spec import RunSpec, parse_set
    from ganbench.tables import render, summarize

    overrides = parse_set(sets)
    specs = [
        RunSpec.create(
            v,
            d,
            network=network,
            seed=seed,
            steps=_number(steps, int),
            max_seconds=_number(max_seconds, float),
            overrides=overrides,
            metrics=tuple(_split((metrics,))) if metrics else None,
            eval_samples=_number(eval_samples, int),
        )
        for d in _split(datasets)
        for v in _split(variants)
        for seed in _seeds(seeds)
    ]
    options = dict(
        force=force, checkpoint_every=checkpoint_every, log_every=log_every, progress=not quiet, device=device
    )
    if len(specs) == 1:
        record = run_spec(specs[0], out, **options)
        click.echo(_describe(record))
        return
    runner = registries().executors.get(executor)
    records = runner.run([(run_job, {"spec": s.to_dict(), "out": out, **options}) for s in specs], workers=workers)
    import pandas as pd

    frame = pd.DataFrame([_row(r) for r in records])
    shown = list(dict.fromkeys(k for s in specs for m in s.eval.metrics for k in registries().metrics.get(m).outputs))
    directions = registries().metric_directions()
    click.echo(render(summarize(frame, shown, directions), shown))
    failed = [r for r in records if r.status == "failed"]
    for r in failed:
        click.echo(f"failed: {r.run_dir}: {r.error.strip().splitlines()[-1]}", err=True)
    if failed:
        sys.exit(1)


def _row(record: Any) -> dict[str, Any]:
    return {
        "variant": record.spec["variant"],
        "dataset": record.spec["dataset"],
        "status": record.status,
        **record.metrics,
    }


def _describe(record: Any) -> str:
    lines = [f"run {record.run_id}: {record.status}, {record.steps_done} steps (stopped by {record.stopped_by})"]
    if record.diverged_at is not None:
        lines[0] += f", diverged at step {record.diverged_at}"
    lines.append(f"folder: {record.run_dir}")
    if record.metrics:
        lines.append(_metrics_table(record.metrics))
    return "\n".join(lines)


def _metrics_table(scores: dict[str, Any]) -> str:
    from ganbench.tables import format_number

    scores = {k: v for k, v in scores.items() if not isinstance(v, dict)}  # provenance is for the files
    width = max(len(k) for k in scores)
    rows = [f"| {'metric'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    for key, value in scores.items():
        shown = format_number(value) if isinstance(value, float) else str(value)
        rows.append(f"| {key.ljust(width)} | {shown} |")
    return "\n".join(rows)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """Show variants, datasets, networks, metrics, feature extractors and executors, with their plugins."""
    from ganbench.plugins import registries

    listing = {
        kind.removeprefix("register_"): [
            {"name": e.obj.name, "plugin": e.plugin, "source": e.source, "version": e.version, "about": _about(e.obj)}
            for e in reg
        ]
        for kind, reg in registries().by_hook().items()
    }
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    for kind, entries in listing.items():
        click.echo(f"{kind}:")
        width = max((len(e["name"]) for e in entries), default=0)
        for e in entries:
            click.echo(f"  {e['name'].ljust(width)}  {e['source']} {e['version']}  {e['about']}")


def _about(obj: Any) -> str:
    return getattr(obj, "paper", "") or getattr(obj, "description", "") or ""


@cli.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option("--metrics", "-m", default=None, help="Comma-separated metric outputs (default: all found).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv", "latex", "html"]), default="markdown", show_default=True
)
@click.option(
    "--spread",
    type=click.Choice(["std", "se"]),
    default="std",
    show_default=True,
    help="Standard deviation or standard error.",
)
def table(results_dir: str, metrics: str | None, fmt: str, spread: str) -> None:
    """Mean ± spread over seeds of each variant x dataset x metric; best in bold."""
    from ganbench.plugins import registries
    from ganbench.results import load_results
    from ganbench.tables import render, summarize

    if not Path(results_dir).is_dir():
        raise GanbenchError(f"results folder {results_dir} does not exist; pass the --out folder of `ganbench run`")
    runs = load_results(results_dir)
    if runs.empty:
        raise GanbenchError(f"no runs found under {results_dir}; run `ganbench run ... --out {results_dir}` first")
    directions = registries().metric_directions()
    found = [k for k in directions if k in runs.columns]
    chosen = _split((metrics,)) if metrics else found
    for name in chosen:
        if name not in directions:
            raise UnknownNameError("metric output", name, directions)
    click.echo(render(summarize(runs, chosen, directions, spread), chosen, fmt, spread), nl=False)


@cli.command("eval")
@click.option("--dataset", "-d", required=True, help="Dataset name, or real images: an .npz file or a folder.")
@click.option("--samples", required=True, help=".npy/.npz file (or, for images, a folder) of generated samples.")
@click.option("--metrics", "-m", default=None, help="Metrics: fid,is,kid,prdc (default: the dataset's).")
@click.option("--inception-weights", default=None, help=f"FID Inception weights file (or set {WEIGHTS_ENV}).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate(dataset: str, samples: str, metrics: str | None, inception_weights: str | None, as_json: bool) -> None:
    """Score samples generated elsewhere. Image features: pytorch-fid's InceptionV3 (its resize to 299)."""
    from ganbench.evaluation import evaluate_samples
    from ganbench.features.inception import resolve_weights

    if inception_weights:
        os.environ[WEIGHTS_ENV] = str(resolve_weights(inception_weights, download=False))

    scores = evaluate_samples(dataset, samples, _split((metrics,)) if metrics else None)
    if as_json:
        click.echo(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in scores.items()}))
    else:
        click.echo(_metrics_table(scores))


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        from ganbench.plugins import call_hook, registries

        registries()
        call_hook("register_commands", cli=cli)
        code = cli.main(args=argv, prog_name="ganbench", standalone_mode=False)
    except GanbenchError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if getattr(exc, "ctx", None) else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted; rerun the same command to resume from the last checkpoint.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
