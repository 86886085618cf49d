"""Sweeps: every run of a suite that is not finished, through an executor, with a progress bar.

Finished runs are read from disk, not submitted (rerunning a sweep is free); a failing or
diverging run never stops the others: the executor returns one record per run.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganbench.checkpoints import FILENAME as CHECKPOINT
from ganbench.devices import memory_error_line, resolve_device
from ganbench.errors import OptionError, OutputError, one_line, short_repr
from ganbench.executor import Executor, Job, OnResult
from ganbench.harness import run_job
from ganbench.options import plain_bool, whole_if_integral, with_options
from ganbench.paths import path_argument, refuse_undecodable_name
from ganbench.plugins import blamed, registries
from ganbench.progress import progress as progress_bar
from ganbench.results import STATUSES, RunRecord, read_record, refuse_run_folder
from ganbench.spec import RunSpec, run_id_of
from ganbench.suites import Suite, suite_spelling
from ganbench.training import DEFAULT_CHECKPOINT_EVERY, Hooks, TooBigForMemory, check_runs_fit
from ganbench.writable import file_in_the_way


def default_out(suite: Suite) -> Path:
    return Path("results") / suite.name


def run_suite(
    suite: Suite,
    out: str | Path | None = None,
    *,
    executor: str = "local",
    workers: int = 1,
    executor_options: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: bool = True,
    device: str | None = None,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
) -> list[RunRecord]:
    """A record for every run of ``suite`` (in the suite's order), training those not finished."""
    workers, force, out = _checked_arguments(suite, out, workers, executor_options, force, checkpoint_every, progress)
    out = Path(out) if out is not None else default_out(suite)
    runner = with_options(registries().executors.get(executor), executor_options or {}, f"executor {executor!r}")
    specs = suite.specs()
    records: list[RunRecord | None] = [None if force else read_record(out / s.dirname) for s in specs]
    todo = [i for i, r in enumerate(records) if r is None]
    resuming = 0 if force else sum((out / specs[i].dirname / CHECKPOINT).is_file() for i in todo)
    try:
        check_jobs_fit([specs[i] for i in todo], {"results folder": out}, runner, device, workers)
    except TooBigForMemory as exc:
        raise suite.error(_resuming_advice(exc, resuming)) from None
    except OptionError as exc:  # its line, and its advice in the suite's terms: the suite commands take no --set
        raise suite.error(str(exc)) from None
    except Exception as exc:  # out of memory as the check loads the data: said as the suite sets its size, but
        line = memory_error_line(exc, data_fixed=resuming > 0)  # to runs that resume: other data, other runs
        if line is None:
            raise
        raise suite.error(line, key=None if "--set " in line else "") from None  # at the line it advises, or none
    options = dict(out=str(out), force=force, progress=False, device=device, checkpoint_every=checkpoint_every)
    jobs = [(run_job, {"spec": specs[i].to_dict(), **options}) for i in todo]
    bar = progress_bar(
        len(specs), enabled=progress, initial=len(specs) - len(todo), unit="run", desc=f"sweep {suite.name}"
    )
    seen: Counter = Counter()
    told: set[str] = set()

    def on_result(index: int, record: RunRecord) -> None:
        # counted by the run it names, not the index: an executor may tell of a job twice, or by another index
        if not isinstance(record, RunRecord) or record.run_id in told:
            return
        told.add(record.run_id)
        seen[record.status] += 1
        bar.set_postfix(dict(seen), refresh=False)
        bar.update(1)

    with bar:
        for i, record in zip(todo, run_jobs(executor, runner, jobs, workers, on_result), strict=True):
            if record.error:  # its advice in the suite's terms, as the pre-check's above
                record = dataclasses.replace(record, error=suite_spelling(record.error))
            records[i] = record
            on_result(i, record)  # the ones the executor did not tell of, so the bar ends full
    return [r for r in records if r is not None]


def _resuming_advice(exc: TooBigForMemory, resuming: int) -> str:
    """The pre-check's line, told more memory where ``resuming`` runs of the suite resume from checkpoints: a
    smaller network would make other runs and leave the checkpoints behind (as ``harness._trainer`` tells one)."""
    if not resuming:
        return str(exc)
    if resuming == 1:
        return exc.resuming("1 of its runs resumes from its checkpoint")
    return exc.resuming(f"{resuming} of its runs resume from their checkpoints")


def _checked_arguments(
    suite: Any, out: Any, workers: Any, executor_options: Any, force: Any, checkpoint_every: Any, progress: Any
) -> tuple[int, bool, Path | None]:
    """From Python, what the command line's types check: one OptionError before anything starts, not a TypeError
    from deep inside, nor every run failing on the same argument. ``workers`` and ``force`` as int and bool (2.0
    and numpy's bool too)."""
    if not isinstance(suite, Suite):
        raise OptionError(f"suite must be a Suite (ganbench.load_suite reads one), not {short_repr(suite)}")
    out = path_argument(out, "out", "a results folder") if out is not None else None
    workers = whole_if_integral(workers)
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise OptionError(f"workers must be a whole number from 1, not {short_repr(workers)}")
    if executor_options is not None and not isinstance(executor_options, Mapping):
        raise OptionError(f"executor_options must map option names to values, not {short_repr(executor_options)}")
    force = plain_bool(force)
    if not isinstance(force, bool):
        raise OptionError(f"force must be True or False, not {short_repr(force)}")
    Hooks(checkpoint_every=checkpoint_every, progress=progress)  # their one line ("no" drew the bar)
    blocking = file_in_the_way(Path(out)) if out is not None else None  # not one failed record per run
    if blocking is not None:
        what = "is a file" if blocking == Path(out) else f"is below {one_line(blocking)}, a file"
        raise OutputError(f"out {one_line(out)} {what}, not a folder; name a results folder")
    if out is not None:
        refuse_undecodable_name(out, "out")
    refuse_run_folder(out, "out")
    return int(workers), bool(force), out


def check_jobs_fit(
    specs: list[RunSpec], outputs: Mapping[str, str | Path | None], runner: Executor, device: str | None, workers: int
) -> None:
    """``check_runs_fit`` of the runs ``runner`` is about to train: their memory is this machine's where they train
    here (``Executor.runs_here``), for ``workers`` of them at once."""
    here = resolve_device(device) if runner.runs_here else None
    check_runs_fit(specs, outputs, here, min(workers, len(specs)) or 1)


def run_jobs(
    name: str, runner: Executor, jobs: list[Job], workers: int = 1, on_result: OnResult | None = None
) -> list[RunRecord]:
    """The records of ``jobs`` (``run_job`` calls) as executor ``name`` returns them, checked: a third-party
    executor that raises, or returns other than one RunRecord per job, is one line naming its plugin."""
    with blamed("executors", name, "run"):
        results = runner.run(jobs, workers=workers, on_result=on_result)
        if isinstance(results, (str, bytes, Mapping)):
            raise TypeError(f"it returned a {type(results).__name__}, not a list of one record per job")
        results = list(results)
        if len(results) != len(jobs):
            raise ValueError(f"it returned {len(results)} results for {len(jobs)} jobs")
        wrong = next((r for r in results if not isinstance(r, RunRecord)), None)
        if wrong is not None:
            raise TypeError(f"it returned {short_repr(wrong)}, not a run's record")
        asked = [run_id_of(kwargs["spec"]) for _, kwargs in jobs]
        if [r.run_id for r in results] != asked:
            raise ValueError("it returned records of other runs, or in another order than its jobs")
        odd = next((r.status for r in results if r.status not in STATUSES), None)
        if odd is not None:
            raise ValueError(f"it returned a record of status {short_repr(odd)}, not one of {', '.join(STATUSES)}")
    return results
