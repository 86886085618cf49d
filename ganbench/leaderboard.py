"""Leaderboards: a suite plus a committed baseline of per-seed values made by ganbench itself.

The baseline (``<suite>.baseline.json`` beside the suite) holds, for every run of the
suite, its variant, dataset, seed, status and metric values, with the provenance that
makes them comparable: library versions, hardware, budget. ``compare`` pairs the
current runs with it per (variant, dataset, metric) for ``ganbench.verdicts``; ``ranking``
orders the variants of a dataset by a metric, with ties where the difference is not
significant.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.atomic import remove_stale_temps
from ganbench.environment import library_versions
from ganbench.errors import GanbenchError, one_line, shell_path
from ganbench.metric import Bound, out_of_bounds
from ganbench.options import list_items
from ganbench.paths import DATA_ENV, data_root
from ganbench.plugins import registries
from ganbench.results import RunRecord, loads_strict, read_regular, strict_json, write_json_atomic
from ganbench.suites import UNVERIFIED, Suite
from ganbench.verdicts import ALPHA, DIVERGENCE, Comparison, Sample, holm, welch
from ganbench.writable import advice

SCHEMA = 1
MAX_MEASURED = 1e100
"""The largest metric value a baseline may hold: a float32 run cannot measure more (its squared
distances stay below 1e77), and larger ones overflow the verdicts' variances."""


class BaselineError(GanbenchError):
    """A baseline that is missing, unreadable or of another suite."""


def dataset_names(suite: Suite) -> dict[str, str]:
    """Run id -> the dataset as the suite names it: a path to a user's images is recorded in a spec as
    the registered dataset that reads it (``files``), but the suite, its baseline and its verdicts say
    the path."""
    return {spec.run_id: dataset for dataset in suite.datasets for spec in suite.specs_of(dataset)}


def make_baseline(suite: Suite, records: Sequence[RunRecord]) -> dict[str, Any]:
    """The baseline document of ``suite`` from its runs' records."""
    names, directions = dataset_names(suite), registries().metric_directions()
    return strict_json(
        {
            "schema": SCHEMA,
            "suite": suite.name,
            "made": {
                "date": time.strftime("%Y-%m-%d"),
                "versions": library_versions(),
                "hardware": run_hardware(records),
                "budget": {"steps": suite.budget_steps, "max_seconds": suite.max_seconds},
                "settings": suite.settings,
                "data": {d: suite.data_of(d) for d in suite.datasets},
                "devices": sorted({r.environment.get("device", "?") for r in records}),
            },
            "runs": [
                {
                    "variant": r.spec["variant"],
                    "dataset": names.get(r.run_id, r.spec["dataset"]),
                    "seed": r.spec["seed"],
                    "run_id": r.run_id,
                    "status": r.status,
                    "metrics": {k: v for k, v in _numbers(r.metrics).items() if compared(k, directions)},
                }
                for r in records
            ],
        }
    )


HARDWARE = ("machine", "cpu", "platform")


def run_hardware(records: Sequence[RunRecord]) -> dict[str, Any]:
    """What the runs trained on, from their records: the machine, and the torch threads of each run
    (a run's bits depend on its thread count, and a sweep's workers split the cores)."""
    envs = [r.environment for r in records if r.environment]
    if not envs:
        return {}
    hardware: dict[str, Any] = {k: envs[0].get(k) for k in HARDWARE}
    hardware["torch_threads"] = sorted({e["torch_threads"] for e in envs if "torch_threads" in e})
    return hardware


