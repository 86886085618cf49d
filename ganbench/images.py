"""Images in: uint8 or float in [0, 1], NCHW or NHWC, one or three channels.

Everything that feeds images to a feature extractor goes through ``as_unit_nchw``, so a
wrong range or shape is one clear error before any network runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganbench.arrays import FeatureError

RANGE_TOLERANCE = 1e-6


def as_unit_nchw(images: Any) -> torch.Tensor:
    """Images as float32 (N, 3, H, W) in [0, 1]; grayscale is repeated to three channels."""
    t = images.detach().cpu() if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
    if t.dim() != 4:
        raise FeatureError(f"images must be 4-D (N, C, H, W) or (N, H, W, C), not of shape {tuple(t.shape)}")
    if t.shape[1] not in (1, 3) and t.shape[-1] in (1, 3):
        t = t.permute(0, 3, 1, 2)
    if t.shape[1] not in (1, 3):
        raise FeatureError(f"images need 1 or 3 channels; got shape {tuple(t.shape)}")
    if t.dtype == torch.uint8:
        t = t.float() / 255
    elif t.is_floating_point():
        t = t.float()
        if not torch.isfinite(t).all():
            raise FeatureError("images hold NaN or inf")
        lo, hi = float(t.min()), float(t.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            raise FeatureError(
                f"float images must lie in [0, 1], these span [{lo:.3g}, {hi:.3g}]; rescale them or pass uint8"
            )
        t = t.clamp(0, 1)
    else:
        raise FeatureError(f"images must be uint8 or float, not {t.dtype}")
    return t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t
