"""What a network family is: a generator and a discriminator built for a sample shape.

Networks hold no global state and draw their initial weights from torch's default
generator, which the harness seeds; so one run's networks never depend on another's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from torch import nn

from ganbench.options import option, validate_options


@dataclass(frozen=True)
class Network:
    """Base class of network families. Scalar fields are options (``--set network.x=...``)."""

    kind: ClassVar[str] = "network"

    name: str
    description: str = field(default="", metadata={"option": False})
    z_dim: int = option(2, ge=1)

    def __post_init__(self) -> None:
        validate_options(self)

    def build(self, shape: tuple[int, ...], pack: int) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator). G: (B, z_dim) -> (B, *shape).

        D takes ``pack`` samples stacked along the first feature axis,
        (B, pack * shape[0], *shape[1:]), and returns (B,) or (B, 1) scores.
        """
        raise NotImplementedError


def flat_size(shape: tuple[int, ...]) -> int:
    """Number of values in one sample."""
    return math.prod(shape)
