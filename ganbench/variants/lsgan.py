"""``lsgan``: Mao et al. 2017, "Least Squares Generative Adversarial Networks" (ICCV).

Least-squares losses with the 0-1 coding (a = 0, b = 1, c = 1) of the paper's eq. (2);
Adam 2e-4, beta1 0.5, batch 64 as in its experiments.
"""

from __future__ import annotations

from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant


def d_loss_least_squares(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake**2).mean()


def g_loss_least_squares(d_fake: Tensor) -> Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((d_fake - 1) ** 2).mean()


LSGAN = Variant(
    "lsgan",
    d_loss_least_squares,
    g_loss_least_squares,
    paper="Mao et al. 2017, Least Squares Generative Adversarial Networks (ICCV)",
    batch_size=64,
    lr_d=2e-4,
    lr_g=2e-4,
    betas=(0.5, 0.999),
)


@hookimpl
def register_variants(register):
    register(LSGAN)
