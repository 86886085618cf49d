"""``pacgan2``, ``pacgan3``, ``pacgan4``: Lin et al. 2018, "PacGAN: The power of two samples
in generative adversarial networks" (NeurIPS).

The discriminator judges m samples at once (all real or all fake), which penalises a
generator that collapses. Loss and optimiser as in the paper's mixture experiments:
the GAN cross-entropy with the non-saturating generator loss, Adam 1e-4, beta1 0.8,
batch 100 (of packs). Pair with ``--network pacgan-mlp`` for the published networks.
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant
from ganbench.variants.gan import PACGAN_OPTIM, d_loss_bce, g_loss_nonsaturating

LIN = "Lin et al. 2018, PacGAN: The power of two samples in generative adversarial networks (NeurIPS)"

PACGANS = tuple(
    Variant(f"pacgan{m}", d_loss_bce, g_loss_nonsaturating, paper=LIN, pack=m, **PACGAN_OPTIM) for m in (2, 3, 4)
)


@hookimpl
def register_variants(register):
    for variant in PACGANS:
        register(variant)
