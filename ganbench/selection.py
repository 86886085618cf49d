"""Which metrics a run computes, and in which feature spaces; checked before any training.

Users name metrics (``fid``: in every feature space of the dataset) or outputs
(``fid_classifier``: the metric in that space only), so ``--metrics`` can leave out a
space whose extractor is unavailable. ``preflight`` asks every extractor a selection
needs whether it can run (Inception weights present, labels for a classifier) before a
run starts, so a missing piece costs seconds, not a training run.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from ganbench.dataset import Dataset
from ganbench.dataset_checks import reference_checked
from ganbench.errors import GanbenchError, OptionError, UnknownNameError, one_line, short_repr
from ganbench.metric import Metric
from ganbench.plugins import blamed, registries


@dataclass(frozen=True)
class Selected:
    """A metric and the feature spaces it runs in (empty for metrics that use none)."""

    metric: Metric
    spaces: tuple[str, ...]

    def extractors(self) -> tuple[str, ...]:
        return self.spaces + tuple(self.metric.uses)


def select_metrics(
    dataset: Dataset, names: Sequence[str], conditional: bool = False, why_no_labels: str = ""
) -> list[Selected]:
    """``names`` (metric or output names) resolved for ``dataset``; OptionError/UnknownNameError if one does not fit.
    ``conditional``: the samples come with the classes they were generated for; else ``why_no_labels`` says why not
    (default: the variant is not class-conditional)."""
    regs = registries()
    chosen: dict[str, set[str]] = {}
    for name in names:
        metric, spaces = _resolve(dataset, name)
        if metric.conditional and not conditional:
            why = why_no_labels or "needs a class-conditional variant"
            raise OptionError(f"metric {name!r} {why}; drop it from --metrics")
        chosen.setdefault(metric.name, set()).update(spaces)
    return [
        Selected(regs.metrics.get(m), tuple(s for s in dataset.feature_spaces if s in spaces))
        for m, spaces in chosen.items()
    ]


def in_the_datasets_order(dataset: Dataset, names: Sequence[str]) -> tuple[str, ...]:
    """``names`` (metric or output names), each once, in one order whatever the order given: by the dataset's own
    metrics as it lists them (fid_classifier is fid's), then by name. The order is in a run's spec, so `-m
    modes,frechet` and `-m frechet,modes` were two run ids, two trainings and two rows of one computation (pass 77)."""
    own = [*dataset.metrics, *dataset.conditional_metrics]

    def place(name: str) -> tuple[int, str]:
        try:
            metric = _resolve(dataset, name)[0].name
        except GanbenchError:  # refused where the names are checked, in the order given
            metric = name
        return own.index(metric) if metric in own else len(own), name

    return tuple(sorted(dict.fromkeys(name.strip() for name in names), key=place))


def canonical_names(dataset: Dataset, selected: Sequence[Selected]) -> tuple[str, ...]:
    """What ``selected`` computes, named one way (in the dataset's order): a metric by its name where it runs in
    every space its name takes, else by its first output in each space it runs in. `-m prdc` and `-m
    precision_raw,recall_raw` compute the same four outputs, and were two run ids and two rows (pass 78)."""
    names: list[str] = []
    for chosen in selected:
        metric = chosen.metric
        if not chosen.spaces or set(chosen.spaces) == set(_spaces_for(metric, dataset)):
            names.append(metric.name)
        else:
            names += [next(iter(metric.output_names((space,)))) for space in chosen.spaces]
    return in_the_datasets_order(dataset, names)


def no_metrics_named(dataset: Dataset) -> OptionError:
    """``metrics=[]``'s error, with an example the dataset computes (fid was named for a mixture, which has none)."""
    example = f"e.g. --metrics {dataset.metrics[0]}" if dataset.metrics else "`ganbench list` shows them"
    return OptionError(f"metrics is empty: name at least one ({example}), or leave it out for the dataset's own")


def without_conditional(dataset: Dataset, names: Sequence[str]) -> tuple[str, ...]:
    """``names`` less the metrics that need a class-conditional variant (class accuracy, intra-FID)."""
    return tuple(name for name in names if not _resolve(dataset, name)[0].conditional)


def _resolve(dataset: Dataset, name: str) -> tuple[Metric, set[str]]:
    metrics = registries().metrics
    if name in metrics:
        metric = metrics.get(name)
        if not _applies(metric, dataset):
            raise OptionError(
                f"metric {name!r} does not apply to dataset {dataset.title}{_because(metric, dataset)}; "
                "drop it from --metrics"
            )
        return metric, set(_spaces_for(metric, dataset))
    for entry in metrics:
        metric = entry.obj
        for space in _spaces_for(metric, dataset) or ((None,) if _applies(metric, dataset) else ()):
            if name in metric.output_names((space,) if space else ()):
                return metric, {space} if space else set()
    for entry in metrics:  # an output of a metric that exists, not here: say why, not "unknown"
        metric = entry.obj
        for space in metric.spaces or (None,):
            if name in metric.output_names((space,) if space else ()):
                offered = [next(iter(metric.output_names((s,)))) for s in _spaces_for(metric, dataset)]
                if space:
                    fix = f"use {' or '.join(offered)}" if offered else "drop it from --metrics"
                    with blamed("datasets", dataset.name, "why_not_offered"):
                        why = dataset.why_not_offered(space)
                    raise OptionError(
                        f"metric output {name!r} is metric {metric.name!r} in the {space} space, which dataset "
                        f"{dataset.title} does not offer (it offers {', '.join(dataset.feature_spaces)}"
                        f"{f'; {one_line(why)}' if why else ''}); {fix}"
                    )
                raise OptionError(
                    f"metric output {name!r} is {metric.name}'s, which does not apply to dataset {dataset.title}"
                    f"{_because(metric, dataset)}; drop it from --metrics"
                )
    raise UnknownNameError("metric", name, available_names(dataset))


def _because(metric: Metric, dataset: Dataset) -> str:
    """`` (why)`` for a refusal of ``metric`` on ``dataset``, or "" when the metric has nothing to add."""
    with blamed("metrics", metric.name, "why_not"):
        why = metric.why_not(dataset)
    return f" ({one_line(why)})" if why else ""


def _applies(metric: Metric, dataset: Dataset) -> bool:
    """``metric.applies_to(dataset)``, a third-party metric's failure one line naming its plugin."""
    with blamed("metrics", metric.name, "applies_to"):
        return bool(metric.applies_to(dataset))


def _spaces_for(metric: Metric, dataset: Dataset) -> tuple[str, ...]:
    with blamed("metrics", metric.name, "spaces_for"):
        return tuple(metric.spaces_for(dataset))


def available_names(dataset: Dataset) -> list[str]:
    """Metric names and output names that apply to ``dataset``."""
    names = []
    for entry in registries().metrics:
        metric = entry.obj
        if _applies(metric, dataset):
            names.append(metric.name)
            names += list(metric.output_names(_spaces_for(metric, dataset)))
    return list(dict.fromkeys(names))  # a metric may have an output of its own name (frechet)


def neediest(dataset: Dataset, selection: Sequence[Selected]) -> tuple[str, int]:
    """(name, count) of the chosen metric that needs the most samples per side on ``dataset``; ("", 1) if none."""
    counts = []
    for chosen in selection:
        with blamed("metrics", chosen.metric.name, "samples_needed"):
            needed = chosen.metric.samples_needed(dataset)
            if isinstance(needed, bool) or not isinstance(needed, numbers.Integral) or needed < 1:
                raise ValueError(f"it gave {short_repr(needed)}, not a whole number >= 1")
        counts.append((chosen.metric.name, int(needed)))
    return max(counts, key=lambda named: named[1], default=("", 1))


def preflight(dataset: Dataset, selection: Sequence[Selected]) -> None:
    """Ask every extractor the selection needs whether it can run; the error names metrics that avoid it."""
    extractors = registries().feature_extractors
    for name in dict.fromkeys(e for s in selection for e in s.extractors()):
        try:
            extractors.get(name).check(dataset)
        except GanbenchError as exc:
            others = [
                next(iter(s.metric.output_names((space,))))
                for s in selection
                for space in _spaces_for(s.metric, dataset)
                if space != name and not name.startswith(f"{space}-")
            ]
            if not others:
                raise
            # an OptionError: its fix is --metrics, which a suite spells metrics = [...] at its line
            raise OptionError(f"{exc}; or score without {name}: --metrics {','.join(dict.fromkeys(others))}") from None


def check_reference_fits(name: str, dataset: Dataset, selection: Sequence[Selected]) -> None:
    """OptionError if the real samples ``dataset`` (named ``name``) is scored against are fewer than a chosen metric
    needs (k nearest neighbours of 2 points): found after training, it would lose the run."""
    n_real = len(reference_checked(name, dataset))
    metric, needed = neediest(dataset, selection)
    if n_real < needed:
        more = (
            f"e.g. --set dataset.n_samples={max(needed, 10_000)}"
            if hasattr(dataset, "n_samples")
            else "add images to it"
        )
        raise OptionError(
            f"metric {metric!r} needs at least {needed} real samples, but dataset "
            f"{dataset.title} holds {n_real}; use more data ({more}) or other --metrics"
        )


def warn_unequal_sizes(dataset: Dataset, n_fake: int, equal: str = "") -> None:
    """A warning if the real samples of ``dataset`` are fewer than the ``n_fake`` generated ones:
    FID and KID move with unequal sizes, unlike the protocol's (``equal``: what makes them equal, in the caller's
    words). Given once every check has passed: its advice would not help a command refused anyway."""
    n_real = len(dataset.reference())
    if n_fake > n_real:
        equal = equal or f"--eval-samples {n_real}, or eval_samples = {n_real} in a suite,"
        warnings.warn(
            f"{n_fake:,} generated samples are scored against the {n_real:,} real ones of dataset {dataset.title}: "
            f"scores of unequal sizes compare only with each other ({equal} makes them equal)",
            stacklevel=2,
        )
