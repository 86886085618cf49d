"""``nsgan-ttur``: the two time-scale update rule (Heusel et al. 2017, "GANs Trained by a Two
Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS) on the non-saturating GAN.

The discriminator learns four times faster than the generator (4e-4 vs 1e-4). The whole
plugin is a new variant derived from a registered one (``Variant.derive``: the options it
names win on every kind of data; the rest, such as nsgan's networks for 2-D mixtures, come
from nsgan's per-kind defaults), and one hook that registers it; the entry point in
pyproject.toml makes ganbench load it. Built-ins are registered before third-party plugins
are asked, so ``get_variant`` works inside the hook.
"""

import ganbench


@ganbench.hookimpl
def register_variants(register):
    register(
        ganbench.get_variant("nsgan").derive(
            "nsgan-ttur",
            lr_d=4e-4,
            lr_g=1e-4,
            betas=(0.5, 0.999),
            paper="Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule (NeurIPS)",
        )
    )
