"""``pacgan2``, ``pacgan3``, ``pacgan4``: Lin et al. 2018, "PacGAN: The power of two samples
in generative adversarial networks" (NeurIPS).

The discriminator judges m samples at once (all real or all fake), which penalises a
generator that collapses. The loss is the GAN cross-entropy with the non-saturating
generator loss (pacgan/bricks.py). Per kind of data, the paper's own settings:

- vectors: its mixture protocol (2DGrid/2DRing configs): Adam 1e-4, beta1 0.8, batch 100
  (of packs), its networks (``pacgan-mlp``: G 4 x 400 BatchNorm-ReLU, D 3 maxout layers).
- images: its Stacked MNIST experiments (VEEGAN_experiment/config.py, model.py): DCGAN,
  Adam 2e-4, beta1 0.5, batch 64, batch norm in D.
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.variant import Defaults, Variant
from ganbench.variants.gan import PACGAN_MIXTURES, d_loss_bce, g_loss_nonsaturating

LIN = "Lin et al. 2018, PacGAN: The power of two samples in generative adversarial networks (NeurIPS)"
STACKED_MNIST = Defaults(
    source="fjxmlzn/PacGAN stacked_MNIST_experiments/VEEGAN_experiment/config.py: learning_rate 0.0002, beta1 0.5, "
    "batch_size 64; model.py: DCGAN discriminator with batch norm (d_bn1..d_bn3) after every conv but the first",
    options=dict(batch_size=64, optimizer="adam", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999)),
    network="dcgan",
    network_options={"d_norm": "batch"},
)

PACGANS = tuple(
    Variant(
        f"pacgan{m}",
        d_loss_bce,
        g_loss_nonsaturating,
        paper=LIN,
        d_output="logit",
        pack=m,
        **PACGAN_MIXTURES.options,
        defaults={"vectors": PACGAN_MIXTURES, "images": STACKED_MNIST},
    )
    for m in (2, 3, 4)
)


@hookimpl
def register_variants(register):
    for variant in PACGANS:
        register(variant)
