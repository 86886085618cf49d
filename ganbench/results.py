"""RunRecord: what a run folder says about a run; atomic strict-JSON writes; load_results().

A run folder holds spec.json, metrics.json (the scores and nothing else, so two runs of
one spec compare bitwise), record.json (the RunRecord: status, budget use, environment,
timings), history.csv, samples.png and checkpoint.pt.

Every JSON file is strict JSON: a number that is missing or not finite is written as
null, never NaN or Infinity, which strict parsers (and other languages) reject.
Reading a folder of results never drops a run silently: records that do not parse are
reported (``scan_results``), and runs whose specs differ in more than the seed are kept
apart by a ``config`` key and labelled by what differs (``setting``).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import math
import os
import re
import stat
import typing
import warnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ganbench.atomic import write_atomic
from ganbench.errors import (
    GanbenchError,
    OptionError,
    OutputError,
    UnknownNameError,
    one_line,
    path_errors,
    refuse_link_loop,
    shell_path,
    short_repr,
    shown_path,
)
from ganbench.metric import Bound, out_of_bounds
from ganbench.options import with_options
from ganbench.paths import tilde_expanded
from ganbench.plugins import registries
from ganbench.selection import select_metrics
from ganbench.spec import RUN_FOLDER, run_id_of
from ganbench.writable import kind_of

SCHEMA_VERSION = 1
RECORD = "record.json"
MAX_RECORD_BYTES = 64 * 2**20
SPEC = "spec.json"
METRICS = "metrics.json"

Status = Literal["completed", "diverged", "failed", "skipped"]
"""skipped: another process holds the run folder (never written to disk)."""
StoppedBy = Literal["steps", "max_seconds", "diverged", "error"]


STATUSES = ("completed", "diverged", "failed", "skipped")
"""A run's outcomes: the first three are recorded; "skipped", another process was training it."""


@dataclass
class RunRecord:
    """The outcome of one run."""

    run_id: str
    spec: dict[str, Any]
    status: Status
    stopped_by: StoppedBy
    steps_done: int
    run_dir: str = ""
    diverged_at: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    best: dict[str, Any] = field(default_factory=dict)
    """With --eval-every: each metric output's best value during training and its step."""
    raw_metrics: dict[str, Any] = field(default_factory=dict)
    """With a generator EMA (``ema_decay``/``ema_kimg``): the raw generator's scores; ``metrics`` are the average's."""
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    resumed_from: int | None = None
    error: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def write_json_atomic(path: Path, data: Any, follow: bool = False) -> None:
    """Write strict JSON so that readers see the old file or the new one, never half of one (``follow``: as
    ``write_atomic`` takes it, for a path the user named)."""
    text = json.dumps(strict_json(data), indent=2, sort_keys=True, allow_nan=False)
    write_atomic(path, lambda f: f.write(text.encode() + b"\n"), follow=follow)


def strict_json(value: Any) -> Any:
    """``value`` made JSON-safe: numpy/torch scalars become numbers, NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.generic) or (hasattr(value, "item") and getattr(value, "ndim", None) == 0):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RecordError(ValueError):
    """A record.json that does not parse or lacks what a record holds."""


INT_LIMIT = 2**63
"""Integers ganbench writes fit int64 (steps, seeds, counts); a longer one is a hand edit."""


def loads_strict(data: bytes | str) -> Any:
    """JSON as ganbench writes it, or ValueError saying what is not: NaN or Infinity, a number beyond
    float64's range (1e400) or an integer beyond int64's, a key twice in one object, nesting deeper than
    Python's recursion allows."""

    def real(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"the number {text[:20]} is beyond float64's range")
        return value

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > 19 or abs(int(text)) >= INT_LIMIT:
            raise ValueError(f"the integer {text[:20]}{'...' if len(text) > 20 else ''} is beyond int64's range")
        return int(text)

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not strict JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:  # two "runs" in a hand-edited file: which is meant?
        found = dict(pairs)
        if len(found) < len(pairs):
            twice = next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i]))
            raise ValueError(f"it holds the key {one_line(repr(twice))} twice in one object")
        return found

    try:
        return json.loads(data, parse_float=real, parse_int=integer, parse_constant=constant, object_pairs_hook=unique)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_record(run_dir: Path) -> RunRecord | None:
    """The record of a finished run (completed or diverged), or None if the folder holds none, a broken
    one, or one of a run that failed (which the next attempt trains again, resuming from its checkpoint)."""
    try:
        record = check_record(run_dir)
    except (OSError, RecordError):
        return None
    record.run_dir = str(run_dir)  # where it lies now: folders get copied and moved
    return None if record.status == "failed" else record


def read_regular(path: Path) -> bytes:
    """The bytes of a record-sized regular file; OSError when absent, RecordError for a FIFO or a device (which
    would hang or fill memory), a folder, or a file larger than any record."""
    found = os.stat(path)
    if not stat.S_ISREG(found.st_mode):
        raise RecordError("not a regular file")
    if found.st_size > MAX_RECORD_BYTES:
        raise RecordError(f"larger than {MAX_RECORD_BYTES // 2**20} MiB, which no record is")
    return path.read_bytes()


