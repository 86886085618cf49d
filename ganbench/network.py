"""What a network family is: a generator and a discriminator built for a sample shape.

Networks hold no global state and draw their initial weights from torch's default
generator, which the harness seeds; so one run's networks never depend on another's.
A class-conditional variant asks for conditional networks: ``n_classes`` > 0 and the
variant's ``conditioning``, "concat" (the label joins z and the discriminator's input, as
in Mirza & Osindero's cGAN) or "projection" (class-conditional batch norm in G and a
projection discriminator, Miyato & Koyama 2018). Then G is called as G(z, y) and D as
D(x, y), with y int64 class labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol, runtime_checkable

from torch import Tensor, nn

from ganbench.options import option, validate_options

Conditioning = Literal["concat", "projection"]
MAX_UNITS = 16_384
"""The most units (widths, latent sizes) a built-in network option takes: one 16k x 16k layer is 1 GiB."""
MAX_DEPTH = 64
"""The most hidden layers a built-in network option takes."""


@dataclass(frozen=True)
class Network:
    """Base class of network families. Scalar fields are options (``--set network.x=...``)."""

    kind: ClassVar[str] = "network"
    style_based: ClassVar[bool] = False
    """True for networks whose generator maps z to one style vector per layer and draws the image from those
    (StyleGAN's ``StyleGenerator``): the variant options that act on styles (style mixing, path-length
    regularisation) need it."""

    name: str
    description: str = field(default="", metadata={"option": False})
    z_dim: int = option(2, ge=1)

    def __post_init__(self) -> None:
        validate_options(self)

    def check(
        self, shape: tuple[int, ...], pack: int = 1, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> str | None:
        """Why this network cannot be built for ``shape`` (and these labels), or None if it can."""
        return None

    def build(
        self, shape: tuple[int, ...], pack: int, n_classes: int = 0, conditioning: Conditioning = "concat"
    ) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator). G: (B, z_dim) -> (B, *shape).

        D takes ``pack`` samples stacked along the first feature axis,
        (B, pack * shape[0], *shape[1:]), and returns (B,) or (B, 1) scores. With
        ``n_classes`` > 0 both take int64 labels y as a second argument.
        """
        raise NotImplementedError


@runtime_checkable
class StyleGenerator(Protocol):
    """A style-based generator (``Network.style_based``): G(z, y) is ``synthesize(map(z, y))``.

    ``map`` returns the styles, (B, ``num_ws``, w_dim): one w per layer that takes one, all equal as
    the mapping network gives them; ``update_average=False`` leaves the tracked average of w alone
    (the second z of style mixing, as stylegan2-ada's ``skip_w_avg_update``).
    """

    num_ws: int

    def map(self, z: Tensor, y: Tensor | None = None, update_average: bool = True) -> Tensor: ...

    def synthesize(self, ws: Tensor) -> Tensor: ...


def flat_size(shape: tuple[int, ...]) -> int:
    """Number of values in one sample."""
    return math.prod(shape)
