"""The ``ganbench`` command line. ``main()`` lets plugins add commands, then runs one; each command
imports what it needs (torch, the plugins' registries) when it runs, so ``--help`` is fast.

Every error a user can cause ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import shlex
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ganbench.console import (
    BuiltinCommand,
    command_stderr,
    command_stdout,
    nested_command,
    output,
    refuse_unwritable_stdout,
    work_quietly,
)
from ganbench.errors import (
    MORE_MEMORY,
    GanbenchError,
    OptionError,
    OutputError,
    counted,
    one_line,
    one_line_warning,
    path_errors,
    refuse_link_loop,
    shell_path,
)
from ganbench.interrupts import holding_ctrl_c
from ganbench.memory_limits import capped_import_line
from ganbench.writable import file_in_the_way, kind_of, refuse_writing_into_data, remedy, why_unwritable

MAX_RUNS_UNASKED = 100
"""More runs than this in one command need --yes: a seed range typo should not start 100,001 runs."""


class _CtrlC(BaseException):
    """A Ctrl-C while a command ran, carried past click, which says an empty line for one (two lines, with ours)."""


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _CtrlC from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganbench")
def cli() -> None:
    """Train, measure and compare GAN variants under fixed seeds and budgets."""


def _split(values: tuple[str, ...], paths: bool = False) -> list[str]:
    """Comma-separated values, split and stripped; with ``paths``, a value naming an existing file or folder is
    one (a folder "a,b" is not datasets a and b) and kept as typed (a folder "imgs " is not the folder imgs)."""
    return [
        v if paths and os.path.exists(v) else v.strip()
        for value in values
        for v in ([value] if paths and os.path.exists(value) else value.split(","))
        if v.strip()
    ]


def _names(
    values: tuple[str, ...] | str | None, option: str, example: str | None, paths: bool = False
) -> list[str] | None:
    """Comma-separated names, each once; None if the option was not given; OptionError if it was given empty (an
    ``example`` of None: [], for the code that knows the dataset to say which it offers). ``paths``: an existing
    path is one name, commas and all (see ``_split``)."""
    if values is None or values == ():
        return None
    names = list(dict.fromkeys(_split((values,) if isinstance(values, str) else values, paths)))
    if not names and example is not None:
        raise OptionError(f"{option} is empty; name at least one, e.g. {option} {example}")
    return names


def _given(value: str | None, option: str, example: str) -> str | None:
    """``value``, unless it was given empty: an empty path would silently mean the current folder."""
    if value is not None and not value.strip():
        raise OptionError(f"{option} is empty; name one, e.g. {example}")
    return value


def _home_expanded(path: str | None, option: str) -> str | None:
    """``path`` with a leading "~" expanded, as --data-root's is: quoted ("~/results" in a script or a CI file), it
    met no shell, and a folder named "~" made in the working folder is a trap (``rm -rf ~``)."""
    if path is None or not path.lstrip().startswith("~"):
        return path
    from ganbench.paths import expanded

    return str(expanded(path, option))


def _output_folder(
    path: str | None, option: str, example: str, figures: bool = False, writable: bool = True
) -> str | None:
    """A folder a command will write results into: not empty, not an existing file, not one run's folder,
    creatable where it does not exist yet (checked before any run, without creating it; not with ``writable``
    False, for a folder whose runs may all be finished)."""
    path = _home_expanded(path, option)
    if _given(path, option, f"{option} {example}") is not None and Path(path).exists() and not Path(path).is_dir():
        raise OptionError(f"{option} {path} is a file, not a folder; name a folder, e.g. {option} {example}")
    if path is not None and not figures:  # the option's name, not the API's "out" (pass 75)
        from ganbench.paths import refuse_undecodable_name

        refuse_undecodable_name(path, option)
    _not_one_run(path, option, figures)
    if writable:
        _refuse_unwritable(path, option, example)
    return path


def _refuse_unwritable(path: str | None, option: str, example: str, finished: int = 0, runs: int = 0) -> None:
    """OptionError if ``path`` cannot be written; of a folder holding ``finished`` of its ``runs``, "another folder"
    would train those again: it says to make it writable."""
    problem = None if path is None else why_unwritable(Path(path))
    if problem:
        fix = (
            f"{finished} of its {runs} runs are finished there: make it writable to train the rest"
            if finished
            else f"name another folder, e.g. {option} {example}"
        )
        raise OptionError(f"{option} {path} cannot be written: {problem}; {fix}")


def _finished_or_writable(path: str | None, option: str, example: str, specs: Callable[[], list]) -> str | None:
    """``_output_folder``'s checks, less writability when every run of ``specs()`` has finished there: a read-only
    copy of finished results is shown (it was "cannot be written; name another folder", which trains them again)."""
    from ganbench.results import read_record

    path = _output_folder(path, option, example, writable=False)
    folder = path is not None and Path(path).is_dir()
    finished = [bool(read_record(Path(path) / s.dirname)) for s in specs()] if folder else []
    if finished and all(finished):
        return path
    _refuse_unwritable(path, option, example, sum(finished), len(finished))
    return path


def _suite_results(suite: Any, results: str | None) -> str | None:
    """The --results folder of a suite's command: one it can write, unless every run of the suite has finished
    there (a read-only copy of finished results can still be checked and made a baseline of)."""
    from ganbench.sweeps import default_out

    folder = _finished_or_writable(results, "--results", str(default_out(suite)), suite.specs)
    if folder is not None:
        _refuse_the_folder_above(suite, folder)
    return folder


def _holds_runs_like(results: Path, specs: list[Any]) -> bool:
    """Whether ``results`` holds a run of one of ``specs``' variant, dataset and seed, of other options or code."""
    from ganbench.results import RECORD

    kinds = tuple({spec.dirname.rsplit("__", 1)[0] + "__" for spec in specs})
    try:
        return any(p.name.startswith(kinds) and (p / RECORD).is_file() for p in results.iterdir())
    except OSError:
        return False


def _refuse_what_changed_since_the_baseline(suite: Any) -> None:
    """``leaderboard.check_fits``' BaselineError where the suite has a readable baseline it no longer fits (its
    data, budget or settings changed): why no run of the suite is found, rather than "run sweep first", which
    would train new runs on changed images."""
    from ganbench import leaderboard as lb

    try:
        baseline = lb.read_baseline(suite)
    except GanbenchError:
        return
    lb.check_fits(suite, baseline)


def _refuse_the_folder_above(suite: Any, results: str) -> None:
    """OptionError for a --results folder that holds none of the suite's runs while a folder in it does
    (results/NAME, where `sweep` puts them): `check --results results` trained every run again, beside them."""
    dirnames = [spec.dirname for spec in suite.specs()]
    if any((Path(results) / name / "record.json").is_file() for name in dirnames):
        return
    below = _folder_holding(Path(results), dirnames)
    if below is not None:  # all of them: a folder of some is no mistake to refuse (pass 70)
        raise OptionError(
            f"none of the {counted(len(dirnames), 'run')} of suite {suite.name!r} is in {shell_path(results)}; "
            f"they are in {shell_path(below)}: pass --results {shell_path(below)}"
        )


def _not_one_run(path: str | Path | None, option: str, figures: bool = False) -> None:
    """``results.refuse_run_folder`` of an option's path (``figures``: `plot`'s folder of figures)."""
    from ganbench.results import refuse_run_folder

    refuse_run_folder(path, option, figures)


def _results_folder(path: str, option: str, hint: str) -> Path:
    """An existing results folder named by ``option``; one line with ``hint`` if there is none."""
    folder = Path(_given(path, option, f"{option} results/" if option.startswith("-") else "results/"))
    if folder.exists() and not folder.is_dir():  # the hint would name the file as a folder again
        raise GanbenchError(
            f"results folder {path} is {kind_of(folder)}, not a folder; name the folder its runs were written to"
        )
    if not folder.is_dir():
        refuse_link_loop(folder, "results folder ")
        raise GanbenchError(f"results folder {path} does not exist; {hint}")
    return folder


