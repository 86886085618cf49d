"""Hinge-loss GANs.

- ``hinge``: Lim & Ye 2017, "Geometric GAN"; the loss as used by Miyato et al. 2018:
  D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G minimises -E[D(G(z))].
- ``sngan``: Miyato et al. 2018, "Spectral Normalization for GANs" (ICLR): hinge loss with
  spectral normalisation on every discriminator layer; their setting C,
  Adam 2e-4, betas (0.5, 0.999), one critic step, batch 64.

Neither paper has a mixture experiment: on vectors both keep their optimiser on the
mixture protocol's networks (PacGAN's). A discriminator held to slope 1 by spectral norm
cannot tell apart points a few hundredths apart (ring8's modes have sigma 0.01): that is
a property of the method on that data, reported, not tuned away.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant
from ganbench.variants.gan import protocol_networks


def d_loss_hinge(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def g_loss_hinge(d_fake: Tensor) -> Tensor:
    """-E[D(G(z))]."""
    return -d_fake.mean()


SETTING_C = dict(batch_size=64, lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999), n_critic=1)

HINGE = Variant(
    "hinge",
    d_loss_hinge,
    g_loss_hinge,
    paper="Lim & Ye 2017, Geometric GAN (arXiv:1705.02894)",
    defaults={"vectors": protocol_networks("Lim & Ye 2017")},
    **SETTING_C,
)
SNGAN = Variant(
    "sngan",
    d_loss_hinge,
    g_loss_hinge,
    spectral_norm=True,
    paper="Miyato et al. 2018, Spectral Normalization for Generative Adversarial Networks (ICLR)",
    defaults={"vectors": protocol_networks("Miyato et al. 2018")},
    **SETTING_C,
)


@hookimpl
def register_variants(register):
    register(HINGE)
    register(SNGAN)
