"""``lsgan``: Mao et al. 2017, "Least Squares Generative Adversarial Networks" (ICCV).

Least-squares losses with the 0-1 coding (a = 0, b = 1, c = 1) of the paper's eq. (2);
Adam 2e-4, beta1 0.5, batch 64 as in its image experiments. On vectors, the paper's own
mixture experiment (xudonmao/LSGAN stability_comparison/mixture_gaussian/ls.py, after
Metz et al.'s unrolled GAN code): batch 512, Adam with beta1 0.5 and learning rates 1e-4
(D) and 1e-3 (G), z of 256 dimensions, networks of two tanh layers of 128 units with
orthogonal init (gain 1.4).
"""

from __future__ import annotations

from torch import Tensor

from ganbench.hookspecs import hookimpl
from ganbench.variant import Defaults, Variant


def d_loss_least_squares(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake**2).mean()


def g_loss_least_squares(d_fake: Tensor) -> Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((d_fake - 1) ** 2).mean()


LSGAN = Variant(
    "lsgan",
    d_loss_least_squares,
    g_loss_least_squares,
    paper="Mao et al. 2017, Least Squares Generative Adversarial Networks (ICCV)",
    batch_size=64,
    lr_d=2e-4,
    lr_g=2e-4,
    betas=(0.5, 0.999),
    defaults={
        "vectors": Defaults(
            source="xudonmao/LSGAN stability_comparison/mixture_gaussian/ls.py: batch_size 512, disc_learning_rate "
            "1e-4, gen_learning_rate 1e-3, beta1 0.5, z_dim 256, n_hidden 128, n_layer 2, tanh, "
            "orthogonal_initializer(gain=1.4)",
            options=dict(batch_size=512, lr_d=1e-4, lr_g=1e-3, betas=(0.5, 0.999)),
            network="mlp",
            network_options=dict(z_dim=256, width=128, depth=2, activation="tanh", init="orthogonal", init_gain=1.4),
        ),
    },
)


@hookimpl
def register_variants(register):
    register(LSGAN)
