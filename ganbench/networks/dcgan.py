"""``dcgan``: the "standard CNN" of SNGAN (Miyato et al. 2018, "Spectral Normalization for
GANs", ICLR, Appendix B, Table 3).

G: z -> linear -> b x b x 8w (BN, ReLU) -> 4x4 stride-2 transposed convs (BN, ReLU), halving
the channels -> 3x3 conv -> tanh. D: pairs of (3x3 stride-1, 4x4 stride-2) convs with
LeakyReLU(0.1), channels w, 2w, 4w, then a 3x3 conv to 8w and a linear layer to one score.
w = ``width``; w = 64 is the paper's model (G 512/256/128/64 channels).

Sizes: any square side s = b * 2^k with a base b in 4..7 and k >= 1 (8, 28, 32, 64 ...).
G starts at b x b and up-samples k times; D halves k times. Channels double with each
halving of the resolution, up to 8w, the paper's widest layer, so the 32-pixel model
(b = 4, k = 3) is the paper's and the 48-pixel one (b = 6) its STL-10 model.

Init as the authors' chainer-gan-lib (common/net.py, ``wscale=0.02``): weights ~ N(0, 0.02),
biases zero. The BN after G's linear layer is there too (per channel here).

``d_norm``: "none" (the standard CNN's D, as in SNGAN) or "batch": batch norm after every
convolution of D but the first, as Radford et al.'s DCGAN discriminator ("batchnorm in both the
generator and the discriminator", "not applying batchnorm to ... the discriminator input
layer", Section 3). The ``dcgan`` and ``cgan`` variants choose "batch" on images.

Conditional: "concat" joins one_hot(y) to z and, as constant planes, to D's input channels
(Mirza & Osindero 2014). "projection" (Miyato & Koyama 2018) makes G's batch norms
class-conditional and adds <embed(y), h> to D's score, h the flattened last feature map
that D's linear layer reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

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

SLOPE = 0.1  # LeakyReLU slope of SNGAN's standard CNN (Appendix B)
INIT_STD = 0.02
MAX_DOUBLINGS = 3  # the paper's widest layer is 8w = w * 2**3


def scale_channels(width: int, halvings: int) -> int:
    """Channels of a feature map ``halvings`` times smaller than the image: doubling, capped at 8w."""
    return width * 2 ** min(halvings, MAX_DOUBLINGS)


class Generator(nn.Module):
    """z -> linear -> b x b map -> 4x4 stride-2 transposed convs -> 3x3 conv -> tanh; BN + ReLU between.

    ``channels`` lists the maps from b x b to full size; ``n_classes`` > 0 makes the batch norms
    class-conditional (then call G(z, y)).
    """

    def __init__(self, z_in: int, channels: list[int], base: int, out_channels: int, n_classes: int = 0) -> None:
        super().__init__()
        self.base, self.n_classes = base, n_classes
        self.linear = nn.Linear(z_in, base * base * channels[0])
        self.norms = nn.ModuleList(batch_norm(c, n_classes) for c in channels)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1) for c_in, c_out in pairwise(channels))
        self.out = nn.Conv2d(channels[-1], out_channels, 3, 1, 1)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.n_classes > 0, "generator")
        h = self.linear(z).view(len(z), -1, self.base, self.base)
        h = F.relu(normalize(self.norms[0], h, y))
        for up, norm in zip(self.ups, self.norms[1:], strict=True):
            h = F.relu(normalize(norm, up(h), y))
        return torch.tanh(self.out(h))


def discriminator_features(in_channels: int, channels: list[int], batch_norm: bool = False) -> nn.Sequential:
    """(3x3 stride-1, 4x4 stride-2) conv pairs with ``channels[:-1]``, a 3x3 conv to ``channels[-1]``,
    LeakyReLU after each (after a batch norm, with ``batch_norm``, for every conv but the first), flattened."""
    layers: list[nn.Module] = []
    c_in = in_channels
    convs = []
    for c in channels[:-1]:
        convs += [nn.Conv2d(c_in, c, 3, 1, 1), nn.Conv2d(c, c, 4, 2, 1)]
        c_in = c
    convs.append(nn.Conv2d(c_in, channels[-1], 3, 1, 1))
    for i, conv in enumerate(convs):
        layers.append(conv)
        if batch_norm and i > 0:
            layers.append(nn.BatchNorm2d(conv.out_channels))
        layers.append(nn.LeakyReLU(SLOPE))
    return nn.Sequential(*layers, nn.Flatten())


def init_weights(module: nn.Module) -> nn.Module:
    """N(0, 0.02) weights and zero biases for every linear, conv and transposed conv (chainer-gan-lib)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, INIT_STD)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


@dataclass(frozen=True)
class DCGAN(ImageNetwork):
    z_dim: int = option(128, ge=1, le=MAX_UNITS)
    width: int = option(64, ge=1, le=MAX_UNITS)
    d_norm: Literal["none", "batch"] = "none"

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        channels, base, k, concat, projection = self.plan(shape, pack, n_classes, conditioning)
        maps = [scale_channels(self.width, s) for s in range(k + 1)]  # full size first

        g: nn.Module = init_weights(Generator(self.z_dim + concat, maps[::-1], base, channels, projection))
        features = discriminator_features(channels * pack + concat, maps, self.d_norm == "batch")
        linear = nn.Linear(base * base * maps[-1], 1)
        embed = nn.Embedding(n_classes, linear.in_features) if projection else None
        if embed is not None:
            nn.init.normal_(embed.weight, 0.0, INIT_STD)  # the scale of the linear term's weights
        disc: nn.Module = init_weights(Projection(features, linear, embed))
        if concat:
            g, disc = LabelJoin(g, n_classes), LabelJoin(disc, n_classes)
        return g, disc


@hookimpl
def register_networks(register):
    register(
        DCGAN(
            "dcgan",
            description="SNGAN's standard CNN (Miyato 2018, Table 3): transposed-conv G, conv D; options z_dim, "
            "width, d_norm (batch: Radford's D)",
        )
    )
