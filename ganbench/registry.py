"""Name -> object registries, filled by the ``register_*`` hooks.

All validation of what plugins register lives here: the name's syntax, the object's
type, its options' ranges, and duplicates. Every error names the plugin responsible (both
plugins for a duplicate), so a user knows which package to fix or uninstall.

Plugins are asked one at a time in registration order, built-ins first, each for all its
registration hooks; so a plugin may derive its objects from ones registered before it
(``dataclasses.replace(ganbench.get_variant("nsgan"), ...)`` inside its hook).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pluggy

from ganbench.dataset import Dataset
from ganbench.errors import (
    DeclarationError,
    GanbenchError,
    OptionError,
    PluginError,
    UnknownNameError,
    raised,
    short_repr,
)
from ganbench.executor import Executor
from ganbench.metric import Bound, FeatureExtractor, Metric
from ganbench.network import Network
from ganbench.options import MAX_NAME, is_name, validate_options, with_options
from ganbench.variant import Variant

DEFAULT_PLUGINS = (  # ganbench's own plugins: their errors are ganbench's, never blamed on a plugin
    "ganbench.variants.gan",
    "ganbench.variants.wgan",
    "ganbench.variants.lsgan",
    "ganbench.variants.hinge",
    "ganbench.variants.r1",
    "ganbench.variants.pacgan",
    "ganbench.variants.conditional",
    "ganbench.variants.biggan",
    "ganbench.variants.stylegan2",
    "ganbench.datasets.mog",
    "ganbench.datasets.torchvision_sets",
    "ganbench.datasets.digits",
    "ganbench.datasets.stacked_mnist",
    "ganbench.datasets.files",
    "ganbench.networks.mlp",
    "ganbench.networks.pacgan_mlp",
    "ganbench.networks.dcgan",
    "ganbench.networks.resnet",
    "ganbench.networks.biggan",
    "ganbench.networks.stylegan2",
    "ganbench.metrics.modes",
    "ganbench.metrics.frechet",
    "ganbench.metrics.prdc",
    "ganbench.metrics.kid",
    "ganbench.metrics.inception_score",
    "ganbench.metrics.stacked_modes",
    "ganbench.metrics.class_metrics",
    "ganbench.features.raw",
    "ganbench.features.inception",
    "ganbench.features.classifier",
    "ganbench.features.inception_command",
    "ganbench.executors.local",
    "ganbench.loggers.history_csv",
    "ganbench.loggers.tensorboard",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object and where it came from."""

    obj: T
    plugin: str
    source: str
    version: str


def plugin_prints(third_party: bool) -> contextlib.AbstractContextManager:
    """Where a third-party plugin's ``print`` goes while it runs: stderr. ganbench's stdout is its output alone (JSON,
    CSV a program reads: a "hello from metric" line before the ``{`` broke ``eval --json``)."""
    return contextlib.redirect_stdout(sys.stderr) if third_party else contextlib.nullcontext()


def third_party(entry: Entry | None) -> bool:
    """Whether a registered object is a third-party plugin's: blamed by name, handed copies, its prints sent to
    stderr (ganbench's own objects' errors are ganbench's)."""
    return entry is not None and entry.plugin not in DEFAULT_PLUGINS


