"""``raw``: the samples themselves, flattened; the feature space of vector data."""

from __future__ import annotations

import torch

from ganbench.dataset import Dataset
from ganbench.hookspecs import hookimpl
from ganbench.metric import FeatureExtractor


class RawFeatures(FeatureExtractor):
    def extract(self, samples: torch.Tensor, dataset: Dataset | None = None) -> torch.Tensor:
        return samples.reshape(len(samples), -1).float()


@hookimpl
def register_feature_extractors(register):
    register(RawFeatures("raw", description="identity: samples flattened to vectors"))
