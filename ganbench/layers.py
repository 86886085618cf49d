"""Building blocks that network plugins share: class conditioning and image-size plans.

- "concat" conditioning (Mirza & Osindero 2014): the label's one-hot code joins z and the
  discriminator's input (as constant planes for images): ``LabelJoin``, ``join_labels``.
- "projection" conditioning (Miyato & Koyama 2018): class-conditional batch norm in G
  (``ConditionalBatchNorm2d``) and D's score ``linear(h) + <embed(y), h>`` (``Projection``).
- Image sizes convolutional G and D can make: square sides b * 2^k, b in 4..7 (``side_plan``).

A conditional network must be called with labels and an unconditional one without them
(``check_labels``): a forgotten y fails loudly instead of training an unconditional model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ganbench.network import Conditioning, Network

CONDITIONINGS = ("concat", "projection")


BASES = range(4, 8)
EXAMPLE_SIDES = "8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, ..."


def label_problem(name: str, pack: int, n_classes: int, conditioning: str) -> str | None:
    """Why network ``name`` cannot take these labels, or None (also None when there are none)."""
    if n_classes <= 0:
        return None
    if conditioning not in CONDITIONINGS:
        return f"{name} conditions on labels by concat or projection, not {conditioning!r}"
    if pack > 1:
        return f"{name} cannot pack class-conditional samples (pack={pack}); labelled runs need pack=1"
    return None


def check_labels(y: Tensor | None, conditional: bool, what: str) -> None:
    """Refuse a call whose labels do not match the network: a forgotten y must not pass silently."""
    if conditional and y is None:
        raise ValueError(f"this {what} is class-conditional: call it with labels y")
    if not conditional and y is not None:
        raise ValueError(f"this {what} is unconditional: it takes no labels")


def join_labels(x: Tensor, y: Tensor, n_classes: int) -> Tensor:
    """``x`` with the one-hot code of ``y`` joined along dim 1: as features for (B, F) inputs,
    as constant planes for (B, C, H, W) inputs (the convolutional form of Mirza & Osindero's cGAN)."""
    code = F.one_hot(y, n_classes).to(x.dtype)
    code = code.view(*code.shape, *(1,) * (x.dim() - 2)).expand(-1, -1, *x.shape[2:])
    return torch.cat([x, code], 1)


class LabelJoin(nn.Module):
    """cGAN conditioning (Mirza & Osindero 2014): ``net(x joined with one_hot(y))``.

    ``flatten`` flattens x first (MLP discriminators see flat samples and a flat code).
    """

    def __init__(self, net: nn.Module, n_classes: int, flatten: bool = False) -> None:
        super().__init__()
        self.net, self.n_classes, self.flatten = net, n_classes, flatten

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, True, type(self).__name__)
        return self.net(join_labels(x.flatten(1) if self.flatten else x, y, self.n_classes))


class EmbedJoin(nn.Module):
    """``net(z joined with embed(y))``: the projection-style MLP generator's input."""

    def __init__(self, net: nn.Module, embed: nn.Embedding) -> None:
        super().__init__()
        self.net, self.embed = net, embed

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, True, "generator")
        return self.net(torch.cat([z, self.embed(y)], 1))


class Projection(nn.Module):
    """Score ``linear(h) + <embed(y), h>`` with ``h = features(x)`` (Miyato & Koyama 2018, eq. 3).

    Without ``embed`` it is the unconditional score ``linear(h)``. Returns (B,).
    """

    def __init__(self, features: nn.Module, linear: nn.Linear, embed: nn.Embedding | None = None) -> None:
        super().__init__()
        self.features, self.linear, self.embed = features, linear, embed

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.embed is not None, "discriminator")
        h = self.features(x)
        out = self.linear(h).squeeze(1)
        if self.embed is None:
            return out
        return out + (self.embed(y) * h).sum(1)


def side_plan(side: int) -> tuple[int, int] | None:
    """(b, k) with ``side == b * 2**k``, b in 4..7 and k >= 1, or None if ``side`` has no such form."""
    k = 0
    while side % 2 == 0 and side >= 2 * BASES.start:
        side, k = side // 2, k + 1
    return (side, k) if side in BASES and k >= 1 else None


def image_problem(name: str, shape: tuple[int, ...]) -> str | None:
    """Why network ``name`` cannot make images of ``shape`` (channels, height, width), or None."""
    if len(shape) != 3:
        return f"{name} needs image samples (channels, height, width), not shape {tuple(shape)}"
    _, height, width = shape
    if height != width:
        return f"{name} needs square images, not {width} wide and {height} high"  # beside (1x8x16): no 16x8
    if side_plan(height) is None:
        return f"{name} builds square images of side b*2^k with b in 4..7 and k >= 1 ({EXAMPLE_SIDES}), not {height}"
    return None


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm with a gain and a bias per class (de Vries et al. 2017; Miyato & Koyama 2018).

    Gains start at 1 and biases at 0, as sngan_projection's CategoricalConditionalBatchNormalization.
    """

    def __init__(self, num_features: int, n_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gamma = nn.Embedding(n_classes, num_features)
        self.beta = nn.Embedding(n_classes, num_features)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.gamma(y)[:, :, None, None] * self.bn(x) + self.beta(y)[:, :, None, None]


def batch_norm(channels: int, n_classes: int) -> nn.Module:
    """Plain batch norm, or a class-conditional one when ``n_classes`` > 0."""
    return ConditionalBatchNorm2d(channels, n_classes) if n_classes > 0 else nn.BatchNorm2d(channels)


def normalize(norm: nn.Module, h: Tensor, y: Tensor | None) -> Tensor:
    """Apply a layer made by ``batch_norm``: the conditional kind also reads the labels."""
    return norm(h, y) if isinstance(norm, ConditionalBatchNorm2d) else norm(h)


class Plan(NamedTuple):
    """What a convolutional G and D are built from: channels, base side, doublings, label widths."""

    channels: int
    base: int
    doublings: int
    concat: int
    """Classes joined as one-hot inputs (concat conditioning), else 0."""
    projection: int
    """Classes of conditional BN and projection (projection conditioning), else 0."""


@dataclass(frozen=True)
class ImageNetwork(Network):
    """Base of convolutional networks: square sides b * 2^k, conditioned by concat or projection."""

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        return image_problem(self.name, shape) or label_problem(self.name, pack, n_classes, conditioning)

    def plan(self, shape: tuple[int, ...], pack: int, n_classes: int, conditioning: Conditioning) -> Plan:
        """The plan for ``shape``; ValueError with ``check``'s reason if there is none."""
        reason = self.check(shape, pack, n_classes, conditioning)
        if reason:
            raise ValueError(reason)
        base, doublings = side_plan(shape[1])
        return Plan(
            shape[0],
            base,
            doublings,
            n_classes if conditioning == "concat" else 0,
            n_classes if conditioning == "projection" else 0,
        )
