"""``stylegan2``: StyleGAN2's networks (Karras et al. 2020) at stylegan2-ada's ``cifar`` configuration
(NVlabs/stylegan2-ada-pytorch training/networks.py, train.py ``cifar``: z_dim = w_dim = 512, a
2-layer mapping network, channel_base 32768 and channel_max 512, so 512 channels at every
resolution up to 64; G 'skip', D 'orig' (its ``cifar`` sets ``D_kwargs.architecture = 'orig'``),
minibatch standard deviation over groups of 32, conv_clamp 256).

G: z -> normalised -> mapping MLP (lr multiplier 0.01, leaky ReLU) -> w, broadcast to every layer as
``num_ws`` styles (``map``; style mixing replaces the last ones with another z's, then ``synthesize``
draws the image; the average of w is tracked, decay 0.995, for the truncation trick); a learned 4x4
constant; per resolution two modulated and demodulated 3x3 convolutions (the first up-sampling), each
with a per-pixel noise input scaled by a learned strength (from 0) and a bias + leaky ReLU x sqrt(2)
clamped to +-256; and a modulated 1x1 toRGB (no demodulation) added to the up-sampled image of the
previous resolution (the skip architecture). D ('orig'): fromRGB 1x1 at the top resolution, per resolution conv3x3 and a
down-sampling conv3x3, then the epilogue: minibatch std, conv3x3, fully connected, output. Every
layer has equalized learning rate (weights N(0, 1) scaled by 1/sqrt(fan_in) at run time); resampling
low-pass filters the [1, 3, 3, 1] kernel, as upfirdn2d (up-sampling by zero insertion, then the
filter, then the convolution; down-sampling by the filter, then a stride-2 convolution).

Noise inputs draw from torch's default generator, which the training loop seeds per step from the
run's seed (``training.seed_global_randomness``), so runs stay reproducible and resume exactly.

Conditional ("projection", as stylegan2-ada's ``--cond``): the one-hot label is embedded, normalised and
joined to z before the mapping; D maps the label (an 8-layer mapping network) to a 512-d vector and
projects its output on it.

Sides 2^k from 8 (8, 16, 32, 64) as the reference; any other side from 8 (MNIST's 28) is built at the
next power of two: G's images are cropped to the centre, D's inputs padded with zeros around it.
``width`` is channel_max, the widest layer's channels (512: the reference), with channel_base = 64 x width
as there (32768 = 64 x 512), so ``network.width`` counts channels as it does for the other image networks;
tests use small widths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ganbench.hookspecs import hookimpl
from ganbench.layers import check_labels
from ganbench.network import MAX_DEPTH, MAX_UNITS, Conditioning, Network
from ganbench.options import option

KARRAS = "Karras et al. 2020, Analyzing and Improving the Image Quality of StyleGAN (CVPR)"
LRELU_GAIN = math.sqrt(2.0)
FILTER = (1.0, 3.0, 3.0, 1.0)


def lrelu(x: Tensor, clamp: float | None = None, gain: float = LRELU_GAIN) -> Tensor:
    """bias_act's 'lrelu': leaky ReLU (0.2) times sqrt(2), then clamped to +-clamp."""
    x = F.leaky_relu(x, 0.2) * gain
    return x.clamp(-clamp, clamp) if clamp is not None else x


