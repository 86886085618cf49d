"""Wasserstein GANs: the critic estimates the earth mover's distance.

- ``wgan``: Arjovsky et al. 2017, "Wasserstein GAN" (ICML): weight clipping 0.01,
  RMSProp 5e-5, 5 critic steps per generator step, batch 64.
- ``wgan-gp``: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs" (NeurIPS):
  gradient penalty lambda 10 on real/fake interpolates, Adam 1e-4, betas (0.5, 0.9),
  5 critic steps, batch 64.
"""

from __future__ import annotations

from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant


def d_loss_wasserstein(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the negated critic estimate of W1."""
    return d_fake.mean() - d_real.mean()


def g_loss_wasserstein(d_fake: Tensor) -> Tensor:
    """-E[D(G(z))]."""
    return -d_fake.mean()


WGAN = Variant(
    "wgan",
    d_loss_wasserstein,
    g_loss_wasserstein,
    paper="Arjovsky et al. 2017, Wasserstein GAN (ICML)",
    batch_size=64,
    n_critic=5,
    optimizer="rmsprop",
    lr_d=5e-5,
    lr_g=5e-5,
    weight_clip=0.01,
)
WGAN_GP = Variant(
    "wgan-gp",
    d_loss_wasserstein,
    g_loss_wasserstein,
    paper="Gulrajani et al. 2017, Improved Training of Wasserstein GANs (NeurIPS)",
    batch_size=64,
    n_critic=5,
    lr_d=1e-4,
    lr_g=1e-4,
    betas=(0.5, 0.9),
    gp_lambda=10.0,
)


@hookimpl
def register_variants(register):
    register(WGAN)
    register(WGAN_GP)