def write_baseline(suite: Suite, records: Sequence[RunRecord]) -> Path:
    """Write (atomically) the baseline of ``suite`` beside it; its path. A run's values are checked as
    ``read_baseline`` checks them, first: a baseline that `show` and `check` refuse must not replace one they read."""
    unfinished = [r for r in records if r.status not in ("completed", "diverged")]
    if unfinished:
        first = unfinished[0]
        why = (first.error or "").strip().splitlines()[-1:] or ["another process trains it"]
        raise BaselineError(  # its own advice (fix it, wait for the other process) is in ``why``: not said twice
            f"{len(unfinished)} run(s) did not finish, the first {first.run_dir} ({first.status}: {why[0]}); the "
            f"baseline at {suite.baseline_path} is unchanged"
        )
    document = make_baseline(suite, records)
    bounds, regs = suite.output_bounds(), registries()
    directions, anywhere = regs.metric_directions(), regs.metric_bounds()
    for record, run in zip(records, document["runs"], strict=True):
        problem = _metrics_problem(run["metrics"], directions, bounds.get(run["dataset"], anywhere))
        if problem:
            raise BaselineError(
                f"run {run['variant']} on {run['dataset']}, seed {run['seed']} ({one_line(record.run_dir)}): its "
                f"{problem}; rerun that run with --force, or leave it out of the suite; the baseline at "
                f"{suite.baseline_path} is unchanged"
            )
    malformed = _malformed(loads_strict(json.dumps(document)), bounds)  # as `check` will read it back
    if malformed:  # a record a hand edit made odd in a way its own checks let through: refuse, keep the old one
        raise BaselineError(
            f"the baseline these runs make would be malformed ({malformed}); fix or rerun the runs of "
            f"{one_line(suite.file)} with --force; the baseline at {suite.baseline_path} is unchanged"
        )
    remove_stale_temps(suite.baseline_path.parent)  # a killed update's, beside a committed baseline
    existed = suite.baseline_path.exists()
    try:
        write_json_atomic(suite.baseline_path, document, follow=True)
    except OSError as exc:
        raise BaselineError(_unwritten(suite.baseline_path, exc, existed)) from None
    return suite.baseline_path


def _unwritten(path: Path, exc: OSError, existed: bool) -> str:
    """One line for a baseline the disk refused: why (through a link: where it leads), what to do, what stayed."""
    target = Path(os.path.realpath(path))
    linked = path.is_symlink()
    if exc.errno == errno.ENOENT:
        where = ", where its link leads," if linked else ""
        fix = f"the folder {target.parent}{where} does not exist: create it, or fix the link"
    else:
        where = f" ({target}, where its link leads)" if linked else ""
        fix = f"{advice(exc)}{where}, then run the same command again"
    kept = "the one there is unchanged" if existed else "none was written"
    return f"cannot write baseline {path} ({exc.strerror or exc}); {fix}; {kept}"


def read_baseline(suite: Suite) -> dict[str, Any]:
    """The baseline of ``suite``; BaselineError (one line) if missing, unreadable or another suite's."""
    path = suite.baseline_path
    fix = f"make one with `ganbench leaderboard update {shell_path(suite.file)}`"
    try:
        data = loads_strict(read_regular(path))  # a FIFO there would block forever
    except FileNotFoundError:
        raise BaselineError(f"suite {suite.name!r} has no baseline at {path}; {fix}") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"baseline {path} is unreadable ({exc}); {fix}") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    schema = None if isinstance(schema, bool) else schema  # true == 1 in Python, not in a baseline
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        raise BaselineError(
            f"baseline {path} was written by a newer ganbench (schema {schema}; this one reads {SCHEMA}); upgrade "
            f"ganbench, or {fix.removeprefix('make one with ')} to make one of this version's"
        )
    if not isinstance(data, dict) or schema != SCHEMA or not isinstance(data.get("runs"), list):
        raise BaselineError(f"baseline {path} is not a ganbench baseline (schema {SCHEMA}); {fix}")
    if data.get("suite") != suite.name:
        raise BaselineError(f"baseline {path} belongs to suite {data.get('suite')!r}, not {suite.name!r}; {fix}")
    problem = _malformed(data, suite.output_bounds())
    if problem:
        raise BaselineError(f"baseline {path} is malformed: {problem}; {fix}")
    return _named_as_the_suite_names(suite, data)