class Blur(nn.Module):
    """The [1, 3, 3, 1] low-pass filter (normalised, outer product), applied per channel with padding."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        f = torch.tensor(FILTER)
        kernel = torch.outer(f, f)
        self.register_buffer("kernel", kernel / kernel.sum() * gain, persistent=False)

    def forward(self, x: Tensor, pad: tuple[int, int]) -> Tensor:
        c = x.shape[1]
        x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
        return F.conv2d(x, self.kernel[None, None].expand(c, 1, 4, 4), groups=c)


def upsample(x: Tensor, blur: Blur) -> Tensor:
    """2x: zeros between the pixels, then the filter (gain 4): upfirdn2d.upsample2d."""
    n, c, h, w = x.shape
    up = x.new_zeros(n, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = x
    return blur(up, (2, 1))


def downsample(x: Tensor, blur: Blur) -> Tensor:
    """1/2: the filter, then every other pixel (upfirdn2d.downsample2d)."""
    return blur(x, (1, 1))[:, :, ::2, ::2]


class Dense(nn.Module):
    """FullyConnectedLayer: equalized learning rate with a multiplier, optional leaky ReLU."""

    def __init__(self, n_in: int, n_out: int, activation: bool = False, lr_mult: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) / lr_mult)
        self.bias = nn.Parameter(torch.full((n_out,), float(bias_init)))
        self.weight_gain, self.bias_gain, self.activation = lr_mult / math.sqrt(n_in), lr_mult, activation

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return lrelu(x) if self.activation else x


def normalize_2nd_moment(x: Tensor) -> Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


class Mapping(nn.Module):
    """z (and a label embedding) -> w, tracking the average of w during training."""

    def __init__(self, z_dim: int, classes: int, w_dim: int, layers: int, track_average: bool = True) -> None:
        super().__init__()
        self.classes = classes
        self.embed = Dense(classes, w_dim) if classes else None
        sizes = [z_dim + (w_dim if classes else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(
            *(Dense(a, b, activation=True, lr_mult=0.01) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.track_average = track_average
        if track_average:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Tensor | None, y: Tensor | None, update_average: bool = True) -> Tensor:
        parts = [] if z is None else [normalize_2nd_moment(z)]
        if self.embed is not None:
            parts.append(normalize_2nd_moment(self.embed(F.one_hot(y, self.classes).float())))
        w = self.layers(torch.cat(parts, dim=1))
        if self.track_average and self.training and update_average:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(dim=0).lerp(self.w_avg, 0.995))
        return w


class ModulatedConv(nn.Module):
    """SynthesisLayer (``demodulate``) or ToRGBLayer (not): a style-modulated convolution."""

    def __init__(
        self, c_in: int, c_out: int, w_dim: int, kernel: int, up: bool, demodulate: bool, side: int, clamp: float
    ):
        super().__init__()
        self.affine = Dense(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.up, self.demodulate, self.clamp = up, demodulate, clamp
        self.noise_strength = nn.Parameter(torch.zeros(())) if demodulate else None
        self.blur = Blur(gain=4.0) if up else None
        self.side = side

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w)
        weight = self.weight
        if not self.demodulate:  # toRGB: the weight gain goes into the styles
            styles = styles / math.sqrt(weight[0].numel())
        x = x * styles[:, :, None, None]
        if self.up:  # conv2d_resample's up-sampling path: a stride-2 transposed convolution, then the filter
            x = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2), (1, 1))
        else:
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if self.demodulate:  # 1 / the modulated weights' norm per sample and output channel: sum_i s_i^2 sum_k w_oik^2
            d = (styles.square() @ weight.square().sum(dim=(2, 3)).T + 1e-8).rsqrt()
            x = x * d[:, :, None, None]
            noise = torch.randn(x.shape[0], 1, self.side, self.side, device=x.device) * self.noise_strength
            return lrelu(x + noise + self.bias[None, :, None, None], self.clamp)
        x = x + self.bias[None, :, None, None]
        return x.clamp(-self.clamp, self.clamp)


class SynthesisBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, w_dim: int, side: int, img_channels: int, clamp: float) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.randn(c_out, side, side)) if c_in == 0 else None
        self.conv0 = ModulatedConv(c_in, c_out, w_dim, 3, True, True, side, clamp) if c_in else None
        self.conv1 = ModulatedConv(c_out, c_out, w_dim, 3, False, True, side, clamp)
        self.torgb = ModulatedConv(c_out, img_channels, w_dim, 1, False, False, side, clamp)
        self.blur = Blur(gain=4.0)

    @property
    def num_conv(self) -> int:
        return 1 if self.conv0 is None else 2

    def forward(self, x: Tensor | None, img: Tensor | None, ws: Tensor) -> tuple[Tensor, Tensor]:
        """``ws``: (B, num_conv + 1, w_dim), the styles of its convolutions and of its toRGB."""
        if self.const is not None:
            x = self.const[None].expand(len(ws), -1, -1, -1)
        else:
            x = self.conv0(x, ws[:, 0])
        x = self.conv1(x, ws[:, self.num_conv - 1])
        y = self.torgb(x, ws[:, self.num_conv])
        return x, y if img is None else upsample(img, self.blur) + y


def channels_at(side: int, width: int) -> int:
    """min(channel_base / side, channel_max) with channel_max = width and channel_base = 64 x width."""
    return max(1, min(64 * width // side, width))


class Generator(nn.Module):
    def __init__(self, net: StyleGAN2, side: int, img_channels: int, classes: int) -> None:
        super().__init__()
        self.classes = classes
        self.mapping = Mapping(net.z_dim, classes, net.w_dim, net.mapping_layers)
        sides = [2**i for i in range(2, int(math.log2(side)) + 1)]
        self.blocks = nn.ModuleList(
            SynthesisBlock(
                channels_at(s // 2, net.width) if s > 4 else 0,
                channels_at(s, net.width),
                net.w_dim,
                s,
                img_channels,
                net.conv_clamp,
            )
            for s in sides
        )

    @property
    def num_ws(self) -> int:
        """Styles the synthesis takes: one per convolution, and the last toRGB's (each block's toRGB shares the
        next block's first style), as SynthesisNetwork.num_ws."""
        return sum(block.num_conv for block in self.blocks) + 1

    def map(self, z: Tensor, y: Tensor | None = None, update_average: bool = True) -> Tensor:
        """z (and labels) -> (B, num_ws, w_dim): the mapping's w, one per style (a view, not a copy)."""
        check_labels(y, self.classes > 0, "generator")
        w = self.mapping(z, y, update_average)
        return w[:, None].expand(-1, self.num_ws, -1)

    def synthesize(self, ws: Tensor) -> Tensor:
        """(B, num_ws, w_dim) styles -> images, each block taking its slice as SynthesisNetwork does."""
        x = img = None
        start = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, start : start + block.num_conv + 1])
            start += block.num_conv
        return img

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.synthesize(self.map(z, y))