def _new_file(path: str | None, option: str, example: str) -> Path | None:
    """A file the command will write at the end, checked before any work: its folder must exist."""
    if _given(path, option, f"{option} {example}") is None:
        return None
    target = Path(_home_expanded(path, option))  # click has refused a folder
    if not target.parent.is_dir():
        refuse_link_loop(target.parent, f"{option} {path}: the folder ")
        blocking = file_in_the_way(target.parent)
        if blocking is not None:  # "the folder s/t.toml does not exist" of a file that does
            raise OptionError(f"{option} {path}: {one_line(blocking)} is a file, not a folder; name a file in a folder")
        raise OptionError(f"{option} {path}: the folder {target.parent} does not exist; create it or name another")
    return target


def _refuse_baseline_onto(suite: Any, keep: list[Path]) -> None:
    """OptionError, before any run, if the baseline is a link (followed as it is written) to the suite file or
    into the results folder: `update` would replace the suite, or a run's record, with the baseline."""
    baseline = suite.baseline_path
    target = Path(os.path.realpath(baseline))
    fix = "delete it (a baseline is a file of its own), then run the same command again"
    for kept in (path.resolve() for path in keep):
        if baseline.is_symlink() and (target == kept or kept in target.parents):  # a suite kept in its results: no
            where = "" if target == kept else f", in {one_line(kept)}"
            raise OptionError(
                f"baseline {one_line(baseline)} is a link to {one_line(target)}{where}, which writing the baseline "
                f"would replace; {fix}"
            )  # a hard link is no danger: the new baseline is a new file, and the other name keeps its text


def _report_file(
    path: str | Path | None, option: str, keep: list[Path], ours: Callable[[bytes], bool] | None
) -> Path | None:
    """A report's target, refused before any run if it is one of the files or folders in ``keep`` (the suite, its
    baseline, the results folder) or lies in one, a FIFO (writing would wait forever), or a file ganbench must not
    write: one that ``ours`` (given the file's first bytes) says is not a report of its own, which a replaced report
    is; else, for an appended report, a JSON document (a baseline or record elsewhere) or a binary file."""
    if path is None:
        return None
    refuse_link_loop(path, f"{option} ")  # resolve() would say it of no option
    target = Path(path).resolve()  # as written to: "~" in $GITHUB_STEP_SUMMARY is a folder of that name
    for kept in keep:
        kept = kept.resolve()
        if kept in target.parents and kept.is_file():  # "is in t.toml, which this command keeps"
            raise OptionError(f"{option} {one_line(path)} lies under {one_line(kept)}, a file, not a folder; point it "
                              "elsewhere")  # fmt: skip
        if target == kept or kept in target.parents or _same_file(target, kept):  # a hard link is the file too
            how = "" if target == kept else "in " if kept in target.parents else "a hard link to "
            where = f"{how}{one_line(kept)}"
            fix = f"name a new file, e.g. {option} leaderboard.xml" if ours else "point it elsewhere"
            raise OptionError(f"{option} {one_line(path)} is {where}, which this command keeps; {fix}")
    if target.is_file() and target.stat().st_nlink > 1:  # another name of it may be anything: a record, a baseline
        raise OptionError(
            f"{option} {one_line(path)} has other names (hard links); ganbench writes reports only to a file of one "
            "name: name a new file"
        )
    if target.exists() and stat.S_ISFIFO(target.stat().st_mode):
        raise OptionError(f"{option} {one_line(path)} is a FIFO, which would wait for a reader forever; name a file")
    if ours is None and not target.is_dir():  # by its name, made or not: a new .json, an empty Makefile
        _refuse_summary_name(target, path, option)
    if not target.is_file() or not target.stat().st_size:
        return Path(path)
    with open(target, "rb") as f:  # read once: a summary's checks look at up to 16 MiB
        data = f.read(4096 if ours is not None else SUMMARY_READ + 1)
    if ours is not None and not ours(data):
        raise OptionError(
            f"{option} {one_line(path)} exists and is not a report ganbench wrote; name a new file or delete it first"
        )
    if ours is None and _is_junit_of_ours(data):  # ganbench's own --junit, named without .xml
        raise OptionError(f"{option} {one_line(path)} is a JUnit report ganbench wrote, not a step summary; point it "
                          "elsewhere")  # fmt: skip
    binary = ours is None and _is_binary(data)
    if binary or (ours is None and _is_json(data)):
        kind = "binary (not UTF-8 text)" if binary else "JSON (a baseline or a record?)"
        raise OptionError(f"{option} {one_line(path)} is {kind}, not a step summary; point it elsewhere")
    return Path(path)


def _refuse_summary_name(target: Path, path: str | Path, option: str) -> None:
    """OptionError for a step summary named as a file of another kind: markdown appended to a suite, a script, a
    history.csv, a .gitignore or a README breaks it (GitHub's own is step_summary_<uuid>)."""
    suffix = target.suffix.lower()
    if suffix not in SUMMARY_SUFFIXES:
        raise OptionError(
            f"{option} {one_line(path)} is a {one_line(suffix)} file, not a step summary (markdown: no suffix, .md or "
            ".txt); point it elsewhere"
        )
    if target.name.startswith(".") or target.stem.lower() in NOT_SUMMARIES:
        raise OptionError(
            f"{option} {one_line(path)} is a file of settings or sources ({one_line(target.name)}), not a step "
            "summary (markdown); point it elsewhere"
        )


SUMMARY_SUFFIXES = ("", ".md", ".markdown", ".txt", ".log")
"""The names of files a step summary is appended to when they hold text already (GitHub's has no suffix)."""
NOT_SUMMARIES = {
    *("makefile", "gnumakefile", "dockerfile", "containerfile", "procfile", "gemfile", "jenkinsfile", "vagrantfile"),
    *("license", "licence", "readme", "changelog", "codeowners", "requirements", "constraints", "cmakelists"),
}
"""Files without a suffix that hold settings or sources, not a step summary (GitHub's is step_summary_<uuid>)."""
SUMMARY_READ = 2**24
"""How much of an existing step summary is read to tell text from a binary file."""


def _is_binary(data: bytes) -> bool:
    """Whether a file's first ``SUMMARY_READ`` + 1 bytes are no UTF-8 text (a step summary is markdown): a NUL,
    or bytes that do not decode. A character cut at the read's end is the read's end, not the file's."""
    whole = len(data) <= SUMMARY_READ
    try:
        data[:SUMMARY_READ].decode("utf-8")
    except UnicodeDecodeError as exc:
        return whole or exc.start < SUMMARY_READ - 3 or exc.reason != "unexpected end of data"
    return b"\0" in data


def _is_json(data: bytes) -> bool:
    """Whether a file's first bytes are a JSON document (a byte-order mark before it too); past 1 MiB, by the
    first character."""
    text = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if len(data) > 2**20:
        return text[:1] in (b"{", b"[")
    try:
        return isinstance(json.loads(text), dict | list)  # `echo 42 >> $GITHUB_STEP_SUMMARY` is a summary's text
    except ValueError:  # also UnicodeDecodeError
        return False


def _is_junit_of_ours(head: bytes) -> bool:
    """Whether a file starts as ``reports.junit`` writes: an XML declaration, then a ganbench testsuite."""
    return b'<testsuite name="ganbench.' in head[:200] and head.lstrip().startswith(b"<")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _number(text: str | None, kind: type) -> Any:
    """``kind(text)`` if it parses; else the text itself, for the spec to reject with its own message."""
    if text is None:
        return None
    from ganbench.options import plain_number

    if not plain_number(text):  # "1_0", "１０": int() reads them as 10
        return text
    try:
        return kind(text)
    except ValueError:
        return text