def _named_as_the_suite_names(suite: Suite, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each dataset the suite now writes otherwise ("./pets" for "pets", its absolute path: one
    folder) under the suite's name for it: respelt, the check said the budget changed, of the same runs (pass 72)."""
    recorded = {r["dataset"] for r in data["runs"] if isinstance(r.get("dataset"), str)}
    renamed = {}
    for old in recorded.difference(suite.datasets):
        same = [new for new in suite.datasets if new not in recorded and suite.same_data_path(old, new)]
        if len(same) == 1:
            renamed[old] = same[0]
    targets = list(renamed.values())
    renamed = {old: new for old, new in renamed.items() if targets.count(new) == 1}  # two folded into one: neither
    if not renamed:  # (b.npz made a link to a.npz: its runs counted as a.npz's seeds twice, pass 73)
        return data
    made = dict(data.get("made") or {})
    if isinstance(made.get("data"), dict):
        made["data"] = {renamed.get(k, k): v for k, v in made["data"].items()}
    budget = made.get("budget")
    if isinstance(budget, dict) and isinstance(budget.get("steps"), dict):
        made["budget"] = {**budget, "steps": {renamed.get(k, k): v for k, v in budget["steps"].items()}}
    runs = [{**r, "dataset": renamed.get(r["dataset"], r["dataset"])} if r.get("dataset") in renamed else r
            for r in data["runs"]]  # fmt: skip
    return {**data, "made": made, "runs": runs}


def data_root_option() -> str:
    """`` --data-root X`` where this command was given one (or $GANBENCH_DATA): advice to run another command
    reads the same files (pass 80: the update it advised read the default root's)."""
    return f" --data-root {shell_path(data_root())}" if os.environ.get(DATA_ENV) else ""


def check_fits(suite: Suite, baseline: dict[str, Any]) -> None:
    """BaselineError unless ``baseline`` was made for the suite as it is now: its budget, and a run
    for every variant x dataset x seed (an edited suite needs `leaderboard update`, not verdicts)."""
    fix = f"if the change is intended, run `ganbench leaderboard update {shell_path(suite.file)}{data_root_option()}`"
    budget = baseline["made"]["budget"]
    steps = budget.get("steps")
    if isinstance(steps, int):  # one number for every dataset (baselines made before per-dataset budgets)
        steps = dict.fromkeys(suite.datasets, steps)
    made, now = (steps, budget.get("max_seconds")), (suite.budget_steps, suite.max_seconds)
    if made != now:
        raise BaselineError(
            f"baseline {suite.baseline_path} was made with {_budget_text(*made)}; the suite now has "
            f"{_budget_text(*now)}; {fix}"
        )
    made_with, now_with = baseline["made"]["settings"], strict_json(suite.settings)
    if "features" not in made_with:  # made before baselines recorded them (pass 78): nothing to compare with
        now_with.pop("features", None)
    changed = [k for k in dict.fromkeys([*now_with, *made_with]) if not _same_setting(suite, k, made_with, now_with)]
    same_runs = {r.get("run_id") for r in baseline["runs"]} == {spec.run_id for spec in suite.specs()}
    if changed and not same_runs:  # else respelt in a way _as_set misses: the very runs the baseline holds
        weights = "; score with the weights it was made with (--inception-weights)" if "features" in changed else ""
        raise BaselineError(
            f"baseline {suite.baseline_path} was made with {_values_text(made_with, changed)}; the suite now has "
            f"{_values_text(now_with, changed)}{weights}; {fix}"
        )
    made_on_data = baseline["made"].get("data")
    unrecorded = [d for d in suite.datasets if made_on_data is not None and d not in made_on_data]
    if unrecorded:  # baselines made before made.data lack it whole; one that has it names every dataset
        raise BaselineError(
            f"baseline {suite.baseline_path} does not record the data of {unrecorded[0]} (made for another suite, or "
            f"edited); {fix}"
        )
    for dataset, made_on in (made_on_data or {}).items():
        now_on = strict_json(suite.data_of(dataset)) if dataset in suite.datasets else made_on
        if UNVERIFIED not in made_on:  # made before baselines recorded it (pass 78): nothing to compare with
            now_on = {k: v for k, v in now_on.items() if k != UNVERIFIED}
        changed = [
            k for k in dict.fromkeys([*now_on, *made_on]) if not suite.same_data_value(made_on.get(k), now_on.get(k))
        ]
        if changed == [UNVERIFIED] and now_on.get(UNVERIFIED) is None:  # not read here: not changed (pass 79)
            raise BaselineError(
                f"baseline {suite.baseline_path} was made on {dataset} from files nothing verifies "
                f"({UNVERIFIED}={_setting_text(made_on[UNVERIFIED])}), which are not what {dataset} reads here: pass "
                f"--data-root ({DATA_ENV}) naming the folder that holds them"
            )
        retyped = [k for k in changed if None not in (made_on.get(k), now_on.get(k))]
        retyped = [k for k in retyped if _json_kind(made_on[k]) != _json_kind(now_on[k])]
        if retyped:  # a hand edit ("8" for 8), not data that changed (pass 91)
            k = retyped[0]
            raise BaselineError(
                f"baseline {suite.baseline_path} is malformed: 'made.data.{dataset}.{k}' is {_json_kind(made_on[k])} "
                f"{_setting_text(made_on[k])}, where {dataset} records a {_json_kind(now_on[k])}; {fix}"
            )
        if changed:
            raise BaselineError(
                f"baseline {suite.baseline_path} was made on {dataset} with {_values_text(made_on, changed)}; its "
                f"data now has {_values_text(now_on, changed)} (the data changed since); {fix}"
            )
    have = {(r["variant"], r["dataset"], r["seed"]) for r in baseline["runs"]}
    wanted = [(v, d, s) for d in suite.datasets for v in suite.variants for s in suite.seeds]
    extra = sorted(have.difference(wanted), key=str)
    if extra:
        v, d, seed = extra[0]
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        raise BaselineError(
            f"baseline {suite.baseline_path} holds a run of {v} on {d}, seed {seed}{more}, which the suite "
            f"does not have (a baseline made for other variants, datasets or seeds); {fix}"
        )
    missing = [run for run in wanted if run not in have]
    if missing:
        v, d, seed = missing[0]
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise BaselineError(f"baseline {suite.baseline_path} has no run of {v} on {d}, seed {seed}{more}; {fix}")
    given = {d: suite.outputs_of(d) for d in suite.datasets}
    for i, run in enumerate(baseline["runs"]):
        outputs = dict.fromkeys(given[run["dataset"]][run["variant"]], "")  # compared() asks for directions
        alien = [k for k in run.get("metrics", {}) if not compared(k, outputs)]
        if alien:
            raise BaselineError(
                f"baseline {suite.baseline_path} holds runs[{i}].metrics[{alien[0]!r}], which the suite's metrics "
                f"do not give for {run['variant']} on {run['dataset']} (a hand edit, or another suite's); {fix}"
            )


def _same_setting(suite: Suite, key: str, made: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether the suite's setting ``key`` is as the baseline records it, respelt or not; a [set] dataset.path too:
    "pets", "./pets" and its absolute path are one folder (pass 71)."""
    if _as_set(made.get(key)) == _as_set(now.get(key)):
        return True
    was, is_now = made.get(key), now.get(key)
    if key == "metrics" and isinstance(was, list) and isinstance(is_now, list):
        return _same_metrics(suite, was)
    if key != "set" or not isinstance(was, dict) or not isinstance(is_now, dict) or set(was) != set(is_now):
        return False
    return all(
        _as_set(was[k]) == _as_set(is_now[k]) or (k.startswith("dataset.") and suite.same_data_value(was[k], is_now[k]))
        for k in was
    )


def _same_metrics(suite: Suite, made: list[Any]) -> bool:
    """Whether the metrics a baseline was made with select what the suite's select, in any order or named by their
    outputs (pass 87: `["frechet", "modes"]` was refused as a change once the code had changed too)."""
    if not all(isinstance(name, str) for name in made):
        return False
    try:
        other = dataclasses.replace(suite, metrics=tuple(made))
        return all(
            other._spec(v, d, suite.seeds[0]).eval.metrics == suite._spec(v, d, suite.seeds[0]).eval.metrics
            for d in suite.datasets
            for v in suite.variants
        )
    except GanbenchError:  # a metric that no longer fits: a change
        return False


def _as_set(value: Any) -> Any:
    """A suite setting as ``--set`` reads it, so that a respelling is no change: "0.5,0.9" and [0.5, 0.9] alike,
    "1e-4" and 0.0001, "8" and 8 (the run ids, which hold the code's version too, would change with any commit)."""
    if isinstance(value, dict):
        return {k: _as_set(v) for k, v in value.items()}
    if isinstance(value, str) and "," in value:
        return _as_set(list_items(value))
    if isinstance(value, list | tuple):
        return tuple(_as_set(v) for v in value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _values_text(values: dict[str, Any], keys: list[str]) -> str:
    """``key=value, ...`` of ``keys``, each value as ``_setting_text`` shows it."""
    return ", ".join(f"{k}={_setting_text(values.get(k))}" for k in keys)


def _setting_text(value: Any) -> str:
    """A suite setting as its TOML would show it, cut to a line's worth."""
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _budget_text(steps: Any, max_seconds: Any) -> str:
    """steps=1000 on ring8, 20000 on grid25, max_seconds=None: a budget as a reader wants it."""
    if isinstance(steps, dict):
        steps = ", ".join(f"{n} on {d}" for d, n in steps.items())
    return f"steps={steps}, max_seconds={'none' if max_seconds is None else max_seconds}"


def _malformed(data: dict[str, Any], bounds: dict[str, dict[str, Bound]]) -> str | None:
    """What is wrong with a baseline's made block or runs (a hand edit, a bad merge), or None. Metric values
    must be outputs of installed metrics, within the bounds their metrics declare on the run's dataset
    (``bounds``; every metric's where the suite lacks the dataset): a negative distance, a fraction of 7.5,
    9 modes of 8."""
    regs = registries()
    directions, anywhere = regs.metric_directions(), regs.metric_bounds()
    made = data.get("made")
    if not isinstance(made, dict) or not all(isinstance(made.get(k), dict) for k in ("hardware", "budget")):
        return "'made' must be an object with 'hardware' and 'budget' objects (the budget a check compares with)"
    threads = made["hardware"].get("torch_threads", [])
    counts = isinstance(threads, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in threads)
    if not counts or not all(t > 0 for t in threads):
        return "'made.hardware.torch_threads' must be a list of positive integers (threads per run)"
    wrong = [k for k in HARDWARE if not isinstance(made["hardware"].get(k, ""), str | None)]
    if wrong:
        return f"'made.hardware.{wrong[0]}' must be text (what the runs trained on)"
    if not isinstance(made.get("settings"), dict):
        return "'made.settings' must be an object (the suite's network, [set], metrics and evaluation)"
    made_on = made.get("data", {})
    if not isinstance(made_on, dict) or not all(isinstance(v, dict) for v in made_on.values()):
        return "'made.data' must map each dataset to an object (the options that identify its data)"
    for key, kind, what in (("date", str, "text"), ("versions", dict, "an object"), ("devices", list, "a list")):
        if key in made and not isinstance(made[key], kind):
            return f"'made.{key}' must be {what}, not {made[key]!r:.40}"
    if not all(isinstance(v, str) for v in made.get("versions", {}).values()):  # pass 91: {"torch": 1} passed
        return "'made.versions' must map each library to its version as text"
    metrics = made["settings"].get("metrics")
    if metrics is not None and not (isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)):
        return "'made.settings.metrics' must be a list of metric names"  # pass 91: "modes" passed
    if "date" in made and not _is_date(made["date"]):  # `show` prints it in its header
        return f"'made.date' must be a date as YYYY-MM-DD, not {made['date']!r:.40}"
    budget = made["budget"]
    steps, seconds = budget.get("steps"), budget.get("max_seconds")
    per_dataset = steps if isinstance(steps, dict) else {"": steps}
    if not per_dataset or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in per_dataset.values()
    ):
        return "'made.budget.steps' must be a positive integer, or one per dataset"
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < math.inf
    ):
        return "'made.budget.max_seconds' must be a positive number or null"
    seen: dict[tuple, int] = {}
    for i, run in enumerate(data["runs"]):
        if not isinstance(run, dict):
            return f"runs[{i}] is not an object"
        for key, kind in (("variant", str), ("dataset", str), ("status", str)):
            if not isinstance(run.get(key), kind):
                return f"runs[{i}].{key} must be a string"
        if "run_id" in run and not (isinstance(run["run_id"], str) and re.fullmatch(r"[0-9a-f]{16}", run["run_id"])):
            return f"runs[{i}].run_id must be a run id (16 hex digits), not {run['run_id']!r:.40}"
        seed = run.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            return f"runs[{i}].seed must be a non-negative integer"
        if run["status"] not in ("completed", "diverged"):
            return f"runs[{i}].status must be completed or diverged, not {run['status']!r}"
        metrics = run.get("metrics")
        if not isinstance(metrics, dict) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in metrics.values()
        ):
            return f"runs[{i}].metrics must map names to numbers or null"
        problem = _metrics_problem(metrics, directions, bounds.get(run["dataset"], anywhere))
        if problem:
            return f"runs[{i}].{problem}"
        key = (run["variant"], run["dataset"], seed)
        if key in seen:
            return f"runs[{i}] repeats runs[{seen[key]}] ({run['variant']} on {run['dataset']}, seed {seed})"
        seen[key] = i
    return None