class EqualConv(nn.Module):
    """Conv2dLayer: equalized learning rate, bias, leaky ReLU x sqrt(2) clamped; ``down`` filters and strides 2."""

    def __init__(self, c_in: int, c_out: int, kernel: int, clamp: float, down: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.gain, self.clamp, self.down = 1 / math.sqrt(c_in * kernel * kernel), clamp, down
        self.blur = Blur() if down else None

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight * self.gain
        if self.down:
            x = F.conv2d(self.blur(x, (2, 2)), w, self.bias, stride=2)
        else:
            x = F.conv2d(x, w, self.bias, padding=w.shape[-1] // 2)
        return lrelu(x, self.clamp)


class MinibatchStd(nn.Module):
    """Appends the standard deviation over groups of ``group`` samples, averaged over features and pixels."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group, n)
        if n % g:  # the reference needs groups that divide the batch; take the largest that does
            g = math.gcd(n, g)
        y = x.reshape(g, -1, 1, c, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt().mean(dim=(2, 3, 4))
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, net: StyleGAN2, side: int, img_channels: int, classes: int) -> None:
        super().__init__()
        self.classes = classes
        sides = [2**i for i in range(int(math.log2(side)), 2, -1)]
        clamp = net.conv_clamp
        self.fromrgb = EqualConv(img_channels, channels_at(side, net.width), 1, clamp)
        layers: list[nn.Module] = []
        for s in sides:
            layers += [
                EqualConv(channels_at(s, net.width), channels_at(s, net.width), 3, clamp),
                EqualConv(channels_at(s, net.width), channels_at(s // 2, net.width), 3, clamp, down=True),
            ]
        self.blocks = nn.Sequential(*layers)
        c4 = channels_at(4, net.width)
        self.mbstd = MinibatchStd(net.mbstd_group)
        self.conv = EqualConv(c4 + 1, c4, 3, clamp)
        self.fc = Dense(c4 * 16, c4, activation=True)
        self.out = Dense(c4, c4 if classes else 1)
        self.mapping = Mapping(0, classes, c4, net.d_mapping_layers, track_average=False) if classes else None

    def forward(self, img: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.classes > 0, "discriminator")
        x = self.blocks(self.fromrgb(img))
        x = self.out(self.fc(self.conv(self.mbstd(x)).flatten(1)))
        if self.mapping is not None:
            cmap = self.mapping(None, y)
            x = (x * cmap).sum(dim=1, keepdim=True) / math.sqrt(cmap.shape[1])
        return x.squeeze(1)


class Cropped(nn.Module):
    """G built for a larger power-of-two side, its images cut to ``side`` around the centre."""

    def __init__(self, generator: Generator, side: int) -> None:
        super().__init__()
        self.generator, self.side = generator, side

    @property
    def num_ws(self) -> int:
        return self.generator.num_ws

    def map(self, z: Tensor, y: Tensor | None = None, update_average: bool = True) -> Tensor:
        return self.generator.map(z, y, update_average)

    def synthesize(self, ws: Tensor) -> Tensor:
        img = self.generator.synthesize(ws)
        top = (img.shape[-1] - self.side) // 2
        return img[:, :, top : top + self.side, top : top + self.side]

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.synthesize(self.map(z, y))


class Padded(nn.Module):
    """D built for a larger power-of-two side, its inputs padded with zeros around them to ``built``."""

    def __init__(self, discriminator: Discriminator, built: int) -> None:
        super().__init__()
        self.discriminator, self.built = discriminator, built

    def forward(self, img: Tensor, y: Tensor | None = None) -> Tensor:
        extra = self.built - img.shape[-1]
        before = extra // 2
        return self.discriminator(F.pad(img, (before, extra - before, before, extra - before)), y)


@dataclass(frozen=True)
class StyleGAN2(Network):
    """Karras et al. 2020 at stylegan2-ada's cifar configuration."""

    style_based: ClassVar[bool] = True

    z_dim: int = option(512, ge=1, le=MAX_UNITS)
    w_dim: int = option(512, ge=1, le=MAX_UNITS)
    mapping_layers: int = option(2, ge=1, le=MAX_DEPTH)
    """G's mapping network (cifar: 2; the paper's FFHQ models: 8)."""
    d_mapping_layers: int = option(8, ge=1, le=MAX_DEPTH)
    """D's label mapping network (conditional runs; stylegan2-ada's default 8)."""
    width: int = option(512, ge=1, le=MAX_UNITS)
    """channel_max (512: the reference); channel_base is 64 x width (32768)."""
    mbstd_group: int = option(32, ge=1, le=4096)
    """Minibatch standard deviation group size (cifar: 32)."""
    conv_clamp: float = option(256.0, gt=0)

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        if len(shape) != 3 or shape[1] != shape[2]:
            return f"{self.name} needs square images (channels, side, side), not shape {tuple(shape)}"
        side = shape[1]
        if not 8 <= side <= 1024:
            return f"{self.name} builds square images with sides from 8 to 1024 pixels, not {side}"
        if n_classes > 0 and conditioning != "projection":
            return f"{self.name} takes labels through its mapping networks (conditioning 'projection')"
        if n_classes > 0 and pack > 1:
            return f"{self.name} cannot pack class-conditional samples (pack={pack}); labelled runs need pack=1"
        return None

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        reason = self.check(shape, pack, n_classes, conditioning)
        if reason:
            raise ValueError(reason)
        side = shape[1]
        built = 2 ** math.ceil(math.log2(side))  # the reference's sides are powers of two
        g = Generator(self, built, shape[0], n_classes)
        d = Discriminator(self, built, shape[0] * pack, n_classes)
        if built == side:
            return g, d
        return Cropped(g, side), Padded(d, built)


@hookimpl
def register_networks(register):
    register(
        StyleGAN2(
            "stylegan2",
            description=f"{KARRAS}: stylegan2-ada's cifar networks (mapping, modulated convolutions, noise, skip G, "
            "'orig' D with minibatch std); options z_dim, w_dim, mapping_layers, width, mbstd_group, conv_clamp",
        )
    )