@contextmanager
def blamed_entry(kind: str, name: str, entry: Entry | None, call: str) -> Iterator[None]:
    """Run ``call`` of a registered object (``entry``, of registry ``kind``) so that a third-party plugin's failure
    is one PluginError naming the plugin, not a traceback, and its prints go to stderr; ganbench's own objects'
    errors, and GanbenchErrors, pass unchanged."""
    try:
        with plugin_prints(third_party(entry)):
            yield
    except (GanbenchError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit(0) in a plugin must not end ganbench as if all went well
        if not third_party(entry):
            raise
        what = f"{kind} {name!r} of plugin {entry.plugin!r} ({entry.source} {entry.version})"
        raise PluginError.failed(what, call, exc) from exc


@dataclass
class Registry(Generic[T]):
    """Objects of one kind by name."""

    kind: str
    type: type
    entries: dict[str, Entry[T]] = field(default_factory=dict)

    def add(self, obj: Any, plugin: str, source: str, version: str) -> None:
        if not isinstance(obj, self.type):
            raise PluginError(
                f"plugin {plugin!r} registered {obj!r} as a {self.kind}, "
                f"but {self.kind}s must be ganbench.{self.type.__name__} instances"
            )
        name = getattr(obj, "name", None)
        if not is_name(name):
            raise PluginError(
                f"plugin {plugin!r} registered a {self.kind} named {short_repr(name)}; names are lower-case "
                f"letters and digits, separated by '-', '_' or '.', at most {MAX_NAME} characters"
            )
        if dataclasses.is_dataclass(obj) and hasattr(type(obj), "kind"):
            try:
                validate_options(obj)  # also for subclasses whose __post_init__ skips the base's
            except OptionError as exc:  # its own default: no --set reaches it, so no hint of one
                message = f"plugin {plugin!r} registered {exc.message} as its default; fix the plugin"
                raise PluginError(message) from None
        if name in self.entries:
            other = self.entries[name]
            if other.plugin == plugin:  # "registered by both plugin 'x' and plugin 'x'" read as two plugins
                raise PluginError(
                    f"{_who(plugin, source, version)} registers {self.kind} {name!r} twice; register it once (or "
                    "give the second another name)"
                )
            raise PluginError(
                f"{self.kind} {name!r} is registered by both {_who(other.plugin, other.source, other.version)} and "
                f"{_who(plugin, source, version)}; {_remedy(self.kind, other, Entry(obj, plugin, source, version))}"
            )
        self.check(obj, plugin)
        self.entries[name] = Entry(obj, plugin, source, version)

    def check(self, obj: T, plugin: str) -> None:
        """PluginError where ``obj`` conflicts with what is registered beyond its name (none for most kinds)."""

    def get(self, name: str) -> T:
        if not isinstance(name, str):
            article = "an" if self.kind[:1] in "aeiou" else "a"  # "a executor"
            raise OptionError(f"{article} {self.kind} is named by text, not {name!r}; `ganbench list` shows them")
        try:
            return self.entries[name].obj
        except KeyError:
            raise UnknownNameError(self.kind, name, self.entries) from None

    def names(self) -> list[str]:
        return sorted(self.entries)

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self.entries[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self.entries


@dataclass
class MetricRegistry(Registry[Metric]):
    """Metrics, each consistent in itself and with the others: metrics may share an output (modes_captured of
    ``modes`` and ``stacked-modes``, for other datasets) only declared alike, as tables rank and bound an output
    by its name alone."""

    def check(self, obj: Metric, plugin: str) -> None:
        try:
            Metric.__post_init__(obj)  # also for subclasses whose __post_init__ skips the base's
        except DeclarationError as exc:
            raise PluginError(f"plugin {plugin!r} registered {exc}; fix the plugin") from None
        for entry in self:
            for name in sorted(obj.output_names().keys() & entry.obj.output_names().keys()):
                mine, theirs = _declared(obj, name), _declared(entry.obj, name)
                if mine != theirs:
                    raise PluginError(
                        f"plugin {plugin!r} registered metric {obj.name!r} declaring output {name!r} "
                        f"{_describe(mine)}, but metric {entry.obj.name!r} of plugin {entry.plugin!r} declares it "
                        f"{_describe(theirs)}; fix the plugin (rename the output, or declare it alike) or uninstall "
                        "one of them"
                    )


def _who(plugin: str, source: str, version: str) -> str:
    """A plugin as messages name it: with the distribution pip knows it by (a built-in: part of ganbench)."""
    if _built_in(plugin, source):
        return f"plugin {plugin!r} (built into ganbench)"
    return f"plugin {plugin!r} ({source} {version})"


def _built_in(plugin: str, source: str) -> bool:
    return plugin == source and source.startswith("ganbench.")


def _remedy(kind: str, first: Entry, second: Entry) -> str:
    """What to do about two plugins registering one name: a built-in keeps it, so the other renames or goes."""
    installed = [e for e in (first, second) if not _built_in(e.plugin, e.source) and e.version != "runtime"]
    uninstall = " or ".join(f"`pip uninstall {e.source}`" for e in installed)
    if any(_built_in(e.plugin, e.source) for e in (first, second)):
        return f"ganbench's own {kind} keeps its name: rename the other's" + (f", or {uninstall}" if uninstall else "")
    return f"rename the {kind} in one of them" + (f", or {uninstall}" if uninstall else "")


def _declared(metric: Metric, output: str) -> tuple[str, Bound | None]:
    """How ``metric`` declares ``output``: its direction and range (None: unbounded)."""
    bound = metric.output_ranges().get(output)
    return metric.output_names()[output], Bound(*bound) if bound is not None else None


def _describe(declared: tuple[str, Bound | None]) -> str:
    """The declaration in words, for messages: "'lower' (is better), in [0, inf]"."""
    direction, bound = declared
    where = f"in [{bound.low!r}, {bound.high!r}]{' (whole)' if bound.whole else ''}" if bound else "unbounded"
    return f"{direction!r} (is better), {where}"


@dataclass
class Registries:
    """One registry per extension point."""

    variants: Registry[Variant]
    datasets: Registry[Dataset]
    networks: Registry[Network]
    metrics: Registry[Metric]
    feature_extractors: Registry[FeatureExtractor]
    executors: Registry[Executor]

    def by_hook(self) -> dict[str, Registry]:
        return {f"register_{name}": reg for name, reg in vars(self).items()}

    def spaces(self) -> tuple[str, ...]:
        """Names of the feature extractors that metrics may run in."""
        return tuple(e.obj.name for e in self.feature_extractors if e.obj.is_space)

    def metric_directions(self) -> dict[str, str]:
        """Every metric output name (in every feature space) -> 'higher' or 'lower' (is better)."""
        spaces = self.spaces()
        return {
            key: d
            for entry in self.metrics
            for key, d in entry.obj.output_names(tuple(s for s in entry.obj.spaces if s in spaces) or None).items()
        }

    def metric_bounds(self, dataset: Dataset | None = None) -> dict[str, Bound]:
        """Every metric output name that declares its range -> its ``Bound``; with ``dataset``, only the
        metrics that apply to it, bounded for it (its number of modes)."""
        spaces = self.spaces()
        bounds: dict[str, Bound] = {}
        for entry in self.metrics:
            metric = entry.obj
            if dataset is None:
                known = tuple(s for s in metric.spaces if s in spaces) or None
                with blamed_entry(self.metrics.kind, metric.name, entry, "output_ranges"):
                    bounds.update({k: Bound(*r) for k, r in metric.output_ranges(known).items()})
                continue
            with blamed_entry(self.metrics.kind, metric.name, entry, "applies_to"):
                applies = metric.applies_to(dataset)
            if applies:
                with blamed_entry(self.metrics.kind, metric.name, entry, "bounds"):
                    bounds.update(metric.bounds(dataset))
        return bounds


def empty_registries() -> Registries:
    return Registries(
        variants=Registry("variant", Variant),
        datasets=Registry("dataset", Dataset),
        networks=Registry("network", Network),
        metrics=MetricRegistry("metric", Metric),
        feature_extractors=Registry("feature extractor", FeatureExtractor),
        executors=Registry("executor", Executor),
    )


def fill_registries(regs: Registries, pm: pluggy.PluginManager, origins: dict[str, tuple[str, str]]) -> None:
    """Ask each plugin in registration order (built-ins first) to register into ``regs``.

    ``origins`` maps plugin name -> (source, version): a module or a distribution. A plugin
    may read ``regs`` while it registers: what earlier plugins registered is there.
    """
    hooks = regs.by_hook()
    for plugin, _ in pm.list_name_plugin():
        for hook_name, registry in hooks.items():
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name == plugin:
                    _call_registration(impl, registry, plugin, hook_name, origins)
    check_defaults(regs)


def check_defaults(regs: Registries) -> None:
    """PluginError unless every network a variant's per-kind defaults name is registered and takes
    the options they give it (checked once all plugins registered: the network may come later)."""
    for entry in regs.variants:
        variant = entry.obj
        for kind, defaults in variant.defaults.items():
            if defaults.network is None:
                continue
            where = f"plugin {entry.plugin!r}: variant {variant.name!r}'s defaults for {kind}"
            if defaults.network not in regs.networks:
                raise PluginError(f"{where} name network {defaults.network!r}, which no plugin registered")
            network = regs.networks.get(defaults.network)
            try:
                with_options(network, defaults.network_options, f"network {defaults.network!r}")
            except OptionError as exc:
                raise PluginError(f"{where}: {exc}") from None


def _call_registration(
    impl: pluggy.HookImpl, registry: Registry, plugin: str, hook_name: str, origins: dict[str, tuple[str, str]]
) -> None:
    source, version = origins.get(plugin, (plugin, "unknown"))

    def register(obj: Any) -> None:
        registry.add(obj, plugin, source, version)

    try:
        with plugin_prints(plugin not in DEFAULT_PLUGINS):
            impl.function(**({"register": register} if "register" in impl.argnames else {}))
    except PluginError:
        raise
    except UnknownNameError as exc:
        raise PluginError(f"plugin {plugin!r} asked in {hook_name} for a name not registered before it: {exc}") from exc
    except OptionError as exc:  # a default of its own, refused as it was built: no --set reaches it
        raise PluginError(f"plugin {plugin!r} failed in {hook_name}: {exc.message}; fix the plugin") from exc
    except DeclarationError as exc:
        raise PluginError(f"plugin {plugin!r} registered {exc}; fix the plugin") from exc
    except (Exception, SystemExit) as exc:  # sys.exit(0) in a hook must not end ganbench as if all went well
        raise PluginError(f"plugin {plugin!r} failed in {hook_name}: {raised(exc)}") from exc
