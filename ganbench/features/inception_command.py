"""``--inception-weights`` on the commands that may compute Inception features.

Its own plugin module, apart from ``inception``, so that adding a command-line option does not
import torch: ``ganbench --help`` loads only the plugins that add commands (``ganbench.commands``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError, refuse_link_loop
from ganbench.hookspecs import hookimpl
from ganbench.writable import kind_of

WEIGHTS_ENV = "GANBENCH_INCEPTION_WEIGHTS"
"""Where the FID Inception weights file is, when it is not in torch's hub cache."""


class WeightsError(GanbenchError):
    """Inception weights that cannot be found, fetched or read."""


def named_weights(path: str | os.PathLike, source: str) -> Path:
    """A weights file the user named (``source``: the option or variable that named it); WeightsError if missing."""
    if not str(path).strip():  # Path("") is the working folder: "are a folder" told nothing
        raise WeightsError(f"{source} is empty; name the weights file (pytorch-fid's pt_inception-*.pth)")
    path = Path(path)
    if not path.is_file():
        refuse_link_loop(path, f"Inception weights (from {source}) ")
        state = f"are {kind_of(path)}, not a weights file" if path.exists() else "do not exist"
        raise WeightsError(f"Inception weights {path} (from {source}) {state}; fix the path")
    return path


def _use_weights(ctx: Any, param: Any, value: str | None) -> None:
    """``--inception-weights PATH``: checked now, then passed to the extractor through the environment."""
    if value is not None:
        os.environ[WEIGHTS_ENV] = str(named_weights(value, "--inception-weights"))


@hookimpl
def register_commands(cli):
    """``--inception-weights`` on the commands that score: ``run``, ``eval``, ``sweep``, ``leaderboard check`` and
    ``update`` (their messages advise it); and ``leaderboard show``, whose suite's runs are those scored with them."""
    import click

    board = cli.commands.get("leaderboard")
    scoring = [cli.commands.get(name) for name in ("run", "eval", "sweep")]
    scoring += (
        [board.commands.get(name) for name in ("check", "update", "show")] if isinstance(board, click.Group) else []
    )
    for command in scoring:
        if command is not None and not any(p.name == "inception_weights" for p in command.params):
            command.params.append(
                click.Option(
                    ["--inception-weights"],
                    expose_value=False,
                    callback=_use_weights,
                    help=f"FID Inception weights file (or set {WEIGHTS_ENV}); default: torch's hub cache.",
                )
            )
