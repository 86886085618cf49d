"""What an executor is: something that runs many jobs and returns one record each.

A job is a picklable ``(function, kwargs)`` pair, so an executor can ship it to another
process or machine. The function itself catches a failing run and returns a record saying
so: an executor never has to handle one run's failure to keep the others going.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ganbench.options import validate_options

Job = tuple[Callable[..., Any], dict[str, Any]]
OnResult = Callable[[int, Any], None]
"""Called with (job index, result) as each job finishes, in any order: progress bars, ETAs."""


@dataclass(frozen=True)
class Executor:
    """Base class of executors. Scalar fields are options (``--executor-option KEY=VALUE``)."""

    kind: ClassVar[str] = "executor"
    option_flag: ClassVar[str] = "--executor-option "
    """How a user sets an option (in messages): ``--executor-option KEY=VALUE``."""
    runs_here: ClassVar[bool] = False
    """Whether the jobs run on this machine: then its free memory bounds each run, and a run whose networks cannot
    fit is refused before any starts. A cluster's machines are not this one's, so by default nothing is assumed."""

    name: str
    description: str = field(default="", metadata={"option": False})

    def __post_init__(self) -> None:
        validate_options(self)

    def run(self, jobs: Sequence[Job], workers: int = 1, on_result: OnResult | None = None) -> list[Any]:
        """Results of ``fn(**kwargs)`` for each job, in order; ``on_result`` as each one finishes."""
        raise NotImplementedError
