"""Image sets from files, for ``ganbench eval``: an .npz array or a folder of PNG/JPEG files.

A file set becomes an unregistered ``ImageFiles`` dataset, so samples made elsewhere are
scored by the same metric plugins as a training run. Images are read as uint8 (N, C, H, W),
as PNG files hold them; float arrays in [0, 1] are rounded to that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganbench.arrays import load_array
from ganbench.errors import SamplesError
from ganbench.images import ImageDataset, as_uint8_nchw

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
ARRAY_KEYS = ("images", "samples", "x", "arr_0")


def load_image_set(path: str | Path) -> torch.Tensor:
    """Images in ``path`` as uint8 (N, C, H, W): an .npz/.npy array or a folder of images (as RGB)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SamplesError(f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        from PIL import Image

        arrays = [np.asarray(Image.open(f).convert("RGB")) for f in files]
        if len({a.shape for a in arrays}) > 1:
            raise SamplesError(f"images in {path} differ in size; resize them to one size first")
        return as_uint8_nchw(np.stack(arrays))
    if not path.exists():
        raise SamplesError(f"{path} does not exist; pass an .npz file or a folder of images")
    array = load_array(path, ARRAY_KEYS, ndim=4, what="image")
    if len(array) == 0:
        raise SamplesError(f"{path} holds no images")
    return as_uint8_nchw(array)


@dataclass(frozen=True)
class ImageFiles(ImageDataset):
    """Real images read from files (unlabelled); scored in Inception's feature space, used whole."""

    images: torch.Tensor = field(default=None, repr=False, compare=False, metadata={"option": False})
    feature_spaces: tuple[str, ...] = field(default=("inception",), metadata={"option": False})

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def load(self) -> torch.Tensor:
        return self.images
