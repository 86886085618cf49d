"""``digits``: scikit-learn's 8x8 handwritten digits, the image dataset that needs no download.

scikit-learn ships the 1,797 images inside its package (``sklearn.datasets.load_digits``),
so this works on any machine. Their values are 0..16 (counts of set pixels in 4x4 blocks);
they are scaled to uint8 as round(v * 255 / 16), so 16 becomes 255 and the images are
ordinary 8-bit greyscale. Inception does not see 8 x 8 images meaningfully, so they are
evaluated in the classifier's feature space only, on the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch

from ganbench.errors import GanbenchError
from ganbench.hookspecs import hookimpl
from ganbench.images import ImageDataset

MAX_VALUE = 16
N_IMAGES = 1797


@cache
def digits_arrays() -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images (1797, 1, 8, 8) in 0..255, int64 labels), read once per process."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise GanbenchError("dataset 'digits' needs scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    scaled = np.rint(bunch.images * (255 / MAX_VALUE)).astype(np.uint8)
    return torch.from_numpy(scaled[:, None]).contiguous(), torch.from_numpy(bunch.target.astype(np.int64))


@dataclass(frozen=True)
class Digits(ImageDataset):
    """The 1,797 scikit-learn digits as 1x8x8 uint8 images with their 10 classes."""

    feature_spaces: tuple[str, ...] = field(default=("classifier",), metadata={"option": False})
    eval_samples: int = field(default=N_IMAGES, metadata={"option": False})

    @property
    def shape(self) -> tuple[int, ...]:
        return (1, 8, 8)

    @property
    def n_classes(self) -> int:
        return 10

    def load(self) -> torch.Tensor:
        return digits_arrays()[0]

    def labels(self) -> torch.Tensor:
        return digits_arrays()[1]


DIGITS = Digits(
    "digits",
    description="scikit-learn's 8x8 digits (1,797 images, 10 classes), embedded: no download",
    default_network="dcgan",
)


@hookimpl
def register_datasets(register):
    register(DIGITS)
