"""What a metric is: real and generated samples -> named numbers with a direction.

Metrics receive an ``EvalContext``; ``ctx.features(name, which)`` gives the samples mapped
by a registered feature extractor (computed once per context), so FID-like metrics work in
any feature space without recomputing features for each metric, and
``ctx.reference(name)`` gives the real data's statistics in that space.

A metric that works in feature spaces lists them (``spaces``) and names its outputs with
a ``{space}`` placeholder (``fid_{space}``); it runs in each space the dataset offers
(``Dataset.feature_spaces``), so its numbers say where they were measured:
``fid_inception`` and ``fid_classifier`` are never mistaken for each other.
"""

from __future__ import annotations

import copy as copy_module
import dataclasses
import math
import numbers
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

import torch

from ganbench.arrays import feature_matrix
from ganbench.dataset import Dataset
from ganbench.errors import DeclarationError
from ganbench.reference import ReferenceStats

Direction = Literal["higher", "lower"]

PROVENANCE = "provenance"
"""The metrics.json entry that says how the scores were made."""
TRAINING_LOGS = frozenset(
    {"step", "loss_d", "loss_g", "penalty", "d_real", "d_fake", "js_estimate", "g_grad_norm", "pl_penalty", "pl_mean"}
)
"""The columns of history.csv that training logs (``training.dynamics``), beside which scores are logged."""
RESERVED_OUTPUTS = frozenset(
    {PROVENANCE, "run_id", "config", "setting", "variant", "dataset", "network", "seed", "steps", "status"}
    | {"steps_done", "diverged_at", "train_seconds", "run_dir", "scored_on", "outputs"}
    | TRAINING_LOGS
    | {"n", "diverged"}
)
"""Names no value a metric gives may take: metrics.json's provenance, the columns a table of runs holds beside
the outputs (``results.records_frame``) and the training logs history.csv holds beside the scores, which a value
of that name would overwrite."""


def private_copy(dataset: Dataset) -> Dataset:
    """A copy of ``dataset`` a third-party plugin may change: its cached pool (``reference()``, for mixtures the
    training data too) is the one every later evaluation in this process reads. The dataset itself where it cannot
    be copied (it holds a lock or a file)."""
    try:
        return copy_module.deepcopy(dataset)
    except Exception:  # noqa: BLE001 - what deepcopy refuses is the plugin's own; it gets the original
        return dataset


def in_memory_reference(extractor: str, compute_features: Callable[[], torch.Tensor]) -> ReferenceStats:
    """Reference statistics kept for one evaluation only."""
    return ReferenceStats({"extractor": extractor}, compute_features, folder=None)


@dataclass
class EvalContext:
    """Everything a metric may look at, with per-evaluation feature caches.

    Real features come through ``reference(extractor)``, whose statistics (mean and
    covariance, k-NN radii) may come from the on-disk reference cache.
    """

    dataset: Dataset
    real: torch.Tensor
    fake: torch.Tensor
    feature_fn: Callable[[str, str, torch.Tensor], torch.Tensor]
    reference_fn: Callable[[str, Callable[[], torch.Tensor]], ReferenceStats] = in_memory_reference
    real_labels: torch.Tensor | None = None
    """Classes of the real samples (labelled datasets)."""
    fake_labels: torch.Tensor | None = None
    """Classes the generated samples were asked for (conditional runs)."""
    fake_features: dict[str, torch.Tensor] = field(default_factory=dict)
    references: dict[str, ReferenceStats] = field(default_factory=dict)
    _shared: EvalContext | None = field(default=None, repr=False)
    """The context this one is a third-party metric's copy of (``for_plugin``), whose caches it fills."""

    def features(self, extractor: str, which: Literal["real", "fake"]) -> torch.Tensor:
        """Features of the real or generated samples under a registered extractor."""
        if self._shared is not None:
            return self._shared.features(extractor, which).clone()
        if which == "real":
            return self.reference(extractor).features
        if extractor not in self.fake_features:
            self.fake_features[extractor] = self.feature_fn(extractor, "fake", self.fake)
        return self.fake_features[extractor]

    def reference(self, extractor: str) -> ReferenceStats:
        """The real samples' features under ``extractor`` and the statistics metrics take from them."""
        if self._shared is not None:
            return self._shared.reference(extractor).copied()
        if extractor not in self.references:

            def compute() -> torch.Tensor:
                return feature_matrix(self.feature_fn(extractor, "real", self.real), "real features", dtype=None)

            self.references[extractor] = self.reference_fn(extractor, compute)
        return self.references[extractor]

    def for_plugin(self) -> EvalContext:
        """This context for a third-party metric: the samples, labels, features and statistics it is handed are
        copies, so that one changed in place (``f -= f.mean(0)``; ``raw`` features are the samples themselves)
        changes no later metric's numbers. Features are still computed once, from the samples, for every metric."""
        copy = lambda t: None if t is None else t.clone()  # noqa: E731
        return dataclasses.replace(
            self,
            dataset=private_copy(self.dataset),
            real=self.real.clone(),
            fake=self.fake.clone(),
            real_labels=copy(self.real_labels),
            fake_labels=copy(self.fake_labels),
            fake_features={},
            references={},
            _shared=self,
        )


