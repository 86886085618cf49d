"""The original GAN objectives (Goodfellow et al. 2014) and the DCGAN recipe.

- ``gan``: minimax, G minimises log(1 - D(G(z))). Kept although it saturates: it is the
  objective of the paper's theory, and a benchmark should show what saturation costs.
- ``nsgan``: non-saturating, G minimises -log D(G(z)) (the paper's practical fix).
- ``dcgan``: Radford et al. 2016, "Unsupervised Representation Learning with Deep
  Convolutional GANs": non-saturating loss, Adam 2e-4, beta1 0.5, batch 128; on images the
  ``dcgan`` network with batch norm in D, as Radford's discriminator.

Per kind of data (``ganbench list`` shows each with its source):

- vectors: ``gan`` and ``nsgan`` follow PacGAN's mixture protocol (Lin et al. 2018; its
  "GAN" is the non-saturating one, pacgan/bricks.py): Adam 1e-4, beta1 0.8, batch 100, its
  networks (``pacgan-mlp``), so their mode counts compare with the published ones. DCGAN's
  paper has no mixture experiment: ``dcgan`` keeps its own optimiser and batch on the
  protocol's networks (a BatchNorm generator, as DCGAN's).
- images: Goodfellow et al. trained fully connected networks with SGD; on convolutional
  networks ``gan`` and ``nsgan`` use DCGAN's optimiser (Adam 2e-4, betas (0.5, 0.999),
  batch 64) on the dataset's network, without DCGAN's batch norm in D (that is ``dcgan``).

D outputs logits; log D = -softplus(-logit) and log(1 - D) = -softplus(logit).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Defaults, Variant

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


PACGAN_NETWORKS = (
    "G 4 x 400 BatchNorm-ReLU (gen_hidden_size 400), D 3 maxout layers (disc_hidden_size 200, "
    "disc_maxout_pieces 5), weights_init_std 0.02"
)
PACGAN_MIXTURES = Defaults(
    source="fjxmlzn/PacGAN synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py and 2DRing_GAN&PacGAN/config.py: "
    f"learning_rate 1e-4, beta1 0.8, batch_size 100; {PACGAN_NETWORKS}",
    options=dict(batch_size=100, optimizer="adam", lr_d=1e-4, lr_g=1e-4, betas=(0.8, 0.999)),
    network="pacgan-mlp",
)
"""PacGAN's mixture protocol (Table 1): the setting of gan, nsgan and pacgan on vector data."""


def protocol_networks(paper: str) -> Defaults:
    """For a variant whose paper has no mixture experiment: its own recipe on the mixture protocol's
    networks (PacGAN's), so that on vectors only what defines the variant differs from nsgan."""
    return Defaults(
        source=f"{paper} has no mixture experiment: the variant's own optimiser on the mixture protocol's "
        f"networks (fjxmlzn/PacGAN 2DGrid_GAN&PacGAN/config.py: {PACGAN_NETWORKS})",
        network="pacgan-mlp",
    )


RADFORD_D = (
    "batch norm after every D convolution but the first (Radford et al. 2016, Section 3: 'batchnorm in both "
    "the generator and the discriminator', not on 'the discriminator input layer')"
)
RADFORD_IMAGES = Defaults(source=RADFORD_D, network="dcgan", network_options={"d_norm": "batch"})
DCGAN_OPTIM = dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999))

GAN, NSGAN = (
    Variant(
        name,
        d_loss_bce,
        g_loss,
        paper=GOODFELLOW,
        d_output="logit",
        batch_size=64,
        **DCGAN_OPTIM,
        defaults={"vectors": PACGAN_MIXTURES},
    )
    for name, g_loss in (("gan", g_loss_minimax), ("nsgan", g_loss_nonsaturating))
)
DCGAN = Variant(
    "dcgan",
    d_loss_bce,
    g_loss_nonsaturating,
    paper=RADFORD,
    d_output="logit",
    batch_size=128,
    **DCGAN_OPTIM,
    defaults={"vectors": protocol_networks("Radford et al. 2016"), "images": RADFORD_IMAGES},
)


@hookimpl
def register_variants(register):
    register(GAN)
    register(NSGAN)
    register(DCGAN)
