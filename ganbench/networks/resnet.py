"""``resnet``: the SNGAN / WGAN-GP CIFAR ResNet (Miyato et al. 2018, Appendix B, Table 4;
Gulrajani et al. 2017), as in the SNGAN authors' code, pfnet-research/sngan_projection
(gen_models/resnet_32.py, dis_models/snresnet_32.py and their resblocks.py).

G: z -> linear -> b x b x 2w -> k up-sampling residual blocks (BN-ReLU-upsample-conv3x3-BN-
ReLU-conv3x3, shortcut upsample-conv1x1) -> BN-ReLU-conv3x3-tanh. D: an "optimized" first block
(conv3x3-ReLU-conv3x3-avgpool, shortcut avgpool-conv1x1), residual blocks (ReLU-conv3x3-ReLU-
conv3x3[-avgpool], shortcut conv1x1-avgpool when the block pools, identity otherwise), ReLU,
global sum pooling, linear -> 1 (no bias, as the reference). ``width`` w = 128 is the paper's
CIFAR model: G 256 channels, D 128.

Sizes as dcgan's (side = b * 2^k, b in 4..7, k >= 1): G up-samples k times from b x b by
nearest neighbour (the reference's unpooling); D pools until its maps are 2b wide (at least
once), in at least the paper's four blocks: for 32 pixels exactly Table 4.

Init as the reference: Glorot-uniform weights (gain sqrt(2) in residual branches, 1 for
shortcuts, the first linear, the last conv, D's linear and the class embedding), zero biases,
conditional-BN gains 1 and biases 0.

Conditional: "projection" is SNGAN's conditional CIFAR model, conditional BN in G's blocks and
a projection discriminator (Miyato & Koyama 2018); "concat" joins one_hot(y) to z and, as
constant planes, to D's input channels (Mirza & Osindero 2014).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ganbench.hookspecs import hookimpl
from ganbench.layers import (
    ImageNetwork,
    LabelJoin,
    Projection,
    batch_norm,
    check_labels,
    normalize,
)
from ganbench.network import MAX_UNITS, Conditioning
from ganbench.options import option

PAPER_BLOCKS = 4  # D's blocks in Table 4: the optimized one and three more


def glorot(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    """Glorot-uniform weights and zero bias (chainer's GlorotUniform and initial_bias=0)."""
    nn.init.xavier_uniform_(layer.weight, gain)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return layer


def conv(c_in: int, c_out: int, kernel: int, gain: float) -> nn.Module:
    return glorot(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2), gain)


def upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class GBlock(nn.Module):
    """Up-sampling residual block: BN-ReLU-up-conv3x3-BN-ReLU-conv3x3, plus up-conv1x1(x)."""

    def __init__(self, c_in: int, c_out: int, n_classes: int = 0) -> None:
        super().__init__()
        self.b1, self.c1 = batch_norm(c_in, n_classes), conv(c_in, c_out, 3, math.sqrt(2))
        self.b2, self.c2 = batch_norm(c_out, n_classes), conv(c_out, c_out, 3, math.sqrt(2))
        self.c_sc = conv(c_in, c_out, 1, 1.0)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.c1(upsample(F.relu(normalize(self.b1, x, y))))
        h = self.c2(F.relu(normalize(self.b2, h, y)))
        return h + self.c_sc(upsample(x))


class Generator(nn.Module):
    """z -> linear -> b x b x ch -> ``k`` up-sampling blocks -> BN-ReLU-conv3x3-tanh.

    ``n_classes`` > 0 makes the blocks' batch norms class-conditional (then call G(z, y));
    the last BN stays unconditional, as in the reference.
    """

    def __init__(self, z_in: int, ch: int, base: int, k: int, out_channels: int, n_classes: int = 0) -> None:
        super().__init__()
        self.base, self.n_classes = base, n_classes
        self.linear = glorot(nn.Linear(z_in, base * base * ch))
        self.blocks = nn.ModuleList(GBlock(ch, ch, n_classes) for _ in range(k))
        self.bn = nn.BatchNorm2d(ch)
        self.out = conv(ch, out_channels, 3, 1.0)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.n_classes > 0, "generator")
        h = self.linear(z).view(len(z), -1, self.base, self.base)
        for block in self.blocks:
            h = block(h, y)
        return torch.tanh(self.out(F.relu(self.bn(h))))


class OptimizedBlock(nn.Module):
    """D's first block: conv3x3-ReLU-conv3x3-avgpool, plus conv1x1(avgpool(x)); no ReLU on the image."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.c1, self.c2 = conv(c_in, c_out, 3, math.sqrt(2)), conv(c_out, c_out, 3, math.sqrt(2))
        self.c_sc = conv(c_in, c_out, 1, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        h = F.avg_pool2d(self.c2(F.relu(self.c1(x))), 2)
        return h + self.c_sc(F.avg_pool2d(x, 2))


class DBlock(nn.Module):
    """ReLU-conv3x3-ReLU-conv3x3[-avgpool], plus conv1x1-avgpool(x) when it pools, else x."""

    def __init__(self, ch: int, downsample: bool) -> None:
        super().__init__()
        self.downsample = downsample
        self.c1, self.c2 = conv(ch, ch, 3, math.sqrt(2)), conv(ch, ch, 3, math.sqrt(2))
        self.c_sc = conv(ch, ch, 1, 1.0) if downsample else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.c2(F.relu(self.c1(F.relu(x))))
        if self.c_sc is None:
            return h + x
        return F.avg_pool2d(h, 2) + F.avg_pool2d(self.c_sc(x), 2)


class SumPool(nn.Module):
    """Global sum pooling over the spatial axes (SNGAN's D; sngan_projection's ``F.sum(h, axis=(2, 3))``)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sum((2, 3))


def discriminator_features(in_channels: int, ch: int, halvings: int) -> nn.Sequential:
    """Optimized block, then residual blocks (the first ``halvings - 1`` pooling), ReLU, sum pooling."""
    n_blocks = max(PAPER_BLOCKS, halvings + 1)
    blocks = [DBlock(ch, downsample=i < halvings - 1) for i in range(n_blocks - 1)]
    return nn.Sequential(OptimizedBlock(in_channels, ch), *blocks, nn.ReLU(), SumPool())


@dataclass(frozen=True)
class ResNet(ImageNetwork):
    z_dim: int = option(128, ge=1, le=MAX_UNITS)
    width: int = option(128, ge=1, le=MAX_UNITS)
    """D's channels; G has twice as many (the paper's 128 and 256)."""

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        channels, base, k, concat, projection = self.plan(shape, pack, n_classes, conditioning)

        g: nn.Module = Generator(self.z_dim + concat, 2 * self.width, base, k, channels, projection)
        features = discriminator_features(channels * pack + concat, self.width, max(k - 1, 1))
        linear = glorot(nn.Linear(self.width, 1, bias=False))
        embed = glorot(nn.Embedding(n_classes, self.width)) if projection else None
        disc: nn.Module = Projection(features, linear, embed)
        if concat:
            g, disc = LabelJoin(g, n_classes), LabelJoin(disc, n_classes)
        return g, disc


@hookimpl
def register_networks(register):
    register(
        ResNet(
            "resnet",
            description="SNGAN's CIFAR ResNet (Miyato 2018, Table 4): residual G and D; options z_dim, width",
        )
    )
