"""Image sets from files, for ``ganbench eval``: an .npz array or a folder of PNG/JPEG files.

A file set becomes an unregistered ``ImageFiles`` dataset, so samples made elsewhere are
scored by the same metric plugins as a training run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganbench.arrays import load_array
from ganbench.dataset import Dataset
from ganbench.errors import SamplesError
from ganbench.images import as_unit_nchw

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
ARRAY_KEYS = ("images", "samples", "x", "arr_0")
IMAGE_METRICS = ("fid", "is", "kid", "prdc")


def load_image_set(path: str | Path) -> torch.Tensor:
    """Images in ``path`` as float (N, 3, H, W) in [0, 1]: an .npz/.npy array or a folder of images."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SamplesError(f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        from PIL import Image

        arrays = [np.asarray(Image.open(f).convert("RGB")) for f in files]
        if len({a.shape for a in arrays}) > 1:
            raise SamplesError(f"images in {path} differ in size; resize them to one size first")
        return as_unit_nchw(np.stack(arrays))
    if not path.exists():
        raise SamplesError(f"{path} does not exist; pass an .npz file or a folder of images")
    array = load_array(path, ARRAY_KEYS, ndim=4, what="image")
    if len(array) == 0:
        raise SamplesError(f"{path} holds no images")
    return as_unit_nchw(array)


@dataclass(frozen=True)
class ImageFiles(Dataset):
    """Real images read from files; scored in Inception's feature space."""

    images: torch.Tensor = field(default=None, repr=False, compare=False, metadata={"option": False})
    metrics: tuple[str, ...] = field(default=IMAGE_METRICS, metadata={"option": False})
    features: str = field(default="inception", metadata={"option": False})

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def load(self) -> torch.Tensor:
        return self.images