def _json_kind(value: Any) -> str:
    """A JSON value's kind as a message names it: number, text, true/false, list, object."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    return {str: "text", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def _is_date(text: str) -> bool:
    """A calendar date written YYYY-MM-DD in ASCII digits, as ``make_baseline`` writes it."""
    try:
        return bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)) and bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def _metrics_problem(
    metrics: dict[str, float | None], directions: dict[str, str], bounds: dict[str, Bound]
) -> str | None:
    """What is wrong with one run's values in a baseline, or None: the one check of them, by the reader and the
    writer alike. A value beyond MAX_MEASURED, one of no installed metric, one its metric cannot give (``bounds``,
    the run's dataset's)."""
    for name, value in metrics.items():
        if value is not None and not abs(value) <= MAX_MEASURED:
            return f"metrics[{name!r}] = {value!r} is not a measurement (at most {MAX_MEASURED:g} in size)"
        if not compared(name, directions):
            return f"metrics[{name!r}] is reported by no installed metric (was the plugin that reports it uninstalled?)"
    spreads = {name: Bound(0, math.inf) for name in metrics if name not in directions}  # compared(): a _std
    wrong = out_of_bounds(metrics, {**spreads, **bounds})
    return f"metrics: {wrong}" if wrong else None


@dataclass(frozen=True)
class Row:
    """One run's outcome, from a record or a baseline entry."""

    variant: str
    dataset: str
    seed: int
    status: str
    metrics: dict[str, float | None]


