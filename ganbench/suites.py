"""Suite files (TOML): variants x datasets x seeds, a budget, overrides, metrics, tolerances.

::

    name = "ci"                       # default: the file's stem
    variants = ["nsgan", "wgan-gp"]
    datasets = ["ring8"]
    seeds = "0-4"                     # or [0, 1, 2]
    steps = 500                       # default: each dataset's budget; max_seconds, network, metrics,
                                      # eval_samples, eval_every too
    [set]                             # --set overrides for every run
    lr_d = 1e-4
    "dataset.sigma" = 0.02
    [tolerance]                       # per metric output: the smallest change that matters
    frechet = 0.05

Every mistake is one line naming the file and the line it is on: malformed TOML, an
unknown key, variant, dataset or metric, a bad budget or option. A suite's baseline (the
per-seed values a leaderboard compares with) sits beside it as ``<stem>.baseline.json``.
"""

from __future__ import annotations

import ast
import errno
import json
import math
import numbers
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ganbench.errors import GanbenchError, OptionError, UnknownNameError, link_loop_message, one_line, short_repr
from ganbench.metric import Bound
from ganbench.options import with_options
from ganbench.paths import data_path, data_paths_from, refuse_undecodable_name, tilde_expanded
from ganbench.resolve import create_spec, output_names
from ganbench.spec import SEED_LIMIT, RunSpec, parse_seeds
from ganbench.writable import NAME_MAX

T = TypeVar("T")
KEYS = {
    "name": str,
    "description": str,
    "variants": list,
    "datasets": list,
    "seeds": (list, str, int),
    "steps": int,
    "max_seconds": (int, float),
    "network": str,
    "metrics": list,
    "eval_samples": int,
    "eval_every": int,
    "truncation": (int, float),
    "set": dict,
    "tolerance": dict,
}

EXAMPLES = {
    "name": 'name = "mixtures"',
    "description": 'description = "what the suite compares"',
    "variants": 'variants = ["nsgan", "wgan-gp"]',
    "datasets": 'datasets = ["ring8", "grid25"]',
    "seeds": 'seeds = [0, 1, 2], seeds = 3 or seeds = "0-4"',
    "steps": "steps = 2000",
    "max_seconds": "max_seconds = 600",
    "network": 'network = "mlp"',
    "metrics": 'metrics = ["modes", "frechet"]',
    "eval_samples": "eval_samples = 2500",
    "eval_every": "eval_every = 500",
    "truncation": "truncation = 1.0",
    "set": "a table: [set], then lr_d = 1e-4 on the next line",
    "tolerance": "a table: [tolerance], then frechet = 0.05 on the next line",
}
"""How each key is written, for messages: the fix, not only what is wrong."""


MAX_RUNS = 10_000
"""A suite with more runs than this is a typo in its seeds, refused before any spec is built."""


class SuiteError(GanbenchError):
    """A suite file that cannot be read or names something that does not exist."""


