"""``pacgan-mlp``: the networks of PacGAN's mixture experiments (Lin et al. 2018, appendix).

G: z in R^2 -> 4 hidden layers of 400 units (BatchNorm, ReLU) -> 2.
D: 3 maxout layers of 200 units with 5 pieces each -> 1 (a logit).
Weights drawn from N(0, 0.02), biases zero. Batch-norm statistics for sampling are a moving
average with weight 0.05 on each batch (pacgan_task.py: ``m * 0.05 + p * 0.95``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganbench.hookspecs import hookimpl
from ganbench.network import MAX_DEPTH, MAX_UNITS, Conditioning, Network, flat_size
from ganbench.options import option

BN_MOMENTUM = 0.05


class Maxout(nn.Module):
    """A linear layer of units x pieces outputs, reduced by max over the pieces."""

    def __init__(self, n_in: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(n_in, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(-1, self.units, self.pieces).amax(-1)


@dataclass(frozen=True)
class PacGANMLP(Network):
    z_dim: int = option(2, ge=1, le=MAX_UNITS)
    g_width: int = option(400, ge=1, le=MAX_UNITS)
    g_depth: int = option(4, ge=0, le=MAX_DEPTH)
    d_units: int = option(200, ge=1, le=MAX_UNITS)
    d_pieces: int = option(5, ge=1, le=64)
    d_depth: int = option(3, ge=0, le=MAX_DEPTH)
    init_std: float = option(0.02, gt=0)

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        if n_classes > 0:
            return f"{self.name} is unconditional (PacGAN's mixture networks take no labels); use mlp for labels"
        return None

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        reason = self.check(shape, pack, n_classes, conditioning)
        if reason:
            raise ValueError(reason)
        d = flat_size(shape)
        g_layers: list[nn.Module] = []
        n_in = self.z_dim
        for _ in range(self.g_depth):
            g_layers += [nn.Linear(n_in, self.g_width), nn.BatchNorm1d(self.g_width, momentum=BN_MOMENTUM), nn.ReLU()]
            n_in = self.g_width
        g = nn.Sequential(*g_layers, nn.Linear(n_in, d), nn.Unflatten(1, shape))
        d_layers: list[nn.Module] = [nn.Flatten()]
        n_in = d * pack
        for _ in range(self.d_depth):
            d_layers.append(Maxout(n_in, self.d_units, self.d_pieces))
            n_in = self.d_units
        disc = nn.Sequential(*d_layers, nn.Linear(n_in, 1), nn.Flatten(0))
        for net in (g, disc):
            for m in net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, self.init_std)
                    nn.init.zeros_(m.bias)
        return g, disc


@hookimpl
def register_networks(register):
    register(PacGANMLP("pacgan-mlp", description="PacGAN mixture networks: G 4x400 BatchNorm-ReLU, D 3 maxout 200x5"))
