"""``biggan``: BigGAN's networks (Brock et al. 2019) as StudioGAN trains them on CIFAR-10
(POSTECH-CVLab/PyTorch-StudioGAN src/models/big_resnet.py and src/utils/ops.py, with
src/configs/CIFAR10/BigGAN.yaml: z_dim 80, g_shared_dim 128, g_conv_dim = d_conv_dim = 96,
attention after G's 2nd and D's 1st block, spectral norm in G and D, orthogonal init).

G: z split into (blocks + 1) chunks, the hierarchical latent: the first feeds a linear layer to
a b x b x C map, each other one conditions a residual up-block (BN-ReLU-up-conv3x3-BN-ReLU-conv3x3,
shortcut up-conv1x1) through conditional batch norm, whose gain 1 + W_g a and bias W_b a are linear in
a = [shared class embedding, z chunk] (only the chunk when unconditional, as StudioGAN); a self-attention
block (SAGAN's, with 2x2 max pooling of keys and values); BN-ReLU-conv3x3-tanh. D: an optimized block, residual
down-blocks, self-attention, ReLU, global sum pooling, a linear output plus the projection <embed(y), h>.
Every conv, linear and D's embedding is spectrally normalised (eps 1e-6, as StudioGAN's ``snconv2d``);
the class embedding of G is not. Batch norms have eps 1e-4.

Sides b * 2^k as the other image networks (8, 28, 32, 64, ...): for k <= 3 the CIFAR-10 plan (G 4w
channels in every block, D 2w, D pooling to 2b), for k >= 4 StudioGAN's 64-pixel plan (G from 16w
halving per block, D from w doubling up to 16w, pooling to b). ``width`` 96 is StudioGAN's CIFAR-10
model. When z_dim is not a multiple of blocks + 1 (28 pixels: 3 chunks of 80), the first chunk
takes the remainder, as BigGAN-PyTorch leaves the rest of z to the linear layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ganbench.hookspecs import hookimpl
from ganbench.layers import ImageNetwork, Projection, check_labels, image_problem, side_plan
from ganbench.network import MAX_DEPTH, MAX_UNITS, Conditioning
from ganbench.networks.resnet import SumPool
from ganbench.options import option

SN_EPS = 1e-6
BN_EPS = 1e-4
BIGGAN = "Brock et al. 2019, Large Scale GAN Training for High Fidelity Natural Image Synthesis (ICLR)"


def sn(layer: nn.Module) -> nn.Module:
    """Orthogonal weights, zero bias (StudioGAN's ``init_weights(..., 'ortho')``), then spectral norm."""
    nn.init.orthogonal_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return nn.utils.parametrizations.spectral_norm(layer, eps=SN_EPS)


def conv(c_in: int, c_out: int, kernel: int, bias: bool = True) -> nn.Module:
    return sn(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, bias=bias))


