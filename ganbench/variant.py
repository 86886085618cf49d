"""What a variant is: a training recipe, independent of the network it trains.

Losses take discriminator outputs (logits or critic values) and return a scalar to
minimise. Regularizers and modifiers are plain options, so the harness applies them
generically and ``dataclasses.replace(variant, name="mine", lr_d=1e-4)`` makes a new
variant that a plugin can register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from torch import Tensor

from ganbench.errors import OptionError

DLoss = Callable[[Tensor, Tensor], Tensor]
GLoss = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Variant:
    """A GAN training recipe. Every field but ``name``, the losses and ``paper`` is a `--set` option."""

    name: str
    d_loss: DLoss = field(repr=False)
    """Discriminator loss from (D(real), D(fake)), to minimise."""
    g_loss: GLoss = field(repr=False)
    """Generator loss from D(G(z)), to minimise."""
    paper: str = field(default="", metadata={"option": False})
    """The citation the defaults come from."""
    batch_size: int = 64
    n_critic: int = 1
    """Discriminator steps per generator step."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    """Adam's betas (ignored by RMSProp)."""
    gp_lambda: float = 0.0
    """Weight of the gradient-norm penalty on real/fake interpolates (Gulrajani 2017)."""
    r1_gamma: float = 0.0
    """R1: gamma/2 * E||grad D(real)||^2 (Mescheder 2018)."""
    weight_clip: float = 0.0
    """Clamp every discriminator parameter to [-c, c] after each step (Arjovsky 2017)."""
    spectral_norm: bool = False
    """Spectral normalisation of every discriminator layer (Miyato 2018)."""
    pack: int = 1
    """Samples the discriminator sees at once (PacGAN, Lin 2018)."""

    def __post_init__(self) -> None:
        for key in ("batch_size", "n_critic", "pack"):
            if getattr(self, key) < 1:
                raise OptionError(f"variant {self.name!r}: {key} must be at least 1, not {getattr(self, key)}")
        for key in ("lr_d", "lr_g"):
            if not getattr(self, key) > 0:
                raise OptionError(f"variant {self.name!r}: {key} must be positive, not {getattr(self, key)}")