def rows_of_records(records: Iterable[RunRecord], suite: Suite) -> list[Row]:
    """The rows of a suite's finished runs, each under the dataset name the suite uses."""
    names = dataset_names(suite)
    return [
        Row(r.spec["variant"], names.get(r.run_id, r.spec["dataset"]), r.spec["seed"], r.status, _numbers(r.metrics))
        for r in records
        if r.status in ("completed", "diverged")
    ]


def rows_of_baseline(baseline: dict[str, Any]) -> list[Row]:
    return [Row(r["variant"], r["dataset"], r["seed"], r["status"], r.get("metrics", {})) for r in baseline["runs"]]


def sample(rows: Iterable[Row], metric: str | None) -> Sample:
    """Per-seed values of a metric (completed runs with a value, by seed) and the diverged count;
    ``metric`` None: the runs' statuses only (for the divergence comparison)."""
    rows = list(rows)
    completed = sorted(r.seed for r in rows if r.status == "completed")
    diverged = sorted(r.seed for r in rows if r.status == "diverged")
    if metric is None:
        return Sample((), tuple(completed + [-1 - s for s in diverged]), len(diverged), len(completed))
    done = sorted((r.seed, r.metrics[metric]) for r in rows if r.status == "completed" and _has(r, metric))
    return Sample(tuple(v for _, v in done), tuple(s for s, _ in done), len(diverged), len(completed))


