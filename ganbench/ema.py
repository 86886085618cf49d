"""The generator's exponential moving average (EMA), the generator modern GANs are scored with.

One mechanism serves both published forms, as variant options:

- a fixed decay per generator step, with a warm-up during which the average just copies G
  (``ema_decay``, ``ema_start``): BigGAN's (ajbrock/BigGAN-PyTorch utils.py ``ema``: decay 0.9999,
  ``ema_start``) as StudioGAN runs it (src/utils/ema.py ``Ema.update``: decay 0 while
  ``iter < start_iter``);
- a half-life in images, ramped up with the images seen (``ema_kimg``, ``ema_rampup``):
  StyleGAN2's (NVlabs/stylegan2-ada-pytorch training/training_loop.py: ``ema_nimg = ema_kimg * 1000``,
  ``min(ema_nimg, cur_nimg * ema_rampup)``, ``ema_beta = 0.5 ** (batch_size / ema_nimg)``).

Buffers (BatchNorm's running statistics) are averaged like parameters, as StudioGAN's ``Ema``
averages every entry of the state dict (``ema_buffers = "average"``), or copied from G, as
StyleGAN2's loop does (``"copy"``); integer buffers (``num_batches_tracked``) are always copied.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def ema_decay_at(variant: Any, step: int) -> float:
    """The decay of the update made after generator step ``step`` (1 for the first): 0 copies G.

    ``variant`` has the ``ema_*`` options and ``batch_size``; the images seen before the update are
    ``(step - 1) * batch_size``, as stylegan2-ada counts ``cur_nimg`` before adding the batch.
    """
    index = step - 1
    if variant.ema_kimg > 0:
        half_life = variant.ema_kimg * 1000
        if variant.ema_rampup > 0:
            half_life = min(half_life, index * variant.batch_size * variant.ema_rampup)
        return 0.5 ** (variant.batch_size / max(half_life, 1e-8))
    return 0.0 if index < variant.ema_start else variant.ema_decay


class GeneratorEMA:
    """A copy of the generator whose weights follow G's by exponential moving average."""

    def __init__(self, generator: nn.Module, variant: Any) -> None:
        self.variant = variant
        self.module = copy.deepcopy(generator).requires_grad_(False)
        self._pairs = list(zip(self.module.parameters(), generator.parameters(), strict=True))
        self._buffers = list(zip(self.module.buffers(), generator.buffers(), strict=True))

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average towards G after generator step ``step``."""
        weight = 1.0 - ema_decay_at(self.variant, step)
        for average, current in self._pairs:
            average.lerp_(current, weight)
        average_buffers = self.variant.ema_buffers == "average"
        for average, current in self._buffers:
            if average_buffers and average.is_floating_point():
                average.lerp_(current, weight)
            else:
                average.copy_(current)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)