class _Count(click.IntRange):
    """click's IntRange, refusing what int() reads but no one writes as a count: "1_0", "５" (another script)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ganbench.options import plain_number

        if isinstance(value, str) and not plain_number(value):
            self.fail(f"{value!r} is not a whole number written in the digits 0-9", param, ctx)
        if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):  # "1e3", "1.5": click's words
            self.fail(f"{value!r} is not a whole number (e.g. {self.min or 0})", param, ctx)  # were "integer range"
        return super().convert(value, param, ctx)


def _seeds(values: tuple[str, ...]) -> list[int]:
    from ganbench.spec import parse_seeds

    _names(values, "--seed", "0-4")  # given empty: said so
    return parse_seeds(",".join(values) if values else "0")  # "--seed ,1": an empty item, refused there


def _use_data_root(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--data-root DIR``: where datasets are downloaded (passed on through the environment, so workers see it)."""
    from ganbench.paths import DATA_ENV, expanded

    if value is not None:
        if not value.strip():
            raise OptionError("--data-root is empty; name a folder, e.g. --data-root ~/data")
        root = expanded(value, "--data-root").resolve()
        blocking = file_in_the_way(root)
        if blocking is not None:  # "cannot write to <it>/MNIST/raw (Not a directory)" came only at the first read
            raise OptionError(f"--data-root {value}: {one_line(blocking)} is a file, not a folder; name a folder")
        os.environ[DATA_ENV] = str(root)  # as $GANBENCH_DATA


data_root_option = click.option(
    "--data-root",
    default=None,
    expose_value=False,
    callback=_use_data_root,
    help="Folder of downloaded datasets (or set GANBENCH_DATA; default ~/.cache/ganbench/data).",
)


@cli.command(cls=BuiltinCommand)
@data_root_option
@click.option(
    "--variant", "-v", "variants", multiple=True, required=True, help="Variant name(s); repeat or comma-separate."
)
@click.option("--dataset", "-d", "datasets", multiple=True, required=True, help="Dataset name(s).")
@click.option("--seed", "-s", "seeds", multiple=True, help="Seed(s): 0, 0,1,2 or 0-4. Default 0.")
@click.option("--steps", default=None, help="Generator updates (default: the dataset's budget; `ganbench list`).")
@click.option("--max-seconds", default=None, help="Stop training after this many seconds.")
@click.option(
    "--network",
    "-n",
    default=None,
    help="Network family, built as registered (default: the variant's paper network for the data, else the dataset's).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override an option: lr_d=1e-4, dataset.sigma=0.1, network.width=256.",
)
@click.option("--metrics", "-m", default=None, help="Comma-separated metrics (default: the dataset's).")
@click.option("--eval-samples", default=None, help="Generated samples to score (default: the dataset's, e.g. 10000).")
@click.option(
    "--eval-every", default=None, help="Also score every N steps: curves in history.csv, the best in record.json."
)
@click.option(
    "--truncation",
    default=None,
    help="Score samples of z truncated to [-T, T] (BigGAN's truncation trick; default: none). Part of the run's spec.",
)
@click.option(
    "--out", "-o", default="results", show_default=True, type=click.Path(file_okay=False), help="Results folder."
)
@click.option("--force", is_flag=True, help="Train again even if the run is finished.")
@click.option(
    "--checkpoint-every", default=1000, show_default=True, type=_Count(min=1), help="Steps between checkpoints."
)
@click.option("--log-every", default=10, show_default=True, type=_Count(min=1), help="Steps between history rows.")
@click.option("--executor", default="local", show_default=True, help="Executor of the runs (`ganbench list`).")
@click.option("--executor-option", "executor_sets", multiple=True, metavar="KEY=VALUE", help="An executor option.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=_Count(min=1),
    help="Parallel runs (local executor: processes).",
)
@click.option("--device", default=None, help="torch device (default: cuda if available, else cpu).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--yes", "-y", is_flag=True, help=f"Start more than {MAX_RUNS_UNASKED} runs without asking.")
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
    eval_every,
    truncation,
    out,
    force,
    checkpoint_every,
    log_every,
    executor,
    executor_sets,
    workers,
    device,
    quiet,
    yes,
) -> None:
    """Train variant(s) on dataset(s) for seed(s), score them, and record every run."""
    from ganbench.devices import resolve_device
    from ganbench.harness import run_job, run_spec
    from ganbench.options import with_options
    from ganbench.plugins import registries
    from ganbench.resolve import create_spec, output_names
    from ganbench.results import read_record, records_frame
    from ganbench.spec import parse_set
    from ganbench.sweeps import check_jobs_fit, run_jobs
    from ganbench.tables import render, summarize
    from ganbench.threads import use_threads_per_run

    out = _output_folder(out, "--out", "results", writable=False)  # writable, unless its runs are done: below
    variant_names = _names(variants, "--variant", "wgan-gp")
    dataset_names = _names(datasets, "--dataset", "grid25", paths=True)
    metric_names = _names(metrics, "--metrics", None)  # empty: the dataset's own metric as the example
    network_names = _names(network, "--network", "mlp")
    if network_names and len(network_names) > 1:
        raise OptionError(f"--network takes one network, not {', '.join(network_names)}")
    seed_list = _seeds(seeds)
    device = str(resolve_device(device)) if device is not None else None
    overrides = parse_set(sets)
    count = len(variant_names) * len(dataset_names) * len(seed_list)
    if count > MAX_RUNS_UNASKED and not yes:
        raise OptionError(
            f"this command asks for {count:,} runs ({len(variant_names)} variant(s) x {len(dataset_names)} "
            f"dataset(s) x {len(seed_list):,} seed(s)); pass --yes to start them, or narrow --seed"
        )
    shared_metrics = any(registries().variants.get(name).conditional for name in variant_names)
    with _own_flags_named(overrides):
        specs = [
            create_spec(
                v,
                d,
                network=network_names[0] if network_names else None,
                seed=seed,
                steps=_number(steps, int),
                max_seconds=_number(max_seconds, float),
                overrides=overrides,
                metrics=None if metric_names is None else tuple(metric_names),
                eval_samples=_number(eval_samples, int),
                eval_every=_number(eval_every, int),
                truncation=_number(truncation, float),
                shared_metrics=shared_metrics,
            )
            for d in dataset_names
            for v in variant_names
            for seed in seed_list
        ]
    specs = list({spec.dirname: spec for spec in specs}.values())  # ./imgs,imgs: one folder named twice, one run
    if force or not all(read_record(Path(out) / spec.dirname) for spec in specs):
        _refuse_unwritable(out, "--out", "results")  # something will be written: before any run, say if it cannot
    options = dict(
        force=force, checkpoint_every=checkpoint_every, log_every=log_every, progress=not quiet, device=device
    )
    runner = registries().executors.get(executor)  # named, it is used: one run goes to a cluster too
    runner = with_options(runner, _executor_options(executor_sets), f"executor {executor!r}")
    if len(specs) == 1 or workers == 1:
        use_threads_per_run(1)  # runs in this process: the usable cores (a pool shares them out itself)
    _Interrupted.training = True
    if len(specs) == 1 and executor == "local" and not executor_sets:
        record = run_spec(specs[0], out, **options)
        output(_describe(record, output_names(specs[0])))
        return
    # what run_spec checks of one run, for all before any starts: else each failed apart, and no folder was made
    todo = [s for s in specs if force or read_record(Path(out) / s.dirname) is None]
    check_jobs_fit(todo, {"--out": out}, runner, device, workers)
    records = run_jobs(
        executor, runner, [(run_job, {"spec": s.to_dict(), "out": out, **options}) for s in specs], workers
    )
    shown = list(dict.fromkeys(k for spec in specs for k in output_names(spec)))
    frame = records_frame([r for r in records if r.status != "skipped"])
    shown = [k for k in shown if k in frame.columns]
    if not frame.empty:
        output(render(summarize(frame, shown, registries().metric_directions(), "se"), shown, spread="se"))
    click.echo(_where_runs_lie(records, Path(out).resolve()), err=True)
    if _report_failures(records):
        sys.exit(1)


def _describe(record: Any, order: list[str] | None = None) -> str:
    """A run's outcome and scores, the scores in ``order`` (the spec's outputs: a record read back from disk has
    its keys sorted, a fresh one in the order they were computed) and any others after them."""
    lines = [f"run {record.run_id}: {record.status}, {record.steps_done} steps (stopped by {record.stopped_by})"]
    if record.diverged_at is not None:
        lines[0] += f", diverged at step {record.diverged_at}"
    if record.status == "completed" and record.steps_done == 0:
        lines[0] += "; the time ran out before the first step: these are the scores of an untrained generator"
    lines.append(f"folder: {one_line(record.run_dir)}")  # a name holding a newline forges no line
    if record.metrics:
        ordered = {k: record.metrics[k] for k in [*(order or []), *record.metrics] if k in record.metrics}
        lines.append(_metrics_table(ordered, getattr(record, "raw_metrics", None)))
    return "\n".join(lines)


