"""``--inception-weights`` on the commands that may compute Inception features.

Its own plugin module, apart from ``inception``, so that adding a command-line option does not
import torch: ``ganbench --help`` loads only the plugins that add commands (``ganbench.commands``).
"""

from __future__ import annotations

import os
from typing import Any

from ganbench.hookspecs import hookimpl

WEIGHTS_ENV = "GANBENCH_INCEPTION_WEIGHTS"
"""Where the FID Inception weights file is, when it is not in torch's hub cache."""


def _use_weights(ctx: Any, param: Any, value: str | None) -> None:
    """``--inception-weights PATH``: checked now, then passed to the extractor through the environment."""
    if value is not None:
        from ganbench.features.inception import resolve_weights

        os.environ[WEIGHTS_ENV] = str(resolve_weights(value, download=False))


@hookimpl
def register_commands(cli):
    """``--inception-weights`` on ``run`` and ``eval``."""
    import click

    for name in ("run", "eval"):
        command = cli.commands.get(name)
        if command is not None and not any(p.name == "inception_weights" for p in command.params):
            command.params.append(
                click.Option(
                    ["--inception-weights"],
                    expose_value=False,
                    callback=_use_weights,
                    help=f"FID Inception weights file (or set {WEIGHTS_ENV}); default: torch's hub cache.",
                )
            )
