"""Wasserstein GANs: the critic estimates the earth mover's distance.

- ``wgan``: Arjovsky et al. 2017, "Wasserstein GAN" (ICML): weight clipping 0.01,
  RMSProp 5e-5, 5 critic steps per generator step, batch 64; on images the DCGAN critic
  with batch norm (martinarjovsky/WassersteinGAN models/dcgan.py, DCGAN_D).
- ``wgan-gp``: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs" (NeurIPS):
  gradient penalty lambda 10 on real/fake interpolates, Adam 1e-4, betas (0.5, 0.9),
  5 critic steps, batch 64 (its CIFAR-10 settings).

On vectors both follow the paper's toy code (igul222/improved_wgan_training, gan_toy.py,
whose MODE switches between them): lambda 0.1, batch 256, networks of 3 hidden ReLU
layers of 512 units (He-uniform init, tflib's), data divided by its standard deviation.
"""

from __future__ import annotations

from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Defaults, Variant


def d_loss_wasserstein(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the negated critic estimate of W1."""
    return d_fake.mean() - d_real.mean()


def g_loss_wasserstein(d_fake: Tensor) -> Tensor:
    """-E[D(G(z))]."""
    return -d_fake.mean()


TOY = "igul222/improved_wgan_training gan_toy.py"
TOY_NETWORKS = "DIM = 512, three ReLULayer(..., initialization='he') per network; data /= stdev"
TOY_NETWORK = dict(width=512, depth=3, activation="relu", init="he")

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
    defaults={
        "vectors": Defaults(
            source=f"{TOY} with MODE = 'wgan': RMSProp 5e-5, clip_bounds [-.01, .01], CRITIC_ITERS = 5, "
            f"BATCH_SIZE = 256, {TOY_NETWORKS}",
            options=dict(batch_size=256, standardize=True),
            network="mlp",
            network_options=TOY_NETWORK,
        ),
        "images": Defaults(
            source="martinarjovsky/WassersteinGAN models/dcgan.py: DCGAN_D, BatchNorm2d after every conv but the first",
            network="dcgan",
            network_options={"d_norm": "batch"},
        ),
    },
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
    defaults={
        "vectors": Defaults(
            source=f"{TOY}: LAMBDA = .1, CRITIC_ITERS = 5, BATCH_SIZE = 256, Adam 1e-4 beta1 0.5 beta2 0.9, "
            f"{TOY_NETWORKS}",
            options=dict(gp_lambda=0.1, batch_size=256, standardize=True),
            network="mlp",
            network_options=TOY_NETWORK,
        ),
    },
)


@hookimpl
def register_variants(register):
    register(WGAN)
    register(WGAN_GP)