def _metrics_table(scores: dict[str, Any], raw: dict[str, Any] | None = None) -> str:
    """Scores as a markdown table; with ``raw`` (a run with a generator EMA), G's own beside the average's."""
    return _score_columns({"EMA of G": scores, "G": raw} if raw else {"value": scores})


def _score_columns(columns: dict[str, dict[str, Any]]) -> str:
    """A markdown table: a row per metric output of the first column's scores, a column per set of scores."""
    from ganbench.tables import format_number

    def shown(value: Any) -> str:
        return format_number(value) if isinstance(value, float) or value is None else str(value)

    first = next(iter(columns.values()))
    keys = [k for k, v in first.items() if not isinstance(v, dict)]  # provenance is for the files
    width = max(len(k) for k in keys)
    rows = [
        f"| {'metric'.ljust(width)} | {' | '.join(columns)} |",
        f"|{'-' * (width + 2)}|{'|'.join('---' for _ in columns)}|",
    ]
    for key in keys:
        rows.append(f"| {key.ljust(width)} | {' | '.join(shown(c.get(key)) for c in columns.values())} |")
    return "\n".join(rows)


@cli.command("list", cls=BuiltinCommand)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """Show variants, datasets, networks, metrics, feature extractors, executors and loggers, with their plugins."""
    from ganbench.listing import listing, render

    listed = listing()
    output(json.dumps(listed, indent=2) if as_json else render(listed))


@cli.command(cls=BuiltinCommand)
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option("--metrics", "-m", default=None, help="Comma-separated metric outputs (default: all found).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv", "latex", "html"]), default="markdown", show_default=True
)
@click.option(
    "--spread",
    type=click.Choice(["se", "std"]),
    default="se",
    show_default=True,
    help="Standard error (as figures and leaderboards draw) or standard deviation.",
)
def table(results_dir: str, metrics: str | None, fmt: str, spread: str) -> None:
    """Mean ± spread over seeds of each variant x dataset x metric; best in bold."""
    from ganbench.plugins import registries
    from ganbench.reference_rows import reference_table
    from ganbench.results import check_outputs, scan_results
    from ganbench.tables import render, summarize

    results_dir = _home_expanded(results_dir, "RESULTS_DIR")
    _results_folder(results_dir, "RESULTS_DIR", "pass the --out folder of `ganbench run`")
    directions = registries().metric_directions()
    chosen = _names(metrics, "--metrics", None)
    scan = scan_results(results_dir, directions)
    runs = scan.runs
    if runs.empty:
        raise scan.nothing_found(results_dir)
    check_outputs(chosen, directions, [k for k in directions if k in runs.columns])  # outputs these runs have
    scan.refuse_unmeasured(chosen, results_dir)
    for line in scan.problems():
        click.echo(f"warning: {line}", err=True)
    chosen = chosen or [k for k in directions if k in runs.columns]
    summary = summarize(runs, chosen, directions, spread)
    output(render(summary, chosen, fmt, spread), nl=False)
    if fmt != "markdown":
        return
    spread_name = "standard error" if spread == "se" else "standard deviation"
    output(
        f"\nmean ± {spread_name} over seeds; bold: the best of each dataset and budget, among runs scored against "
        "the same data and number of samples."
    )
    references, notes = reference_table(runs, chosen, directions, spread)
    if not references.empty:
        shown = [m for m in chosen if references[f"{m}_mean"].notna().any()]
        output("\nReference rows, not runs:\n")
        refs = references.drop(columns=["n", "diverged"]).assign(n="–", diverged="–")
        output(render(refs, shown, spread=spread), nl=False)
    if notes:  # also when no dataset has reference rows: the notes say why
        output("")
        for note in notes:
            output(f"- {one_line(note)}")  # they quote dataset names, which may be any path


@cli.command(cls=BuiltinCommand)
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option(
    "--out", "-o", "out_dir", default=None, type=click.Path(file_okay=False), help="Default: RESULTS_DIR/figures."
)
@click.option("--metrics", "-m", default=None, help="Comma-separated metric outputs (default: all found).")
@click.option(
    "--smooth",
    default=None,
    type=_Count(min=1, max=10**9),  # pandas' window is a C long: 2^63 was a traceback, after making --out
    help="Rolling mean of losses over this many logged points (default: automatic; 1: none).",
)
def plot(results_dir: str, out_dir: str | None, metrics: str | None, smooth: int | None) -> None:
    """PNG figures of a results folder: training curves (mean and band over seeds), samples of every
    variant side by side, and the leaderboard as bars with standard errors; one set per dataset."""
    from ganbench.figures import plot_results

    results_dir = _home_expanded(results_dir, "RESULTS_DIR")
    out_dir = _output_folder(out_dir, "--out", "figures", figures=True)  # before the folder's problems: they are moot
    chosen = _names(metrics, "--metrics", None)  # [] is refused with an output the runs have, once they are read
    paths = plot_results(
        _given(results_dir, "RESULTS_DIR", "results/"),
        _given(out_dir, "--out", "--out figures"),
        chosen,
        smooth=smooth,
        on_problem=lambda line: click.echo(f"warning: {line}", err=True),
    )
    for path in paths:
        output(str(path))