@dataclass(frozen=True)
class Suite:
    """A parsed, checked suite: ``specs()`` are its runs."""

    path: Path
    name: str
    variants: tuple[str, ...]
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int | None = None
    """Generator updates of every run; None: each dataset's own budget (``Dataset.default_steps``)."""
    max_seconds: float | None = None
    network: str | None = None
    metrics: tuple[str, ...] | None = None
    eval_samples: int | None = None
    eval_every: int | None = None
    truncation: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)
    description: str = ""
    text: str = field(default="", repr=False, compare=False)
    """The file as it was read: errors found later (before its runs start) name their line too."""
    loaded: tuple[Path, Path] | None = field(default=None, repr=False, compare=False)
    """(``path``, its folder made absolute) as the file was loaded: its data and baseline lie beside it wherever
    the working folder moves to later (a Python user's os.chdir read other data without a word, pass 74)."""

    @property
    def home(self) -> Path:
        """The suite file's folder as it was loaded; for a Suite made by hand, or given another ``path``
        (``dataclasses.replace``: it kept the first file's folder, pass 75), from the working folder of now."""
        if self.loaded is not None and self.loaded[0] == self.path:
            return self.loaded[1]
        return Path(os.path.abspath(self.path.parent))

    @property
    def file(self) -> Path:
        """The suite file as messages name it: ``path`` while the working folder is the one it was loaded from,
        else absolute (after an os.chdir, "s2/suite.toml:10: ..." named no file, pass 75)."""
        return self.beside(self.path.name)

    def error(self, message: str, key: str | None = None) -> SuiteError:
        """``message`` (a command line's words) as an error of this suite: its file and the line of ``key``, else of
        the key it is about (the option its advice changes: "lower --set batch_size"; else its [set] table), with
        the advice in the suite's terms. ``key`` "": about no line of it (memory ran out; pass 77: said at [set])."""
        where = _Locator(self.file, self.text)
        if "--metrics " in message and len(self.datasets) > 1:  # advice for the dataset that failed: another's
            message += f"; {EACH_DATASET}"  # may refuse it (a one-class folder has no classifier space)
        if key == "":
            return where.at(None, message)
        if key is not None:
            return where.error(key, message)
        option = re.search(r"--set ([\w.]+)", message)
        if not option:
            return where.error(_key_named_in(message), message)
        return where.at(where.line_of(option.group(1), option=True) or where.line_of("set"), message)

    @property
    def settings(self) -> dict[str, Any]:
        """What the suite sets beside its runs and budget (network, [set], metrics, evaluation): a baseline
        records them, and a check of a suite whose settings changed since is refused, not judged."""
        return {
            "network": self.network,
            "set": dict(self.overrides),
            "metrics": None if self.metrics is None else list(self.metrics),
            "eval_samples": self.eval_samples,
            "eval_every": self.eval_every,
            **({"truncation": self.truncation} if self.truncation is not None else {}),  # as baselines made before it
            **({"features": features} if (features := self.features) else {}),
        }

    @property
    def features(self) -> dict[str, Any]:
        """What its runs' feature extractors were chosen with (``FeatureExtractor.identity``: the Inception weights),
        by extractor: a check scored with other weights compared two spaces' numbers (pass 78)."""
        chosen: dict[str, Any] = {}
        for dataset in self.datasets:
            for variant in self.variants:
                chosen.update(json.loads(self._spec(variant, dataset, self.seeds[0]).code.get("features") or "{}"))
        return chosen

    @property
    def baseline_path(self) -> Path:
        return self.beside(f"{self.path.stem}.baseline.json")

    def beside(self, name: str) -> Path:
        """``name`` in the suite's folder: spelt from the suite's path as given (for messages) while that still
        names its folder, else from the folder as it was loaded."""
        return self.path.parent / name if Path(os.path.abspath(self.path.parent)) == self.home else self.home / name

    @property
    def budget_steps(self) -> dict[str, int]:
        """The steps its runs train on each dataset: the suite's, or else the dataset's own (for baselines)."""
        return {d: self._spec(self.variants[0], d, self.seeds[0]).budget.steps for d in self.datasets}

    def specs(self) -> list[RunSpec]:
        """Every run: datasets x variants x seeds, in that order."""
        return [spec for d in self.datasets for spec in self.specs_of(d)]

    def specs_of(self, dataset: str) -> list[RunSpec]:
        """The runs on one of the suite's datasets (as the suite names it): variants x seeds."""
        return [self._spec(v, dataset, seed) for v in self.variants for seed in self.seeds]

    def outputs_of(self, dataset: str) -> dict[str, list[str]]:
        """The outputs each variant's runs on ``dataset`` compute, by variant (every seed computes the same)."""
        return {v: output_names(self._spec(v, dataset, self.seeds[0])) for v in self.variants}

    def outputs(self) -> list[str]:
        """Every output some run of the suite computes, in the suite's order (datasets, variants, metrics)."""
        return list(dict.fromkeys(k for d in self.datasets for names in self.outputs_of(d).values() for k in names))

    def located(self, dataset: str) -> str:
        """The dataset name to resolve: a registered name as it is; a relative path (your images) from the suite's
        folder, not the current one, so a committed suite reads the same images from wherever it is run."""
        from ganbench.plugins import registries

        if dataset in registries().datasets or dataset.startswith("~") or Path(dataset).is_absolute():
            return dataset
        beside = self.beside(dataset)
        if beside.exists() or "/" in dataset or dataset.endswith((".npz", ".npy")) or Path(dataset).exists():
            spelt = str(beside)  # a path still, where the suite's folder is "." ("./digits" of s.toml is no
            return spelt if os.sep in spelt or "/" in spelt else f".{os.sep}{spelt}"  # "digits": pass 93)
        # a name, not a path anywhere: a typo of a registered one ("did you mean ring8?"), or images not beside it
        folder = one_line(self.home.resolve())
        where = f"; nor is there a folder or .npz/.npy file {dataset!r} beside the suite, in {folder}"
        raise UnknownNameError("dataset", dataset, registries().datasets.names(), also=where)

    def _spec(self, variant: str, dataset: str, seed: int) -> RunSpec:
        with data_paths_from(self.home):
            return create_spec(
                variant,
                self.located(dataset),
                network=self.network,
                seed=seed,
                steps=self.steps,
                max_seconds=self.max_seconds,
                overrides=self.overrides,
                metrics=self.metrics,
                eval_samples=self.eval_samples,
                eval_every=self.eval_every,
                truncation=self.truncation,
                shared_metrics=self.has_conditional_variant,
            )

    def data_of(self, dataset: str) -> dict[str, Any]:
        """What identifies the data of one of the suite's datasets: its runs' dataset options (a user's images:
        their sha256), with a claimed path written as the suite writes it, so that a checkout elsewhere (a CI's)
        reads the same. A baseline records it; a check against data that changed since is refused."""
        spec = self._spec(self.variants[0], dataset, self.seeds[0])  # one: a 2,000-run suite
        # built every spec to read the first (pass 87: 40 s before its --yes refusal)
        options = spec.dataset_options
        here = os.path.realpath(tilde_expanded(self.located(dataset)))
        written = {  # [set] dataset.path = "data/x.npz": recorded whole, it differed in every other checkout
            k.removeprefix("dataset."): v for k, v in self.overrides.items() if k.startswith("dataset.")
        }
        for key, value in written.items():
            if key in options and self.same_data_value(value, options[key]):  # as written, where it names that path
                options = {**options, key: value}
        data = {k: dataset if isinstance(v, str) and os.path.realpath(v) == here else v for k, v in options.items()}
        # MNIST's files without their archives (pass 78); null where the files are verified, since a baseline
        # without the key was made before baselines recorded it (pass 80: one on verified files was taken so)
        if "data" in spec.code or _may_read_unverified(spec.dataset):
            data[UNVERIFIED] = spec.code.get("data")
        return data

    def same_data_value(self, made: Any, now: Any) -> bool:
        """Whether a value of ``data_of`` recorded in a baseline is the one the suite has now: equal, or two
        spellings of one path ("sub/x.npz", "./sub/x.npz", absolute), read from the suite's folder (pass 71)."""
        if made == now:
            return True
        if not (isinstance(made, str) and isinstance(now, str)) or "\0" in made + now:
            return False
        try:
            with data_paths_from(self.home):
                return os.path.realpath(data_path(made)) == os.path.realpath(data_path(now))
        except (OSError, ValueError):  # a hand-edited value too long for the file system (pass 73)
            return False

    def same_data_path(self, one: str, other: str) -> bool:
        """Whether two of a suite's dataset names are one file or folder of data, spelt two ways ("pets",
        "./pets"); never a registered dataset's name."""
        from ganbench.plugins import registries

        registered = registries().datasets
        if one in registered or other in registered or "\0" in one + other:
            return False
        try:
            with data_paths_from(self.home):
                exists = data_path(one).exists()
        except (OSError, ValueError):  # a hand-edited name too long for the file system (pass 73)
            return False
        return exists and self.same_data_value(one, other)

    @property
    def has_conditional_variant(self) -> bool:
        """Then the suite's metrics may name class metrics: its unconditional variants leave them out."""
        from ganbench.plugins import registries

        return any(registries().variants.get(v).conditional for v in self.variants)

    def output_bounds(self) -> dict[str, dict[str, Bound]]:
        """Each dataset (as the suite names it) -> the bounds of its metrics' outputs there (9 of ring8's 8 modes
        is no value; a tolerance as wide as every value is no test)."""
        from ganbench.plugins import registries

        regs, bounds = registries(), {}
        for name in self.datasets:
            spec = self._spec(self.variants[0], name, self.seeds[0])
            dataset = with_options(regs.datasets.get(spec.dataset), spec.dataset_options, f"dataset {name!r}")
            bounds[name] = regs.metric_bounds(dataset)
        return bounds


