"""``stacked-mnist``: three MNIST digits stacked as the channels of one 3x28x28 image.

Each channel is an independently drawn digit of MNIST's ``split``, so the data has 1,000
modes (digit triples): the mode-collapse benchmark of VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018, Table 2). Evaluation follows them: 26,000 generated samples, each
channel classified by an MNIST classifier, modes = distinct triples, reverse KL against
the uniform distribution over the 1,000 triples (the ``stacked-modes`` metric).

The training set is ``n_samples`` index triples drawn once with ``data_seed``: memory
holds indices, not images, and batches are gathered from the digits on the training
device. The real images of evaluation come from their own seeded triples.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Literal

import torch

from ganbench.dataset import Dataset
from ganbench.hookspecs import hookimpl
from ganbench.images import ImageDataset, to_unit_range
from ganbench.options import option
from ganbench.paths import data_root

CHANNELS = 3
TRAIN_STREAM, REFERENCE_STREAM = "train", "reference"

_on_device: dict[tuple[torch.device, str, str], tuple[str | None, torch.Tensor]] = {}
"""(device, split, data root) -> the files' ``data_identity`` and their MNIST digits (N, 28, 28) uint8 on that
device, for ``to_model``'s gathers."""


def draw_triples(n_digits: int, n: int, data_seed: int, stream: str) -> torch.Tensor:
    """``n`` int64 index triples into ``n_digits`` digits, reproducible from (data_seed, stream)."""
    digest = hashlib.sha256(f"stacked-mnist/{data_seed}/{stream}".encode()).digest()
    gen = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return torch.randint(n_digits, (n, CHANNELS), generator=gen)


def gather(digits: torch.Tensor, triples: torch.Tensor) -> torch.Tensor:
    """Digits (N, 28, 28) indexed by triples (B, 3) -> images (B, 3, 28, 28), on the digits' device."""
    return digits[triples]


@dataclass(frozen=True)
class StackedMNIST(ImageDataset):
    """Index triples into MNIST's ``split``; images are made from them on the device."""

    metrics: tuple[str, ...] = field(default=("stacked-modes", "fid", "kid"), metadata={"option": False})
    conditional_metrics: tuple[str, ...] = field(default=(), metadata={"option": False})
    eval_samples: int = field(default=26_000, metadata={"option": False})
    stacked_channels: int = field(default=CHANNELS, metadata={"option": False})
    """Channels that each hold one MNIST digit; the stacked-modes metric classifies each."""
    split: Literal["train", "test"] = "train"
    n_samples: int = option(100_000, ge=1, le=10**8)
    data_seed: int = option(0, ge=0, le=2**63 - 1)

    @property
    def shape(self) -> tuple[int, ...]:
        return (CHANNELS, 28, 28)

    def mnist(self) -> Dataset:
        """The registered ``mnist`` dataset, whole ``split`` (looked up when needed, so a plugin may replace it)."""
        import ganbench

        return dataclasses.replace(ganbench.get_dataset("mnist"), split=self.split, n_samples=None)

    def digits(self) -> tuple[torch.Tensor, torch.Tensor]:
        """MNIST's ``split``: uint8 (N, 1, 28, 28) digits and int64 labels, on the CPU."""
        mnist = self.mnist()
        return mnist.load(), mnist.labels()

    def load(self) -> torch.Tensor:
        """int64 (n_samples, 3): the training items (MNIST indices, one per channel)."""
        return draw_triples(len(self.digits()[0]), self.n_samples, self.data_seed, TRAIN_STREAM)

    def to_model(self, items: torch.Tensor) -> torch.Tensor:
        key, identity = (items.device, self.split, str(data_root())), self.data_identity()
        if key not in _on_device or _on_device[key][0] != identity:  # files rewritten: read again (pass 80)
            _on_device[key] = identity, self.digits()[0][:, 0].to(items.device)
        return to_unit_range(gather(_on_device[key][1], items))

    def reference_triples(self) -> torch.Tensor:
        """The ``eval_samples`` triples whose images are the real side of evaluation."""
        return draw_triples(len(self.digits()[0]), self.eval_samples, self.data_seed, REFERENCE_STREAM)

    def reference(self) -> torch.Tensor:
        return gather(self.digits()[0][:, 0], self.reference_triples())

    def triple_labels(self) -> torch.Tensor:
        """int64 (eval_samples, 3): the digit in each channel of ``reference()``."""
        return self.digits()[1][self.reference_triples()]

    def classifier_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Single-channel MNIST digits and labels: the classifier is applied to each channel."""
        return self.digits()

    def available(self) -> bool | None:
        return self.mnist().available()

    def data_identity(self) -> str | None:
        return self.mnist().data_identity()  # MNIST files nothing vouches for are these runs' data too


STACKED_MNIST = StackedMNIST(
    "stacked-mnist", description="3 MNIST digits as the channels of one image: 1,000 modes (VEEGAN, PacGAN)"
)


@hookimpl
def register_datasets(register):
    register(STACKED_MNIST)
