"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"):
random, differentiable transformations of every batch D sees, real and fake alike, so that D
cannot memorise a small training set and G still gets gradients through the transformation.

The transformations and their ranges are the paper's code's (mit-han-lab/data-efficient-gans,
DiffAugment_pytorch.py), on images in [-1, 1], one random draw per image:

- ``color``: brightness + U(-0.5, 0.5); saturation (distance from the pixel's channel mean) x U(0, 2);
  contrast (distance from the image's mean) x U(0.5, 1.5);
- ``translation``: a shift of up to 1/8 of the side in each direction, filled with zeros;
- ``cutout``: a zeroed rectangle of half the side in each direction, centred anywhere (clipped at
  the border).

Every draw comes from the ``torch.Generator`` passed in (the run's own "augment" stream), so a
run with augmentation is reproducible and resumes bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

Transform = Callable[[Tensor, torch.Generator], Tensor]


def _per_image(x: Tensor, generator: torch.Generator) -> Tensor:
    """U(0, 1), one value per image, shaped to broadcast over (C, H, W)."""
    return torch.rand((x.shape[0], 1, 1, 1), generator=generator, device=x.device, dtype=x.dtype)


def brightness(x: Tensor, generator: torch.Generator) -> Tensor:
    return x + (_per_image(x, generator) - 0.5)


def saturation(x: Tensor, generator: torch.Generator) -> Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_per_image(x, generator) * 2) + mean


def contrast(x: Tensor, generator: torch.Generator) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_per_image(x, generator) + 0.5) + mean


def _offsets(x: Tensor, low: int, high: int, generator: torch.Generator) -> Tensor:
    """Integers in [low, high), one per image, shaped (B, 1, 1)."""
    return torch.randint(low, high, (x.shape[0], 1, 1), generator=generator, device=x.device)


def translation(x: Tensor, generator: torch.Generator) -> Tensor:
    """Each image moved by (dy, dx), |dy| <= H // 8, |dx| <= W // 8; what moves in is zero."""
    b, c, h, w = x.shape
    dy = _offsets(x, -(h // 8), h // 8 + 1, generator)
    dx = _offsets(x, -(w // 8), w // 8 + 1, generator)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # the source pixel of each output pixel
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    source = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(b, 1, h * w).expand(b, c, h * w)
    moved = x.reshape(b, c, h * w).gather(2, source).view(b, c, h, w)
    return moved * inside.unsqueeze(1).to(x.dtype)


def cutout(x: Tensor, generator: torch.Generator) -> Tensor:
    """Each image with a (H // 2) x (W // 2) rectangle set to zero, its centre drawn over the image."""
    _, _, h, w = x.shape
    ch, cw = h // 2, w // 2
    top = _offsets(x, 0, h + (1 - ch % 2), generator) - ch // 2
    left = _offsets(x, 0, w + (1 - cw % 2), generator) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    cut = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~cut).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, tuple[Transform, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}
"""The paper's policies, by name, in the order each applies its transformations."""


def diff_augment(x: Tensor, policy: Sequence[str], generator: torch.Generator) -> Tensor:
    """``x`` (B, C, H, W) through each policy in ``policy``, in order (the paper's CIFAR choice:
    color, translation, cutout)."""
    for name in policy:
        for transform in POLICIES[name]:
            x = transform(x, generator)
    return x


def policy_problem(policy: Sequence[str]) -> str | None:
    """Why ``policy`` is not a list of distinct known policies, or None."""
    unknown = [name for name in policy if name not in POLICIES]
    if unknown:
        return f"has no policy {unknown[0]!r}; choose from {', '.join(POLICIES)}"
    if len(set(policy)) != len(policy):
        return f"names a policy twice ({','.join(policy)}); name each once"
    return None