MAX_SUITE_BYTES = 2**20
"""Larger than any suite (a megabyte of TOML): a file that size is something else."""


def _utf8_text(path: Path, data: bytes) -> str:
    """``data`` as TOML reads it, UTF-8; else SuiteError at the line of the first byte that is not (a byte offset,
    "position 60", told nothing of where, nor of the fix)."""
    wide = next((name for bom, name in _BYTE_ORDER_MARKS if data.startswith(bom)), None)
    if wide is None and data.count(b"\0") > len(data) // 4:  # no mark, but every other byte (or three in four) 0
        wide = "UTF-16 or UTF-32 (no byte-order mark)"
    if wide is not None:
        raise SuiteError(f"{path}:1: the suite is {wide}, not UTF-8; save it as UTF-8, which TOML requires")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SuiteError(
            f"{path}:{line}: the suite is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8, which TOML "
            "requires"
        ) from None


_BYTE_ORDER_MARKS = (  # UTF-32's first: its little-endian mark begins with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _may_read_unverified(dataset: str) -> bool:
    """Whether a dataset can read files nothing verifies: its class has its own ``data_identity``."""
    from ganbench.dataset import Dataset
    from ganbench.plugins import registries

    return type(registries().datasets.get(dataset)).data_identity is not Dataset.data_identity


UNVERIFIED = "unverified_files"
"""``data_of``'s key for ``Dataset.data_identity``: a digest of the files a dataset read that nothing verifies."""


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file; SuiteError naming the file and line of the first problem."""
    if not isinstance(path, str | os.PathLike):  # None, 5, b"x" from Python: Path() raised a TypeError
        raise SuiteError(f"a suite is named by its file's path (text or a Path), not {short_repr(path)}")
    if "\0" in str(path):  # no file system takes a NUL: open() raised a ValueError
        raise SuiteError(f"a suite's path holds a NUL character, which no file's name can: {short_repr(path)}")
    if not str(path).strip():  # Path("") is the working folder: "cannot read suite ." told nothing
        raise SuiteError("the suite file's name is empty; name a .toml file, e.g. suites/mine.toml")
    path = Path(tilde_expanded(str(path)))  # load_suite("~/s.toml"), as the shell expands it (pass 71)
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_SUITE_BYTES:  # a FIFO would block forever
            if stat.S_ISREG(found.st_mode):  # pass 83: "name a .toml file" of a .toml file
                raise SuiteError(
                    f"suite {path} is over {MAX_SUITE_BYTES // 2**20} MiB, more than a suite's settings take; write "
                    'seeds as a range (seeds = "0-99") and keep data out of it'
                )
            raise SuiteError(f"cannot read suite {path} (not a regular file); name a .toml file")
        data = path.read_bytes()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SuiteError(link_loop_message(path, "suite ")) from None
        raise SuiteError(f"cannot read suite {path} ({exc.strerror or exc})") from None
    text = _utf8_text(path, data).removeprefix("\ufeff")  # a byte-order mark some editors save: not TOML, no meaning
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if text.lstrip().startswith(("{", "[{")) or path.suffix.lower() == ".json":  # its baseline, say
            raise SuiteError(
                f"{path} is JSON (a leaderboard's baseline?), not a suite; name the suite's .toml file"
            ) from None
        raise SuiteError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise SuiteError(f"{path}: nested deeper than a suite can be (arrays or tables within each other)") from None
    where = _Locator(path, text)
    for key, value in data.items():
        if key not in KEYS:
            raise where.error(key, f"unknown key {key!r}; a suite has {', '.join(KEYS)}")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            raise where.error(key, f"{key!r} has the wrong type ({type(value).__name__}); e.g. {EXAMPLES[key]}")
    for key in ("variants", "datasets"):
        if key not in data:
            raise SuiteError(f'{path}: the suite needs {key!r} (e.g. variants = ["nsgan"], datasets = ["ring8"])')
    if "name" not in data:  # the file's stem names it: a problem there is the file name's
        try:
            _name(path.stem)
        except ValueError as exc:
            raise SuiteError(
                f"{path}: the suite is named by its file, and {exc}; rename the file or set name = ..."
            ) from None
    try:  # the file's name names its baseline, in reports' JSON too: UnicodeEncodeError below (pass 78)
        refuse_undecodable_name(path.name, "the suite file's name", "rename the file: it names the suite's baseline")
    except OptionError as exc:
        raise SuiteError(str(exc)) from None
    if len(f"{path.stem}.baseline.json".encode()) > NAME_MAX:  # found now, not after every run has trained
        raise SuiteError(
            f"{path}: its baseline file {path.stem}.baseline.json would be a name longer than {NAME_MAX} bytes; "
            "rename the suite file shorter"
        )
    suite = Suite(
        path=path,
        loaded=(path, Path(os.path.abspath(path.parent))),
        name=where.check("name", lambda v: _name(v), data.get("name", path.stem)),
        variants=where.check("variants", _names, data["variants"]),
        datasets=where.check("datasets", _names, data["datasets"]),
        seeds=where.check("seeds", _seeds, data.get("seeds", [0])),
        steps=data.get("steps"),
        max_seconds=data.get("max_seconds"),
        network=where.check("network", _network, data["network"]) if "network" in data else None,
        metrics=where.check("metrics", _names, data["metrics"]) if "metrics" in data else None,
        eval_samples=data.get("eval_samples"),
        eval_every=data.get("eval_every"),
        truncation=data.get("truncation"),
        overrides=where.check("set", _flat, data.get("set", {})),
        tolerance={k: where.check(k, _tolerance, v, "tolerance") for k, v in data.get("tolerance", {}).items()},
        description=data.get("description", ""),
        text=text,
    )
    runs = len(suite.variants) * len(suite.datasets) * len(suite.seeds)
    if runs > MAX_RUNS:
        raise where.error("seeds", f"the suite has {runs:,} runs; at most {MAX_RUNS:,} (fewer seeds, or split it)")
    _check_runs(suite, where)
    return suite


def _check_runs(suite: Suite, where: _Locator) -> None:
    """Build one spec per variant x dataset (the seed changes nothing that can fail) and name the line."""
    from ganbench.errors import BudgetError, OptionError, UnknownNameError
    from ganbench.plugins import registries

    regs = registries()
    for variant in suite.variants:
        where.check("variants", regs.variants.get, variant)
    for dataset in suite.datasets:
        for variant in suite.variants:
            try:
                suite._spec(variant, dataset, suite.seeds[0])
            except BudgetError as exc:
                raise where.error("max_seconds" if "max_seconds" in str(exc) else "steps", str(exc)) from None
            except UnknownNameError as exc:
                raise where.error(_key_named_in(str(exc)), str(exc)) from None
            except OptionError as exc:
                key, message = _key_named_in(str(exc)), str(exc)
                if key in KEYS and f"has no option {key!r}" in message:  # [set] steps = 20
                    message += f"; {key} is a key of the suite itself: write it above [set]"
                elif key == "metrics" and suite.metrics is not None and len(suite.datasets) > 1:  # advice for one
                    message += (
                        f"; {EACH_DATASET}"  # advice for one dataset looped: kid_raw for ring8, kid_... for images
                    )
                elif key == "metrics" and suite.metrics is not None and len(suite.metrics) == 1:  # "drop it" left []
                    message += "; it is the suite's only metric: leave metrics out for the dataset's own"
                advised = re.findall(r"--set ([\w.]+)", message) if key in _KINDS.values() else []  # --set pack=1
                line = next(filter(None, (where.line_of(name, option=True) for name in advised)), None)  # one set
                raise (where.at(line, message) if line else where.error(key, message)) from None
            except GanbenchError as exc:  # the data the dataset names (an empty .npz): said at the datasets line,
                paths = [  # or at the [set] dataset option that names them
                    key
                    for key, value in suite.overrides.items()
                    if key.startswith("dataset.") and isinstance(value, str) and _is_about(str(exc), key, value)
                ]
                line = (paths and where.line_of(paths[0], option=True)) or where.line_of("datasets")
                raise where.at(line, f"{variant} on {dataset}: {exc}") from None
    named: dict[str, str] = {}  # run id of a dataset's first run -> the dataset as the suite names it
    for dataset in suite.datasets:
        first = named.setdefault(suite._spec(suite.variants[0], dataset, suite.seeds[0]).run_id, dataset)
        if first != dataset:  # "imgs" and "./imgs": one folder, each run twice in a baseline
            raise where.error("datasets", f"datasets {first!r} and {dataset!r} are the same data; keep one")
    directions = regs.metric_directions()
    computed = set(suite.outputs())
    bounds = suite.output_bounds()
    for key, tolerance in suite.tolerance.items():
        if key not in directions:
            raise where.error(
                key,
                f"tolerance for unknown metric output {key!r}; the suite's runs compute {', '.join(sorted(computed))}",
                "tolerance",
            )
        if key not in computed:
            raise where.error(
                key,
                f"tolerance for {key!r}, which no run of the suite computes ({', '.join(sorted(computed))})",
                "tolerance",
            )
        for dataset, bound in ((d, bounds[d][key]) for d in suite.datasets if key in bounds[d]):
            if tolerance >= bound.high - bound.low:
                raise where.error(
                    key,
                    f"tolerance {tolerance:g} for {key} is as wide as every value it can take on {dataset} "
                    f"([{bound.low:g}, {bound.high:g}]): no change could fail the check; make it smaller",
                    "tolerance",
                )


_PYTHON_TEXT = r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"'
"""A name as Python's repr writes it in a message: 'a', "a'b", 'de\tpth', '' too."""

_KINDS = {"variant": "variants", "dataset": "datasets", "network": "network", "metric": "metrics"}
"""The suite key that names each kind of plugin."""


EACH_DATASET = (
    "a suite's metrics apply to each of its datasets: leave metrics out for each one's own, or make a suite per kind "
    "of data"
)


def _key_named_in(message: str) -> str:
    """The suite key an error is about: its kind of name, or the option it names."""
    if "eval_samples" in message:  # "metric 'prdc' needs 6 samples, so eval_samples 3 is too few": the value to change
        return "eval_samples"
    for kind, key in _KINDS.items():
        if message.startswith(f"unknown {kind} ") or message.startswith(f"{kind} '") and "option" not in message:
            return key
    chosen = re.match(r"--set (\w+)=", message)  # "--set network=mlp sets no option": the [set] key that did it
    if chosen:
        return chosen.group(1)
    match = re.search(rf"option ({_PYTHON_TEXT})", message) or re.search(r"option group in '([^']+)'", message)
    if match:  # as its advice names it where it does: dataset.sigma, not the first sigma of any [set.*] table
        name = ast.literal_eval(match.group(1)) if match.group(1)[:1] in "'\"" else match.group(1)  # "a'b", 'd\te'
        named = re.search(rf"--set ((?:[\w-]+\.)+{re.escape(name)})\b", message)
        return named.group(1) if named else name
    for key in KEYS:
        if message.startswith(f"{key} "):
            return key
    return "eval_samples" if "eval_samples" in message else "metrics" if "metric" in message else "set"


EMPTY = '""'
_SHELL_WORD = r"""(?:'[^']*'|"[^"]*"|[^\s'";,()])+"""
"""A word as ``shlex.quote`` writes it (``'m l p'``, ``'m'"'"'lp'``), or a plain one up to a space or ``;,()``."""
SUITE_SPELLING = (
    (re.compile(rf"--set ([^\s=;,()]+)=({_SHELL_WORD}|)"), lambda m: f"[set] {m[1]} = {_toml_value(m[2])}"),
    (re.compile(r"--set ([\w.]+)(?=[\s;,)]|$)"), r"[set] \1"),
    (re.compile(r"--set "), "[set] "),
    (re.compile(r"--metrics ([\w.-]+(?:,[\w.-]+)*)"), lambda m: f"metrics = {_toml_list(m.group(1))}"),
    (re.compile(rf"--network ({_SHELL_WORD})"), lambda m: f"network = {_toml_value(m[1], text=True)}"),
    (re.compile(rf"--dataset ({_SHELL_WORD})"), lambda m: f"datasets = [{_toml_value(m[1], text=True)}]"),
    (re.compile(r"--steps (\d+)"), r"steps = \1"),
    (re.compile(r"--max-seconds (\d+)"), r"max_seconds = \1"),
    (re.compile(r"--eval-samples (\d+)"), r"eval_samples = \1"),
    (re.compile(r" \(`ganbench run` also takes --force\)"), ""),  # the suite commands take no --force
    (re.compile(r" \(--(eval-every|max-seconds)\)"), ""),  # "eval_every (--eval-every) must be": the key says it
    (re.compile(r"--eval-every (\d+)"), r"eval_every = \1"),
    (re.compile(r"--truncation ([\d.]+)"), r"truncation = \1"),
    (re.compile(r"--(metrics|network)\b"), r"\1"),
)
"""The command line's spellings in messages (shared with ``run``), as a suite file spells them: a suite's user
has no --set to type. Checked by tests over the messages that name them."""


def _toml_value(shown: str, text: bool = False) -> str:
    """A value as the command line shows it (``0.5``, ``mlp``, ``'m l p'``, or nothing) as TOML writes it: text
    quoted (``"mlp"``), numbers and true/false as they are, ``VALUE`` left a placeholder."""
    try:
        inner = "".join(shlex.split(shown)) if shown else ""  # the shell's quotes off: 'm'"'"'lp' is m'lp
    except ValueError:  # unbalanced: as it is
        inner = shown
    if shown == "VALUE" or (not text and inner == shown and _TOML_BARE.fullmatch(shown)):
        return shown
    return json.dumps(inner) if inner else EMPTY


_TOML_BARE = re.compile(r"[+-]?[\d._]+(e[+-]?\d+)?|true|false|[+-]?inf|nan", re.IGNORECASE)


def _toml_list(names: str) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names.split(",")) + "]"