class Bound(NamedTuple):
    """The values one metric output can take: ``low`` to ``high`` (math.inf where unbounded), and
    whether it is a count (``whole``: a number of modes is never 2.5)."""

    low: float
    high: float
    whole: bool = False


BOUND_SLACK = 1e-3
"""How far below its bound a value of an unbounded output may lie: a Fréchet distance of two identical
sets' statistics comes out a little below 0 in floating point (about 1e-9 of the features' variance).
Outputs bounded on both sides (fractions, counts, a KL at most log K) may miss by 1e-9 of their span."""


def out_of_bounds(values: Mapping[str, Any], bounds: Mapping[str, Bound]) -> str | None:
    """The first of ``values`` (name -> number or None) that its metric cannot give, described, or None.
    The one check of numbers ganbench reads back rather than computes (records and baselines)."""
    for name, value in values.items():
        bound = bounds.get(name)
        if bound is None or value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        slack = BOUND_SLACK if math.isinf(bound.high - bound.low) else 1e-9 * (bound.high - bound.low)
        if not bound.low - slack <= value <= bound.high + slack:
            return f"{name} = {value!r} is outside the values {name} can take, [{bound.low:g}, {bound.high:g}]"
        if bound.whole and value != math.floor(value):
            return f"{name} = {value!r} is not a whole number (it counts)"
    return None


@dataclass(frozen=True)
class Metric:
    """Base class of metrics. ``outputs`` maps each reported number to its better direction (a name not in
    ``RESERVED_OUTPUTS``; one another metric declares only as that metric does).

    ``spaces``: the feature extractors the metric can run in; its output names then hold
    ``{space}``. Empty: the metric reads the samples (or its own features) directly.
    ``conditional``: it needs the labels generated samples were asked for. ``uses``: other
    feature extractors it reads (checked before training, like its spaces). ``min_samples``: the
    fewest samples per side it can score (k-NN metrics need k + 1), checked against the run's
    ``--eval-samples`` before training rather than failing after it (override ``samples_needed``
    where the count depends on the dataset). ``ranges``: the values an output can take, (low,
    high) or a ``Bound`` by output name as in ``outputs`` (math.inf where unbounded; an output
    left out can take any value): numbers ganbench did not compute itself, a hand-edited
    record's or baseline's, are checked against them. Override ``bounds`` where they depend on
    the dataset (a count of modes).
    """

    name: str
    outputs: Mapping[str, Direction]
    description: str = ""
    spaces: tuple[str, ...] = ()
    conditional: bool = False
    uses: tuple[str, ...] = ()
    min_samples: int = 2
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """DeclarationError where the metric contradicts itself: no run of it could be scored or read back.
        Registration calls it again, for subclasses whose ``__post_init__`` skips the base's."""
        problem = _min_samples_problem(self.min_samples) or _outputs_problem(self) or _ranges_problem(self)
        if problem:
            raise DeclarationError(f"metric {self.name!r} with {problem}")

    def samples_needed(self, dataset: Dataset) -> int:
        """The fewest samples per side it scores on ``dataset``: ``min_samples``; override where it depends on the
        dataset (a per-class metric needs some of every class)."""
        return self.min_samples

    def applies_to(self, dataset: Dataset) -> bool:
        """Whether this metric can score samples of ``dataset``."""
        return not self.spaces or bool(self.spaces_for(dataset))

    def why_not(self, dataset: Dataset) -> str:
        """Why it does not apply to ``dataset``, for the one-line refusal ("" when there is nothing to add);
        override with ``applies_to`` (class metrics: the dataset has no labels)."""
        if self.spaces and not self.spaces_for(dataset):
            return f"it runs in {', '.join(self.spaces)}; the dataset offers {', '.join(dataset.feature_spaces)}"
        return ""

    def spaces_for(self, dataset: Dataset) -> tuple[str, ...]:
        """The dataset's feature spaces this metric runs in, in the dataset's order."""
        return tuple(s for s in dataset.feature_spaces if s in self.spaces)

    def output_names(self, spaces: tuple[str, ...] | None = None) -> dict[str, Direction]:
        """Output names -> direction, ``{space}`` filled with each of ``spaces`` (default: all it knows)."""
        chosen = self.spaces if spaces is None else spaces
        return {
            key.format(space=space): d for key, d in self.outputs.items() for space in (chosen if "{" in key else ("",))
        }

    def output_ranges(self, spaces: tuple[str, ...] | None = None) -> dict[str, tuple[float, float]]:
        """Output names -> (low, high), ``{space}`` filled as in ``output_names``."""
        chosen = spaces if spaces is not None else self.spaces
        return {
            key.format(space=space): r for key, r in self.ranges.items() for space in (chosen if "{" in key else ("",))
        }

    def bounds(self, dataset: Dataset | None = None) -> dict[str, Bound]:
        """Output names -> their ``Bound``, in ``dataset``'s spaces (None: every space the metric knows)."""
        spaces = self.spaces_for(dataset) if dataset is not None else None
        return {key: Bound(*r) for key, r in self.output_ranges(spaces or None).items()}

    def compute(self, ctx: EvalContext, space: str | None = None) -> dict[str, Any]:
        """The numbers named in ``outputs`` (for metrics with ``spaces``: measured in ``space``)."""
        raise NotImplementedError


