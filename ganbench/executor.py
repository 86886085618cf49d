"""What an executor is: something that runs many jobs and returns one record each.

A job is a picklable ``(function, kwargs)`` pair, so an executor can ship it to another
process or machine. The function itself catches a failing run and returns a record saying
so: an executor never has to handle one run's failure to keep the others going.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Job = tuple[Callable[..., Any], dict[str, Any]]


@dataclass(frozen=True)
class Executor:
    """Base class of executors."""

    name: str
    description: str = ""

    def run(self, jobs: Sequence[Job], workers: int = 1) -> list[Any]:
        """Results of ``fn(**kwargs)`` for each job, in order."""
        raise NotImplementedError