def suite_spelling(message: str) -> str:
    """``message`` with its command-line advice (``--set batch_size=2``) written for a suite (``[set]
    batch_size = 2``)."""
    for pattern, replacement in SUITE_SPELLING:
        message = pattern.sub(replacement, message)
    return message


def _is_about(message: str, key: str, value: str) -> bool:
    """Whether a dataset's ``message`` is about the [set] ``key`` = ``value`` (a path): names its file, as written
    or as a shell quotes it ('sub/it'"'"'s.npz' holds no "it's.npz": said at the datasets line, pass 71), or its
    --set."""
    return bool(value) and (
        Path(value).name in message
        or shlex.quote(value) in message
        or re.search(rf"--set {re.escape(key)}(?![\w.])", message) is not None
    )


def _key_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, the table it is in: "" at the top, "set", "tolerance.x") of each line that may hold a key: not
    one inside a multi-line string (a description's text "batch_size = 64" is no key)."""
    keyed, section, quote = [], "", None
    for number, line in enumerate(lines, 1):
        if quote is None:
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
            if header:
                section = _dotted_name(header.group(1))
            keyed.append((number, section))
        quote = _string_open_after(line, quote)
    return keyed


def _string_open_after(line: str, quote: str | None) -> str | None:
    """The multi-line string's delimiter still open at the end of ``line`` (None: none), ``quote`` being the one
    open at its start. Read as TOML reads it: three quotes in a comment or in a one-line string open nothing."""
    i = 0
    while i < len(line):
        if quote is not None:  # in a multi-line string: to its end, past an escaped one in a basic string
            end = line.find(quote, i)
            while end != -1 and quote == '"""' and _escaped(line, end):
                end = line.find(quote, end + 1)
            if end == -1:
                return quote
            i, quote = end + 3, None
            while i < len(line) and line[i] == line[end] and i < end + 5:  # up to two more quotes end it too
                i += 1
        elif line[i] == "#":
            return None
        elif line.startswith(('"""', "'''"), i):
            quote, i = line[i : i + 3], i + 3
        elif line[i] in "\"'":  # a one-line string, to its closing quote
            j = i + 1
            while j < len(line) and line[j] != line[i]:
                j += 2 if line[i] == '"' and line[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return quote


def _escaped(line: str, at: int) -> bool:
    """Whether the character at ``at`` follows an odd number of backslashes."""
    before = line[:at]
    return (len(before) - len(before.rstrip("\\"))) % 2 == 1


_KEY_PART = r"""[\w-]+|"(?:[^"\\]|\\.)*"|'[^']*'"""
_KEY = re.compile(rf"^\s*((?:{_KEY_PART})(?:\s*\.\s*(?:{_KEY_PART}))*)\s*=")


def _dotted_name(written: str) -> str:
    """A dotted key as TOML reads it (``set."a\\"b"`` is set.a"b): quotes off, a basic string's escapes read."""
    parts = []
    for part in re.findall(_KEY_PART, written):
        if part.startswith('"'):
            try:
                part = tomllib.loads(f"k = {part}")["k"]
            except tomllib.TOMLDecodeError:  # the file's own error is said elsewhere
                part = part.strip('"')
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return ".".join(parts)


def _key_path(line: str, section: str) -> str | None:
    """The whole dotted name of the key ``line`` sets in ``section`` ("set.dataset.sigma"), quotes dropped as
    [set]'s keys are read; None for a line that sets none."""
    if re.match(r"\s*\[", line):  # a table's header: [foo.bar] names foo.bar, as foo.bar = 1 would
        return section
    match = _KEY.match(line)
    if not match:
        return None
    name = _dotted_name(match.group(1))
    return f"{section}.{name}" if section else name


class _Locator:
    """Finds the line of a key in the suite's text, for messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, re.split(r"\r?\n", text)  # TOML's newlines (splitlines: U+2028 too)
        self.keyed = _key_lines(self.lines)
        self.paths = [(n, path) for n, section in self.keyed if (path := _key_path(self.lines[n - 1], section))]

    def line_of(self, key: str, option: bool = False, section: str | None = None) -> int | None:
        """The line of ``key``: for an ``option``, in [set] first (a top-level ``steps`` is another key); in
        ``section`` only where given (a tolerance named ``steps`` is not the suite's ``steps``)."""
        wanted = f"{section}.{key}" if section is not None else f"set.{key}" if option else key
        exact = next((n for n, path in self.paths if path == wanted), None)
        if exact is not None:  # [set.dataset] sigma, not [set] sigma; tolerance.modes = 0.1 at the top
            return exact
        below = next((n for n, path in self.paths if path.startswith(f"{wanted}.")), None)
        if below is not None and section is None and not option:  # an unknown key foo, as foo.bar = 1 or [foo.bar]
            return below
        if section is not None:  # else an inline table's line: tolerance = {modes = -1}
            in_section = [n for n, s in self.keyed if s == section or s.startswith(f"{section}.")]
            return self._line_of(key, in_section) or next((n for n, path in self.paths if path == section), None)
        if option:  # [set.network] width, or "w\u0069dth" as TOML reads it: before the text's search
            found = next((n for n, path in self.paths if path.startswith("set.") and path.endswith(f".{key}")), None)
            if found is not None:
                return found
            in_set = [n for n, section in self.keyed if section == "set" or section.startswith("set.")]
            found = self._line_of(key, in_set)
            if found is not None:
                return found
        return self._line_of(key, [n for n, _ in self.keyed])

    def _line_of(self, key: str, numbers: list[int]) -> int | None:
        lines = [(n, self.lines[n - 1]) for n in numbers]
        if not key:  # an option named '': a quoted key that is empty or ends in a dot ("network." = 1)
            quoted = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)')\s*=""")
            for number, line in lines:
                match = quoted.match(line)
                inner = next((g for g in match.groups() if g is not None), "").strip() if match else None
                if inner is not None and (not inner or inner.endswith(".")):
                    return number
            empty_inline = re.compile(r"""[{,]\s*(?:""|'')\s*=""")  # network = {"" = 3}
            return next((number for number, line in lines if empty_inline.search(line)), None)
        last = re.escape(key.split(".")[-1])
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        dotted = re.compile(rf"^\s*[\"']?(?:[\w-]+\.)*{last}[\"']?\s*=")  # network.gain, not network.init_gain
        inline = re.compile(rf"[{{,]\s*[\"']?{last}[\"']?\s*=")  # network = {{width = 8}}
        table = re.compile(
            rf"^\s*\[\[?\s*(?:[\w\"'-]+\s*\.\s*)*{re.escape(key)}\s*\]"
        )  # [set], [tolerance.x], [[set.x]]
        for patterns in ((pattern,), (dotted,), (inline,), (table,)):
            for number, line in lines:
                if any(p.search(line) if p is inline else p.match(line) for p in patterns):
                    return number
        return None

    def error(self, key: str, message: str, section: str | None = None) -> SuiteError:
        option = "option " in message or message.startswith("--set ")
        return self.at(self.line_of(key, option=option, section=section), message)

    def at(self, line: int | None, message: str) -> SuiteError:
        """``message`` as the suite's error at ``line`` (None: the file's), its advice in the suite's terms."""
        return SuiteError(f"{self.path}{f':{line}' if line else ''}: {suite_spelling(message)}")

    def check(self, key: str, convert: Callable[[Any], T], value: Any, section: str | None = None) -> T:
        try:
            return convert(value)
        except GanbenchError as exc:
            raise self.error(key, str(exc), section) from None
        except _ArrayOfTables as exc:
            raise self.error(exc.key, str(exc)) from None
        except (TypeError, ValueError) as exc:
            example = (
                f"; e.g. {EXAMPLES[key]}" if key in EXAMPLES and str(exc).startswith("must be") and not section else ""
            )
            raise self.error(key, f"{key!r}: {exc}{example}", section) from None


class _ArrayOfTables(ValueError):
    """[[set.x]] in a suite, said at its own line (``key``): it read as "variant has no option 'x'", at none."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """[set]'s keys as --set takes them: a bare dotted key (dataset.sigma = 0.02) is a nested table in TOML."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            name = f"{prefix}{key}"
            raise _ArrayOfTables(key, f"[[set.{name}]] is an array of tables, which no option takes; under [set], "
                                 f"write {name} = VALUE, or {name}.OPTION = VALUE for a group's option")  # fmt: skip
        inner = _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
        for name, item in inner.items():
            if name in flat:
                raise ValueError(f"{name} is set twice (a dotted key and a quoted one); keep one")
            flat[name] = item
    return flat


def _network(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty; name a network (mlp, dcgan, resnet, ...) or leave the key out")
    return value.strip()


def _name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
        raise ValueError(
            f"a suite name starts with a letter or digit, then letters, digits, '.', '_' and '-', not {value!r}"
        )
    if len(value) > NAME_MAX:  # it names the results folder, results/<name>
        raise ValueError(f"a suite name is at most {NAME_MAX} characters (it names a folder), not {len(value)}")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a non-empty list of names")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _seeds(value: Any) -> tuple[int, ...]:
    """[0, 1, 2], 3, or a string as --seed takes it: "0-4", "0,2", "3"."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, str):
        value = parse_seeds(value, "seeds")
    if not value or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < SEED_LIMIT for s in value):
        raise ValueError('seeds are integers from 0 to 2^63 - 1 (torch\'s seed range): [0, 1, 2], 3 or "0-4"')
    return tuple(dict.fromkeys(value))


def _tolerance(value: Any) -> float:
    try:
        number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer past every float (10**400)
        number = math.inf
    if not 0 <= number < math.inf:
        raise ValueError(f"a tolerance is a finite number >= 0, not {short_repr(value)}")
    return number
