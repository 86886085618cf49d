"""``nsgan-r1``: Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?" (ICML).

Non-saturating loss plus the R1 penalty gamma/2 E||grad D(x)||^2 on real data, with the
settings of the paper's code (LMescheder/GAN_stability configs/default.yaml: reg_type real,
reg_param 10., optimizer rmsprop, lr_g and lr_d 0.0001, batch_size 64, d_steps 1;
gan_training/config.py: RMSprop alpha 0.99, eps 1e-8, torch's defaults). That code holds no
mixture experiment: on vectors the variant keeps its recipe on the mixture protocol's
networks (PacGAN's).
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant
from ganbench.variants.gan import d_loss_bce, g_loss_nonsaturating, protocol_networks

NSGAN_R1 = Variant(
    "nsgan-r1",
    d_loss_bce,
    g_loss_nonsaturating,
    paper="Mescheder et al. 2018, Which Training Methods for GANs do actually Converge? (ICML)",
    d_output="logit",
    batch_size=64,
    optimizer="rmsprop",
    lr_d=1e-4,
    lr_g=1e-4,
    r1_gamma=10.0,
    defaults={"vectors": protocol_networks("Mescheder et al. 2018's code (LMescheder/GAN_stability)")},
)


@hookimpl
def register_variants(register):
    register(NSGAN_R1)