@cli.command("eval", cls=BuiltinCommand)
@data_root_option
@click.option("--dataset", "-d", required=True, help="Dataset name, or real images: an .npz file or a folder.")
@click.option("--samples", required=True, help=".npy/.npz/.pt file (or, for images, a folder) of generated samples.")
@click.option("--metrics", "-m", default=None, help="Metrics: fid,is,kid,prdc (default: the dataset's).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Dataset option: dataset.split=test.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate(dataset: str, samples: str, metrics: str | None, sets: tuple[str, ...], as_json: bool) -> None:
    """Score samples generated elsewhere. Image features: pytorch-fid's InceptionV3 (its resize to 299)."""
    from ganbench.evaluation import evaluate_samples
    from ganbench.results import strict_json

    _given(dataset, "--dataset", "--dataset digits, or a folder of real images")
    if not samples.strip():
        raise OptionError("--samples is empty; pass a .npy/.npz/.pt file (or, for images, a folder)")
    samples = _home_expanded(samples, "--samples")
    from ganbench.spec import parse_set, split_overrides

    groups = split_overrides(parse_set(sets, example="dataset.split=test"))
    if groups["variant"] or groups["network"]:
        raise OptionError("eval takes dataset options only: --set dataset.KEY=VALUE")
    scores = evaluate_samples(dataset, samples, _names(metrics, "--metrics", None), groups["dataset"])
    references, notes = _eval_references(dataset, groups["dataset"], scores, rows=not as_json)
    if as_json:
        output(json.dumps(strict_json(scores), allow_nan=False))
        return
    output(_score_columns({"samples": scores, **references}))
    for note in notes:
        output(f"- {one_line(note)}")


def _eval_references(
    dataset: str, options: dict[str, Any], scores: dict[str, Any], rows: bool = True
) -> tuple[dict, list[str]]:
    """For a mixture or images: the reference rows' scores at the samples' N (as columns; not computed unless
    ``rows``), notes, and for a mixture a warning on stderr when N is not the protocol's (modes_captured grows
    with N)."""
    from ganbench.devices import memory_line
    from ganbench.evaluation import names_real_files, resolve_dataset
    from ganbench.plugins import registries
    from ganbench.reference_rows import KINDS, floor_warnings, has_references, reference_note, reference_scores
    from ganbench.spec import EVAL_SEED

    ds = resolve_dataset(dataset, options)
    n = (scores.get("provenance") or {}).get("n_fake") if isinstance(scores.get("provenance"), dict) else None
    if not has_references(ds) or not isinstance(n, int):
        return {}, []
    growing = [k for k in ("modes_captured", "hq_fraction") if k in scores]  # what the count of samples moves
    if ds.modes is not None and n != ds.eval_samples and growing:
        click.echo(
            f"warning: {n:,} samples, but the {ds.name} protocol scores {ds.eval_samples:,}; {' and '.join(growing)} "
            f"grow{'s' if len(growing) == 1 else ''} with N, so compare only at equal N",
            err=True,
        )
    if not rows:
        return {}, []
    directions = registries().metric_directions()
    names = [k for k, v in scores.items() if k in directions]  # outputs, not their companions (is_classifier_std)
    try:
        by_kind = reference_scores(ds, names, n, EVAL_SEED, match_sizes=not names_real_files(dataset))  # as samples
    except Exception as exc:  # the samples' scores stand: the rows beside them are left out, not the scores (pass 72)
        line = memory_line(exc, "scoring them", f"{MORE_MEMORY}, or use --json (no rows)")
        if line is None:
            raise
        click.echo(f"warning: the reference rows are left out: {line}", err=True)
        return {}, []
    if not any(by_kind.values()):  # nothing it can score cheaply (Inception-space metrics of images)
        return {}, []
    notes = [reference_note(ds, n), *floor_warnings(by_kind, directions, ds.name)]
    return {f"[{kind}]": by_kind[kind] for kind in KINDS}, notes


@contextlib.contextmanager
def _own_flags_named(overrides: dict[str, Any]) -> Iterator[None]:
    """ "has no option 'steps'" of `--set steps=20` says the command's own flag that sets it (--steps 20), as `--set
    network=` is told --network: the list of the variant's options named none of them."""
    try:
        yield
    except OptionError as exc:
        named = re.match(r"variant '[^']*' has no option '([a-z_]+)'", str(exc))  # a bare key's, not dataset.steps'
        flag = f"--{named.group(1).replace('_', '-')}" if named else ""
        params = [p for p in click.get_current_context().command.params if flag in p.opts]
        if not named or named.group(1) not in overrides or not params:
            raise
        from ganbench.options import cli_text

        value = overrides[named.group(1)]
        if getattr(params[0], "is_flag", False):  # --force takes no value: "--force 1" was an error
            text = str(value).lower()
            on, off = text in ("1", "true", "yes", "on"), text in ("0", "false", "no", "off")
            spelled = flag if on else f"leave {flag} out" if off else f"{flag} (a flag: no value)"
        else:
            spelled = f"{flag} {shlex.quote(cli_text(value))}"
        raise OptionError(f"{exc}; {named.group(1)} is this command's own flag: {spelled}") from None


def _executor_options(items: tuple[str, ...]) -> dict[str, str]:
    from ganbench.spec import parse_set

    return parse_set(items, "--executor-option", "max_retries=1")


executor_options = [
    click.option("--executor", default="local", show_default=True, help="Executor: local, or a plugin's (ray)."),
    click.option("--workers", default=1, show_default=True, type=_Count(min=1), help="Runs at a time."),
    click.option("--executor-option", "executor_sets", multiple=True, metavar="KEY=VALUE", help="An executor option."),
    click.option(
        "--checkpoint-every",
        default=1000,
        show_default=True,
        type=_Count(min=1),
        help="Steps between a run's checkpoints (a killed sweep resumes from them).",
    ),
    click.option("--yes", "-y", is_flag=True, help=f"Run a suite of more than {MAX_RUNS_UNASKED} runs without asking."),
]


def with_executor_options(command: Any) -> Any:
    for decorate in reversed(executor_options):
        command = decorate(command)
    return command


def _sweep(
    suite: Any,
    out: str | None,
    quiet: bool,
    executor: str,
    workers: int,
    executor_sets: tuple,
    checkpoint_every: int,
    yes: bool,
) -> list:
    """Every run of ``suite``, training those not finished yet (the options of ``with_executor_options``)."""
    from ganbench.sweeps import run_suite
    from ganbench.threads import use_threads_per_run
    from ganbench.training import Hooks

    Hooks(checkpoint_every=checkpoint_every)  # checks it once here, not in each run
    count = len(suite.variants) * len(suite.datasets) * len(suite.seeds)
    if count > MAX_RUNS_UNASKED and not yes:
        raise suite.error(
            f"the suite asks for {count:,} runs ({len(suite.variants)} variant(s) x {len(suite.datasets)} "
            f"dataset(s) x {len(suite.seeds):,} seed(s)); pass --yes to run them, or narrow its seeds",
            key="seeds",
        )
    if workers == 1:
        use_threads_per_run(1)
    _Interrupted.training = True
    return run_suite(
        suite,
        out,
        executor=executor,
        workers=workers,
        executor_options=_executor_options(executor_sets),
        progress=not quiet,
        checkpoint_every=checkpoint_every,
    )


def _suite_table(records: list) -> str:
    from ganbench.plugins import registries
    from ganbench.resolve import output_names
    from ganbench.results import records_frame
    from ganbench.spec import RunSpec
    from ganbench.tables import render, summarize

    shown = list(dict.fromkeys(k for r in records for k in output_names(RunSpec.from_dict(r.spec))))
    frame = records_frame([r for r in records if r.status != "failed"])
    if frame.empty:
        return ""
    shown = [k for k in shown if k in frame.columns]
    return render(summarize(frame, shown, registries().metric_directions(), "se"), shown, spread="se")


def _where_runs_lie(records: list, where: Path, whose: str = "") -> str:
    """Where the runs' folders are, but not of a run that failed as it started: it made none. (Not of every folder
    missing here: a cluster's runs may have written theirs on its machines.)"""
    runs = f"{whose}{counted(len(records), 'run')}"
    made = len(records) - sum(r.status == "failed" and not (r.run_dir and Path(r.run_dir).is_dir()) for r in records)
    if made == len(records):
        return f"{runs} in {where}, a folder each"
    if made == 0:
        return f"{runs}: none has a folder in {where}, each failed before its folder was made (below)"
    return f"{runs} in {where}: {made} with a folder, {len(records) - made} failed before theirs was made (below)"


def _report_failures(records: list) -> int:
    """Name each run that failed or was skipped (another process trains it) on stderr; how many: any
    means the results are not complete, and the command exits 1."""
    unfinished = [r for r in records if r.status in UNFINISHED]
    for r in unfinished:
        made = not r.run_dir or Path(r.run_dir).is_dir()  # a run that failed as it started made none: not there
        click.echo(f"{r.status}: {r.run_dir}{'' if made else ' (no folder)'}: {_why_unfinished(r)}", err=True)
    return len(unfinished)


UNFINISHED = ("failed", "skipped")


def _why_unfinished(record: Any) -> str:
    """The last line of a failed or skipped run's error (a traceback's is its exception)."""
    return ((record.error or "").strip().splitlines() or ["no reason recorded"])[-1]


@cli.command(cls=BuiltinCommand)
@data_root_option
@click.argument("suite_file", type=click.Path(dir_okay=False))
@click.option("--out", "-o", default=None, help="Results folder (default: results/<suite name>).")
@with_executor_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep(suite_file: str, out: str | None, quiet: bool, **executing: Any) -> None:
    """Run every run of a suite that is not finished, then print the suite's table (mean ± se)."""
    from ganbench.suites import load_suite

    suite_file = _home_expanded(suite_file, "SUITE_FILE")
    suite = load_suite(suite_file)
    from ganbench.sweeps import default_out

    folder = _finished_or_writable(out, "--out", str(default_out(suite)), suite.specs)
    records = _sweep(suite, folder, quiet, **executing)
    output(_suite_table(records), nl=False)
    where = Path(folder or default_out(suite)).resolve()  # the suite's runs: the folder may hold others too
    click.echo(_where_runs_lie(records, where, "the suite's "), err=True)
    if _report_failures(records):
        sys.exit(1)


@cli.group()
def leaderboard() -> None:
    """Suites with a committed baseline: check the current code against it, update it, show it."""


@leaderboard.command(cls=BuiltinCommand)
@data_root_option
@click.argument("suite_file", type=click.Path(dir_okay=False))
@click.option("--results", default=None, help="Results folder (default: results/<suite name>).")
@with_executor_options
@click.option("--strict", is_flag=True, help="Also exit 1 when a verdict is inconclusive.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--junit", "junit_file", default=None, type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def check(
    suite_file: str, results: str | None, strict: bool, as_json: bool, junit_file: str | None, quiet: bool, **executing
) -> None:
    """Run what is missing, then give each (variant, dataset, metric) a verdict against the baseline.

    Exit 1 on a regression (--strict: also on an inconclusive verdict). The markdown report
    is appended to $GITHUB_STEP_SUMMARY when that is set.
    """
    from ganbench import leaderboard as lb
    from ganbench import reports
    from ganbench.atomic import remove_stale_temps, write_atomic
    from ganbench.paths import env_text
    from ganbench.plugins import registries
    from ganbench.suites import load_suite
    from ganbench.sweeps import default_out
    from ganbench.verdicts import judge

    suite_file = _home_expanded(suite_file, "SUITE_FILE")
    suite = load_suite(suite_file)
    folder = _suite_results(suite, results)
    keep = [Path(suite_file), suite.baseline_path, Path(folder or default_out(suite))]
    junit_path = _report_file(_new_file(junit_file, "--junit", "leaderboard.xml"), "--junit", keep, _is_junit_of_ours)
    summary = _report_file(
        env_text("GITHUB_STEP_SUMMARY"),  # "~" unexpanded: where a step's >> "$GITHUB_STEP_SUMMARY" appends
        "$GITHUB_STEP_SUMMARY",
        [*keep, *[junit_path] * bool(junit_path)],
        None,
    )
    if junit_path or summary:
        refuse_writing_into_data(_suite_data_paths(suite), {"--junit": junit_path, "$GITHUB_STEP_SUMMARY": summary})
    baseline = lb.read_baseline(suite)
    lb.check_fits(suite, baseline)
    records = _sweep(suite, folder, quiet, **executing)
    unfinished = _report_failures(records)
    metrics = suite.outputs()
    comparisons = judge(
        lb.compare(
            suite,
            lb.rows_of_baseline(baseline),
            lb.rows_of_records(records, suite),
            registries().metric_directions(),
            metrics,
        )
    )
    notes = [n for n in [lb.hardware_note(baseline, records)] if n]
    notes += [f"{unfinished} run(s) failed or were skipped: see the log"] if unfinished else []
    text = reports.markdown(suite.name, comparisons, notes)
    json_text = json.dumps(reports.as_json(suite.name, comparisons, notes), indent=2) if as_json else ""
    output(json_text or text, nl=not as_json)
    if junit_path:
        stopped = [(r.run_dir, f"{r.status}: {_why_unfinished(r)}") for r in records if r.status in UNFINISHED]
        xml = reports.junit(suite.name, comparisons, strict, stopped).encode()
        try:
            write_atomic(junit_path, lambda f: f.write(xml), devices=True, follow=True)
            remove_stale_temps(Path(os.path.realpath(junit_path)).parent)  # a killed check's, beside its report
        except OSError as exc:  # a CI that reads it must not pass without it
            raise OutputError(
                f"could not write --junit {one_line(junit_path)} ({exc.strerror or exc}); "
                f"{remedy(exc, 'name a --junit file in a folder that can be written')}"
            ) from None
    if summary:
        size, existed = None, os.path.lexists(summary)
        try:
            with open(summary, "ab+") as out:  # after the previous step's text, on a line of its own
                size = out.seek(0, os.SEEK_END)
                ends_a_line = not size or (out.seek(size - 1), out.read(1))[1] == b"\n"
                out.write((("" if ends_a_line else "\n") + text + "\n").encode())
        except OSError as exc:
            undone = ""
            if size is not None:  # a full disk took part of it: the previous steps' text ends as it ended
                try:
                    if existed:
                        os.truncate(summary, size)
                    else:  # made by this append: gone again
                        os.unlink(summary)
                    undone = "; the file is as it was" if existed else "; nothing was written"
                except OSError:
                    undone = "; part of the report may have been appended to it"
            click.echo(
                f"warning: could not append to $GITHUB_STEP_SUMMARY {one_line(summary)} ({exc.strerror or exc})"
                + undone,
                err=True,
            )
    verdicts = reports.counts(comparisons)
    if unfinished or verdicts["regressed"] or (strict and verdicts["inconclusive"]):
        sys.exit(1)


@leaderboard.command(cls=BuiltinCommand)
@data_root_option
@click.argument("suite_file", type=click.Path(dir_okay=False))
@click.option("--results", default=None, help="Results folder (default: results/<suite name>).")
@with_executor_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def update(suite_file: str, results: str | None, quiet: bool, **executing: Any) -> None:
    """Run what is missing, then rewrite the suite's baseline from the results (atomically)."""
    from ganbench import leaderboard as lb
    from ganbench.suites import load_suite
    from ganbench.sweeps import default_out

    suite_file = _home_expanded(suite_file, "SUITE_FILE")
    suite = load_suite(suite_file)
    folder = _suite_results(suite, results)
    _refuse_baseline_onto(suite, [Path(suite_file), Path(folder or default_out(suite))])
    records = _sweep(suite, folder, quiet, **executing)
    if _report_failures(records):  # as sweep and check: runs that failed or another process trains are no user error
        click.echo(
            f"the baseline at {suite.baseline_path} is unchanged: once those runs finish, run the same command again",
            err=True,
        )
        sys.exit(1)
    path = lb.write_baseline(suite, records)
    output(f"wrote {path}: {counted(len(records), 'run')} of suite {suite.name!r}")


@leaderboard.command(cls=BuiltinCommand)
@data_root_option
@click.argument("suite_file", type=click.Path(dir_okay=False))
@click.option("--results", default=None, help="Rank these results instead of the committed baseline.")
@click.option("--metrics", "-m", default=None, help="Metric outputs to rank by (default: the suite's tolerances).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True)
def show(suite_file: str, results: str | None, metrics: str | None, fmt: str) -> None:
    """The ranked leaderboard: mean ± standard error per variant, ranks that tie where not significant."""
    from ganbench import leaderboard as lb
    from ganbench.plugins import registries
    from ganbench.results import RecordError, check_outputs, check_record, remedy_for
    from ganbench.suites import load_suite

    suite_file = _home_expanded(suite_file, "SUITE_FILE")
    results = _home_expanded(results, "--results")  # as update's and check's: it was looked for in "./~"
    suite = load_suite(suite_file)
    if results is None:
        baseline = lb.read_baseline(suite)
        lb.check_fits(suite, baseline)  # a baseline of other runs or settings would rank what the suite is not
        rows = lb.rows_of_baseline(baseline)
    else:
        sweep_it = f"`ganbench sweep {shell_path(suite_file)} --out {shell_path(results)}{lb.data_root_option()}`"
        _results_folder(results, "--results", f"run {sweep_it} first")
        _not_one_run(results, "--results")
        specs = suite.specs()
        found, absent = [], []
        for spec in specs:
            try:
                record = check_record(Path(results) / spec.dirname)
            except FileNotFoundError:
                absent.append(spec.dirname)
                continue
            except (OSError, RecordError) as exc:  # as `table` does: said, and left out of the ranking
                click.echo(one_line(f"warning: unreadable record in {Path(results) / spec.dirname}: {exc}; "
                           f"{remedy_for(str(exc), 1)} (or `ganbench sweep` it)"), err=True)  # fmt: skip
                continue
            if record.status != "failed":
                found.append(record)
            else:
                absent.append(spec.dirname)
        if not found:
            _refuse_the_folder_above(suite, results)
            if _holds_runs_like(Path(results), specs):  # of data, budget or settings changed since (pass 75); a
                _refuse_what_changed_since_the_baseline(suite)  # folder of none needs a sweep there (pass 76)
            raise OptionError(
                f"none of the {counted(len(specs), 'run')} of suite {suite.name!r} is in {shell_path(results)} (runs "
                f"of other settings, data or code are not its runs); run {sweep_it} first"
            )
        if absent:  # ranked without them: their seeds' values would change the means and the ties
            click.echo(
                one_line(
                    f"warning: {len(absent)} of the suite's {len(specs)} runs {'is' if len(absent) == 1 else 'are'} "
                    f"missing from {results} or failed "
                    f"({', '.join(absent[:3])}{', ...' if len(absent) > 3 else ''}); ranked without them; "
                    f"{sweep_it} runs them"
                ),
                err=True,
            )
        rows = lb.rows_of_records(found, suite)
    directions = registries().metric_directions()
    computed = suite.outputs()
    chosen = _names(metrics, "--metrics", None)
    check_outputs(chosen, directions, computed)
    chosen = chosen or list(suite.tolerance) or computed
    for name in chosen:
        if name not in computed:  # one it computes but no run has a value of (all diverged) ranks them all last
            raise OptionError(f"the suite's runs do not compute {name!r}; they compute {', '.join(computed)}")
    if fmt == "markdown":
        output(_provenance_line(suite, baseline if results is None else None, results))
    output(_leaderboard_text(suite, rows, chosen, directions, fmt), nl=False)


def _folder_holding(results: Path, dirnames: list[str], depth: int = 4, most: int = 20_000) -> Path | None:
    """The folder under ``results`` (at most ``depth`` levels down, ``most`` folders in all; links followed once)
    that holds every one of these run folders: `--results results` of a suite swept into results/NAME was told to
    sweep again, into results, training every run twice; `--results .` too, two levels above them (passes 71, 72)."""
    level, seen = [results], {os.path.realpath(results)}
    for _ in range(depth):
        below: list[Path] = []
        for folder in level:
            try:
                children = sorted(e for e in folder.iterdir() if e.is_dir())
            except OSError:
                continue
            for child in children:
                try:
                    if all((child / name / "record.json").is_file() for name in dirnames):
                        return child
                    real = os.path.realpath(child)
                    kept = not real.startswith(("/proc/", "/sys/")) and not (child / "record.json").exists()
                    if real not in seen and kept:  # not a run's folder (it holds no runs), nor one that dies with a
                        seen.add(real)  # process (/proc/PID/cwd)
                        below.append(child)
                except OSError:  # a folder this user may not enter: not the runs' (pass 73)
                    continue
                if len(seen) > most:
                    return None
        level = below
    return None


def _provenance_line(suite: Any, baseline: dict | None, results: str | None) -> str:
    """What a leaderboard's numbers are: the committed baseline (its budget, seeds, date, hardware) or a folder."""
    from ganbench.spec import seeds_text

    seeds = f"seeds {seeds_text(suite.seeds)}" if suite.seeds else "no seeds"
    if baseline is None:
        return f"Ranked from the runs in {results} ({seeds} of suite {suite.name!r}).\n"
    from ganbench.leaderboard import machine_text

    made = baseline.get("made", {})
    budget = made.get("budget", {})
    steps = budget.get("steps")
    if isinstance(steps, int):  # one number for every dataset (baselines made before per-dataset budgets)
        steps = dict.fromkeys(suite.datasets, steps)
    steps_text = (
        ", ".join(f"{d} {n:,} steps" if isinstance(n, int) else f"{d} {n} steps" for d, n in steps.items())
        if isinstance(steps, dict)
        else "?"
    )
    return (
        f"The committed baseline of suite {suite.name!r} ({suite.baseline_path.name}): {steps_text}, {seeds}, "
        f"made {made.get('date', '?')} on {machine_text(made.get('hardware', {}))}; not a fresh run.\n"
    )


def _suite_data_paths(suite: Any) -> list[str]:
    """The files and folders a suite's datasets read whole (``Dataset.data_paths``): its reports go elsewhere."""
    from ganbench.training import Components

    first = [specs[0] for specs in map(suite.specs_of, suite.datasets) if specs]  # one run per dataset: its data
    return [path for spec in first for path in Components.of(spec).dataset.data_paths()]


def _suite_references(suite: Any, dataset: str, metrics: list[str]) -> dict[str, dict[str, Any]]:
    """The reference rows' scores ([real], [gaussian], ...) of a suite's mixture, at its runs' N and eval seed."""
    from ganbench.reference_rows import has_references, reference_scores
    from ganbench.resolve import output_names
    from ganbench.training import Components

    specs = suite.specs_of(dataset)
    if not specs:
        return {}
    spec = specs[0]
    data = Components.of(spec).dataset
    if not has_references(data):
        return {}
    present = [m for m in metrics if m in set(output_names(spec))]
    if not present:
        return {}
    scores = reference_scores(data, present, spec.eval.n_samples, spec.eval.seed)
    return {f"[{kind}]": values for kind, values in scores.items()}


def _csv_number(x: float) -> str:
    """A CSV cell: empty where there is no number (no completed run, or one seed for a standard error)."""
    return "" if math.isnan(x) else repr(x)


def _leaderboard_text(suite: Any, rows: list, metrics: list[str], directions: dict, fmt: str) -> str:
    from ganbench import leaderboard as lb
    from ganbench.tables import format_number, markdown_cell

    out: list[str] = []
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    for dataset in suite.datasets:
        references = _suite_references(suite, dataset, metrics) if fmt == "markdown" else {}
        computed = {k for outputs in suite.outputs_of(dataset).values() for k in outputs}
        for metric in [m for m in metrics if m in computed]:  # fid_classifier has no ranking on ring8
            places = lb.ranking(rows, dataset, metric, directions[metric])
            if fmt == "csv":
                if not table.tell():
                    header = ["dataset", "metric", "rank", "tied", "variant", "mean", "se", "n", "diverged", "missing"]
                    writer.writerow(header)
                writer.writerows(
                    [one_line(dataset), metric, p.rank if p.n else "", int(p.tied and p.n > 0), p.variant,
                     _csv_number(p.mean),
                     _csv_number(p.se), p.n, p.diverged, p.missing]
                    for p in places
                )  # fmt: skip
                continue
            arrow = "higher is better" if directions[metric] == "higher" else "lower is better"
            out += [
                f"**{markdown_cell(dataset)}, {metric}** ({arrow})",
                "",
                "| rank | variant | mean ± se | n | diverged |",
            ]
            out.append("|---|---|---|---|---|")
            for p in places:
                rank = "–" if p.n == 0 else f"={p.rank}" if p.tied else str(p.rank)  # no value: no place (pass 87)
                value = "–" if p.n == 0 else format_number(p.mean) + ("" if p.n < 2 else f" ± {format_number(p.se)}")
                n = f"{p.n} ({p.missing} missing)" if p.missing else str(p.n)  # as `table` says it
                out.append(f"| {rank} | {markdown_cell(p.variant)} | {value} | {n} | {p.diverged} |")
            shown = [(kind, scores.get(metric)) for kind, scores in references.items()]
            shown = [(kind, v) for kind, v in shown if isinstance(v, int | float) and not isinstance(v, bool)]
            if shown:
                cells = ", ".join(f"{kind} {format_number(float(v))}" for kind, v in shown)
                out.append(f"\nReferences, not ranked (same N and evaluation seed): {cells}.")
            out.append("")
    if fmt == "csv":
        return table.getvalue()
    if fmt == "markdown":
        out.append(
            "=: a shared rank. A group that shares a rank runs, by mean, from its best variant to the last one "
            "not significantly worse than it (Welch's t-test, Holm-corrected over that variant's comparisons "
            "with those below it, alpha 0.05)."
        )
    return "\n".join(out) + "\n"


class _ToStderr(logging.Handler):
    """Writes to the sys.stderr of the moment (a StreamHandler keeps the one it was made with), one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        kind = "warning: " if record.levelno >= logging.WARNING else ""  # as Python's warnings are shown
        text = self.format(record)
        if not record.name.startswith("ganbench"):  # a library's lines, and lines around them, as one
            text = " ".join(text.split())
        click.echo(kind + one_line(text), err=True)


def _show_library_messages() -> None:
    """ganbench's log messages of level INFO and above on stderr, plain: a library stays quiet by default,
    the command line says what it does (trains a classifier once, skips a cache it cannot write)."""
    for name, level in (("ganbench", logging.INFO), ("matplotlib", logging.WARNING)):  # a matplotlibrc's bad key:
        logger = logging.getLogger(name)  # matplotlib's five lines on stderr, one here (pass 74)
        if not any(isinstance(h, _ToStderr) for h in logger.handlers):
            handler = _ToStderr()
            handler.setFormatter(logging.Formatter("%(message)s"))
            handler.setLevel(level)
            logger.addHandler(handler)  # messages still propagate: a user's logging config (or pytest's) sees them
            if name == "ganbench":
                logger.setLevel(level)


class _Interrupted:
    """What Ctrl-C says: a command that has started training can be resumed from its checkpoints; any other
    (``list``, ``table``, a ``run`` refused before it trains) simply stopped."""

    training = False
    RESUMABLE = (
        "Interrupted; rerun the same command to resume from the last checkpoint (a run interrupted before its "
        "first starts again)."
    )
    PLAIN = "Interrupted."

    @classmethod
    def message(cls) -> str:
        return cls.RESUMABLE if cls.training else cls.PLAIN


QUIET_RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning"
"""A -W option for the processes multiprocessing starts: its resource tracker, at exit, warns in two lines of
"leaked semaphore objects" that a worker killed mid-run held (then cleans them up itself); the killed run is
told of, and resumed, by ganbench."""


def _out_of_memory_line(exc: BaseException, data_fixed: bool = False) -> str | None:
    """``devices.memory_error_line`` of ``exc``, else ``memory_limits.capped_import_line``; where memory is so short
    that importing devices fails too (no bytecode cache: Python compiles it; pass 71), those that need no import."""
    try:
        from ganbench.devices import memory_error_line

        line = memory_error_line(exc, data_fixed)
    except Exception:
        line = f"ganbench ran out of memory; {MORE_MEMORY}" if isinstance(exc, MemoryError) else None
    try:
        return line or capped_import_line(exc)
    except MemoryError:  # as it read /proc: memory is short indeed (pass 75)
        return f"ganbench ran out of memory; {MORE_MEMORY}"


def _import_torch() -> None:
    """torch, or one line: under a small ``ulimit -v`` its libraries fail to map (ImportError, SystemError)."""
    try:
        import torch  # noqa: F401
    except Exception as exc:
        why = one_line(exc)[:200] or type(exc).__name__  # a MemoryError says nothing
        broken = _unreadable_entry_points()
        if broken:  # torch reads every distribution's entry points as it loads (pass 93: "reinstall torch")
            raise GanbenchError(
                f"torch cannot be imported ({why}): the entry points of {broken[0]} cannot be read; fix or remove "
                "that distribution"
            ) from None
        raise GanbenchError(
            f"torch cannot be imported ({why}); if this process's memory is capped (ulimit -v), "
            "raise the cap, else reinstall torch"
        ) from None


def _unreadable_entry_points() -> list[str]:
    """The installed distributions whose entry_points.txt cannot be parsed, each named by its metadata's folder."""
    import importlib.metadata

    found = []
    for dist in importlib.metadata.distributions():
        try:
            list(dist.entry_points)
        except Exception:  # noqa: BLE001 - whatever its text makes importlib.metadata raise
            where = getattr(dist, "_path", None)
            found.append(shell_path(str(where / "entry_points.txt")) if isinstance(where, Path) else "a distribution")
    return found


def console_main() -> None:
    """The ``ganbench`` program: ``main``, then deaf to Ctrl-C while Python exits. The command has ended and said
    so (its output, its error, "Interrupted."): a Ctrl-C now (a burst's second) only killed it by the signal, and
    its caller saw -2, not the exit code, with nothing said."""
    try:
        main()
    except Exception as exc:  # raised before or after _main's own catch (an exec that failed under ulimit -v)
        try:
            line = _last_words(exc)
        except MemoryError:  # even the words to say it with (pass 77)
            line = ""
        if line is None:
            raise
        _say_last(line)
        try:
            sys.exit(2)
        except MemoryError:  # no SystemExit to be made: the exit code all the same
            os._exit(2)
    finally:
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(MemoryError):  # near a memory cap, even this (pass 76)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        # A Ctrl-C that passed through code run from a string (a dataclass being made as a module was imported)
        # left CPython's "unhandled Ctrl-C" mark set, though main() handled it: under `python -m ganbench`, Python
        # then killed itself by the signal as it exited (-2, not 130, after "Interrupted."). Code run from a string
        # clears the mark; a Ctrl-C still on its way out of here sets it again.
        with contextlib.suppress(MemoryError, SystemError):  # under a small ulimit -v, even this (SystemError:
            exec("")  # "returned NULL without setting an exception", pass 74)


_OUT_OF_MEMORY = f"Error: ganbench ran out of memory; {MORE_MEMORY}\n".encode()
"""Made as ganbench starts: where memory is gone, even an error's line cannot be made (pass 77)."""


def _say_last(line: str) -> None:
    """ "Error: ``line``" on stderr, or where that cannot be made or written, ``_OUT_OF_MEMORY``."""
    with contextlib.suppress(MemoryError, OSError):
        if line:
            try:
                click.echo(f"Error: {line}", err=True)
            except MemoryError:
                os.write(2, f"Error: {line}\n".encode(errors="backslashreplace"))
            return
    with contextlib.suppress(MemoryError, OSError):
        os.write(2, _OUT_OF_MEMORY)


def _last_words(exc: BaseException) -> str | None:
    """What to say of an error that escaped ``_main`` near a memory cap: the error ``_main`` was saying when memory
    ran out ("torch cannot be imported (std::bad_alloc); ..." whose one_line failed, pass 76), else
    ``_out_of_memory_line``'s; None for another error (a bug: its traceback stands)."""
    said = exc.__context__
    if isinstance(exc, MemoryError) and isinstance(said, GanbenchError):
        return " ".join(str(said).split())
    try:
        return _out_of_memory_line(exc)
    except MemoryError:
        return f"ganbench ran out of memory; {MORE_MEMORY}"


def main(argv: list[str] | None = None) -> None:
    """The command line, in this process (tests, a script): exit codes as ``SystemExit``."""
    with command_stderr():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    import warnings

    warnings.formatwarning = one_line_warning
    if QUIET_RESOURCE_TRACKER not in sys.warnoptions:  # read as processes start: the tracker, the workers
        sys.warnoptions.append(QUIET_RESOURCE_TRACKER)
    _show_library_messages()
    _Interrupted.training = False  # main() called again in one process (tests, a script) starts afresh
    try:
        from ganbench.commands import add_plugin_commands
        from ganbench.paths import check_env_folders
        from ganbench.threads import check_threads_env

        check_threads_env()
        check_env_folders()
        refuse_unwritable_stdout()
        args = sys.argv[1:] if argv is None else list(argv)
        if args and not {"-h", "--help", "--version"} & set(args):  # a command that works: torch first, deaf
            with holding_ctrl_c(then_raise=True):  # it swallows a Ctrl-C while it imports numpy (half imported)
                _import_torch()
        nested = nested_command()  # a plugin's command calling main(): its commands are there already
        with command_stdout() as stdout:
            if not nested:
                with work_quietly():  # a plugin's print as it is imported or adds its commands is not the output
                    add_plugin_commands(cli)
            with path_errors():
                code = cli.main(args=argv, prog_name="ganbench", standalone_mode=False)
            stdout.flush()
    except GanbenchError as exc:
        click.echo(f"Error: {one_line(exc)}", err=True)
        sys.exit(2)
    except (click.exceptions.Abort, KeyboardInterrupt, _CtrlC):  # click turns Ctrl-C while it parses into Abort
        with holding_ctrl_c(then_raise=False):  # a second one in a burst: said once, exit 130
            click.echo(_Interrupted.message(), err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # `ganbench`, `ganbench leaderboard`: the help, as --help
        click.echo(exc.ctx.get_help())
        sys.exit(0)
    except click.ClickException as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if getattr(exc, "ctx", None) else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # out of memory where no part said what to lower (`-d big.npz` claimed): one line
        command = (sys.argv[1:] if argv is None else list(argv))[:1]
        line = _out_of_memory_line(exc, data_fixed=command in (["plot"], ["table"]))  # finished runs' data
        if line is None:
            raise
        click.echo(f"Error: {line}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
