"""``mlp``: fully connected generator and discriminator, the default for vector data.

Options: ``z_dim``, ``width``, ``depth`` (hidden layers), ``activation``, ``init``. Flattens
any sample shape, so it also serves as a baseline on small images.

``init``: "torch" (PyTorch's default); "he", as WGAN-GP's toy code (igul222/improved_wgan_training,
tflib/ops/linear.py): hidden layers uniform with standard deviation sqrt(2 / fan_in), the
output layer Glorot-uniform (its ``initialization=None``), biases zero; "orthogonal", as the
mixture code of LSGAN (xudonmao/LSGAN, stability_comparison/mixture_gaussian/ls.py, after
Metz et al.'s unrolled GAN): orthogonal weights, biases zero. ``init_gain`` multiplies every
initial weight of the linear layers, whatever the init (tflib's ``gain``; 1.4 in LSGAN's code).

Class-conditional (``n_classes`` > 0): "concat" is the cGAN of Mirza & Osindero (2014),
whose networks were MLPs on MNIST: the label's one-hot code joins z and the discriminator's
flattened input. "projection" follows Miyato & Koyama (2018): a label embedding joins z,
and the discriminator adds <embed(y), h> to its output, h its last hidden layer.
The conditioning layers are ganbench.layers', shared with the image networks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ganbench.hookspecs import hookimpl
from ganbench.layers import EmbedJoin, LabelJoin, Projection, label_problem
from ganbench.network import MAX_DEPTH, MAX_UNITS, Conditioning, Network, flat_size
from ganbench.options import option

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


@dataclass(frozen=True)
class MLP(Network):
    z_dim: int = option(2, ge=1, le=MAX_UNITS)
    width: int = option(128, ge=1, le=MAX_UNITS)
    depth: int = option(3, ge=0, le=MAX_DEPTH)
    activation: Literal["relu", "leaky_relu", "tanh", "elu"] = "relu"
    init: Literal["torch", "he", "orthogonal"] = "torch"
    init_gain: float = option(1.0, gt=0)
    """Every initial weight of the linear layers is multiplied by it."""

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
        g, disc = self._build(shape, pack, n_classes, conditioning)
        for net in (g, disc):
            self._initialize(net)
        return g, disc

    @torch.no_grad()
    def _initialize(self, net: nn.Module) -> None:
        """``init`` and ``init_gain`` on every linear layer of ``net`` (the label embeddings keep theirs)."""
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        for i, layer in enumerate(linears):
            if self.init == "orthogonal":
                nn.init.orthogonal_(layer.weight)
            elif self.init == "he" and i < len(linears) - 1:  # hidden layers; the output layer is Glorot-uniform
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            elif self.init == "he":
                nn.init.xavier_uniform_(layer.weight)
            if self.init != "torch":
                nn.init.zeros_(layer.bias)
            if self.init_gain != 1.0:
                layer.weight.mul_(self.init_gain)

    def _build(
        self, shape: tuple[int, ...], pack: int, n_classes: int, conditioning: Conditioning
    ) -> tuple[nn.Module, nn.Module]:
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
    register(
        MLP("mlp", description="fully connected G and D; options z_dim, width, depth, activation, init, init_gain")
    )
