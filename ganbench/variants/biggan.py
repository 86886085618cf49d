"""``biggan`` (Brock et al. 2019) as StudioGAN trains it on CIFAR-10: hinge loss, Adam 2e-4 with
betas (0.5, 0.999), 5 discriminator steps per generator step, batch 64, and the generator's moving
average with decay 0.9999 from step 1000 (POSTECH-CVLab/PyTorch-StudioGAN src/configs/CIFAR10/BigGAN.yaml:
adv_loss hinge, g_ema_decay 0.9999, g_ema_start 1000; the rest from src/config.py's defaults:
batch_size 64, g_lr = d_lr = 0.0002, beta1 0.5, beta2 0.999, d_updates_per_step 5), on the ``biggan``
networks (spectral norm is theirs, in G and D).

``biggan`` is class-conditional (conditional BN and a projection D); ``biggan-uncond`` is the same
recipe without labels (StudioGAN's "W/O": the conditional BNs see the latent chunks only).
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.networks.biggan import BIGGAN as PAPER
from ganbench.variant import Defaults, Variant
from ganbench.variants.hinge import d_loss_hinge, g_loss_hinge

CONFIG = (
    "POSTECH-CVLab/PyTorch-StudioGAN src/configs/CIFAR10/BigGAN.yaml (big_resnet, z_dim 80, g_shared_dim 128, "
    "conv dims 96, attention G 2 / D 1, hinge, g_ema_decay 0.9999, g_ema_start 1000) and src/config.py "
    "(batch_size 64, lr 0.0002, betas 0.5/0.999, d_updates_per_step 5)"
)
RECIPE = dict(batch_size=64, n_critic=5, lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999), ema_decay=0.9999, ema_start=1000)

BIGGAN, BIGGAN_UNCOND = (
    Variant(
        name,
        d_loss_hinge,
        g_loss_hinge,
        paper=PAPER,
        conditional=conditional,
        conditioning="projection",
        defaults={"images": Defaults(source=CONFIG, network="biggan")},
        **RECIPE,
    )
    for name, conditional in (("biggan", True), ("biggan-uncond", False))
)


@hookimpl
def register_variants(register):
    register(BIGGAN)
    register(BIGGAN_UNCOND)