def check_record(run_dir: Path, outputs: Collection[str] = (), memo: dict[str, Scoring] | None = None) -> RunRecord:
    """The record in ``run_dir``; RecordError saying why it is unreadable, OSError if it is absent.
    ``outputs``: metric outputs whose values must be numbers (or null) for the record to be read.
    ``memo``: shared by the checks of one folder's records (see ``_scoring``)."""
    path = Path(run_dir) / RECORD
    raw = read_regular(path)
    try:
        data = loads_strict(raw)
    except UnicodeDecodeError:
        raise RecordError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:
        raise RecordError(f"not strict JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    spec = data.get("spec")
    missing = [k for k in ("run_id", "spec", "status", "steps_done") if k not in data]
    if not missing and isinstance(spec, dict):
        missing = [f"spec.{k}" for k in ("variant", "dataset", "seed", "budget") if k not in spec]
    if missing or not isinstance(spec, dict):
        raise RecordError(f"missing {', '.join(missing) or 'spec'}")
    if data["status"] not in ("completed", "diverged", "failed"):
        raise RecordError(f"unknown status {short_repr(data['status'])}")
    for scores in ("metrics", "raw_metrics"):
        if not isinstance(data.get(scores, {}), dict):
            raise RecordError(f"{scores} must be an object, not {short_repr(data[scores])}")
        wrong = _non_numeric(data.get(scores, {}), outputs)
        if wrong:
            raise RecordError(f"{scores}.{wrong}")
    wrong = _mistyped(spec)
    if wrong:
        raise RecordError(f"spec.{wrong}")
    if not isinstance(data["run_id"], str):
        raise RecordError(f"run_id must be text, not {short_repr(data['run_id'])}")
    wrong = _environment_problem(data.get("environment", {}))
    if wrong:
        raise RecordError(wrong)
    folder_id = Path(run_dir).name.rpartition("__")[2]
    if "__" in Path(run_dir).name and folder_id != data["run_id"]:
        if (Path(run_dir) / RECORD).is_symlink():  # --force would be refused: a run writes only files of its own
            raise RecordError(f"it is the record of run {data['run_id']!r}, {LINKED}")
        if not RUN_FOLDER.fullmatch(Path(run_dir).name):  # ring8__nsgan__seed0__<id>.bak: --force would not help
            own = RUN_FOLDER.match(Path(run_dir).name)
            named = f", {own.group(0)}" if own and own.group(0).endswith(data["run_id"]) else ""
            raise RecordError(f"it is the record of run {data['run_id']!r}, {RENAMED}{named}")
        raise RecordError(f"it is the record of run {data['run_id']!r}, not of this folder's run {folder_id!r}")
    wrong = _impossible(data, spec) or _unmeasurable(data, spec, memo) or _disowned(data, Path(run_dir))
    if wrong:
        raise RecordError(wrong)
    try:
        return RunRecord.from_dict(data)
    except TypeError as exc:
        raise RecordError(str(exc)) from None


def _non_numeric(metrics: dict[str, Any], outputs: Collection[str]) -> str | None:
    """A metric value a table cannot use, described, or None: every output in ``outputs`` (the registered
    metrics') is a number or null; other keys hold what metrics add (provenance, notes, per-class lists)."""
    for key in outputs:
        value = metrics.get(key)
        if not (value is None or (isinstance(value, int | float) and not isinstance(value, bool))):
            return f"{key} must be a number or null, not {short_repr(value)}"
    return None


def _mistyped(spec: dict[str, Any]) -> str | None:
    """The spec field of a record that tables and plots cannot use (a hand edit), described, or None."""
    for key in ("variant", "dataset"):
        if not isinstance(spec[key], str) or not spec[key]:
            return f"{key} must be a name, not {spec[key]!r}"
    for key in ("variant_options", "dataset_options", "network_options", "eval", "code"):
        if not isinstance(spec.get(key, {}), dict):
            return f"{key} must be an object, not {short_repr(spec[key])}"
    n_samples, chosen = spec.get("eval", {}).get("n_samples", 1), spec.get("eval", {}).get("metrics", [])
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or not isinstance(chosen, list):
        return f"eval must hold integer n_samples and a list of metrics, not {short_repr(spec['eval'])}"
    seed, budget = spec["seed"], spec["budget"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        return f"seed must be a non-negative integer, not {seed!r}"
    steps = budget.get("steps") if isinstance(budget, dict) else None
    if isinstance(steps, bool) or not isinstance(steps, int):
        return f"budget must hold integer steps, not {budget!r}"
    return None


def _impossible(data: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """What a training run cannot have written (a hand edit, another tool's file), described, or None."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        newer = isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION
        if newer:
            return f"written by a newer ganbench (schema_version {version}); upgrade ganbench to read it"
        return f"schema_version {short_repr(version)} is not one ganbench writes ({SCHEMA_VERSION})"
    steps, done, at = spec["budget"]["steps"], data["steps_done"], data.get("diverged_at")
    if isinstance(done, bool) or not isinstance(done, int) or not 0 <= done <= steps:
        return f"steps_done must be a whole number from 0 to the budget's {steps}, not {short_repr(done)}"
    stopped_by = data.get("stopped_by")
    if stopped_by not in typing.get_args(StoppedBy):
        return f"stopped_by must be one of {', '.join(typing.get_args(StoppedBy))}, not {short_repr(stopped_by)}"
    if at is not None and (isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= steps):
        return f"diverged_at must be null or a step from 1 to the budget's {steps}, not {short_repr(at)}"
    if data["status"] == "diverged" and (stopped_by != "diverged" or at != done or not done):
        return f"a diverged run stops at the step it diverged (diverged_at = steps_done >= 1), not {short_repr(at)}"
    if data["status"] == "completed" and at is not None:
        return f"a completed run did not diverge (diverged_at null), not {short_repr(at)}"
    if data["status"] == "completed" and stopped_by not in ("steps", "max_seconds"):
        return f"a completed run was stopped by its steps or its time, not {stopped_by!r}"
    if data["status"] == "completed" and stopped_by == "steps" and done != steps:
        return f"a run stopped by its steps has done all {steps}, not {done}"
    if stopped_by == "max_seconds" and spec["budget"].get("max_seconds") is None:
        return "stopped_by is max_seconds, but its budget has no time limit"
    return _impossible_extras(data, steps)


def _impossible_extras(data: dict[str, Any], steps: int) -> str | None:
    """What no run writes in a record's other fields (timings, the resume step, the error, the best scores)."""
    resumed = data.get("resumed_from")
    if resumed is not None and (isinstance(resumed, bool) or not isinstance(resumed, int) or not 1 <= resumed <= steps):
        return f"resumed_from must be null or a step from 1 to the budget's {steps}, not {short_repr(resumed)}"
    for name in ("train_seconds", "wall_seconds"):
        value = data.get(name)
        real = isinstance(value, int | float) and not isinstance(value, bool)
        if value is not None and not (real and math.isfinite(value) and value >= 0):
            return f"{name} must be null or a number of seconds >= 0, not {short_repr(value)}"
    if data.get("error") is not None and not isinstance(data["error"], str):
        return f"error must be null or text, not {short_repr(data['error'])}"
    best = data.get("best", {})
    if not isinstance(best, dict):
        return f"best must be an object of scores, not {short_repr(best)}"
    for name, entry in best.items():
        step = entry.get("step") if isinstance(entry, dict) else None
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= steps:  # 0: out of time at once
            return f"best {name} must be a score at a step from 0 to the budget's {steps}, not {short_repr(entry)}"
    return None


Scoring = tuple[dict[str, Bound], frozenset[str] | None]
"""What runs of one spec's dataset, variant and metrics can write: each output's bounds, and the
outputs the chosen metrics give (None where this installation cannot tell: a plugin gone)."""


def _scoring(spec: dict[str, Any], memo: dict[str, Scoring] | None) -> Scoring:
    """``Scoring`` of ``spec``, worked out once per distinct setting in ``memo`` (a folder of a
    thousand runs of one user folder lists that folder once, not a thousand times)."""
    key = json.dumps(
        [spec["dataset"], spec.get("dataset_options", {}), spec["variant"], spec.get("eval", {}).get("metrics", [])],
        sort_keys=True,
        default=repr,
    )
    if memo is not None and key in memo:
        return memo[key]
    regs = registries()
    try:
        dataset = with_options(regs.datasets.get(spec["dataset"]), spec.get("dataset_options", {}), "dataset")
    except GanbenchError:  # not installed here, or options this version refuses: bounds that hold on any dataset
        found: Scoring = (regs.metric_bounds(), None)
    else:
        try:
            conditional = regs.variants.get(spec["variant"]).conditional
            chosen = select_metrics(dataset, [str(m) for m in _metrics_named(spec)], conditional)
            outputs = frozenset(k for c in chosen for k in c.metric.output_names(c.spaces or None))
        except GanbenchError:  # a variant or metric not installed here
            outputs = None
        found = (regs.metric_bounds(dataset), outputs)
    if memo is not None:
        memo[key] = found
    return found


def _metrics_named(spec: dict[str, Any]) -> list[Any]:
    """The metrics a record's spec names, or none where a hand edit removed them (pass 83: a traceback)."""
    settings = spec.get("eval")
    named = settings.get("metrics") if isinstance(settings, dict) else None
    return named if isinstance(named, list) else []


def _unmeasurable(data: dict[str, Any], spec: dict[str, Any], memo: dict[str, Scoring] | None = None) -> str | None:
    """A score no metric gives on the run's dataset (a fraction of 7.5, 9 modes of 8), or one of a metric the
    run did not compute (an output its spec's metrics lack), described, or None."""
    bounds, outputs = _scoring(spec, memo)
    every_output = registries().metric_directions() if outputs is not None else {}
    for scores in ("metrics", "raw_metrics"):
        wrong = out_of_bounds(data.get(scores, {}), bounds)
        if wrong:
            return f"{scores}.{wrong}"
        alien = sorted(k for k in data.get(scores, {}) if k in every_output and k not in (outputs or ()))
        if alien:
            return (
                f"{scores}.{alien[0]} = {short_repr(data[scores][alien[0]])} is a score of a metric the run did "
                f"not compute (its metrics: {', '.join(map(str, _metrics_named(spec))) or 'none named'})"
            )
    best = {k: v.get("value") for k, v in data.get("best", {}).items() if isinstance(v, dict)}  # checked: objects
    wrong = out_of_bounds(best, bounds)  # a best Fréchet distance of -1
    return f"best.{wrong}" if wrong else None


def _disowned(data: dict[str, Any], run_dir: Path) -> str | None:
    """Why the record is not its spec's (its run id is not the spec's hash) or not the scores metrics.json holds."""
    if run_id_of(data["spec"]) != data["run_id"]:
        return f"its spec does not hash to its run id {data['run_id']!r} (edited after the run)"
    try:
        scores = loads_strict(read_regular(run_dir / METRICS))
    except FileNotFoundError:
        return None
    except RecordError as exc:
        return f"its {METRICS} is {exc}"
    except (OSError, ValueError):
        return f"its {METRICS} is unreadable"
    if data["status"] != "failed" and scores != data.get("metrics", {}):
        return f"its metrics differ from the run's {METRICS} (one of them was edited)"
    return None


def write_record(record: RunRecord) -> None:
    run_dir = Path(record.run_dir)
    write_json_atomic(run_dir / METRICS, record.metrics)
    write_json_atomic(run_dir / RECORD, record.to_dict())


@dataclass
class ResultsScan:
    """What a results folder holds: one row per run, and what could not be read."""

    runs: pd.DataFrame
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    """(record.json path, why) for records that do not parse."""
    unfinished: list[Path] = field(default_factory=list)
    """Run folders with a spec.json but no record.json: running now, or killed (rerun to resume)."""
    repeated: list[Path] = field(default_factory=list)
    """Run folders whose run id appeared in an earlier folder (the same spec): counted once."""
    conflicting: list[tuple[str, Path, Path]] = field(default_factory=list)  # (run id, counted, other)
    """(the folder counted, a repeat of its run with other values): results of two machines merged, say."""

    def problems(self, tabled: bool = True, made: str = "the table") -> list[str]:
        """One line per unreadable record, then counts. ``tabled`` False: of the Python API's frame, which leaves out
        what cannot be read but holds failed and skipped runs (with their status). ``made``: what they are left out
        of (`plot`'s figures)."""
        lines = [f"unreadable record {path}: {why}; {remedy_for(why, 1)}" for path, why in self.unreadable]
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} unreadable record(s) left out" + f" of {made}" * tabled)
        if self.unfinished:
            lines.append(f"{len(self.unfinished)} run folder(s) without a record (running, or interrupted: rerun)")
        if self.repeated:
            lines.append(f"{len(self.repeated)} run folder(s) repeat a run found elsewhere; counted once")
        lines += self.conflicts()
        lost = self.runs[self.runs["status"].isin(["failed", "skipped"])] if "status" in self.runs else self.runs[:0]
        if len(lost) and tabled:  # a diverged run has a column of its own; a failed one has no value to count
            lines.append(
                f"{len(lost)} run(s) failed or were skipped, and are left out: the first {lost['run_dir'].iloc[0]} "
                f"({lost['status'].iloc[0]}; its record.json says why); rerun the command that made it"
            )
        return [one_line(line) for line in lines]  # a folder named "x\nError: ..." forges no line of its own

    def refuse_unmeasured(self, chosen: Sequence[str] | None, root: str | Path) -> None:
        """OptionError for a metric output named that no run under ``root`` wrote: its column of dashes, exit 0,
        read as a table of that metric (a metric a run recorded as null is shown and counted as missing)."""
        wrote = set().union(*self.runs[OUTPUTS]) if OUTPUTS in self.runs else set()
        absent = [name for name in chosen or () if name not in wrote]
        if absent:
            raise OptionError(
                f"no run under {one_line(root)} measured {', '.join(absent)}; its runs measured "
                f"{', '.join(sorted(wrote)) or 'nothing'}"
            )

    def conflicts(self) -> list[str]:
        """One line per run found twice with different values: which copy counts must not hang on folder names."""
        return [
            one_line(
                f"run {run_id} is in {kept} and in {other} with different values (from two "
                "machines?); the first, nearer the top, is counted (as `leaderboard check` counts it): keep one of "
                "them, or put them in separate results folders"
            )
            for run_id, kept, other in self.conflicting
        ]

    def nothing_found(self, root: str | Path) -> GanbenchError:
        """The one line for a folder without a readable run: that nothing ran there, or why what is there is not
        readable (its first unreadable record), or that its runs have not finished."""
        if self.unreadable:
            path, why = self.unreadable[0]
            fix = remedy_for(why, len(self.unreadable))
            return GanbenchError(
                f"no readable run under {one_line(root)}: {len(self.unreadable)} unreadable record(s), the first "
                f"{one_line(path)}: {one_line(why)}; {fix}"
            )
        if self.unfinished:
            return GanbenchError(
                f"no finished run under {root}: {len(self.unfinished)} run folder(s) without a record (running, or "
                "interrupted: run the same command again to resume)"
            )
        return GanbenchError(
            f"no runs found under {one_line(root)}; run `ganbench run ... --out {shell_path(root)}` first"
        )


def check_outputs(chosen: list[str] | None, directions: dict[str, str], present: Sequence[str] | None = None) -> None:
    """Refuse a name in ``--metrics`` of tables (outputs: modes_captured) that is no metric output; for a metric's
    name (modes), say which outputs it has, of those ``present`` where known (the runs', else every space's: fid
    named fid_inception of runs that have only fid_classifier)."""
    metrics = registries().metrics
    had = f"; these runs have {', '.join(list(present)[:6])}{', ...' if len(present) > 6 else ''}" if present else ""
    if chosen == []:  # the example one of the outputs these runs have (frechet was named of image runs)
        example = next(iter(present), "frechet") if present else "frechet"
        raise OptionError(f"--metrics is empty; name at least one, e.g. --metrics {example}")
    for name in chosen or []:
        if name in directions:
            continue
        if name in metrics:
            outputs = [o for o in metrics.get(name).output_names() if o in directions]
            here = [o for o in outputs if present is None or o in present]
            if not here:
                raise OptionError(f"{name!r} is a metric, and none of its outputs ({', '.join(outputs)}) is here{had}")
            raise OptionError(f"{name!r} is a metric; --metrics here takes its outputs: {', '.join(here)}")
        base = name.removesuffix("_std")
        if base != name and base in directions:  # recorded beside is_classifier, but no output to rank
            raise OptionError(f"{name!r} is the spread that comes with {base!r}, not an output to rank; name {base}")
        raise UnknownNameError("metric output", name, directions)


DENIED = (os.strerror(errno.EACCES), os.strerror(errno.EPERM))
"""Why a record could not be read, when this user may not read it: --force would not help."""

RENAMED = "in a folder renamed from its own"
"""Why a record is not its folder's when the folder's name is no run's: rerunning any run would not help."""


LINKED = "through a link in this folder"
"""Why a record is not its folder's when record.json links to another run's: the link is to go, not the run."""


def remedy_for(why: str, count: int) -> str:
    """What to do about ``count`` records unreadable for ``why``: --force helps only records that are damaged."""
    if why in DENIED:
        return "make them readable" if count > 1 else "make it readable"
    if LINKED in why:
        return "delete the link, then rerun that run (a run writes only files of its own)"
    if RENAMED in why:
        return "give the folder its own name back, or delete it if it is a copy (the run counts from its own folder)"
    return "rerun those runs with --force" if count > 1 else "rerun that run with --force"


def refuse_run_folder(path: str | Path | None, option: str, figures: bool = False) -> None:
    """OptionError if ``path`` is the folder of one run (it holds a spec.json), or lies in one (through links
    too): runs written or sought there would nest inside that run, a suite's training in the wrong place;
    ``figures``: it names the folder of `plot`'s figures, not of runs."""
    if path is None:
        return
    resolved = Path(path).resolve()
    folders = (resolved, *resolved.parents)  # a parent by its run's name too: a project may hold a spec.json
    runs = (f for f in folders if (f / SPEC).is_file() and (f == resolved or RUN_FOLDER.fullmatch(f.name)))
    run = next(runs, None)
    if run is not None:
        where = "the folder of one run" if run == resolved else f"inside the folder of one run, {one_line(run)}"
        fix = (
            f"name a folder for the figures, e.g. {one_line(run.parent / 'figures')}"
            if figures
            else f"name the results folder that holds the runs (e.g. {one_line(run.parent)})"
        )
        if os.path.islink(path):  # the example above may be the very link: say what it is, and to delete it
            where, fix = (
                f"a link into the folder of one run, {one_line(run)}",
                "delete the link, or name another folder",
            )
        raise OptionError(f"{option} {one_line(path)} is {where}; {fix}")


def run_folders(root: Path) -> list[Path]:
    """Folders under ``root`` holding a record or a spec, sorted. Links to folders are followed (a run linked into
    a results folder is one of its runs), each real folder walked once (a link to an ancestor is no loop). A
    loop, not recursion: a folder nested a thousand deep is walked like any other. Links are walked last, so that
    a run reached both ways counts from its real folder (a link named like a run would have hidden it)."""
    found, stack, links, walked = set(), [root], [], set()
    while stack or links:
        folder = stack.pop() if stack else links.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in walked:
                continue
            walked.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except FileNotFoundError:  # gone meanwhile: nothing of it can be shown
            continue
        except OSError as exc:  # unreadable: skipped, its runs would leave the table's numbers without a word
            raise OutputError(
                f"cannot read the folder {shown_path(folder)} ({exc.strerror or exc}) in the results folder "
                f"{shown_path(root)}; make it readable, or move it out"
            ) from None
        for entry in entries:
            if entry.name in (RECORD, SPEC):
                found.add(folder)
            try:
                below = entry.is_dir()
            except OSError:
                below = False
            if below:
                (links if entry.is_symlink() else stack).append(Path(entry.path))
    return sorted(found)


def scan_results(root: str | Path, outputs: Collection[str] = ()) -> ResultsScan:
    """Every run under ``root`` (see ``records_frame``), and every record that could not be read (one whose
    values of ``outputs``, the metric outputs tables and figures use, are not numbers among them)."""
    records, unreadable, unfinished, memo = [], [], [], {}
    for folder in run_folders(Path(root)):
        try:
            record = check_record(folder, outputs, memo)
            record.run_dir = str(folder)  # where it lies now: folders get copied and moved
            records.append(record)
        except FileNotFoundError:
            unfinished.append(folder)
        except (OSError, RecordError) as exc:
            unreadable.append((folder / RECORD, str(exc) if isinstance(exc, RecordError) else exc.strerror or str(exc)))
    seen: dict[str, RunRecord] = {}
    repeated, conflicting = [], []
    for record in sorted(records, key=lambda r: _nearest_first(r, Path(root))):  # where `run -o`/`sweep` put it
        kept = seen.get(record.run_id)
        if kept is None:
            seen[record.run_id] = record
            continue
        repeated.append(Path(record.run_dir))
        if (kept.status, strict_json(kept.metrics)) != (record.status, strict_json(record.metrics)):
            conflicting.append((record.run_id, Path(kept.run_dir), Path(record.run_dir)))
    counted = [r for r in records if seen[r.run_id] is r]  # in the folders' order
    return ResultsScan(records_frame(counted), unreadable, unfinished, repeated, conflicting)


def _nearest_first(record: RunRecord, root: Path) -> tuple[int, str]:
    """Which copy of a run counts: the one nearest ``root`` (its own folder there is the one `leaderboard check`
    and a rerun read), then by path; never a copy that merely sorts first (``0copy/``)."""
    folder = Path(record.run_dir)
    depth = len(folder.relative_to(root).parts) if folder.is_relative_to(root) else len(folder.parts)
    return depth, str(folder)


@path_errors()
def load_results(root: str | Path) -> pd.DataFrame:
    """One row per run found under ``root``; warnings as `ganbench table` gives them (records that cannot be read,
    run folders without a record, runs found twice).
    OutputError if ``root`` is no folder (a typo would otherwise read as a folder without runs); GanbenchError if
    it holds no readable run."""
    if not isinstance(root, str | os.PathLike) or not str(root).strip():
        raise OutputError(f"results folder must be a path (text or a Path), not {root!r}; e.g. 'results'")
    given, root = root, Path(tilde_expanded(str(root)))  # as run(out="~/r") wrote it (pass 71)
    if not root.is_dir():
        refuse_link_loop(root, "results folder ")
        state = f"is {kind_of(root)}, not a folder" if root.exists() else "does not exist"
        raise OutputError(f"results folder {str(given)!r} {state}; pass the --out folder of `ganbench run`")
    scan = scan_results(root)
    if scan.runs.empty:  # as `table` refuses it: a frame without columns fails later, on a column (an empty -o)
        raise scan.nothing_found(root)
    for line in scan.problems(tabled=False):  # as `ganbench table` says them: runs unfinished or found twice too
        warnings.warn(line, stacklevel=3)  # the caller's line, past path_errors
    return scan.runs


def recorded_data_paths(runs: pd.DataFrame) -> list[str]:
    """The files and folders the runs' datasets read, as their records name them: a dataset option whose value is
    an existing absolute path (a user's folder of images is recorded resolved). Nothing ganbench draws or reports
    goes there."""
    options = [json.loads(text)[1] for text in set(runs.get("scored_on", ()))]  # [dataset, options, n, seed]
    values = {v for o in options if isinstance(o, dict) for v in o.values() if isinstance(v, str) and os.path.isabs(v)}
    return sorted(v for v in values if os.path.exists(v))


OUTPUTS = "outputs"
"""records_frame's column of the metric outputs each run wrote (null ones too): a metric a run
never computed (class accuracy of an unconditional variant) is not applicable, not missing."""


RECORD_COLUMNS = frozenset(
    ("run_id", "config", "setting", "variant", "dataset", "network", "seed", "steps", "status", "steps_done",
     "diverged_at", "train_seconds", "run_dir", "scored_on", "outputs")
)  # fmt: skip
"""``records_frame``'s columns that are not metric outputs: no direction ranks them (pass 73)."""


def records_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per record: ids, spec fields, ``config`` (the spec without its seed), ``setting``
    (what tells this config from the others of its variant and dataset), status and metrics."""
    rows = []
    for record in records:
        spec = record.spec
        rows.append(
            {
                "run_id": record.run_id,
                "config": config_id(spec),
                "variant": spec["variant"],
                "dataset": spec["dataset"],
                "network": spec.get("network"),
                "seed": spec["seed"],
                "steps": spec["budget"]["steps"],
                "status": record.status,
                "steps_done": record.steps_done,
                "diverged_at": record.diverged_at,
                "train_seconds": record.train_seconds,
                "run_dir": record.run_dir,
                "scored_on": scored_on(spec),
                OUTPUTS: frozenset(k for k, v in record.metrics.items() if _is_number_or_missing(v)),
                **{k: _number(v) for k, v in record.metrics.items() if _is_number_or_missing(v)},
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        specs = {config_id(r.spec): r.spec for r in records}
        frame.insert(2, "setting", frame["config"].map(settings(frame, specs)))
    return frame


ENVIRONMENT_TEXT = ("ganbench", "python", "torch", "numpy", "platform", "machine", "cpu", "device", "gpu", "cuda")
"""The environment's fields that are text (``ganbench.environment``): a baseline sorts and prints them."""


def _environment_problem(environment: Any) -> str | None:
    """What is wrong with a record's environment (hand-edited: a device of 7 crashed `leaderboard update`, threads
    of 0 made a baseline `check` refused), or None."""
    if not isinstance(environment, dict):
        return f"environment must be an object, not {short_repr(environment)}"
    threads = environment.get("torch_threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        return f"environment.torch_threads must be a positive integer (threads the run used), not {short_repr(threads)}"
    wrong = [k for k in ENVIRONMENT_TEXT if k in environment and not isinstance(environment[k], str)]
    if wrong:
        return f"environment.{wrong[0]} must be text, not {short_repr(environment[wrong[0]])}"
    return None


def scored_on(spec: dict[str, Any]) -> str:
    """What a run's scores were measured against: its dataset with options, the number of samples scored and the
    evaluation seed, as JSON (reference rows are scored once per distinct value)."""
    ev = spec.get("eval") if isinstance(spec.get("eval"), dict) else {}
    what = [spec.get("dataset"), spec.get("dataset_options") or {}, ev.get("n_samples"), ev.get("seed")]
    code = spec.get("code") if isinstance(spec.get("code"), dict) else {}
    chosen = {k: code[k] for k in ("data", "features") if code.get(k)}  # files nothing verifies; Inception weights:
    if isinstance(code.get("dataset"), str):  # other data, other space (pass 78); the code that made the data
        chosen["dataset"] = code["dataset"]  # (pass 81: a ring's radius edited in a plugin between two runs)
    return json.dumps([*what, chosen] if chosen else what, sort_keys=True)


def config_id(spec: dict[str, Any]) -> str:
    """A hash of everything in a spec but its seed: runs of one config differ only in the seed."""
    rest = {k: v for k, v in spec.items() if k not in ("seed", "run_id")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:12]


def settings(frame: pd.DataFrame, specs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """config -> a label of what differs between the configs of one variant x dataset ('' if alone), and which
    files the data were where one dataset (``files``) stands for several (a.npz for one variant, b.npz for
    another: both rows said "files")."""
    labels: dict[str, str] = {}
    flat = {c: _flat_spec(spec) for c, spec in specs.items()}
    paths = {  # dataset -> its configs' data files, where it has several
        dataset: tails
        for dataset, group in frame.groupby("dataset", sort=False)
        if len(tails := _distinct_tails([str(flat[c].get("dataset.path")) for c in dict.fromkeys(group["config"])])) > 1
    }
    across: dict[str, list[str]] = {}  # dataset -> what its runs were scored against that differs between its
    for dataset, group in frame.groupby("dataset", sort=False):  # configs, whatever variant (pass 79: gan's FID
        configs = list(dict.fromkeys(group["config"]))  # with some weights, nsgan's with others, unlabelled)
        if keys := _differing(_scored_against(flat, configs), configs, flat):
            across[dataset] = keys
    for (dataset, _), group in frame.groupby(["dataset", "variant"], sort=False):
        configs = list(dict.fromkeys(group["config"]))
        if len(configs) == 1 and dataset not in across:
            labels[configs[0]] = ""
            continue
        differing = _differing(list(dict.fromkeys(k for c in configs for k in flat[c])), configs, flat)
        differing = [k for k in across.get(dataset, []) if k not in differing] + differing
        if "network" in differing:  # other networks have other options and code: the name says enough
            differing = [k for k in differing if not k.startswith("network.") and k != "code.network"]
        if "dataset.path" in differing:  # other images have other hashes: the path says enough
            differing = [k for k in differing if k != "dataset.sha256"]
        tails = paths.get(dataset) or _distinct_tails([str(flat[c].get("dataset.path")) for c in configs])
        shown = {c: {k: _label_value(flat[c].get(k)) for k in differing} for c in configs}
        for c in configs:
            if "dataset.path" in shown[c]:  # a whole path ran off a figure's edge
                shown[c]["dataset.path"] = tails[shown[c]["dataset.path"]]
        labels.update(_told_apart(shown, flat))
    return labels


SCORED_AGAINST = ("code.data", "code.dataset", "code.features", "eval_samples", "eval_seed")
"""With every ``dataset.`` key (its options, path and sha256), the keys of ``_flat_spec`` that say what a run was
scored against (``scored_on``): shown in every label of a dataset whose runs differ in them, or its table ranks
numbers of other data or weights side by side (pass 80: ring8 of two sigmas, one unlabelled row each, two bold)."""


def _scored_against(flat: dict[str, dict[str, Any]], configs: list[str]) -> list[str]:
    """The ``SCORED_AGAINST`` and ``dataset.`` keys of ``configs``, in their first spec's order."""
    keys = dict.fromkeys(k for c in configs for k in flat[c])
    return [k for k in keys if k.startswith("dataset.") or k in SCORED_AGAINST]


def _differing(keys: Sequence[str], configs: list[str], flat: dict[str, dict[str, Any]]) -> list[str]:
    """The ``keys`` whose values are not the same in all ``configs``."""
    return [k for k in keys if len({json.dumps(flat[c].get(k), sort_keys=True) for c in configs}) > 1]


def _told_apart(shown: dict[str, dict[str, str]], flat: dict[str, dict[str, Any]]) -> dict[str, str]:
    """config -> its label (key=value of what ``shown`` shows), labels two configs would share made distinct: a
    table's row is one label's runs, so two configs under one label were one row of mixed runs, a seed of each
    dropped as a duplicate (pass 77: widths 8 and 64 of one network were both "network=mlp" beside another
    network; 1e-4 and 1.0000001e-4 both "0.0001"). Keys that differ between configs sharing a label are shown
    in full; the config's id where no key does."""

    def label(c: str) -> str:
        return ", ".join(f"{k}={v}" for k, v in shown[c].items()) or f"config {c}"

    labels = {c: label(c) for c in shown}
    for common in {v for v in labels.values() if list(labels.values()).count(v) > 1}:
        same = [c for c, v in labels.items() if v == common]
        for k in _differing(list(dict.fromkeys(k for c in same for k in flat[c])), same, flat):
            for c in same:
                shown[c][k] = _label_value(flat[c].get(k), exact=True)
        labels.update({c: label(c) for c in same})
        if len({labels[c] for c in same}) < len(same):  # nothing a key shows tells them apart
            labels.update({c: f"{labels[c]}, config {c}" for c in same})
    return labels


def _distinct_tails(paths: list[str]) -> dict[str, str]:
    """Each path by its fewest last parts that still tell it from the others (".../cats/imgs")."""
    parts = {p: Path(p).parts for p in paths}
    for n in range(1, max((len(v) for v in parts.values()), default=1) + 1):
        tails = {p: "/".join(v[-n:]) for p, v in parts.items()}
        if len(set(tails.values())) == len(tails):
            return {p: tails[p] if len(parts[p]) <= n else f".../{tails[p]}" for p in paths}
    return {p: p for p in paths}


def _flat_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec as the ``--set``-style keys a user would type: steps, lr_d, dataset.sigma, network.width, ..."""
    budget, ev = spec.get("budget", {}), spec.get("eval", {})
    flat: dict[str, Any] = {
        "steps": budget.get("steps"),
        "max_seconds": budget.get("max_seconds"),
        "network": spec.get("network"),
    }
    flat.update(spec.get("variant_options", {}))
    flat.update({f"dataset.{k}": v for k, v in spec.get("dataset_options", {}).items()})
    flat.update({f"network.{k}": v for k, v in spec.get("network_options", {}).items()})
    flat.update({"eval_samples": ev.get("n_samples"), "eval_seed": ev.get("seed"), "metrics": ev.get("metrics")})
    if ev.get("truncation") is not None:
        flat["truncation"] = ev["truncation"]
    flat.update({f"code.{part}": value for part, value in spec.get("code", {}).items()})
    if isinstance(flat.get("code.features"), str):  # {"inception": {"weights": "sha256 <64 hex>"}}, in a label:
        shorter = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", flat["code.features"])  # as run ids tell apart
        flat["code.features"] = " ".join(re.sub(r'[{}":,]+', " ", shorter).split())  # inception weights sha256 e3c2..
    flat["eval_every"] = ev.get("every")  # configs that score at other steps (pass 77: left out, one row)
    shown = {"steps", "max_seconds", "n_samples", "seed", "metrics", "truncation", "every"}
    flat.update({f"eval.{k}": v for k, v in ev.items() if k not in shown})  # a field newer than this function
    flat.update({f"budget.{k}": v for k, v in budget.items() if k not in shown})
    known = {"budget", "eval", "network", "variant_options", "dataset_options", "network_options", "code"}
    flat.update({k: v for k, v in spec.items() if k not in known | {"seed", "run_id", "variant", "dataset"}})
    return flat


def _label_value(value: Any, exact: bool = False) -> str:
    """``value`` in a label: a float in 6 digits where that reads back as it (0.0001, 1e-05) or ``exact``ly
    wanted, else in its shortest repr that does (1.0000001e-4 is not "0.0001", pass 77)."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(_label_value(v, exact) for v in value)
    if isinstance(value, str) and len(value) > 16 and all(c in "0123456789abcdef" for c in value):
        return value[:12]  # a sha256 or code fingerprint: 12 hex digits tell runs apart, as run ids do
    if isinstance(value, float):
        return f"{value:g}" if not exact and float(f"{value:g}") == value else repr(value)
    return str(value)


def _is_number_or_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _number(value: Any) -> float | int:
    return math.nan if value is None else value