def upsample(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose gain (1 + W_g a) and bias (W_b a) are linear in the conditioning vector a."""

    def __init__(self, channels: int, affine_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=BN_EPS, affine=False)
        self.gain = sn(nn.Linear(affine_dim, channels, bias=False))
        self.bias = sn(nn.Linear(affine_dim, channels, bias=False))

    def forward(self, x: Tensor, a: Tensor) -> Tensor:
        return self.bn(x) * (1 + self.gain(a))[:, :, None, None] + self.bias(a)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, affine_dim: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = ConditionalBatchNorm(c_in, affine_dim), conv(c_in, c_out, 3)
        self.bn2, self.conv2 = ConditionalBatchNorm(c_out, affine_dim), conv(c_out, c_out, 3)
        self.shortcut = conv(c_in, c_out, 1)

    def forward(self, x: Tensor, a: Tensor) -> Tensor:
        h = self.conv1(upsample(F.relu(self.bn1(x, a))))
        h = self.conv2(F.relu(self.bn2(h, a)))
        return h + self.shortcut(upsample(x))


class SelfAttention(nn.Module):
    """SAGAN's attention as BigGAN uses it: queries C/8, keys C/8 and values C/2 (max-pooled 2x2), out to C,
    added with a learned scale that starts at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query, self.key = conv(channels, channels // 8, 1, False), conv(channels, channels // 8, 1, False)
        self.value, self.out = conv(channels, channels // 2, 1, False), conv(channels // 2, channels, 1, False)
        self.scale = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        query = self.query(x).view(b, c // 8, h * w)
        key = F.max_pool2d(self.key(x), 2).view(b, c // 8, h * w // 4)
        attention = torch.softmax(torch.bmm(query.transpose(1, 2), key), dim=-1)  # (b, hw, hw / 4)
        value = F.max_pool2d(self.value(x), 2).view(b, c // 2, h * w // 4)
        attended = torch.bmm(value, attention.transpose(1, 2)).view(b, c // 2, h, w)
        return x + self.scale * self.out(attended)


def z_chunks(z_dim: int, blocks: int) -> list[int]:
    """Sizes of the hierarchical latent's chunks: the first feeds the linear layer (and takes the remainder)."""
    size = z_dim // (blocks + 1)
    return [z_dim - size * blocks] + [size] * blocks


class Generator(nn.Module):
    def __init__(
        self, net: BigGAN, base: int, channels_in: list[int], channels_out: list[int], out: int, classes: int
    ) -> None:
        super().__init__()
        self.base, self.n_classes = base, classes
        self.chunks = z_chunks(net.z_dim, len(channels_in))
        affine_dim = self.chunks[1] + (net.shared_dim if classes else 0)
        self.linear = sn(nn.Linear(self.chunks[0], channels_in[0] * base * base))
        self.shared = nn.Embedding(classes, net.shared_dim) if classes else None
        if self.shared is not None:
            nn.init.orthogonal_(self.shared.weight)
        self.blocks = nn.ModuleList(GBlock(i, o, affine_dim) for i, o in zip(channels_in, channels_out, strict=True))
        self.attention_after = net.g_attention - 1
        attend = 0 <= self.attention_after < len(channels_out)
        self.attention = SelfAttention(channels_out[self.attention_after]) if attend else None
        self.bn = nn.BatchNorm2d(channels_out[-1], eps=BN_EPS)
        self.to_image = conv(channels_out[-1], out, 3)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.n_classes > 0, "generator")
        zs = torch.split(z, self.chunks, dim=1)
        h = self.linear(zs[0]).view(len(z), -1, self.base, self.base)
        shared = self.shared(y) if self.shared is not None else None
        for i, block in enumerate(self.blocks):
            h = block(h, zs[i + 1] if shared is None else torch.cat([shared, zs[i + 1]], 1))
            if self.attention is not None and i == self.attention_after:
                h = self.attention(h)
        return torch.tanh(self.to_image(F.relu(self.bn(h))))


class DBlock(nn.Module):
    """A residual down-block; the ``first`` (StudioGAN's DiscOptBlock) has no ReLU on the image and pools
    its shortcut before the 1x1 convolution."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, first: bool) -> None:
        super().__init__()
        self.downsample, self.first = downsample, first
        self.conv1, self.conv2 = conv(c_in, c_out, 3), conv(c_out, c_out, 3)
        self.shortcut = conv(c_in, c_out, 1) if first or downsample or c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.first:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        if self.shortcut is None:
            return h + x
        s = self.shortcut(x)
        return h + (F.avg_pool2d(s, 2) if self.downsample else s)


class Features(nn.Module):
    """D up to its pooled features h: blocks (with attention after one), ReLU, global sum pooling."""

    def __init__(self, blocks: list[DBlock], attention_after: int, attention: SelfAttention | None) -> None:
        super().__init__()
        self.blocks, self.attention_after, self.attention = nn.ModuleList(blocks), attention_after, attention
        self.pool = SumPool()

    def forward(self, x: Tensor) -> Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if self.attention is not None and i == self.attention_after:
                h = self.attention(h)
        return self.pool(F.relu(h))


def plan_channels(width: int, k: int) -> tuple[list[int], list[int], list[int], list[bool]]:
    """(G's input channels, G's output channels, D's output channels, D's pooling) per block, for k doublings."""
    if k <= 3:  # StudioGAN's 32-pixel plan
        g_out = [4 * width] * k
        g_in = list(g_out)
        halvings = max(k - 1, 1)
        d_out = [2 * width] * 4
        down = [i < halvings for i in range(4)]
    else:  # its 64-pixel plan and up
        g_out = [width * 2 ** min(k - 1 - i, 4) for i in range(k)]
        g_in = [16 * width] + g_out[:-1]
        d_out = [width * 2 ** min(i, 4) for i in range(k + 1)]
        down = [True] * k + [False]
    return g_in, g_out, d_out, down


@dataclass(frozen=True)
class BigGAN(ImageNetwork):
    z_dim: int = option(80, ge=1, le=MAX_UNITS)
    shared_dim: int = option(128, ge=1, le=MAX_UNITS)
    """The shared class embedding's size (conditional runs)."""
    width: int = option(96, ge=1, le=MAX_UNITS)
    """StudioGAN's g_conv_dim and d_conv_dim."""
    g_attention: int = option(2, ge=0, le=MAX_DEPTH)
    """Self-attention after this G block (1 = the first); 0, or more than G has: none."""
    d_attention: int = option(1, ge=0, le=MAX_DEPTH)
    """Self-attention after this D block; 0, or more than D has: none."""

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        reason = image_problem(self.name, shape)
        if reason:
            return reason
        if n_classes > 0 and conditioning != "projection":
            return f"{self.name} takes labels by conditional batch norm and projection (conditioning 'projection')"
        if n_classes > 0 and pack > 1:
            return f"{self.name} cannot pack class-conditional samples (pack={pack}); labelled runs need pack=1"
        base, k = side_plan(shape[1])
        if self.z_dim < k + 1:
            return (
                f"{self.name} splits z into {k + 1} chunks for {shape[1]}-pixel images: z_dim must be at least {k + 1}"
            )
        g_in, g_out, d_out, down = plan_channels(self.width, k)
        g_sides = [base * 2 ** (i + 1) for i in range(len(g_out))]
        d_sides, side = [], shape[1]
        for pooled in down:
            side //= 2 if pooled else 1
            d_sides.append(side)
        for where, after, channels, sides in (
            ("G", self.g_attention, g_out, g_sides),
            ("D", self.d_attention, d_out, d_sides),
        ):
            if not 1 <= after <= len(channels):
                continue
            if channels[after - 1] < 8 or sides[after - 1] % 2:
                return (
                    f"{self.name}'s attention after {where} block {after} needs at least 8 channels and an even side "
                    f"(here {channels[after - 1]} and {sides[after - 1]}); widen it (--set network.width=...) or "
                    f"turn it off (--set network.{where.lower()}_attention=0)"
                )
        return None

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        reason = self.check(shape, pack, n_classes, conditioning)
        if reason:
            raise ValueError(reason)
        channels = shape[0]
        base, k = side_plan(shape[1])
        g_in, g_out, d_out, down = plan_channels(self.width, k)
        g = Generator(self, base, g_in, g_out, channels, n_classes)
        d_in = [channels * pack] + d_out[:-1]
        blocks = [
            DBlock(i, o, pooled, first=n == 0) for n, (i, o, pooled) in enumerate(zip(d_in, d_out, down, strict=True))
        ]
        after = self.d_attention - 1
        attention = SelfAttention(d_out[after]) if 0 <= after < len(blocks) else None
        features = Features(blocks, after, attention)
        embed = sn(nn.Embedding(n_classes, d_out[-1])) if n_classes else None
        return g, Projection(features, sn(nn.Linear(d_out[-1], 1)), embed)


@hookimpl
def register_networks(register):
    register(
        BigGAN(
            "biggan",
            description=f"{BIGGAN}: StudioGAN's CIFAR-10 BigGAN (hierarchical z, shared embedding, conditional BN, "
            "self-attention, spectral norm in G and D, projection D); options z_dim, shared_dim, width, g_attention, "
            "d_attention",
        )
    )
