"""What a dataset is: training items, their labels, the network and metrics that fit them.

A dataset is a frozen dataclass; its scalar fields are options (``--set dataset.x=...``)
recorded in the run spec. Three representations of a sample, so that each lives where it
is cheapest:

- items (``load()``): what training indexes, kept on the training device. Float vectors
  for mixtures, uint8 (N, C, H, W) for images, index triples for Stacked MNIST.
- model input (``to_model(items)``): float32 batches the networks see ([-1, 1] for images),
  made on the device, batch by batch.
- evaluation samples (``from_model(output)``, ``reference()``): what metrics compare.
  Images are uint8 (N, C, H, W), as if saved to PNG, so ``ganbench eval`` on saved images
  scores exactly what a run scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ganbench.errors import OptionError, shown_path
from ganbench.options import validate_options

DATA_KINDS = ("vectors", "images")
"""The kinds of data a variant may declare defaults for (``Dataset.data_kind``)."""


@dataclass(frozen=True)
class Modes:
    """The components of a mixture: means (K x d) and their common standard deviation."""

    means: np.ndarray
    sigma: float


@dataclass(frozen=True)
class Dataset:
    """Base class of datasets. Subclasses fill ``shape`` and implement ``load``."""

    kind: ClassVar[str] = "dataset"

    name: str
    description: str = field(default="", metadata={"option": False})
    default_network: str = field(default="mlp", metadata={"option": False})
    metrics: tuple[str, ...] = field(default=(), metadata={"option": False})
    """Metrics computed when a run names none."""
    conditional_metrics: tuple[str, ...] = field(default=(), metadata={"option": False})
    """Metrics added to the defaults when the variant is class-conditional."""
    feature_spaces: tuple[str, ...] = field(default=("raw",), metadata={"option": False})
    """Feature extractors that space-aware metrics (FID, KID, PR/DC, IS) run in, in this order."""
    eval_samples: int = field(default=2500, metadata={"option": False})
    """Generated samples a run scores by default (and real samples they are compared with)."""
    default_steps: int = field(default=10_000, metadata={"option": False})
    """Generator updates a run trains when it names no budget (``--steps``)."""

    def __post_init__(self) -> None:
        validate_options(self)
        steps = self.default_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise OptionError(f"dataset {self.name!r}: default_steps must be a positive integer, not {steps!r}")

    @property
    def title(self) -> str:
        """How messages name it: ``'ring8'``, or with the data it reads (``'files' (/home/me/pets)``)."""
        return titled(self.name, {"path": getattr(self, "path", None)})

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample as the networks see it."""
        raise NotImplementedError

    @property
    def data_kind(self) -> str:
        """The kind of data (one of ``DATA_KINDS``), which picks a variant's per-kind defaults
        (``Variant.defaults``): "images" for (channels, height, width) samples, "vectors" for anything else."""
        return "images" if len(self.shape) == 3 else "vectors"

    @property
    def n_classes(self) -> int:
        """Number of classes of the labels (0: unlabelled)."""
        return 0

    @property
    def modes(self) -> Modes | None:
        """The mixture components, for datasets that have them."""
        return None

    def load(self) -> torch.Tensor:
        """All training items (N, ...): what batches index, on any device."""
        raise NotImplementedError

    def labels(self) -> torch.Tensor | None:
        """The class (int64, 0..n_classes-1) of each training item, or None."""
        return None

    def to_model(self, items: torch.Tensor) -> torch.Tensor:
        """A batch of items as float32 model input, on the items' device."""
        return items.float()

    def from_model(self, output: torch.Tensor) -> torch.Tensor:
        """Generator output as evaluation samples (what ``reference()`` holds)."""
        return output.float()

    def reference(self) -> torch.Tensor:
        """Real samples that evaluation compares against (the training samples by default), on the CPU."""
        return self.load()

    def reference_labels(self) -> torch.Tensor | None:
        """The labels of ``reference()``, for per-class metrics."""
        return self.labels()

    def why_not_offered(self, space: str) -> str:
        """Why this dataset offers no ``space`` features, where a message should say it (a folder of one class
        has no classifier space); "" where it has nothing to say."""
        return ""

    def classifier_data(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Labelled uint8 images (N, C, H, W) and int64 labels that a classifier feature space is
        trained on, or None. Default: the dataset's own items and labels, when it has labels.

        A dataset whose samples stack several such images along the channels (Stacked MNIST)
        returns the single-channel images; the classifier is then applied to each channel.
        """
        labels = self.labels()
        return None if labels is None else (self.load().cpu(), labels.cpu())

    def available(self) -> bool | None:
        """Whether the files this dataset reads are present (None: it needs none)."""
        return None

    def data_identity(self) -> str | None:
        """A digest of the data this dataset would read where nothing else vouches for it (extracted files without
        the archives their published checksums verify): part of the run's identity, so that runs on other files
        are other runs, not the first one's record. None where the options, the code and published checksums
        decide the data. Cheap where it is None: every run's spec asks."""
        return None

    def data_paths(self) -> tuple[str, ...]:
        """Files and folders whose every file is this dataset's data (a user's folder of images): ganbench writes
        nothing there, or its own files (a run's samples.png, a report) would be read as data by the next run."""
        return ()

    def render(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        path: Path,
        scores: dict[str, Any],
        fake_labels: torch.Tensor | None = None,
    ) -> None:
        """Write a picture of generated samples to ``path`` (samples.png); optional."""


def titled(name: str, options: Mapping[str, Any]) -> str:
    """How messages name dataset ``name`` with ``options``: with its path where it reads one (a user's images
    are all 'files': the folder is what the user named)."""
    path = options.get("path")
    return f"{name!r} ({shown_path(path)})" if isinstance(path, str) and path else repr(name)
