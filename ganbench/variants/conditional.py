"""Class-conditional GANs: the generator is asked for a class, the discriminator judges
(image, class) pairs. The harness draws the fake batches' classes from the run's noise
stream; evaluation asks for every class equally and scores class accuracy and intra-FID.

- ``cgan``: Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"
  (arXiv:1411.1784): the label joins z in G and the discriminator's input ("concat"
  conditioning), with the GAN cross-entropy (non-saturating generator loss). The paper
  trained MLPs with SGD and momentum schedules tuned to them; on images ganbench trains
  the convolutional cGAN the DCGAN recipe gives: Adam 2e-4, beta1 0.5, batch 64, and
  Radford's discriminator with batch norm (the ``dcgan`` network's ``d_norm=batch``).
- ``projgan``: Miyato & Koyama 2018, "cGANs with Projection Discriminator" (ICLR), as in
  SNGAN's conditional CIFAR-10 experiments: class-conditional batch norm in G, a
  projection discriminator with spectral normalisation, the hinge loss, Adam 2e-4 with
  betas (0, 0.9), 5 discriminator steps per generator step, batch 64.
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant
from ganbench.variants.gan import DCGAN_OPTIM, RADFORD_IMAGES, d_loss_bce, g_loss_nonsaturating
from ganbench.variants.hinge import d_loss_hinge, g_loss_hinge

CGAN = Variant(
    "cgan",
    d_loss_bce,
    g_loss_nonsaturating,
    paper="Mirza & Osindero 2014, Conditional Generative Adversarial Nets (arXiv:1411.1784)",
    conditional=True,
    conditioning="concat",
    d_output="logit",
    batch_size=64,
    **DCGAN_OPTIM,
    defaults={"images": RADFORD_IMAGES},
)
PROJGAN = Variant(
    "projgan",
    d_loss_hinge,
    g_loss_hinge,
    paper="Miyato & Koyama 2018, cGANs with Projection Discriminator (ICLR)",
    conditional=True,
    conditioning="projection",
    spectral_norm=True,
    batch_size=64,
    n_critic=5,
    lr_d=2e-4,
    lr_g=2e-4,
    betas=(0.0, 0.9),
)


@hookimpl
def register_variants(register):
    register(CGAN)
    register(PROJGAN)
