"""The plugin manager: built-ins first, then the entry-point group ``ganbench``.

Built-in variants, datasets, networks, metrics, feature extractors, executors and loggers
are plugins loaded through the same hooks as third-party ones. Nothing is loaded at import
time; the first call to ``plugin_manager()`` (or ``registries()``) does it, when a command first
needs a registry (the CLI's commands themselves come from ``ganbench.commands``, which loads
only the plugins that add commands).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pluggy

from ganbench import hookspecs
from ganbench.entry_points import (
    ENTRY_POINT_GROUP,
    check_hooks,
    distribution_version,
    load_entry_points,
    unfit_hook,
)
from ganbench.errors import GanbenchError, PluginError, one_line, short_repr
from ganbench.registry import (
    DEFAULT_PLUGINS,
    Registries,
    blamed_entry,
    empty_registries,
    fill_registries,
    plugin_prints,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "call_hook",
    "call_loggers",
    "plugin_manager",
    "register_plugin",
    "registries",
    "unregister_plugin",
]


_pm: pluggy.PluginManager | None = None
_origins: dict[str, tuple[str, str]] = {}
_registries: Registries | None = None
_filling: Registries | None = None  # while plugins register: what is registered so far


def loaded() -> bool:
    """Whether this process has loaded its plugins (``plugin_manager`` has been called)."""
    return _pm is not None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading plugins on first use."""
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager("ganbench")
        pm.add_hookspecs(hookspecs)
        _origins.clear()
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            pm.register(module, name=module_name)
            _origins[module_name] = (module_name, distribution_version("ganbench"))
        load_entry_points(pm, _origins)
        check_hooks(pm, _origins)
        _pm = pm
    return _pm


def registries() -> Registries:
    """Registries filled from every loaded plugin (built once, rebuilt after register_plugin).

    Called from inside a registration hook, it returns what the plugins asked before the
    caller have registered.
    """
    global _registries
    if _registries is None:
        if _filling is not None:
            return _filling
        _registries = _filled(plugin_manager())
    return _registries


def _filled(pm: pluggy.PluginManager) -> Registries:
    """Registries filled from ``pm``'s plugins; while they register, ``registries()`` returns what they have so far."""
    global _filling
    _filling = empty_registries()
    try:
        fill_registries(_filling, pm, _origins)
        return _filling
    finally:
        _filling = None


@contextmanager
def blamed(kind: str, name: str, call: str) -> Iterator[None]:
    """Run a third-party plugin's ``call`` (of its ``kind`` registry's ``name``) so that its failure is one line
    naming the plugin, not a traceback; ganbench's own objects' errors, and GanbenchErrors, pass unchanged."""
    registry = getattr(registries(), kind)
    with blamed_entry(registry.kind, name, registry.entries.get(name), call):
        yield


