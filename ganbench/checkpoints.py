"""Checkpoints: checksummed, written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint file is one header line and a torch payload::

    GANBENCH-CHECKPOINT {"format": 2, "run_id": ..., "step": ..., "bytes": N, "sha256": ...}\\n<payload>

The payload (``torch.save`` of the training state: tensors, numbers and strings only) is
verified against its length and sha256 before torch reads a byte of it, so a flipped bit
anywhere, a truncated file or another run's checkpoint is refused in one line, never
resumed. The header alone tells a checkpoint's run and step (``checkpoint_header``).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import torch

from ganbench.atomic import write_atomic
from ganbench.errors import CheckpointError
from ganbench.torchfiles import TorchFileError, load_torch_file

FILENAME = "checkpoint.pt"
MAGIC = b"GANBENCH-CHECKPOINT "
FORMAT = 2
MAX_HEADER = 4096


def save_checkpoint(path: Path, run_id: str, state: dict[str, Any]) -> None:
    """Write ``state`` with its checksum; readers see the old checkpoint or the new one, never half."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getbuffer()
    header = {
        "format": FORMAT,
        "run_id": run_id,
        "step": int(state.get("step", 0)),
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    line = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    write_atomic(path, lambda f: (f.write(line), f.write(payload)))


def checkpoint_header(path: Path) -> dict[str, Any]:
    """The header of a checkpoint (run id, step, size, checksum) without reading its payload."""
    with open(path, "rb") as f:
        return _parse_header(path, f.read(len(MAGIC) + MAX_HEADER))[0]


def load_checkpoint(path: Path, run_id: str) -> dict[str, Any]:
    """The saved training state, verified; CheckpointError if the file is corrupt, truncated or another run's."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc.strerror or exc}); {_fix(path)}") from None
    header, start = _parse_header(path, data)
    payload = memoryview(data)[start:]
    if len(payload) != header["bytes"]:
        raise CheckpointError(
            f"checkpoint {path} is truncated or has extra bytes ({len(payload)} of {header['bytes']}); {_fix(path)}"
        )
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise CheckpointError(f"checkpoint {path} is corrupt (its checksum does not match its contents); {_fix(path)}")
    if header["run_id"] != run_id:
        raise CheckpointError(f"checkpoint {path} belongs to run {header['run_id']}, not {run_id}; {_fix(path)}")
    try:
        state = load_torch_file(io.BytesIO(payload))
    except TorchFileError as exc:
        raise CheckpointError(f"checkpoint {path} is unreadable (it {exc}); {_fix(path)}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds no training state; {_fix(path)}")
    return state


def _parse_header(path: Path, data: bytes) -> tuple[dict[str, Any], int]:
    """(header, offset of the payload), or CheckpointError naming what is wrong."""
    if not data.startswith(MAGIC):
        if data.startswith(b"PK\x03\x04"):
            raise CheckpointError(
                f"{path} is a checkpoint of an older ganbench without a checksum, or not a ganbench checkpoint; "
                f"{_fix(path)}"
            )
        what = "is empty (0 bytes): not" if not data else "is not"  # a disk that filled up as it was made, say
        raise CheckpointError(f"{path} {what} a ganbench checkpoint; {_fix(path)}")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    try:
        header = json.loads(data[len(MAGIC) : end]) if end > 0 else None
    except (ValueError, UnicodeDecodeError):
        header = None
    fields = {"format": int, "run_id": str, "step": int, "bytes": int, "sha256": str}
    if not isinstance(header, dict) or any(not isinstance(header.get(k), t) for k, t in fields.items()):
        raise CheckpointError(f"checkpoint {path} has a corrupt header; {_fix(path)}")
    if header["format"] != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {header['format']}, not {FORMAT}; {_fix(path)}")
    return header, end + 1


def _fix(path: Path) -> str:
    return f"delete {path} to start this run afresh (`ganbench run` also takes --force)"
