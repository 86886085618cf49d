"""Built-in metrics: one plugin module per metric; the math is in plain functions users can call.

Inputs may be numpy arrays or torch tensors; numbers come back as Python floats.
"""

from ganbench.metrics.frechet import fid_from_features, frechet_distance
from ganbench.metrics.inception_score import inception_score
from ganbench.metrics.kid import kid
from ganbench.metrics.prdc import prdc, precision_recall

__all__ = ["fid_from_features", "frechet_distance", "inception_score", "kid", "precision_recall", "prdc"]
