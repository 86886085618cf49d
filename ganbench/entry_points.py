"""Third-party plugins: the modules the entry-point group ``ganbench`` names, loaded into a plugin manager."""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect

import pluggy

from ganbench.errors import PluginError, one_line, raised
from ganbench.hookspecs import LOGGER_HOOKS

ENTRY_POINT_GROUP = "ganbench"


def load_entry_points(pm: pluggy.PluginManager, origins: dict[str, tuple[str, str]]) -> None:
    """Register every installed entry point's plugin in ``pm`` and its (distribution, version) in ``origins``;
    a plugin that fails to import is one line naming its distribution."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "unknown distribution"
        version = ep.dist.version if ep.dist else "unknown"
        try:
            plugin = ep.load()
        except (Exception, SystemExit) as exc:  # sys.exit(0) at import must not end ganbench as if all went well
            raise PluginError(
                f"plugin {ep.name!r} (distribution {dist} {version}) failed to import: "
                f"{raised(exc)}; fix it or `pip uninstall {dist}`"
            ) from exc
        if pm.is_registered(plugin):  # one distribution found twice on the path
            continue
        name = ep.name if not pm.has_plugin(ep.name) else f"{ep.name} ({dist})"  # two distributions' entry points
        try:  # of one name (a template's "plugin"): both register (pass 97: the second was dropped without a word)
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:  # a hook whose arguments the hookspec does not have
            who = f"plugin {ep.name!r} (distribution {dist} {version})"
            raise unfit_hook(pm, exc, who, f"fix it (ganbench.hookspecs) or `pip uninstall {dist}`") from exc
        origins[name] = (dist, version)


def unfit_hook(pm: pluggy.PluginManager, exc: pluggy.PluginValidationError, who: str, fix: str) -> PluginError:
    """The one line for a plugin ``pm`` refused (``who``): the hook whose arguments ganbench does not pass, and
    those it does (pluggy's message is several lines and names neither)."""
    plugin = exc.plugin
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        hook = (opts or {}).get("specname") or attr
        caller = getattr(pm.hook, hook, None)
        if opts is None or caller is None or caller.spec is None:
            continue
        params = inspect.signature(getattr(plugin, attr)).parameters.values()
        takes = [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        extra = [name for name in takes if name not in caller.spec.argnames]
        if extra:
            return PluginError(
                f"{who} implements {hook}({', '.join(takes)}), but ganbench calls {hook}"
                f"({', '.join(caller.spec.argnames)}): it has no {', '.join(extra)} to pass; {fix}"
            )
    return PluginError(f"{who} does not fit ganbench's hooks: {one_line(exc)}; {fix}")


def check_hooks(pm: pluggy.PluginManager, origins: dict[str, tuple[str, str]]) -> None:
    """PluginError if a plugin implements a hook ganbench does not declare, naming the plugin as pip knows it
    (pluggy names its module object)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or "?"
        source, version = origins.get(name, (name, "unknown"))
        callers = {hook: caller for hook, caller in vars(pm.hook).items() if not hook.startswith("_")}
        unknown = sorted(
            hook
            for hook, caller in callers.items()
            if caller.spec is None and any(impl.plugin is exc.plugin for impl in caller.get_hookimpls())
        )
        known = sorted(hook for hook, caller in callers.items() if caller.spec is not None)
        near = difflib.get_close_matches(unknown[0], known, n=1) if unknown else []
        hint = f"did you mean {near[0]}?" if near else f"the hooks: {', '.join(known)}"
        uninstall = "" if version == "runtime" else f" or `pip uninstall {source}`"  # register_plugin's: no package
        raise PluginError(
            f"plugin {name!r} ({source} {version}) implements {', '.join(unknown) or 'a hook'}, which ganbench does "
            f"not declare; fix the name ({hint}){uninstall}"
        ) from exc
    for hook in LOGGER_HOOKS:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} implements {hook} as a wrapper; ganbench calls logger hooks one "
                    "plugin at a time, so fix the plugin: a plain @hookimpl"
                )


def distribution_version(dist: str) -> str:
    """The installed version of ``dist``, or "unknown"."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
