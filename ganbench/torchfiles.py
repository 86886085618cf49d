"""Reading files torch.save wrote, safely: the one place ganbench calls ``torch.load``.

``weights_only=True`` builds tensors and containers and never runs a pickled object's code; torch's
own warnings about the file are silenced (the caller judges the file); every failure is a
``TorchFileError`` whose text is one short line: torch's messages run to paragraphs and advise
``weights_only=False``, which is what a hostile file wants.
"""

from __future__ import annotations

import io
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganbench.devices import out_of_memory


class TorchFileError(ValueError):
    """A file torch.save did not write, or wrote and something damaged since; the text says which, in one line."""


def load_torch_file(source: str | Path | io.BytesIO) -> Any:
    """What ``source`` holds, on the CPU; TorchFileError if it holds Python objects other than tensors (never
    unpickled) or is truncated or corrupt; OSError if it cannot be opened."""
    if not isinstance(source, io.BytesIO):
        if Path(source).exists() and not Path(source).is_file():  # opening a FIFO would wait for a writer forever
            raise TorchFileError("is not a regular file (a FIFO, a device or a folder)")
        with open(source, "rb") as f:  # OSError here: the file cannot be opened; below: what it holds is damaged
            return load_torch_file(io.BytesIO(f.read()))
    try:
        with warnings.catch_warnings():  # "pickle protocol 4", sparse invariants, ...
            warnings.simplefilter("ignore")
            return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise TorchFileError(
            "holds something other than tensors, or is damaged (Python objects are never unpickled: that could "
            "run code)"
        ) from None
    except (RuntimeError, ValueError, EOFError, OSError, zipfile.BadZipFile, IndexError, KeyError, TypeError) as exc:
        if out_of_memory(exc) is not None:  # a sound file that does not fit: never "corrupt, delete it" (pass 71)
            raise
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        first = re.split(r"(?<=[.!])\s", line)[0][:120]  # torch's first sentence; the rest is advice for developers
        raise TorchFileError(f"is truncated or corrupt: {first}") from None
