"""From names to a RunSpec: the registered objects they name, their per-kind defaults, the
user's overrides, and the checks that the parts fit (before any run folder exists).

``create_spec`` is where a run's options are decided, in layers, each winning over the one
before: the variant's own fields; its per-kind defaults for the dataset's kind of data
(``Variant.defaults``: the paper's settings there, with the network it trained, unless the
user names a network); the user's ``--set``. The spec records the values used.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import numbers
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganbench.dataset import Dataset
from ganbench.dataset_checks import check_declarations
from ganbench.errors import (
    GanbenchError,
    OptionError,
    PluginError,
    UnknownNameError,
    one_line,
    path_errors,
    short_repr,
    shown_path,
)
from ganbench.fingerprint import files_listed_once, fingerprint
from ganbench.imagefiles import IMAGE_SUFFIXES, warn_once
from ganbench.network import Network
from ganbench.options import (
    check_overrides_and_metrics,
    option_types,
    options_of,
    plain_bool,
    whole_if_integral,
    with_options,
)
from ganbench.paths import data_folder, tilde_expanded
from ganbench.plugins import blamed, claim_dataset, plugin_manager, registries
from ganbench.selection import (
    Selected,
    canonical_names,
    neediest,
    no_metrics_named,
    select_metrics,
    without_conditional,
)
from ganbench.spec import MAX_EVAL_SAMPLES, MAX_STEPS, SEED_LIMIT, Budget, EvalSettings, RunSpec, split_overrides
from ganbench.variant import Variant
from ganbench.writable import file_in_the_way, kind_of


@path_errors()
def create_spec(
    variant: str,
    dataset: str,
    *,
    network: str | None = None,
    seed: int = 0,
    steps: int | None = None,
    max_seconds: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    metrics: tuple[str, ...] | None = None,
    eval_samples: int | None = None,
    eval_every: int | None = None,
    truncation: float | None = None,
    shared_metrics: bool = False,
) -> RunSpec:
    """Resolve names through the registries, apply overrides, and check that the parts fit.

    Override keys: ``lr_d`` (variant), ``dataset.sigma``, ``network.width``. A dataset
    name no plugin registered may be claimed by a plugin's ``resolve_dataset`` hook (a
    path to a user's images). ``steps`` and ``eval_samples`` default to the dataset's.
    Options are resolved in layers, each winning over the one before: the variant's own,
    its per-kind defaults for the dataset's kind of data (with the network its paper
    trained there, unless ``network`` is named), then ``overrides``.
    ``shared_metrics``: ``metrics`` serve several variants, some of them class-conditional,
    so an unconditional variant leaves out the metrics that need labels (else they are an error).
    """
    regs = registries()
    dataset = os.fspath(dataset) if isinstance(dataset, os.PathLike) else dataset  # a Path to images, from Python
    check_arguments(variant=variant, dataset=dataset, network=network, overrides=overrides, metrics=metrics)
    seed, eval_samples, eval_every = (whole_if_integral(n) for n in (seed, eval_samples, eval_every))  # 1.0 as 1
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < SEED_LIMIT:
        raise OptionError(
            f"seed must be a non-negative integer below 2^63 (torch's seed range), not {short_repr(seed)}"
        )
    shared_metrics = plain_bool(shared_metrics)
    if not isinstance(shared_metrics, bool):  # "no" was taken as True: a metric dropped silently
        raise OptionError(f"shared_metrics must be True or False, not {short_repr(shared_metrics)}")
    groups = split_overrides(overrides or {})
    registered = regs.variants.get(variant)
    named, (dataset, claimed) = dataset, resolve_dataset_name(dataset)
    d = with_options(
        regs.datasets.get(dataset), claimed_and_set(named, claimed, groups["dataset"]), f"dataset {dataset!r}"
    )
    check_declarations(dataset, d)
    budget = Budget(d.default_steps if steps is None else steps, max_seconds)
    paper = registered.defaults_for(d.data_kind)
    for kind in ("network", "dataset"):  # "variant 'nsgan' has no option 'network'" said nothing of how
        if kind in groups["variant"] and kind not in options_of(registered):
            value = groups["variant"][kind]
            name = shlex.quote(value) if isinstance(value, str) and value.strip() else None  # true was "True"
            typed = name or (str(value).lower() if isinstance(value, bool) else short_repr(value))
            raise OptionError(
                f"--set {kind}={typed} sets no option: the {kind} is chosen with --{kind} {name or 'NAME'}"
            )
    v = with_options(registered, {**(paper.options if paper else {}), **groups["variant"]}, f"variant {variant!r}")
    if v.conditional and d.n_classes < 2:  # one class: nothing to condition on, and no per-class metric
        has = "no labels" if not d.n_classes else "one class"
        raise OptionError(
            f"variant {variant!r} is class-conditional but dataset {d.title} has {has}; pick a dataset labelled with "
            "two classes or more (a folder of images: a subfolder per class) or an unconditional variant"
        )
    if v.conditional and v.pack > 1:
        raise OptionError(f"variant {variant!r} is class-conditional and packs samples; --set pack=1")
    papers_network = None if network or not paper else paper.network
    network = network or papers_network or d.default_network
    n = with_options(regs.networks.get(network), paper.network_options if papers_network else {}, "")
    try:
        n = with_options(n, groups["network"], f"network {network!r}")
    except OptionError as exc:
        missing = re.search(r"has no option '([^']*)'", str(exc))
        if missing is None:
            raise  # another network helps where this one lacks the option, not where a value is out of range
        takers = _networks_taking(missing.group(1), d, v, besides=network)
        if not takers:
            raise  # "name another" of a network that lacks it too went round in a loop
        if papers_network and papers_network != d.default_network and d.default_network in takers:
            raise OptionError(
                f"{exc} (variant {variant!r} trains {network} on {d.data_kind} by default; "
                f"name another, e.g. --network {d.default_network})"
            ) from None
        raise OptionError(f"{exc} (networks that take it here: {', '.join(takers)}; name one with --network)") from None
    with blamed("networks", network, "check"):  # a plugin's exception, or sys.exit(0), is one line naming it
        reason = n.check(tuple(d.shape), v.pack, d.n_classes if v.conditional else 0, v.conditioning)
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"it returned {short_repr(reason)}, not a reason (text) or None")
    if reason:
        shape = "x".join(map(str, d.shape))
        raise OptionError(f"network {network!r} cannot be built for dataset {dataset!r} ({shape}): {reason}")
    if metrics is not None and not metrics:
        raise no_metrics_named(d)
    named = tuple(dict.fromkeys(m.strip() for m in metrics)) if metrics else ()  # a name given twice is one metric
    chosen = named or d.metrics + (d.conditional_metrics if v.conditional else ())
    if not chosen:
        raise OptionError(f"dataset {dataset!r} names no metrics of its own; name some with --metrics (e.g. frechet)")
    if named and shared_metrics and not v.conditional:
        chosen = without_conditional(d, chosen)
        if not chosen:
            raise OptionError(
                f"every metric named needs a class-conditional variant, so unconditional {variant!r} would "
                "be scored on nothing; name a metric that applies to it too (e.g. fid)"
            )
    selected = select_metrics(d, chosen, conditional=v.conditional)
    chosen = canonical_names(d, selected)
    n_eval = d.eval_samples if eval_samples is None else eval_samples
    if isinstance(n_eval, bool) or not isinstance(n_eval, numbers.Integral) or not 2 <= n_eval <= MAX_EVAL_SAMPLES:
        raise OptionError(
            f"eval_samples must be an integer from 2 to {MAX_EVAL_SAMPLES:,}, not {short_repr(n_eval)}; "
            "e.g. --eval-samples 10000"
        )
    metric, needed = neediest(d, selected)
    if needed > MAX_EVAL_SAMPLES:
        raise OptionError(
            f"metric {metric!r} needs at least {needed:,} samples, more than ganbench scores ({MAX_EVAL_SAMPLES:,}); "
            "score with other --metrics"
        )
    if n_eval < needed:
        raise OptionError(
            f"metric {metric!r} needs at least {needed} samples, so "
            f"eval_samples {n_eval} is too few; e.g. --eval-samples {max(needed, 1000)}"
        )
    if isinstance(eval_every, numbers.Integral) and not isinstance(eval_every, bool):
        eval_every = int(eval_every)  # numpy's too; anything else is EvalSettings' one line
        if 0 < eval_every <= MAX_STEPS and eval_every > budget.steps:
            raise OptionError(
                f"eval_every (--eval-every) is {eval_every:,}, more than the {budget.steps:,} steps trained, so "
                f"nothing would be scored during training; make it at most {budget.steps:,}, or leave it out"
            )
    with files_listed_once():
        code = _code_of(regs, variant, network, dataset, selected)
    with blamed("datasets", dataset, "data_identity"):
        data = d.data_identity()
        if data is not None and not isinstance(data, str):
            raise TypeError(f"it returned {short_repr(data)}, not text or None")
    if data:  # files nothing vouches for are part of what computes the run (pass 77)
        code["data"] = data
    features = _features_chosen(regs, selected)
    if features:  # other Inception weights: other runs (pass 77), kept apart where scores are compared (pass 78)
        code["features"] = features
    return RunSpec(
        variant=variant,
        dataset=dataset,
        network=network,
        seed=int(seed),
        budget=budget,
        variant_options=options_of(v),
        dataset_options=options_of(d),
        network_options=options_of(n),
        eval=EvalSettings(
            n_samples=int(n_eval),
            metrics=chosen,
            every=eval_every,
            truncation=truncation,
        ),
        code=code,
    )


def _networks_taking(option: str, dataset: Dataset, variant: Any, besides: str) -> list[str]:
    """The registered networks other than ``besides`` that have ``option`` and can be built for ``dataset``'s
    samples: where to go for an option the chosen network lacks (mlp has no g_width; pacgan-mlp has)."""
    takers = []
    networks = registries().networks
    for name in networks.names():
        network = networks.get(name)
        if name == besides or option not in options_of(network):
            continue
        classes = dataset.n_classes if variant.conditional else 0  # biggan cannot take cgan's labels
        try:  # a plugin's check that fails is no advice to give
            fits = network.check(tuple(dataset.shape), variant.pack, classes, variant.conditioning) is None
        except Exception:
            fits = False
        if fits:
            takers.append(name)
    return takers


def part_fingerprint(entry: Any) -> str:
    """A registered part's fingerprint: its plugin's distribution and version, and a sha256 of the part
    as registered (its options are the spec's own fields) and of the plugin that registered it."""
    return fingerprint(entry.source, entry.version, (entry.obj, plugin_manager().get_plugin(entry.plugin)))


def _code_of(regs: Any, variant: str, network: str, dataset: str, selected: list[Selected]) -> dict[str, str]:
    """What computes the run, per part (``RunSpec.code``), by registered name."""
    return {
        "variant": part_fingerprint(regs.variants.entries[variant]),
        "network": part_fingerprint(regs.networks.entries[network]),
        "dataset": part_fingerprint(regs.datasets.entries[dataset]),
        "metrics": _metrics_fingerprint(regs, selected),
    }


def _metrics_fingerprint(regs: Any, selected: list[Selected]) -> str:
    """One fingerprint for what scores the run: each selected metric's code and the feature
    extractors it reads (its spaces here and those it uses)."""
    parts = []
    for chosen in sorted(selected, key=lambda c: c.metric.name):
        name = chosen.metric.name
        parts.append(f"{name}={part_fingerprint(regs.metrics.entries[name])}")
        for extractor in sorted(set(chosen.extractors())):
            if extractor in regs.feature_extractors.entries:
                parts.append(f"{extractor}={part_fingerprint(regs.feature_extractors.entries[extractor])}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _features_chosen(regs: Any, selected: list[Selected]) -> str:
    """``FeatureExtractor.identity`` of every extractor the selected metrics read, as JSON ("" if none has one):
    the Inception weights the runs are scored with (``RunSpec.code["features"]``)."""
    names = sorted({e for chosen in selected for e in chosen.extractors() if e in regs.feature_extractors.entries})
    chosen = {name: identity for name in names if (identity := _identity_of(regs.feature_extractors.get(name), name))}
    return json.dumps(chosen, sort_keys=True, default=str) if chosen else ""


def _identity_of(extractor: Any, name: str) -> dict[str, Any]:
    """``FeatureExtractor.identity`` of ``extractor`` (a plugin's failure one line naming it; {} if it has none)."""
    identity = getattr(extractor, "identity", None)
    if identity is None:
        return {}
    with blamed("feature_extractors", name, "identity"):
        chosen = identity()
        if not isinstance(chosen, dict):
            raise TypeError(f"it returned {short_repr(chosen)}, not a dict")
    return chosen


def check_arguments(variant: Any, dataset: Any, network: Any, overrides: Any, metrics: Any) -> None:
    """OptionError for arguments of the wrong kind (from Python: the CLI parses its own), in the
    command line's words: names are non-empty text, overrides a mapping, metrics a list of names."""
    for what, value, optional in (("variant", variant, False), ("dataset", dataset, False), ("network", network, True)):
        if isinstance(value, Variant | Dataset | Network):  # derive's result, say: runs name what plugins register
            registry = getattr(registries(), f"{what}s")
            registered = value.name in registry and registry.get(value.name) == value
            how = "" if registered else f"register {value.name!r} from a plugin (README: Writing a plugin), then "
            raise OptionError(
                f"{what} must be a registered {what}'s name, not a {type(value).__name__} object: "
                f"{how}pass {what}={value.name!r}"
            )
        if (value is not None or not optional) and (not isinstance(value, str) or not value.strip()):
            raise OptionError(f"{what} must be a name (text), not {short_repr(value)}")
    check_overrides_and_metrics(overrides, metrics)


def warn_if_shadowing(name: str) -> None:
    """A registered name wins over data of that name beside it (`-d digits` beside a folder ./digits of images):
    say so, since the user may have meant the folder and would otherwise never learn it was not read."""
    folder = data_folder()
    path = (folder or Path()) / name
    try:  # images in it or in its class folders (a folder of MNIST's raw files is not such data)
        entries = itertools.islice(itertools.chain(path.iterdir(), path.glob("*/*")), 2000) if path.is_dir() else ()
        data = any(entry.suffix.lower() in IMAGE_SUFFIXES for entry in entries)
    except OSError:
        return
    if data:
        write = f"write './{name}' in the suite" if folder else f"name it as a path: './{name}'"
        warn_once(
            f"dataset {name!r} is the registered dataset of that name, not the data at {shown_path(path.resolve())}; "
            f"to train on that data, {write}"
        )


def claimed_and_set(named: str, claimed: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The options a dataset name claims (``resolve_dataset_name``) with the user's ``--set dataset.KEY`` beside
    them, or OptionError for a key both give."""
    taken = sorted(set(claimed) & set(overrides))
    if taken:  # --set dataset.path=... beside -d PATH: "the images changed" of images that did not
        raise OptionError(
            f"dataset option {taken[0]!r} comes from the dataset's name ({one_line(repr(named))}), not from an "
            "option (--set dataset.KEY): name the data you mean as the dataset instead"
        )
    return {**claimed, **overrides}


def resolve_dataset_name(name: str, warn: bool = True) -> tuple[str, dict[str, Any]]:
    """(registered dataset, options it needs): the name itself, or what a plugin's resolve_dataset claims.
    ``warn``: say a registered name wins over data of that name beside it (once, where the user named it)."""
    datasets = registries().datasets
    if name in datasets:
        if warn:
            warn_if_shadowing(name)
        return name, {}
    claimed = claim_dataset(name)
    if claimed:
        dataset, options, plugin = claimed
        if plugin is None:  # ganbench's own claim (a folder, an .npz): what it refuses is the user's path
            return dataset, options
        unknown = sorted(set(options) - set(option_types(datasets.get(dataset))))
        if unknown:  # "dataset 'ring8' has no option 'x'" would blame the user, who set none
            raise PluginError(
                f"{plugin} claimed dataset {one_line(repr(name))} as {dataset!r} with option {unknown[0]!r}, which "
                f"{dataset!r} does not have; fix the plugin, or leave it out"
            )
        try:  # "option 'sigma' must be > 0 (--set dataset.sigma=VALUE)" would blame the user, who set none
            with_options(datasets.get(dataset), options, f"dataset {dataset!r}")
        except PluginError:
            raise
        except GanbenchError as exc:  # an OptionError's hint (--set ...) left out: no --set reaches a claim
            raise PluginError(
                f"{plugin} claimed dataset {one_line(repr(name))} as {dataset!r} with options it refuses "
                f"({getattr(exc, 'message', exc)}); fix the plugin, or leave it out"
            ) from None
        return dataset, options
    here = Path(tilde_expanded(name))
    kind = kind_of(here)
    if kind == "a file":  # there, but not data a dataset reads
        folder, suites_folder = here.resolve().parent, data_folder()
        shown = (  # a suite names its data from its own folder, not the current one
            f"from the suite's folder, {os.path.relpath(folder, suites_folder.resolve())!r}"
            if suites_folder is not None
            else shown_path(folder)
        )
        fix = (  # the folder only for an image: "pass ./arr" of a .pt beside nothing else sent the user to "no images"
            f"pass the folder of images it is in ({shown})"
            if here.suffix.lower() in IMAGE_SUFFIXES
            else "save the data as .npz (numpy.savez(path, images=..., labels=...))"
        )
        raise OptionError(
            f"dataset {one_line(repr(name))} is a file, not a folder of images or an .npz/.npy file; {fix}"
        )
    if kind not in ("missing", "a folder"):  # a FIFO, a device, a link to nothing or to itself
        raise OptionError(
            f"dataset {one_line(repr(name))} is {kind}, not a folder of images or an .npz/.npy file; name one"
        )
    near = near_data_paths(name)
    case_only = any(n.lower() == name.lower() for n in near)  # `-d IMGS` for ./imgs: not "did you mean digits?"
    if "/" in name or name.endswith((".npz", ".npy")) or case_only:  # a suite's "rign8" is looked for as <suite>/rign8
        close = near or difflib.get_close_matches(Path(name).name, datasets.names(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        blocking = file_in_the_way(Path(tilde_expanded(name)).parent)
        hint = f"; {shown_path(blocking)} is a file, not a folder" if blocking else hint  # `-d imgs/a.png/b`
        raise OptionError(
            f"dataset {name!r} is neither a registered dataset nor an existing folder, .npz or .npy file{hint}"
        )
    where = f"; nor is there a folder or .npz/.npy file {name!r} in {one_line(Path.cwd())}"  # `-d mine` for ./mine
    where += f" (did you mean {', '.join(near)}?)" if near else ""
    raise UnknownNameError("dataset", name, datasets.names(), also=where)


def near_data_paths(name: str, limit: int = 10_000) -> list[str]:
    """Up to 3 existing folders and .npz/.npy files that ``name`` may have meant: each part of it that does not
    exist replaced by a near entry of its folder (a typo in `-d ./imgz/a` for ./imgs/a, or in its case), written
    as the user wrote the rest of the path; looks at no more than ``limit`` entries, so a huge folder costs little."""
    budget = [limit]
    start = "/" if name.startswith("/") else ""
    parts = [part for part in name.split("/") if part]
    if parts and parts[0].startswith("~") and tilde_expanded(parts[0]) != parts[0]:  # `-d ~/imgz`: home's
        start, parts = parts[0], parts[1:]
    return [near for near in _repaired(start, parts, budget) if near != name][:3]


def _repaired(typed: str, parts: list[str], budget: list[int]) -> list[str]:
    """Paths below ``typed`` (as typed; "" is the working folder) that ``parts`` may have meant."""
    folder = Path(tilde_expanded(typed or os.curdir))
    if not parts:
        found = folder.is_dir() or (folder.is_file() and folder.suffix in (".npz", ".npy"))
        return [typed] if found and typed not in ("", "/") else []
    part, rest = parts[0], parts[1:]

    def below(entry: str) -> str:
        return f"{typed}{'' if typed.endswith('/') or not typed else '/'}{entry}"

    try:
        if part in (".", "..") or (folder / part).exists():  # as typed: keep it, mend what follows
            return _repaired(below(part), rest, budget)
        entries = []
        for entry in folder.iterdir():
            budget[0] -= 1
            if budget[0] < 0:
                break
            if entry.is_dir() or (not rest and entry.suffix in (".npz", ".npy")):
                entries.append(entry.name)
    except (OSError, ValueError):  # no such folder, not readable, a NUL in the name
        return []
    same_but_case = [entry for entry in entries if entry.lower() == part.lower()]
    close = same_but_case + difflib.get_close_matches(part, entries, n=3, cutoff=0.75)
    found: list[str] = []
    for entry in dict.fromkeys(close):
        found += _repaired(below(entry), rest, budget)
        if len(found) >= 3:
            break
    return found


def output_names(spec: RunSpec) -> list[str]:
    """The outputs a spec's evaluation writes, in order (for tables of its runs)."""
    name, claimed = resolve_dataset_name(spec.dataset, warn=False)  # a spec made already: said where it was made
    dataset = with_options(registries().datasets.get(name), spec.dataset_options, f"dataset {name!r}")
    conditional = registries().variants.get(spec.variant).conditional
    return [
        key
        for chosen in select_metrics(dataset, spec.eval.metrics, conditional)
        for key in chosen.metric.output_names(chosen.spaces or None)
    ]
