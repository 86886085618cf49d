"""What a run ran on: versions, plugins, hardware. Stored in each record.json."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from typing import Any

import numpy as np
import torch

from ganbench.plugins import plugin_origins


def environment(device: torch.device) -> dict[str, Any]:
    from ganbench import __version__

    env: dict[str, Any] = {
        "ganbench": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "plugins": {name: {"source": s, "version": v} for name, (s, v) in sorted(plugin_origins().items())},
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def library_versions() -> dict[str, str]:
    """Versions of the libraries that metric values depend on."""
    import scipy

    versions = {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__}
    versions["scipy"] = scipy.__version__
    for dist in ("ganbench", "pytorch-fid", "torchvision"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as lines:  # closed: a plugin's tests under -W error see no ResourceWarning
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
