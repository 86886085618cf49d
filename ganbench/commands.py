"""The plugins that add command-line commands and options, loaded without the others.

``ganbench --help`` must list every command, including those plugins add through
``register_commands``, but must not pay for importing torch (seconds) to do it. So the CLI asks
a plugin manager of its own for commands: the built-in modules that add commands (kept free of
heavy imports) and the installed entry points. Variants, datasets and the rest load when a
command first needs them (``ganbench.plugins.registries``).
"""

from __future__ import annotations

import importlib

import pluggy

from ganbench import hookspecs
from ganbench.entry_points import check_hooks, load_entry_points

COMMAND_PLUGINS = ("ganbench.features.inception_command",)
"""Built-in plugin modules that implement ``register_commands`` (and import nothing heavy)."""


def add_plugin_commands(cli: object) -> None:
    """Let every plugin that adds commands or options add them to ``cli``."""
    pm = pluggy.PluginManager("ganbench")
    pm.add_hookspecs(hookspecs)
    for name in COMMAND_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    load_entry_points(pm, {})
    check_hooks(pm)
    pm.hook.register_commands(cli=cli)