def compare(
    suite: Suite, baseline: list[Row], current: list[Row], directions: dict[str, str], metrics: Sequence[str]
) -> list[Comparison]:
    """A Comparison per (variant, dataset, metric output) of the suite, baseline against current."""
    comparisons = []
    for dataset in suite.datasets:
        for variant in suite.variants:
            old = [r for r in baseline if r.variant == variant and r.dataset == dataset]
            new = [r for r in current if r.variant == variant and r.dataset == dataset]
            if old or new:
                comparisons.append(
                    Comparison(variant, dataset, DIVERGENCE, "lower", 0.0, sample(old, None), sample(new, None))
                )
            for metric in metrics:
                if metric not in directions or not any(_has(r, metric) for r in old + new):
                    continue
                tolerance = suite.tolerance.get(metric, 0.0)
                comparisons.append(
                    Comparison(
                        variant,
                        dataset,
                        metric,
                        directions[metric],
                        tolerance,
                        sample(old, metric),
                        sample(new, metric),
                    )
                )
    return comparisons


@dataclass(frozen=True)
class Place:
    """A variant's place on a dataset's leaderboard for one metric."""

    rank: int
    tied: bool
    variant: str
    mean: float
    se: float
    n: int
    diverged: int
    missing: int = 0
    """Completed runs without a value of the metric (null, or deleted from a hand-edited baseline)."""


