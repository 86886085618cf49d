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

A plugin derives a variant from another with ``variant.derive("mine", lr_d=4e-4)``: the
options it names win on every kind of data, the parent's per-kind defaults decide the rest.
(``dataclasses.replace`` works too, but cannot tell an option set to the value it already
had from one left alone: the parent's per-kind value wins for those.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from torch import Tensor

from ganbench.augment import policy_problem
from ganbench.dataset import DATA_KINDS
from ganbench.errors import OptionError, short_repr
from ganbench.options import MAX_NAME, is_name, option, options_of, validate_options, with_options

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
        if not isinstance(self.source, str) or not self.source.strip() or not _encodable(self.source):
            raise OptionError("per-kind defaults need a source (text): the paper's code, file and value")
        for what in ("options", "network_options"):
            value = getattr(self, what)
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise OptionError(f"per-kind defaults' {what} must map option names to values, not {value!r}")
        if self.network is not None and (not isinstance(self.network, str) or not self.network.strip()):
            raise OptionError(f"per-kind defaults' network must be a network's name, not {self.network!r}")
        if self.network_options and not self.network:
            raise OptionError(f"per-kind defaults set network options {dict(self.network_options)} but no network")

    def without(self, keys: Iterable[str]) -> Defaults:
        """These defaults less the options named in ``keys``."""
        dropped = set(keys)
        return dataclasses.replace(self, options={k: v for k, v in self.options.items() if k not in dropped})


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    declared: tuple[Mapping[str, Defaults], Mapping[str, Any]] | None = field(
        default=None, repr=False, compare=False, metadata={"option": False}
    )
    """``defaults`` and the option values they were declared beside (kept by ``dataclasses.replace``, taken
    anew when ``defaults`` change): an option changed since wins over the per-kind value."""
    batch_size: int = option(64, ge=1)
    n_critic: int = option(1, ge=1, le=1000)  # critic steps per generator step; papers use 1 to 100
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
    r1_every: int = option(1, ge=1, le=1000)
    """Lazy R1 (Karras et al. 2020): a separate D step on the R1 term times N, after every N-th D step, with D's
    Adam lr times N/(N+1) and betas to the power N/(N+1) (stylegan2-ada's D_reg_interval); 1: R1 in every D step."""
    g_reg_every: int = option(1, ge=1, le=1000)
    """stylegan2-ada's G_reg_interval: G's Adam lr times N/(N+1) and betas to the power N/(N+1), as its lazy
    regularisation sets them (also at CIFAR, where path-length regularisation is off); 1: unchanged."""
    pl_weight: float = option(0.0, ge=0)
    """Path-length regularisation (Karras et al. 2020, stylegan2-ada loss.py): pl_weight x (|J_w^T y| - a)^2,
    J_w the Jacobian of G's image w.r.t. its styles, y image-shaped noise, a the running mean of the lengths;
    a separate G step every ``g_reg_every`` steps weighted by it (lazy regularisation). The paper's configs: 2;
    cifar: 0. Needs a style-based network (stylegan2); 0 is off."""
    pl_decay: float = option(0.01, gt=0, le=1)
    """How fast the running mean of path lengths follows them (stylegan2-ada: 0.01)."""
    pl_batch_shrink: int = option(2, ge=1, le=1024)
    """The path-length step's batch is batch_size / this (stylegan2-ada: 2)."""
    style_mixing: float = option(0.0, ge=0, le=1)
    """Style mixing (Karras et al. 2019): the probability that a training batch takes its styles after a random
    layer from a second z (stylegan2-ada's style_mixing_prob: 0.9 in the paper's configs, 0 at cifar). Needs a
    style-based network (stylegan2); 0 is off."""
    weight_clip: float = option(0.0, ge=0)
    """Clamp every discriminator parameter to [-c, c] after each step (Arjovsky 2017); 0 is off."""
    spectral_norm: bool = False
    """Spectral normalisation of every discriminator layer (Miyato 2018)."""
    pack: int = option(1, ge=1, le=1024)
    """Samples the discriminator sees at once (PacGAN, Lin 2018)."""
    standardize: bool = False
    """Show the networks the data divided by its standard deviation (one number over every coordinate)
    and scale generated samples back before scoring: WGAN-GP's toy code trains on unit-spread data."""
    diffaugment: tuple[str, ...] = ()
    """DiffAugment (Zhao et al. 2020) on every batch D sees, real and fake, on images: any of color, translation,
    cutout (the paper's CIFAR policy: all three); empty is off. See ganbench.augment."""
    ema_decay: float = option(0.0, ge=0, lt=1)
    """Score an exponential moving average of G's weights, with this decay per generator step (BigGAN:
    0.9999); 0 is off. See ganbench.ema."""
    ema_start: int = option(0, ge=0, le=1_000_000_000)
    """Generator steps during which the average only copies G (BigGAN/StudioGAN's ``ema_start``)."""
    ema_kimg: float = option(0.0, ge=0, le=1_000_000)
    """StyleGAN2's form instead of ``ema_decay``: the average's half-life in thousands of images (StyleGAN2: 10 to
    500); 0 is off. At most a million: longer, the decay per step rounds to 1 and the average never moves."""
    ema_rampup: float = option(0.0, ge=0)
    """With ``ema_kimg``: the half-life is at most this fraction of the images seen (StyleGAN2: 0.05); 0: no ramp-up."""
    ema_buffers: Literal["average", "copy"] = "average"
    """The average's buffers (BatchNorm statistics): averaged like weights (StudioGAN) or G's copied (StyleGAN2)."""

    def __post_init__(self) -> None:
        validate_options(self)
        problem = policy_problem(self.diffaugment)
        if problem:
            example = "; e.g. --set diffaugment='color,translation,cutout'" if "policy" in problem else ""  # quoted:
            raise OptionError(f"variant {self.name!r} option 'diffaugment' {problem}{example}")  # one word, in TOML too
        if self.ema_decay and self.ema_kimg:
            raise OptionError(
                f"variant {self.name!r} sets both ema_decay ({self.ema_decay}) and ema_kimg ({self.ema_kimg}): "
                "they are two forms of one average; set one of them to 0 (--set ema_kimg=0 or --set ema_decay=0)"
            )
        if self.pl_weight and self.batch_size < self.pl_batch_shrink:
            raise OptionError(
                f"variant {self.name!r} regularises path lengths on batches of batch_size / pl_batch_shrink, but "
                f"{self.batch_size} / {self.pl_batch_shrink} is less than one sample; lower --set pl_batch_shrink"
            )
        if not isinstance(self.defaults, Mapping):
            raise OptionError(f"variant {self.name!r}: defaults must map kinds of data to ganbench.Defaults")
        bare = None
        for kind, chosen in self.defaults.items():
            if kind not in DATA_KINDS or not isinstance(chosen, Defaults):
                raise OptionError(
                    f"variant {self.name!r}: defaults must map a kind of data ({', '.join(DATA_KINDS)}) to "
                    f"ganbench.Defaults, not {kind!r} to {type(chosen).__name__}"
                )
            bare = bare or dataclasses.replace(self, defaults={}, declared=None)
            with_options(bare, chosen.options, f"the defaults for {kind} of variant {self.name!r}")
        if self.declared is None or self.declared[0] != self.defaults:
            object.__setattr__(self, "declared", (dict(self.defaults), options_of(self)))

    @property
    def styled(self) -> bool:
        """Whether the variant acts on a style-based generator's styles (``style_mixing``, ``pl_weight``)."""
        return bool(self.style_mixing or self.pl_weight)

    @property
    def ema(self) -> bool:
        """Whether runs score the moving average of G (``ema_decay`` or ``ema_kimg``)."""
        return bool(self.ema_decay or self.ema_kimg)

    def defaults_for(self, data_kind: str) -> Defaults | None:
        """The per-kind defaults for ``data_kind``, less the options changed since they were declared."""
        chosen = self.defaults.get(data_kind)
        if chosen is None:
            return None
        now, then = options_of(self), (self.declared or ({}, {}))[1]
        changed = [k for k in chosen.options if now[k] != then.get(k, now[k])]
        return chosen.without(changed) if changed else chosen

    def derive(self, name: str, **changes: Any) -> Variant:
        """A new variant called ``name`` with ``changes``: the options named win over this variant's per-kind
        defaults on every kind of data, even where a change repeats the value this variant has."""
        if not is_name(name):
            raise OptionError(
                f"a derived variant's name must be lower-case letters and digits, joined by '-', '_' or '.', at "
                f"most {MAX_NAME} characters, not {short_repr(name)}; e.g. derive('{self.name}-mine', ...)"
            )
        if name == self.name:
            raise OptionError(f"a derived variant needs a name of its own, not its parent's {name!r}")
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise OptionError(f"variant {self.name!r} has no option {unknown[0]!r}; `ganbench list` shows its options")
        defaults = changes.pop("defaults", None)
        if defaults is None:
            defaults = {kind: d.without(changes) for kind, d in self.defaults.items()}
        return dataclasses.replace(self, name=name, defaults=defaults, declared=None, **changes)
