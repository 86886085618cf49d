"""``mlp``: fully connected generator and discriminator, the default for vector data.

Options: ``z_dim``, ``width``, ``depth`` (hidden layers), ``activation``. Flattens any
sample shape, so it also serves as a baseline on small images.

Class-conditional (``n_classes`` > 0): "concat" is the cGAN of Mirza & Osindero (2014),
whose networks were MLPs on MNIST: the label's one-hot code joins z and the discriminator's
flattened input. "projection" follows Miyato & Koyama (2018): a label embedding joins z,
and the discriminator adds <embed(y), h> to its output, h its last hidden layer.

The conditioning layers defined here (``join_labels``, ``LabelJoin``, ``Projection``,
``label_problem``) are shared with the image networks (dcgan, resnet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ganbench.hookspecs import hookimpl
from ganbench.network import Conditioning, Network, flat_size
from ganbench.options import option

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}
CONDITIONINGS = ("concat", "projection")


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


@dataclass(frozen=True)
class MLP(Network):
    z_dim: int = option(2, ge=1)
    width: int = option(128, ge=1)
    depth: int = option(3, ge=0)
    activation: Literal["relu", "leaky_relu", "tanh", "elu"] = "relu"

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        return label_problem(self.name, pack, n_classes, conditioning)

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        reason = self.check(shape, pack, n_classes, conditioning)
        if reason:
            raise ValueError(reason)
        d = flat_size(shape)
        if n_classes <= 0:
            g = nn.Sequential(self._stack(self.z_dim, d), nn.Unflatten(1, shape))
            disc = nn.Sequential(nn.Flatten(), self._stack(d * pack, 1), nn.Flatten(0))
            return g, disc
        if conditioning == "concat":
            g = LabelJoin(nn.Sequential(self._stack(self.z_dim + n_classes, d), nn.Unflatten(1, shape)), n_classes)
            disc = LabelJoin(nn.Sequential(self._stack(d + n_classes, 1), nn.Flatten(0)), n_classes, flatten=True)
            return g, disc
        # The label embedding is as wide as z, so the label weighs as much as the noise at the input.
        g_net = nn.Sequential(self._stack(2 * self.z_dim, d), nn.Unflatten(1, shape))
        g = EmbedJoin(g_net, nn.Embedding(n_classes, self.z_dim))
        n_h = self.width if self.depth else d
        embed = nn.Embedding(n_classes, n_h)
        nn.init.xavier_uniform_(embed.weight)  # as sngan_projection's class embedding (GlorotUniform)
        disc = Projection(nn.Sequential(nn.Flatten(), *self._hidden(d)), nn.Linear(n_h, 1), embed)
        return g, disc

    def _hidden(self, n_in: int) -> list[nn.Module]:
        layers: list[nn.Module] = []
        for i in range(self.depth):
            layers += [nn.Linear(n_in if i == 0 else self.width, self.width), ACTIVATIONS[self.activation]()]
        return layers

    def _stack(self, n_in: int, n_out: int) -> nn.Sequential:
        layers = self._hidden(n_in)
        layers.append(nn.Linear(self.width if self.depth else n_in, n_out))
        return nn.Sequential(*layers)


@hookimpl
def register_networks(register):
    register(MLP("mlp", description="fully connected G and D; options z_dim, width, depth, activation"))