def ranking(rows: list[Row], dataset: str, metric: str, direction: str, alpha: float = ALPHA) -> list[Place]:
    """Variants on ``dataset``, best mean first, in groups that share a rank. A group starts with
    its best variant (its leader) and holds the variants after it, in order of their means, up to
    the first one significantly worse than the leader (Welch's t-test, Holm-corrected over the
    leader's comparisons with every variant below it); that one leads the next group. Ranks are
    competition ranks (1, 1, 3, ...); a variant with fewer than two values is never significantly
    worse, and one with no value (diverged, or null in every run) comes last, with no place shown (pass 87: when no
    variant had a value, all were shown tied first)."""
    samples = {v: sample([r for r in rows if r.variant == v and r.dataset == dataset], metric) for v in _variants(rows)}
    samples = {v: s for v, s in samples.items() if s.runs}
    sign = -1 if direction == "higher" else 1
    order = sorted(samples, key=lambda v: (math.isnan(samples[v].mean), sign * samples[v].mean))
    scored = [v for v in order if not math.isnan(samples[v].mean)]
    ranks = {v: len(scored) + 1 for v in order}
    start = 0
    while start < len(scored):
        leader, below = scored[start], scored[start + 1 :]
        p_values = [welch(samples[leader].values, samples[u].values, alpha)[0] for u in below]
        tested = [i for i, p in enumerate(p_values) if not math.isnan(p)]
        worse = {below[i] for i, p in zip(tested, holm([p_values[i] for i in tested]), strict=True) if p < alpha}
        end = start + 1
        while end < len(scored) and scored[end] not in worse:
            end += 1
        for v in scored[start:end]:
            ranks[v] = start + 1
        start = end
    counts = Counter(ranks.values())
    return [
        Place(
            ranks[v],
            counts[ranks[v]] > 1,
            v,
            s.mean,
            s.se,
            len(s.values),
            s.diverged,
            s.runs - s.diverged - len(s.values),
        )
        for v, s in ((v, samples[v]) for v in order)
    ]


def _variants(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(r.variant for r in rows))


def _has(row: Row, metric: str) -> bool:
    value = row.metrics.get(metric)
    return isinstance(value, (int, float)) and math.isfinite(value)


def _numbers(metrics: dict[str, Any]) -> dict[str, float | None]:
    return {k: v for k, v in metrics.items() if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))}


def compared(name: str, directions: dict[str, str]) -> bool:
    """Whether a baseline keeps a number of this name: a metric output, or its spread over subsets or splits."""
    return name in directions or (name.endswith("_std") and name.removesuffix("_std") in directions)


def hardware_note(baseline: dict[str, Any], records: Sequence[RunRecord]) -> str | None:
    """A note when the current runs trained on other hardware or thread counts than the baseline's:
    bitwise identity is not expected then, and only the statistical verdicts apply."""
    made, here = baseline.get("made", {}).get("hardware", {}), run_hardware(records)
    differs = [k for k in (*HARDWARE, "torch_threads") if made.get(k) and here.get(k) and made[k] != here[k]]
    if not differs:
        return None
    return (
        f"the baseline was made on {machine_text(made)}, these runs on {machine_text(here)}: "
        "values need not be identical, so only the statistical verdicts apply"
    )


def machine_text(hardware: dict[str, Any]) -> str:
    """A baseline's or a run's hardware in words: machine (cpu, torch threads per run)."""
    threads = "/".join(map(str, hardware.get("torch_threads", []))) or "?"
    text = f"{hardware.get('machine')} ({hardware.get('cpu')}, {threads} torch thread(s) per run)"
    return one_line(text)  # a hand-edited baseline's newline would end the report's quoted note