def call_loggers(hook: str, /, **kwargs: Any) -> None:
    """Call the logger hook ``hook`` of every plugin, in pluggy's order, each with its own copy of the values: no
    plugin edits what ganbench writes (history.csv, the returned record) or what the next plugin sees.

    Every plugin is called even when one fails, so ganbench's own loggers keep their files whole; then the first
    third-party failure (any exception but Ctrl-C's) is raised as one PluginError naming the plugin. GanbenchErrors
    and ganbench's own plugins' exceptions propagate at once, unchanged.
    """
    failure: PluginError | None = None
    for impl in reversed(getattr(plugin_manager().hook, hook).get_hookimpls()):
        arguments = [copy.deepcopy(kwargs[name]) for name in impl.argnames]
        try:
            with plugin_prints(impl.plugin_name not in DEFAULT_PLUGINS):
                impl.function(*arguments)
        except (GanbenchError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit(0) in a logger must not end ganbench as if all went well
            if impl.plugin_name in DEFAULT_PLUGINS:
                raise
            if failure is None:
                source, version = _origins.get(impl.plugin_name, (impl.plugin_name, "unknown"))
                failure = PluginError.failed(f"logger of plugin {impl.plugin_name!r} ({source} {version})", hook, exc)
    if failure is not None:
        raise failure


def plugin_label(plugin_name: str) -> str:
    """How messages name a plugin: ``plugin 'x' (distribution version)``, as pip knows it."""
    source, version = _origins.get(plugin_name, (plugin_name, "unknown"))
    return f"plugin {plugin_name!r} ({source} {version})"


def claim_dataset(name: str) -> tuple[str, dict[str, Any], str | None] | None:
    """The first plugin's ``resolve_dataset`` claim of ``name`` (pluggy's order), checked: a registered dataset's
    name and a mapping of options, with how messages name the claiming plugin (``plugin_label``; None for ganbench's
    own, whose refusals are the user's to fix); a malformed claim or a failing hook is one line naming the plugin."""
    for impl in reversed(plugin_manager().hook.resolve_dataset.get_hookimpls()):
        ours = impl.plugin_name in DEFAULT_PLUGINS
        try:
            with plugin_prints(not ours):
                claim = impl.function(name=name)
        except (GanbenchError, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if ours:
                raise
            raise PluginError.failed(plugin_label(impl.plugin_name), "resolve_dataset", exc) from exc
        if claim is None:
            continue
        datasets = registries().datasets
        fits = (
            isinstance(claim, tuple | list)
            and len(claim) == 2
            and isinstance(claim[0], str)
            and claim[0] in datasets
            and isinstance(claim[1], Mapping)
            and all(isinstance(key, str) for key in claim[1])
        )
        if not fits:
            if ours:
                raise AssertionError(f"{impl.plugin_name} claimed {name!r} as {claim!r}")
            raise PluginError(
                f"{plugin_label(impl.plugin_name)} claimed dataset {one_line(repr(name))} as {short_repr(claim)}, "
                "not (a registered dataset's name, {option: value}); fix the plugin, or leave it out"
            )
        return claim[0], dict(claim[1]), None if ours else plugin_label(impl.plugin_name)
    return None


def register_plugin(plugin: ModuleType | object, name: str | None = None) -> str:
    """Register a plugin object or module at run time (tests, notebooks), under ``name`` (default: its module's or
    class's name), which messages name it by and ``unregister_plugin`` takes; returns that name.

    Its registration hooks run here, so a plugin that fails to register (a name taken twice, a hook that raises)
    is refused at once, with the manager as it was, rather than accepted and blamed by every later call.
    """
    global _registries
    pm = plugin_manager()
    if _filling is None:
        registries()  # a plugin already loaded that fails is named now, not blamed on this one
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise PluginError(f"a plugin's name must be non-blank text, not {short_repr(name)}; e.g. name='my-plugin'")
    label = name or type(plugin).__name__
    try:
        own = getattr(plugin, "__name__", None)
        label = name or (own if isinstance(own, str) and own.strip() else label)  # a __name__ of 5 names nothing
        hooks = [attr for attr in dir(plugin) if pm.parse_hookimpl_opts(plugin, attr) is not None]
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a __dir__ or __getattr__ that raises (SystemExit too): one line, not pluggy's
        raise PluginError.failed(f"plugin {label!r}", "its __dir__ or __getattr__", exc) from None
    if not hooks:
        raise PluginError(
            f"plugin {label!r} ({short_repr(plugin)}) implements no hook; register a module or object whose "
            "methods are marked @ganbench.hookimpl (README: Writing a plugin)"
        )
    if "register_commands" in hooks:  # the command line asks installed plugins (entry points) before any command
        warnings.warn(
            f"plugin {label!r}: register_commands is not called for a plugin registered at run time: commands come "
            "from installed plugins (an entry point in group 'ganbench'); its other hooks are",
            stacklevel=2,
        )
    if isinstance(plugin, type) and any(inspect.isfunction(inspect.getattr_static(plugin, h)) for h in hooks):
        raise PluginError(  # a class whose hooks are plain methods: pluggy would call them without self
            f"plugin {label!r} is a class whose hooks are methods; register an instance of it: "
            f"register_plugin({plugin.__name__}())"
        )
    if pm.is_registered(plugin):
        raise PluginError(f"plugin {label!r} is already registered, as {pm.get_name(plugin)!r}; register it once")
    if pm.has_plugin(label) or pm.is_blocked(label):
        source, version = _origins.get(label, (label, "unknown"))
        raise PluginError(
            f"a plugin named {label!r} ({source} {version}) is already registered; pass another name=, "
            f"or unregister_plugin({label!r}) first"
        )
    try:
        pm.register(plugin, name=label)
    except pluggy.PluginValidationError as exc:  # a hook whose arguments the hookspec does not have
        raise unfit_hook(pm, exc, f"plugin {label!r}", "fix the plugin (ganbench.hookspecs)") from exc
    _origins[label] = (getattr(plugin, "__name__", label), "runtime")
    _registries = None
    try:
        check_hooks(pm, _origins)
        if _filling is None:  # its registration hooks run now: a failing one refuses the plugin, here
            registries()
    except BaseException:  # refused: leave the manager as it was, so the next register or run is not blamed
        pm.unregister(name=label)
        _origins.pop(label, None)
        _registries = None
        raise
    return label


def unregister_plugin(name: str) -> None:
    """Undo ``register_plugin``; PluginError if no plugin of that name is registered (a typo would undo nothing)."""
    global _registries
    pm = plugin_manager()
    runtime = sorted(n for n, (_, version) in _origins.items() if version == "runtime")
    if not isinstance(name, str) and pm.is_registered(name):  # the object register_plugin took, not its name
        raise PluginError(f"unregister_plugin takes the plugin's name, {pm.get_name(name)!r}, not the plugin itself")
    if not isinstance(name, str) or pm.get_plugin(name) is None:
        raise PluginError(
            f"no plugin named {short_repr(name)} is registered; "
            f"registered at run time: {', '.join(map(repr, runtime)) or 'none'}"
        )
    if name not in runtime:  # a built-in's names would be gone for the process, and plugins built on them fail
        source, _ = _origins.get(name, (name, ""))
        where = "built into ganbench" if name in DEFAULT_PLUGINS else f"installed (distribution {source!r})"
        raise PluginError(
            f"plugin {name!r} is {where}, not registered with register_plugin, which unregister_plugin undoes; "
            f"registered at run time: {', '.join(map(repr, runtime)) or 'none'}"
        )
    _refuse_if_needed(pm, name)
    pm.unregister(name=name)
    _origins.pop(name, None)
    _registries = None


def _refuse_if_needed(pm: pluggy.PluginManager, name: str) -> None:
    """PluginError if the plugins left without ``name`` fail to register (one derives a variant from one of its):
    every later call would fail, blaming the plugin built on it. Tried on a manager of the others, in their order,
    so the real one is left as it was."""
    global _registries
    if _filling is not None:
        return
    others = pluggy.PluginManager("ganbench")
    others.add_hookspecs(hookspecs)
    for other, plugin in pm.list_name_plugin():
        if other != name and plugin is not None:
            others.register(plugin, name=other)
    kept, _registries = _registries, None  # while the others register, their registries() calls see theirs
    try:
        _filled(others)
    except PluginError as exc:
        raise PluginError(
            f"plugin {name!r} cannot be unregistered while others need it (without it, {str(exc).split('; ')[0]}); "
            "unregister those first"
        ) from None
    finally:
        _registries = kept


def plugin_origins() -> dict[str, tuple[str, str]]:
    """Plugin name -> (module or distribution, version)."""
    plugin_manager()
    return dict(_origins)


def reset() -> None:
    """Forget all plugins; the next call loads them afresh."""
    global _pm, _registries
    _pm, _registries = None, None


def call_hook(hook: str, /, **kwargs: Any) -> Any:
    """Call ``hook`` by keyword on every plugin: a list of results (firstresult hooks: the first)."""
    return getattr(plugin_manager().hook, hook)(**kwargs)
