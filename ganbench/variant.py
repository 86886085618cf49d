"""What a variant is: a training recipe, independent of the network it trains.

Losses take discriminator outputs (logits or critic values) and return a scalar to
minimise. Regularizers and modifiers are plain options, so the harness applies them
generically and ``dataclasses.replace(variant, name="mine", lr_d=1e-4)`` makes a new
variant that a plugin can register.

A paper's settings belong to the data it ran on (WGAN-GP's toy code uses lambda 0.1 and
3 x 512 networks where its CIFAR runs use lambda 10), so a variant declares ``defaults``
per kind of data (``Dataset.data_kind``: "vectors", "images"): options that replace its
fields on that kind, and the network its paper trained there, each with its source.
A run applies them before the user's ``--set``, and its spec records the values used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from torch import Tensor

from ganbench.errors import OptionError
from ganbench.options import option, options_of, validate_options, with_options

DLoss = Callable[[Tensor, Tensor], Tensor]
GLoss = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Defaults:
    """A paper's settings for one kind of data.

    ``options``: variant options that replace the variant's own on that data
    (``{"gp_lambda": 0.1}``). ``network``: the network family the paper trained there, and
    ``network_options`` for it; a run uses them unless the user names a network
    (``--network``), so a comparison on equal networks stays one flag away. ``source``:
    where the values come from (the paper's code: file and value), shown by ``ganbench list``.
    """

    source: str
    options: Mapping[str, Any] = field(default_factory=dict)
    network: str | None = None
    network_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise OptionError("per-kind defaults need a source: the paper's code, file and value")
        if self.network_options and not self.network:
            raise OptionError(f"per-kind defaults set network options {dict(self.network_options)} but no network")


@dataclass(frozen=True)
class Variant:
    """A GAN training recipe. Every field but ``name``, the losses and ``paper`` is a `--set` option."""

    kind: ClassVar[str] = "variant"

    name: str
    d_loss: DLoss = field(repr=False)
    """Discriminator loss from (D(real), D(fake)), to minimise."""
    g_loss: GLoss = field(repr=False)
    """Generator loss from D(G(z)), to minimise."""
    paper: str = field(default="", metadata={"option": False})
    """The citation the defaults come from."""
    conditional: bool = field(default=False, metadata={"option": False})
    """Class-conditional: G and D see labels (the dataset must have them)."""
    conditioning: Literal["concat", "projection"] = field(default="concat", metadata={"option": False})
    """How networks take labels: joined to z and D's input, or conditional BN + projection D."""
    d_output: Literal["logit", "critic"] = field(default="critic", metadata={"option": False})
    """What D returns: the logit of the probability that x is real (cross-entropy losses: history.csv
    logs D(x) as probabilities and a Jensen-Shannon estimate), or an unbounded critic value."""
    defaults: Mapping[str, Defaults] = field(default_factory=dict, repr=False, metadata={"option": False})
    """Per kind of data ("vectors", "images"): the paper's settings there. See ``Defaults``."""
    declared: Mapping[str, Any] | None = field(default=None, repr=False, compare=False, metadata={"option": False})
    """The option values ``defaults`` were declared beside (set once, kept by ``dataclasses.replace``):
    an option changed since (a plugin's variant derived from this one) wins over the per-kind value."""
    batch_size: int = option(64, ge=1)
    n_critic: int = option(1, ge=1)
    """Discriminator steps per generator step."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr_d: float = option(2e-4, gt=0)
    lr_g: float = option(2e-4, gt=0)
    betas: tuple[float, float] = option((0.5, 0.999), ge=0, lt=1)
    """Adam's betas (ignored by RMSProp)."""
    gp_lambda: float = option(0.0, ge=0)
    """Weight of the gradient-norm penalty on real/fake interpolates (Gulrajani 2017)."""
    r1_gamma: float = option(0.0, ge=0)
    """R1: gamma/2 * E||grad D(real)||^2 (Mescheder 2018)."""
    weight_clip: float = option(0.0, ge=0)
    """Clamp every discriminator parameter to [-c, c] after each step (Arjovsky 2017); 0 is off."""
    spectral_norm: bool = False
    """Spectral normalisation of every discriminator layer (Miyato 2018)."""
    pack: int = option(1, ge=1)
    """Samples the discriminator sees at once (PacGAN, Lin 2018)."""
    standardize: bool = False
    """Show the networks the data divided by its standard deviation (one number over every coordinate)
    and scale generated samples back before scoring: WGAN-GP's toy code trains on unit-spread data."""

    def __post_init__(self) -> None:
        validate_options(self)
        if not isinstance(self.defaults, Mapping):
            raise OptionError(f"variant {self.name!r}: defaults must map kinds of data to ganbench.Defaults")
        bare = None
        for kind, chosen in self.defaults.items():
            if not isinstance(kind, str) or not isinstance(chosen, Defaults):
                raise OptionError(f"variant {self.name!r}: defaults must map kinds of data to ganbench.Defaults")
            bare = bare or dataclasses.replace(self, defaults={}, declared=None)
            with_options(bare, chosen.options, f"variant {self.name!r} (its defaults for {kind})")
        declared = options_of(self)
        if self.declared is None or set(self.declared) != set(declared):
            object.__setattr__(self, "declared", declared)

    def defaults_for(self, data_kind: str) -> Defaults | None:
        """The per-kind defaults for ``data_kind``, less the options changed since they were declared."""
        chosen = self.defaults.get(data_kind)
        if chosen is None:
            return None
        now = options_of(self)
        kept = {k: v for k, v in chosen.options.items() if now[k] == (self.declared or now)[k]}
        return dataclasses.replace(chosen, options=kept) if len(kept) != len(chosen.options) else chosen
