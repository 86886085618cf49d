"""``nsgan-ttur``: the two time-scale update rule (Heusel et al. 2017, "GANs Trained by a Two
Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS) on the non-saturating GAN.

The discriminator learns four times faster than the generator (4e-4 vs 1e-4). The whole
plugin is a new variant made from a registered one with ``dataclasses.replace``, and one
hook that registers it; the entry point in pyproject.toml makes ganbench load it.
Built-ins are registered before third-party plugins are asked, so ``get_variant`` works
inside the hook.
"""

import dataclasses

import ganbench


@ganbench.hookimpl
def register_variants(register):
    register(
        dataclasses.replace(
            ganbench.get_variant("nsgan"),
            name="nsgan-ttur",
            lr_d=4e-4,
            lr_g=1e-4,
            betas=(0.5, 0.999),
            paper="Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule (NeurIPS)",
        )
    )
