"""The plugins that add command-line commands and options, loaded without the others.

``ganbench --help`` must list every command, including those plugins add through
``register_commands``, but must not pay for importing torch (seconds) to do it. So the CLI asks
a plugin manager of its own for commands: the built-in modules that add commands (kept free of
heavy imports) and the installed entry points. Variants, datasets and the rest load when a
command first needs them (``ganbench.plugins.registries``).
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING

import pluggy

from ganbench import hookspecs
from ganbench.entry_points import check_hooks, load_entry_points
from ganbench.errors import PluginError

if TYPE_CHECKING:
    import click

COMMAND_PLUGINS = ("ganbench.features.inception_command",)
"""Built-in plugin modules that implement ``register_commands`` (and import nothing heavy)."""


COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*")
"""What a plugin's command may be called: one word, as the built-in commands are."""


def add_plugin_commands(cli: click.Group) -> None:
    """Let every plugin that adds commands or options add them to ``cli``, one plugin at a time: one that fails,
    replaces a command another already added, or names one so no user can type it, is one line naming it (its
    hook runs before any command, so a traceback there would break every command, ``--help`` too)."""
    for name in _added.pop(id(cli), ()):  # main() again in one process (a script, tests): the plugins add afresh
        cli.commands.pop(name, None)
    ours = set(cli.commands)
    try:
        _add(cli)
    finally:
        _added[id(cli)] = [name for name in cli.commands if name not in ours]


_added: dict[int, list[str]] = {}
"""The commands plugins added to a group (by its id), taken out before they add them again."""


def _add(cli: click.Group) -> None:
    pm = pluggy.PluginManager("ganbench")
    pm.add_hookspecs(hookspecs)
    for name in COMMAND_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    origins: dict[str, tuple[str, str]] = {}
    load_entry_points(pm, origins)
    check_hooks(pm, origins)
    for impl in reversed(pm.hook.register_commands.get_hookimpls()):
        dist, version = origins.get(impl.plugin_name, ("ganbench", ""))
        plugin = f"plugin {impl.plugin_name!r} ({dist} {version})".replace(" )", ")")
        fix = f"fix it, or `pip uninstall {dist}`"
        before = dict(cli.commands)
        try:
            impl.function(*[{"cli": cli}[name] for name in impl.argnames])
        except (Exception, SystemExit) as exc:  # sys.exit(0) must not end ganbench as if all went well
            if impl.plugin_name in COMMAND_PLUGINS:
                raise
            raise PluginError.failed(plugin, "register_commands", exc, fix) from exc
        replaced = [name for name, command in before.items() if cli.commands.get(name) is not command]
        unnamed = [name for name in cli.commands if name not in before and not COMMAND_NAME.fullmatch(name)]
        if replaced or unnamed:
            cli.commands.clear()
            cli.commands.update(before)
            what = f"replaces command {replaced[0]!r}" if replaced else f"adds a command named {unnamed[0]!r}"
            rule = "" if replaced else " (a command is one lower-case word: letters, digits, hyphens)"
            raise PluginError(f"{plugin} {what}{rule}; {fix}")
