"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint holds plain tensors, numbers and strings only (model and optimizer state,
RNG states, loop counters) and the run id it belongs to, so a checkpoint of another run
is refused instead of silently resumed.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganbench.errors import CheckpointError
from ganbench.results import write_atomic

FILENAME = "checkpoint.pt"
FORMAT = "ganbench-checkpoint-1"


def save_checkpoint(path: Path, run_id: str, state: dict[str, Any]) -> None:
    write_atomic(path, lambda f: torch.save({"format": FORMAT, "run_id": run_id, "state": state}, f))


def load_checkpoint(path: Path, run_id: str) -> dict[str, Any]:
    """The saved training state; CheckpointError if the file is corrupt or another run's."""
    fix = f"delete {path} or rerun with --force to start this run over"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable ({first_line}); {fix}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganbench checkpoint; {fix}")
    if payload.get("run_id") != run_id:
        raise CheckpointError(f"checkpoint {path} belongs to run {payload.get('run_id')}, not {run_id}; {fix}")
    return payload["state"]
