"""The original GAN objectives (Goodfellow et al. 2014) and the DCGAN recipe.

- ``gan``: minimax, G minimises log(1 - D(G(z))). Kept although it saturates: it is the
  objective of the paper's theory, and a benchmark should show what saturation costs.
- ``nsgan``: non-saturating, G minimises -log D(G(z)) (the paper's practical fix).
- ``dcgan``: Radford et al. 2016, "Unsupervised Representation Learning with Deep
  Convolutional GANs": non-saturating loss, Adam 2e-4, beta1 0.5, batch 128.

``gan`` and ``nsgan`` use the optimiser of the PacGAN mixture protocol (Lin et al. 2018):
Adam 1e-4, beta1 0.8, batch 100, so their mode counts compare with the published ones.
D outputs logits; log D = -softplus(-logit) and log(1 - D) = -softplus(logit).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant

GOODFELLOW = "Goodfellow et al. 2014, Generative Adversarial Nets (NeurIPS)"
RADFORD = "Radford et al. 2016, Unsupervised Representation Learning with Deep Convolutional GANs (ICLR)"


def d_loss_bce(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """-log D(x) - log(1 - D(G(z))): the discriminator's cross-entropy."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def g_loss_minimax(d_fake: Tensor) -> Tensor:
    """log(1 - D(G(z))): the saturating minimax generator loss."""
    return -F.softplus(d_fake).mean()


def g_loss_nonsaturating(d_fake: Tensor) -> Tensor:
    """-log D(G(z)): the non-saturating generator loss."""
    return F.softplus(-d_fake).mean()


PACGAN_OPTIM = dict(batch_size=100, optimizer="adam", lr_d=1e-4, lr_g=1e-4, betas=(0.8, 0.999))

GAN = Variant("gan", d_loss_bce, g_loss_minimax, paper=GOODFELLOW, **PACGAN_OPTIM)
NSGAN = Variant("nsgan", d_loss_bce, g_loss_nonsaturating, paper=GOODFELLOW, **PACGAN_OPTIM)
DCGAN = Variant(
    "dcgan",
    d_loss_bce,
    g_loss_nonsaturating,
    paper=RADFORD,
    batch_size=128,
    lr_d=2e-4,
    lr_g=2e-4,
    betas=(0.5, 0.999),
)


@hookimpl
def register_variants(register):
    register(GAN)
    register(NSGAN)
    register(DCGAN)
