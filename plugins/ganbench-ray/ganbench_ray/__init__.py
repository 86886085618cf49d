"""ganbench-ray: the ``ray`` executor, each run a task on a Ray cluster.

``ganbench run ... --executor ray --workers 4 [--ray-address HOST:PORT]``. Ray is imported
only when the executor runs, so the plugin registers (and ``ganbench list`` shows it) even
where Ray is missing; running it then says to ``pip install ray``. See
``ganbench_ray.executor`` for the cluster, threads, retries and files.
"""

from __future__ import annotations

from typing import Any

import ganbench
from ganbench_ray.executor import RayExecutor, RayExecutorError, set_cli_address

__all__ = ["RayExecutor", "RayExecutorError"]

COMMANDS = (("run",), ("sweep",), ("leaderboard", "check"), ("leaderboard", "update"))
"""The commands that take --executor (as paths from the top group): each gets --ray-address (those that exist)."""


@ganbench.hookimpl
def register_executors(register):
    register(
        RayExecutor(
            "ray",
            description="a Ray cluster (--ray-address, RAY_ADDRESS, or local): each run a task, "
            "retried and resumed if its worker dies",
        )
    )


def _use_address(ctx: Any, param: Any, value: str | None) -> None:
    set_cli_address(value)


@ganbench.hookimpl
def register_commands(cli):
    """``--ray-address`` on the commands that take ``--executor``."""
    import click

    for path in COMMANDS:
        command = cli
        for name in path:
            command = getattr(command, "commands", {}).get(name)
        if command is not None and not any(p.name == "ray_address" for p in command.params):
            command.params.append(
                click.Option(
                    ["--ray-address"],
                    metavar="HOST:PORT",
                    expose_value=False,
                    callback=_use_address,
                    help="Ray cluster for --executor ray (or set RAY_ADDRESS; default: a local cluster).",
                )
            )
