"""Which torch device a run trains on: a name checked against this machine before any work.

``torch.device("foo")`` raises a RuntimeError and ``torch.device("cuda")`` on a machine
without a GPU fails only at the first tensor; both become one line here.
"""

from __future__ import annotations

import torch

from ganbench.errors import GanbenchError

KNOWN = ("cpu", "cuda", "mps")


class DeviceError(GanbenchError):
    """A device name that is malformed or absent on this machine."""


def default_device() -> torch.device:
    """CUDA when torch sees a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """``name`` as a device that exists here (None: the default), or DeviceError."""
    if name is None:
        return default_device()
    if isinstance(name, torch.device):
        device = name
    else:
        text = str(name).strip()
        try:
            device = torch.device(text)
        except (RuntimeError, ValueError):
            raise DeviceError(f"unknown device {text!r}; use cpu, cuda, cuda:N or mps") from None
    if device.type not in KNOWN:
        raise DeviceError(f"device {str(device)!r} is not supported; use cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "no CUDA"
            raise DeviceError(
                f"--device {device} but torch {torch.__version__} ({build}) finds no CUDA GPU here; use --device cpu"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"--device {device} but this machine has {count} CUDA GPU(s): cuda:0 to cuda:{count - 1}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("--device mps but torch finds no Apple GPU here; use --device cpu")
    return device
