"""RunRecord: what a run folder says about a run; atomic writes; load_results() -> DataFrame.

A run folder holds spec.json, metrics.json (the scores and nothing else, so two runs of
one spec compare bitwise), record.json (the RunRecord: status, budget use, environment,
timings), history.csv, samples.png and checkpoint.pt.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

SCHEMA_VERSION = 1
_UMASK = os.umask(0)
os.umask(_UMASK)
RECORD = "record.json"
SPEC = "spec.json"
METRICS = "metrics.json"

Status = Literal["completed", "diverged", "failed"]
StoppedBy = Literal["steps", "max_seconds", "diverged", "error"]


@dataclass
class RunRecord:
    """The outcome of one run."""

    run_id: str
    spec: dict[str, Any]
    status: Status
    stopped_by: StoppedBy
    steps_done: int
    run_dir: str = ""
    diverged_at: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    resumed_from: int | None = None
    error: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    write_atomic(path, lambda f: f.write(json.dumps(data, indent=2, sort_keys=True, allow_nan=True).encode() + b"\n"))


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_record(run_dir: Path) -> RunRecord | None:
    """The record of a finished run, or None if the folder holds none (or a broken one)."""
    try:
        return RunRecord.from_dict(json.loads((Path(run_dir) / RECORD).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_record(record: RunRecord) -> None:
    run_dir = Path(record.run_dir)
    write_json_atomic(run_dir / METRICS, record.metrics)
    write_json_atomic(run_dir / RECORD, record.to_dict())


def load_results(root: str | Path) -> pd.DataFrame:
    """One row per run found under ``root``: ids, spec fields, status and every metric."""
    rows = []
    for path in sorted(Path(root).rglob(RECORD)):
        record = read_record(path.parent)
        if record is None:
            continue
        spec = record.spec
        rows.append(
            {
                "run_id": record.run_id,
                "variant": spec["variant"],
                "dataset": spec["dataset"],
                "network": spec["network"],
                "seed": spec["seed"],
                "steps": spec["budget"]["steps"],
                "status": record.status,
                "steps_done": record.steps_done,
                "diverged_at": record.diverged_at,
                "train_seconds": record.train_seconds,
                "run_dir": str(path.parent),
                **{k: v for k, v in record.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
            }
        )
    return pd.DataFrame(rows)
