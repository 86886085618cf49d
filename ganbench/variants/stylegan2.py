"""``stylegan2`` (Karras et al. 2020) at stylegan2-ada's ``cifar`` configuration (NVlabs/stylegan2-ada-pytorch
train.py ``cifar``: mb 64, lrate 0.0025, gamma 0.01, ema 500 kimg with ramp-up 0.05, map 2; pl_weight 0 and
style_mixing_prob 0; training/training_loop.py: Adam betas (0, 0.99), D_reg_interval 16 and G_reg_interval 4
with lr x N/(N+1) and betas ** N/(N+1), the EMA copying buffers; training/loss.py: the logistic
non-saturating loss, R1 on reals as a separate 'Dreg' step weighted by its interval), on the ``stylegan2``
networks. StudioGAN's src/configs/CIFAR10/StyleGAN2.yaml sets the same values (g_lr = d_lr 0.0025, beta1 0,
beta2 0.99, r1_lambda 0.01, d_reg_interval 16, g_reg_interval 4, g_ema_kimg 500, g_ema_rampup 0.05).

``stylegan2`` is unconditional, as the paper; ``stylegan2-cond`` takes labels as stylegan2-ada's ``--cond``
(a label embedding joined to z before the mapping network; D projects its output on a mapped label).
Path-length regularisation (``pl_weight``; the paper's configs: 2, with ``pl_decay`` 0.01 and
``pl_batch_shrink`` 2, loss.py's defaults) and style mixing (``style_mixing``; the paper's configs: 0.9) are
options, off at CIFAR as there (train.py ``cifar``: ``pl_weight = 0``, ``style_mixing_prob = 0``).
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.networks.stylegan2 import KARRAS
from ganbench.variant import Defaults, Variant
from ganbench.variants.gan import d_loss_bce, g_loss_nonsaturating

CONFIG = (
    "NVlabs/stylegan2-ada-pytorch train.py cfg 'cifar' (mb 64, lrate 0.0025, gamma 0.01, ema 500, ramp 0.05, map 2, "
    "mbstd 32, D architecture 'orig') and training_loop.py (betas 0, 0.99; D_reg_interval 16, G_reg_interval 4)"
)
RECIPE = dict(
    batch_size=64,
    n_critic=1,
    lr_d=0.0025,
    lr_g=0.0025,
    betas=(0.0, 0.99),
    r1_gamma=0.01,
    r1_every=16,
    g_reg_every=4,
    ema_kimg=500.0,
    ema_rampup=0.05,
    ema_buffers="copy",
)

STYLEGAN2, STYLEGAN2_COND = (
    Variant(
        name,
        d_loss_bce,
        g_loss_nonsaturating,
        paper=KARRAS,
        d_output="logit",
        conditional=conditional,
        conditioning="projection",
        defaults={"images": Defaults(source=CONFIG, network="stylegan2")},
        **RECIPE,
    )
    for name, conditional in (("stylegan2", False), ("stylegan2-cond", True))
)


@hookimpl
def register_variants(register):
    register(STYLEGAN2)
    register(STYLEGAN2_COND)
