"""``nsgan-r1``: Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?" (ICML).

Non-saturating loss plus the R1 penalty gamma/2 E||grad D(x)||^2 on real data;
gamma 10 and Adam 1e-4, betas (0, 0.99) as in the paper's image experiments
(``--set r1_gamma=...`` to change it).
"""

from __future__ import annotations

from ganbench.hookspecs import hookimpl
from ganbench.variant import Variant
from ganbench.variants.gan import d_loss_bce, g_loss_nonsaturating

NSGAN_R1 = Variant(
    "nsgan-r1",
    d_loss_bce,
    g_loss_nonsaturating,
    paper="Mescheder et al. 2018, Which Training Methods for GANs do actually Converge? (ICML)",
    batch_size=64,
    lr_d=1e-4,
    lr_g=1e-4,
    betas=(0.0, 0.99),
    r1_gamma=10.0,
)


@hookimpl
def register_variants(register):
    register(NSGAN_R1)
