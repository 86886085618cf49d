"""``mlp``: fully connected generator and discriminator, the default for vector data.

Options: ``z_dim``, ``width``, ``depth`` (hidden layers), ``activation``. Flattens any
sample shape, so it also serves as a baseline on small images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from ganbench.hookspecs import hookimpl
from ganbench.network import Network, flat_size
from ganbench.options import option

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


@dataclass(frozen=True)
class MLP(Network):
    z_dim: int = option(2, ge=1)
    width: int = option(128, ge=1)
    depth: int = option(3, ge=0)
    activation: Literal["relu", "leaky_relu", "tanh", "elu"] = "relu"

    def build(self, shape: tuple[int, ...], pack: int) -> tuple[nn.Module, nn.Module]:
        d = flat_size(shape)
        g = nn.Sequential(self._stack(self.z_dim, d), nn.Unflatten(1, shape))
        disc = nn.Sequential(nn.Flatten(), self._stack(d * pack, 1), nn.Flatten(0))
        return g, disc

    def _stack(self, n_in: int, n_out: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i in range(self.depth):
            layers += [nn.Linear(n_in if i == 0 else self.width, self.width), ACTIVATIONS[self.activation]()]
        layers.append(nn.Linear(self.width if self.depth else n_in, n_out))
        return nn.Sequential(*layers)


@hookimpl
def register_networks(register):
    register(MLP("mlp", description="fully connected G and D; options z_dim, width, depth, activation"))