def _min_samples_problem(count: Any) -> str | None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return f"min_samples {count!r}: min_samples must be a positive integer"
    return None


def _outputs_problem(metric: Metric) -> str | None:
    """Why ``outputs`` cannot be recorded and ranked: no output, a direction not 'higher'/'lower', a name
    that is empty, reserved or formats with more than ``{space}``."""
    outputs = dict(metric.outputs) if isinstance(metric.outputs, Mapping) else {}
    odd = {k: d for k, d in outputs.items() if d not in typing.get_args(Direction)}
    if not outputs or odd:  # a table could not tell which is best
        return f"outputs {odd or metric.outputs!r}: outputs must map each output to 'higher' or 'lower' (is better)"
    for key in outputs:
        names = _expanded(key, metric.spaces)
        if names is None or RESERVED_OUTPUTS.intersection(names) or not all(map(tabled, names)):
            return (
                f"output {key!r}: an output is named by non-blank text of printable characters but '|' (a table's "
                "column), with at most a {space} placeholder (for a metric with spaces), and not one of "
                f"{', '.join(sorted(RESERVED_OUTPUTS))}"
            )
    return None


def tabled(name: Any) -> bool:
    """Whether a table can carry ``name`` as a column: text, not blank nor padded with blanks (a suite's
    [tolerance] or ``-m`` could not name it), one line, no markdown cell separator.
    Declared outputs and the values a metric gives are named by the same rule."""
    return isinstance(name, str) and bool(name) and name == name.strip() and name.isprintable() and "|" not in name


def _expanded(key: Any, spaces: tuple[str, ...]) -> list[str] | None:
    """An output name with ``{space}`` filled by each of ``spaces`` (None: it cannot be filled so)."""
    if not isinstance(key, str) or ("{" in key and not spaces):
        return None
    try:
        return [key.format(space=space) for space in spaces] if "{" in key else [key]
    except (KeyError, IndexError, ValueError):
        return None


def _ranges_problem(metric: Metric) -> str | None:
    """Why ``ranges`` cannot bound the outputs: a range of no declared output, or not (low, high) numbers."""
    if not isinstance(metric.ranges, Mapping):
        return f"ranges {metric.ranges!r}: ranges must map output names to (low, high)"
    for key, bound in metric.ranges.items():
        if key not in metric.outputs:
            return f"a range for {key!r}, which is not one of its outputs ({', '.join(map(repr, metric.outputs))})"
        if not _is_range(bound):
            return (
                f"range {bound!r} for {key!r}: a range is (low, high), two numbers with low <= high "
                "(math.inf where unbounded), or a ganbench.metric.Bound"
            )
    return None


def _is_range(bound: Any) -> bool:
    """Whether ``bound`` is a ``Bound`` or a pair (low, high) of numbers, neither NaN, low <= high."""
    if not isinstance(bound, Bound) and (not isinstance(bound, tuple | list) or len(bound) != 2):
        return False
    low, high, *whole = bound
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high)):
        return False
    try:
        float(low), float(high)  # noqa: B018
    except OverflowError:  # an int too large for a float: no value could be compared with it
        return False
    return low <= high and low < math.inf and high > -math.inf and all(isinstance(w, bool) for w in whole)


@dataclass(frozen=True)
class FeatureExtractor:
    """Base class of feature extractors: samples (N, ...) -> features (N, d).

    ``caches_reference``: whether real-data features are worth keeping on disk (true for
    networks such as Inception, false for the identity). ``is_space``: whether metrics may
    name it as a feature space (logits extractors serve one metric and are not).
    Extractors see the dataset, so one can depend on it (a classifier trained on its labels).
    """

    name: str
    description: str = ""
    caches_reference: ClassVar[bool] = False
    is_space: ClassVar[bool] = True

    def extract(self, samples: torch.Tensor, dataset: Dataset | None = None) -> torch.Tensor:
        raise NotImplementedError

    def check(self, dataset: Dataset | None = None) -> None:
        """Raise a GanbenchError now if extraction would fail later (missing weights): runs check before training."""

    def fingerprint(self, dataset: Dataset | None = None) -> dict[str, Any]:
        """What identifies the mapping beyond its name (e.g. the weights' sha256): part of cache keys."""
        return {}

    def identity(self) -> dict[str, Any]:
        """What the user chose that decides the features beyond this extractor's code (a weights file): part of
        the run's identity, so that runs scored with other weights are other runs, not the first one's record.
        Unlike ``fingerprint``, it cannot read the dataset or depend on the device: a run's spec is made first."""
        return {}

    def provenance(self, dataset: Dataset | None = None) -> dict[str, Any]:
        """What metrics.json records about how features were made: the fingerprint plus settings."""
        return self.fingerprint(dataset)
