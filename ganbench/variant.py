"""What a variant is: a training recipe, independent of the network it trains.

Losses take discriminator outputs (logits or critic values) and return a scalar to
minimise. Regularizers and modifiers are plain options, so the harness applies them
generically and ``dataclasses.replace(variant, name="mine", lr_d=1e-4)`` makes a new
variant that a plugin can register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from torch import Tensor

from ganbench.options import option, validate_options

DLoss = Callable[[Tensor, Tensor], Tensor]
GLoss = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Variant:
    """A GAN training recipe. Every field but ``name``, the losses and ``paper`` is a `--set` option."""

    kind: ClassVar[str] = "variant"

    name: str
    d_loss: DLoss = field(repr=False)
    """Discriminator loss from (D(real), D(fake)), to minimise."""
    g_loss: GLoss = field(repr=False)
    """Generator loss from D(G(z)), to minimise."""
    paper: str = field(default="", metadata={"option": False})
    """The citation the defaults come from."""
    conditional: bool = field(default=False, metadata={"option": False})
    """Class-conditional: G and D see labels (the dataset must have them)."""
    conditioning: Literal["concat", "projection"] = field(default="concat", metadata={"option": False})
    """How networks take labels: joined to z and D's input, or conditional BN + projection D."""
    batch_size: int = option(64, ge=1)
    n_critic: int = option(1, ge=1)
    """Discriminator steps per generator step."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr_d: float = option(2e-4, gt=0)
    lr_g: float = option(2e-4, gt=0)
    betas: tuple[float, float] = option((0.5, 0.999), ge=0, lt=1)
    """Adam's betas (ignored by RMSProp)."""
    gp_lambda: float = option(0.0, ge=0)
    """Weight of the gradient-norm penalty on real/fake interpolates (Gulrajani 2017)."""
    r1_gamma: float = option(0.0, ge=0)
    """R1: gamma/2 * E||grad D(real)||^2 (Mescheder 2018)."""
    weight_clip: float = option(0.0, ge=0)
    """Clamp every discriminator parameter to [-c, c] after each step (Arjovsky 2017); 0 is off."""
    spectral_norm: bool = False
    """Spectral normalisation of every discriminator layer (Miyato 2018)."""
    pack: int = option(1, ge=1)
    """Samples the discriminator sees at once (PacGAN, Lin 2018)."""

    def __post_init__(self) -> None:
        validate_options(self)
