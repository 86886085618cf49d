"""The training loop: a spec's parts, their state, and the steps that change it, bit for bit.

The loop alternates ``n_critic`` discriminator steps (real batch, detached fake batch)
and one generator step. All randomness comes from the run's seed through three derived
streams: weight init, data order, noise (conditional variants draw the fake batches'
labels from the noise stream too). Everything that changes during training lives in one
``TrainState``; saving and restoring it resumes a killed run exactly.

Data stay on the training device in the dataset's item form (uint8 images, index
triples, float vectors); each batch is indexed there and turned into model input there:
no DataLoader, no host copy per step. On a GPU nothing in a step waits for the device:
a NaN/inf loss sets a device-side flag that is read only where the host needs a value
anyway (log and checkpoint steps), and the run is recorded as diverged at the step the
flag first went up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import numbers
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.augment import diff_augment
from ganbench.dataset import Dataset, titled
from ganbench.dataset_checks import load_checked
from ganbench.devices import reproducible_kernels
from ganbench.ema import GeneratorEMA
from ganbench.errors import MORE_MEMORY, OptionError, memory_size, short_repr
from ganbench.evaluation import eval_labels, generate
from ganbench.memory_limits import host_memory_free, process_memory_room
from ganbench.network import Network
from ganbench.options import plain_bool, whole_if_integral, with_options
from ganbench.plugins import blamed, registries
from ganbench.progress import progress
from ganbench.regularizers import add_spectral_norm, clip_weights, gradient_penalty, path_lengths, r1_penalty
from ganbench.selection import Selected, check_reference_fits, preflight, select_metrics, warn_unequal_sizes
from ganbench.spec import MAX_STEPS, RunSpec
from ganbench.variant import Variant
from ganbench.writable import refuse_writing_into_data

DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_LOG_EVERY = 10


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream of a run."""
    digest = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


@contextlib.contextmanager
def callers_randomness_kept() -> Iterator[None]:
    """torch's, Python's and numpy's global random numbers as they were before: the caller's own draws go on as if
    no run came between (a run seeds them every step; pass 88: torch's moved only when a run trained)."""
    saved = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []):
            yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])


def seed_global_randomness(seed: int) -> None:
    """Seed what a step's code may draw from without a generator of its own: torch's, Python's ``random`` and
    numpy's global ones (a network's dropout or noise inputs; a loss's label noise: pass 87, a loss drawing from
    ``random`` trained another result under one run id). Each step is seeded, so a resumed run draws alike.
    Not ``torch.manual_seed``: with CUDA not yet initialised it queues a seeding per accelerator module, each
    formatting the caller's stack, a millisecond a call and a fifth of a small network's step on a CPU."""
    torch.default_generator.manual_seed(seed)
    for accelerator in (torch.cuda, torch.xpu):
        if accelerator.is_initialized():
            accelerator.manual_seed_all(seed)
    if torch.backends.mps.is_available():
        torch.mps.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


@dataclass
class Components:
    """The registered objects a spec names, with its options applied."""

    variant: Variant
    dataset: Dataset
    network: Network

    @classmethod
    def of(cls, spec: RunSpec) -> Components:
        regs = registries()
        return cls(
            with_options(regs.variants.get(spec.variant), spec.variant_options, f"variant {spec.variant!r}"),
            with_options(regs.datasets.get(spec.dataset), spec.dataset_options, f"dataset {spec.dataset!r}"),
            with_options(regs.networks.get(spec.network), spec.network_options, f"network {spec.network!r}"),
        )

    @property
    def n_classes(self) -> int:
        """Classes the networks are conditioned on (0: unconditional)."""
        return self.dataset.n_classes if self.variant.conditional else 0


def check_batch_fits(spec: RunSpec, variant: Variant, n_items: int, shape: tuple[int, ...]) -> None:
    """OptionError if one of the variant's batches (``batch_size`` x ``pack``) needs more items than the data hold,
    or the variant augments images (``diffaugment``) and the samples are not images."""
    if variant.batch_size * variant.pack > n_items:
        raise OptionError(
            f"variant {spec.variant!r} takes batches of {variant.batch_size * variant.pack} samples but dataset "
            f"{titled(spec.dataset, spec.dataset_options)} holds {n_items}",
            f"; lower --set batch_size={max(n_items // variant.pack, 1)}",
        )
    if variant.diffaugment and len(shape) != 3:
        raise OptionError(
            f"variant {spec.variant!r} augments images (diffaugment={','.join(variant.diffaugment)}) but dataset "
            f"{spec.dataset!r} holds samples of shape {tuple(shape)}",
            "; --set diffaugment= turns it off",
        )


def check_network_fits(spec: RunSpec, variant: Variant, network: Network) -> None:
    """OptionError if the variant acts on styles (style mixing, path-length regularisation) and the network's
    generator has none."""
    if variant.styled and not network.style_based:
        used = [f"{k}={getattr(variant, k)}" for k in ("style_mixing", "pl_weight") if getattr(variant, k)]
        styled = [e.obj.name for e in registries().networks if e.obj.style_based]
        other = f"use --network {' or '.join(styled)} (images) or " if styled else ""
        raise OptionError(
            f"variant {spec.variant!r} sets {' and '.join(used)}, which {'act' if len(used) > 1 else 'acts'} on a "
            f"style-based generator's styles, but network {spec.network!r} has none; {other}"
            + " ".join(f"--set {u.split('=')[0]}=0" for u in used)
        )


OPTIMIZER_STATES = {"adam": ("Adam's", 2), "rmsprop": ("RMSprop's", 1)}
"""How messages name each optimizer's state, and the float32 buffers it keeps per parameter: Adam's two moments,
RMSprop's mean square."""


def bytes_per_parameter(variant: Variant) -> int:
    """float32 weights, their gradients and the optimizer's state: what training holds per parameter at least."""
    return 4 * (2 + OPTIMIZER_STATES.get(variant.optimizer, ("", 2))[1])


def check_networks(spec: RunSpec, parts: Components, device: torch.device | None, at_once: int = 1) -> None:
    """Build the networks on the meta device (nothing allocated) and refuse in one line, before the run's folder
    exists, what would fail later: more parameters than memory holds (on ``device``, for ``at_once`` such runs
    side by side; None: not yet known), a batch that batch norm cannot normalise."""
    conditional = {"n_classes": parts.n_classes, "conditioning": parts.variant.conditioning} if parts.n_classes else {}
    with blamed("networks", spec.network, "build"):  # what the meta device's excepts let by: sys.exit(0), say
        try:
            with torch.device("meta"):
                g, d = check_built(parts.network.build(tuple(parts.dataset.shape), parts.variant.pack, **conditional))
        except (RuntimeError, NotImplementedError, TypeError, ValueError):  # an init the meta device cannot run,
            return  # or a plugin's mistake that the real build reports, naming it
    if device is not None:
        check_memory_fits(spec, parts, device, g, d, at_once)
    with blamed("networks", spec.network, "forward"):
        check_batch_norm_fits(spec, parts, g, d)


def check_memory_fits(
    spec: RunSpec, parts: Components, device: torch.device, g: torch.nn.Module, d: torch.nn.Module, at_once: int = 1
) -> None:
    """OptionError if the networks' parameters alone (with gradients, the optimizer's state and the moving average
    of G), for ``at_once`` runs side by side (``--workers``), need more memory than ``device`` has free: a width the
    options allow (``network.width=16384``) would otherwise be killed by the kernel, without a word."""
    free = free_memory(device)
    room = process_memory_room() if device.type == "cpu" else None  # each run's process its own (ulimit -v)
    if free is None and room is None:
        return
    v = parts.variant
    n_g, n_d = (sum(p.numel() for p in net.parameters()) for net in (g, d))
    averaged = 4 * n_g if v.ema else 0
    needed = bytes_per_parameter(v) * (n_g + n_d) + averaged
    if device.type == "cpu":  # a checkpoint is serialised in memory, weights and optimizer state again (pass 68:
        needed += (bytes_per_parameter(v) - 4) * (n_g + n_d) + averaged  # it failed there, advised batch_size)
    if (free is None or needed * at_once <= free) and (room is None or needed <= room):
        return
    state = OPTIMIZER_STATES.get(v.optimizer, ("the optimizer's", 2))[0]
    defaults = {f.name: f.default for f in dataclasses.fields(parts.network) if type(f.default) is int}
    options = spec.network_options.items()
    grown = [(k, size / defaults[k]) for k, size in options if type(size) is int and size > defaults.get(k, size)]
    sizes = sorted(grown, key=lambda item: -item[1])[:2]  # what was made larger: the network's names (no pacgan width)
    lower = (
        f"lower --set {' or '.join(f'network.{k}' for k, _ in sizes)}"
        if sizes
        else f"use a smaller network (`ganbench list` shows the options of network {spec.network!r})"
    )
    together, limit = "", f"the {memory_size(free)} free on {device}" if free is not None else ""
    if room is not None and needed > room:  # a process's cap, not the machine's memory: more workers do not matter
        limit = f"the {memory_size(room)} a process may still take here (ulimit -v)"
    elif at_once > 1:
        together = f", {memory_size(needed * at_once)} for the {at_once} runs at once"
        lower = f"lower --workers or {lower.removeprefix('lower ')}" if needed <= free else lower
    fact = (
        f"network {spec.network!r} with these options holds {n_g + n_d:,} parameters: {memory_size(needed)} with "
        f"gradients and {state} state{' (and a checkpoint of them)' if device.type == 'cpu' else ''}{together}, "
        f"more than {limit}"
    )
    alone_fits = at_once > 1 and free is not None and needed <= free and (room is None or needed <= room)
    raise TooBigForMemory(f"{fact}; {lower}", fact, fewer_at_once_fit=alone_fits)


class TooBigForMemory(OptionError):
    """The memory pre-check's refusal; ``fact`` is what does not fit, without the advice (a run that resumes from a
    checkpoint cannot take a smaller network: it would be another run, pass 72); ``fewer_at_once_fit``: one run
    alone would fit (lower --workers)."""

    def __init__(self, message: str, fact: str, fewer_at_once_fit: bool = False) -> None:
        super().__init__(message)
        self.fact, self.fewer_at_once_fit = fact, fewer_at_once_fit

    def resuming(self, which: str) -> str:
        """The line for ``which`` runs ("run ID resumes from its checkpoint") that resume: more memory (or fewer
        runs at once), never a smaller network, which would make other runs and strand their checkpoints."""
        fewer = "lower --workers or " if self.fewer_at_once_fit else ""
        return f"{self.fact}; {which}, which a smaller network would not: {fewer}{MORE_MEMORY}"


def check_batch_norm_fits(spec: RunSpec, parts: Components, g: torch.nn.Module, d: torch.nn.Module) -> None:
    """OptionError if a training batch leaves batch norm one value per channel (``batch_size=1`` through an MLP's
    BatchNorm1d), which torch refuses at the first step. One meta-device pass of G and D at the training shapes."""
    v = parts.variant
    n = v.batch_size * v.pack
    if v.batch_size > 1:  # D's batch (G's is pack times it): two samples give each channel two values at least,
        return  # and the meta pass costs torch._dynamo's import (seconds, in a sweep's process that trains nothing)
    z = torch.empty((n, parts.network.z_dim), device="meta")
    y = torch.zeros((n,), dtype=torch.long, device="meta") if parts.n_classes else None
    try:
        fake = pack(g(z) if y is None else g(z, y), v.pack)
        d(fake) if y is None else d(fake, y[: len(fake)])
    except ValueError as exc:
        if "more than 1 value per channel" not in str(exc):
            return
        raise OptionError(
            f"variant {spec.variant!r} with batch_size={v.batch_size} gives the batch norm of network "
            f"{spec.network!r} one sample per channel, which it cannot normalise; --set batch_size=2 or more"
        ) from None
    except Exception:  # a forward the meta device cannot run: the real run reports its own errors
        return


def free_memory(device: torch.device) -> int | None:
    """Bytes free on ``device`` for all runs together: a GPU's free memory; on Linux the host's MemAvailable, or
    less where a control group (a container) allows less; None where unknown."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return host_memory_free() if device.type == "cpu" else None


def check_runs_fit(
    specs: Iterable[RunSpec],
    outputs: Mapping[str, str | Path | None] | None = None,
    device: torch.device | None = None,
    at_once: int = 1,
) -> None:
    """What a Trainer checks before it trains (the batch against the data, the networks, the metrics' extractors
    and weights), for many runs before any trains, each distinct dataset loaded once: a suite whose tenth run
    cannot start is refused before its first, in one line. ``outputs`` (option -> path) must lie outside every
    run's data; ``device``: where the runs will train, if on this machine (their networks' memory is checked, for
    ``at_once`` of them side by side)."""
    sizes: dict[str, int] = {}
    scored: set[str] = set()
    built: set[str] = set()
    scaled: set[str] = set()
    for spec in specs:
        parts = Components.of(spec)
        refuse_writing_into_data(parts.dataset.data_paths(), outputs or {})
        data = json.dumps([spec.dataset, spec.dataset_options], sort_keys=True)
        if data not in sizes:
            sizes[data] = len(load_checked(spec.dataset, parts.dataset, parts.n_classes)[0])
        check_batch_fits(spec, parts.variant, sizes[data], tuple(parts.dataset.shape))
        if parts.variant.standardize and data not in scaled:  # constant images have no deviation to divide by
            scaled.add(data)
            data_scale(spec, parts.dataset, load_checked(spec.dataset, parts.dataset, parts.n_classes)[0])
        check_network_fits(spec, parts.variant, parts.network)
        networks = json.dumps([data, spec.network, spec.network_options, spec.variant, spec.variant_options])
        if networks not in built:  # a suite's batch_size=1 through batch norm failed its runs as they started
            built.add(networks)
            check_networks(spec, parts, device, at_once)
        scoring = json.dumps([data, spec.eval.metrics, parts.variant.conditional])
        if scoring not in scored:
            scored.add(scoring)
            selection = select_metrics(parts.dataset, spec.eval.metrics, parts.variant.conditional)
            check_reference_fits(spec.dataset, parts.dataset, selection)  # the data first: no metric avoids them
            preflight(parts.dataset, selection)


def data_scale(spec: RunSpec, dataset: Dataset, data: torch.Tensor, chunk: int = 10_000) -> float:
    """The standard deviation of every coordinate of the networks' input over all training items ``data`` (in
    float64, chunk by chunk: images are converted to model input a chunk at a time). OptionError if 0."""
    total = total_sq = count = 0.0
    for start in range(0, len(data), chunk):
        x = dataset.to_model(data[start : start + chunk]).double()
        total, total_sq, count = total + x.sum().item(), total_sq + x.square().sum().item(), count + x.numel()
    mean = total / count
    scale = math.sqrt(max(total_sq / count - mean * mean, 0.0))
    if not scale > 0 or not math.isfinite(scale):
        raise OptionError(
            f"variant {spec.variant!r} divides the data by their standard deviation (standardize), but dataset "
            f"{titled(spec.dataset, spec.dataset_options)} has none (its items are all alike); "
            "--set standardize=false, or other data"
        )
    return scale


def check_built(built: Any) -> tuple[torch.nn.Module, torch.nn.Module]:
    """What ``Network.build`` returned, if it is the promised (generator, discriminator) of trainable modules."""
    if not isinstance(built, (tuple, list)) or len(built) != 2:
        raise TypeError(f"it returned {short_repr(built)}, not (generator, discriminator)")
    for role, net in zip(("generator", "discriminator"), built, strict=True):
        if not isinstance(net, torch.nn.Module):
            raise TypeError(f"its {role} is {short_repr(net)}, not a torch.nn.Module")
        if not any(p.requires_grad for p in net.parameters()):
            raise ValueError(f"its {role} has no trainable parameters")
    return built[0], built[1]


def samples_of(spec: RunSpec, dataset: Dataset, output: torch.Tensor) -> torch.Tensor:
    """The dataset's ``from_model`` of generator output, checked: one evaluation sample of its shape per output,
    finite where the output is (else a NaN it made would be recorded as the generator's divergence)."""
    with blamed("datasets", spec.dataset, "from_model"):
        samples = dataset.from_model(output)
        if not isinstance(samples, torch.Tensor) or samples.shape != (len(output), *dataset.shape):
            got = tuple(samples.shape) if isinstance(samples, torch.Tensor) else short_repr(samples)
            wanted = ", ".join(map(str, (len(output), *dataset.shape)))
            raise ValueError(f"it gave samples {got} for {len(output)} outputs, not ({wanted})")
        if not bool(torch.isfinite(samples).all()) and bool(torch.isfinite(output).all()):
            raise ValueError("it gave samples that are not finite for finite generator outputs")
    return samples


def check_forward(spec: RunSpec, parts: Components, g: torch.nn.Module, d: torch.nn.Module) -> None:
    """One pass of a training batch through G and D, then the variant's losses, in eval mode and again in training
    mode, without a backward, the buffers (batch norm's running statistics, spectral norm's power iterates) put back
    after: the run is the same with or without it. A generator whose samples are not the dataset's shape, a
    discriminator giving other than one real score per sample, or losses that are not one number, fail here, naming
    the plugin, not at the first training step, or silently by broadcasting the losses over a wrong shape."""
    n = parts.variant.batch_size * parts.variant.pack
    device = next(g.parameters()).device
    z = torch.randn((n, parts.network.z_dim), generator=torch.Generator().manual_seed(0)).to(device)
    y = torch.zeros((n,), dtype=torch.long, device=device) if parts.n_classes else None
    training = {m: m.training for net in (g, d) for m in net.modules()}
    buffers = [(b, b.detach().clone()) for net in (g, d) for b in net.buffers()]
    try:
        with torch.random.fork_rng(devices=[]), blamed("networks", spec.network, "forward"):
            for train in (False, True):  # a network that misbehaves only as it trains: at once, not at step 1
                g.train(train)
                d.train(train)
                _check_pass(spec, parts, g, d, z, y, " in training mode" if train else "")
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        for module, mode in training.items():
            module.train(mode)


def _check_pass(
    spec: RunSpec,
    parts: Components,
    g: torch.nn.Module,
    d: torch.nn.Module,
    z: torch.Tensor,
    y: torch.Tensor | None,
    mode: str,
) -> None:
    """``check_forward``'s pass in the networks' present mode (``mode``: words for its messages)."""
    v, shape, pairs = parts.variant, tuple(parts.dataset.shape), parts.variant.batch_size
    n, device = len(z), z.device
    fake = g(z) if y is None else g(z, y)
    _check_tensor(fake, "generator", "samples", device)
    if fake.shape != (n, *shape):
        raise ValueError(f"its generator gives {tuple(fake.shape)} for {n} samples{mode}; dataset samples are {shape}")
    _check_tracked(fake, g, "generator's samples")
    fake = fake.detach()
    samples_of(spec, parts.dataset, fake)
    packed = pack(fake, v.pack)
    scores = d(packed) if y is None else d(packed, y[: len(packed)])
    _check_tensor(scores, "discriminator", "scores", device)
    if scores.shape not in ((pairs,), (pairs, 1)):
        got = tuple(scores.shape)
        raise ValueError(f"its discriminator gives {got} for {pairs} inputs{mode}, not ({pairs},) or ({pairs}, 1)")
    _check_tracked(scores, d, "discriminator's scores")
    scores = scores.detach()
    for loss in ("d_loss", "g_loss"):  # random draws in a loss come from the forked stream too
        with blamed("variants", spec.variant, loss):
            spread = torch.linspace(-4.0, 4.0, scores.numel(), device=scores.device).reshape(scores.shape)
            leaves = tuple(spread.clone().requires_grad_() for _ in range(2 if loss == "d_loss" else 1))
            given = tuple(leaf * 1.0 for leaf in leaves)  # not leaves: D's scores are not, and may be edited in place
            value = v.d_loss(*given) if loss == "d_loss" else v.g_loss(*given)
            if not isinstance(value, torch.Tensor) or value.ndim or not value.is_floating_point():
                got = f"{value.dtype} {tuple(value.shape)}" if isinstance(value, torch.Tensor) else short_repr(value)
                raise ValueError(f"it gave {got}, not one floating-point number (a 0-d tensor)")
            _check_loss_moves(value, leaves)


def _check_loss_moves(value: torch.Tensor, scores: tuple[torch.Tensor, ...]) -> None:
    """ValueError if a loss of scores spread over [-4, 4] has no gradient back to them, or one that is zero for
    every score (a constant, detached, made under no_grad, a meta tensor; a sign, a rounding, a loss times 0):
    its backward would fail at the first step, or train nothing while the run is recorded as completed. Every
    GAN loss moves some score in that range."""
    if value.is_meta:
        raise ValueError("it gave a meta tensor (a shape without data), not a number")
    grads = torch.autograd.grad(value, scores, allow_unused=True) if value.requires_grad else (None,)
    if not bool(torch.isfinite(value)) or any(g is not None and not bool(torch.isfinite(g).all()) for g in grads):
        raise ValueError(  # else counted as the method's divergence at step 1, or told as "a zero gradient"
            "its loss, or its gradient, is not finite for scores from -4 to 4 (NaN or inf), so no step can train"
        )
    if all(grad is None for grad in grads):
        raise ValueError(
            "its loss carries no gradient back to the discriminator's scores (a constant, detached, or made under "
            "torch.no_grad()), so training cannot move the networks; return it as computed from the scores"
        )
    if not any(bool(grad.abs().sum() > 0) for grad in grads if grad is not None):
        raise ValueError(
            "its loss has a zero gradient for every score from -4 to 4 (a sign, a rounding, or a loss times 0?), "
            "so training cannot move the networks"
        )


def _check_tensor(output: Any, net: str, what: str, device: torch.device) -> None:
    """ValueError, in words, if a network's ``output`` is not a floating-point tensor on the weights' ``device``:
    each its own message (a complex tensor's was "gives (100, 2); samples are (2,)": its shape, which was right)."""
    if not isinstance(output, torch.Tensor):
        raise ValueError(f"its {net} gives a {type(output).__name__}, not a tensor of {what}")
    if output.device != device:
        raise ValueError(f"its {net} gives {what} on the {output.device} device, not on {device} with its weights")
    if not output.is_floating_point():
        raise ValueError(f"its {net} gives {output.dtype} {what}, not floating-point ones")


def _check_tracked(output: torch.Tensor, net: torch.nn.Module, what: str) -> None:
    """ValueError if ``output`` carries no graph to ``net``'s trainable weights (detached, or made under no_grad):
    its backward would fail at the first step, or its network never learn."""
    if not output.requires_grad and any(p.requires_grad for p in net.parameters()):
        raise ValueError(
            f"its {what} carry no gradient to its weights (detached, or made under torch.no_grad()), so training "
            "cannot move them; return them as computed"
        )


class TrainState:
    """Everything that changes while training; ``state_dict`` holds tensors and numbers only."""

    def __init__(self, spec: RunSpec, parts: Components, device: torch.device) -> None:
        variant = parts.variant
        conditional = {"n_classes": parts.n_classes, "conditioning": variant.conditioning} if parts.n_classes else {}
        with torch.random.fork_rng(devices=[]), blamed("networks", spec.network, "build"):
            torch.manual_seed(derive_seed(spec.seed, "init"))
            built = parts.network.build(tuple(parts.dataset.shape), variant.pack, **conditional)
            generator, discriminator = check_built(built)
            if variant.spectral_norm:
                add_spectral_norm(discriminator)
        self.generator = generator.to(device)
        self.discriminator = discriminator.to(device)
        check_forward(spec, parts, self.generator, self.discriminator)
        self.ema = GeneratorEMA(self.generator, variant) if variant.ema else None
        """The moving average of G that evaluation scores (``ema_decay``/``ema_kimg``), or None."""
        self.opt_g = _optimizer(variant, self.generator.parameters(), variant.lr_g, variant.g_reg_every)
        lazy_r1 = variant.r1_every if variant.r1_gamma else 1
        self.opt_d = _optimizer(variant, self.discriminator.parameters(), variant.lr_d, lazy_r1)
        self.lazy_penalty = torch.zeros((), device=device)
        """The last lazy R1 term (``r1_every`` > 1), logged on the steps between those that compute it."""
        self.pl_mean = torch.zeros((), device=device)
        """The running mean of path lengths (``pl_weight``), stylegan2-ada's ``pl_mean``."""
        self.pl_penalty = torch.zeros((), device=device)
        """The last path-length term (``pl_weight``), logged on the steps between those that compute it."""
        self.noise = torch.Generator(device=device).manual_seed(derive_seed(spec.seed, "noise"))
        self.augment = None
        """The random stream of DiffAugment's draws (``diffaugment``), or None."""
        if variant.diffaugment:
            self.augment = torch.Generator(device=device).manual_seed(derive_seed(spec.seed, "augment"))
        self.step = 0
        self.epoch = 0
        self.cursor = 0
        self.train_seconds = 0.0
        self.best: dict[str, dict[str, float]] = {}
        """Best value of each metric output scored during training, and its step (--eval-every)."""
        self.scored_at = -1
        """The last step whose samples were scored (and its scores logged): a run resumed there scores again
        without telling its loggers twice; one resumed from the checkpoint written before scoring tells them."""
        self.log_every: int | None = None
        """The cadence of the run's history rows so far (None: a checkpoint written before it was kept)."""
        self.pending_logs: dict[str, float] = {}
        """The last step's losses while its scores are computed: the checkpoint written before them keeps them, so a
        run resumed there logs the row an uninterrupted run logs."""

    def state_dict(self) -> dict[str, Any]:
        return {
            **({"generator_ema": self.ema.state_dict()} if self.ema else {}),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "noise": self.noise.get_state(),
            **({"augment": self.augment.get_state()} if self.augment else {}),
            "step": self.step,
            "epoch": self.epoch,
            "cursor": self.cursor,
            "train_seconds": self.train_seconds,
            "best": self.best,
            "scored_at": self.scored_at,
            "pending_logs": dict(self.pending_logs),
            "log_every": self.log_every,
            "lazy_penalty": self.lazy_penalty,
            "pl_mean": self.pl_mean,
            "pl_penalty": self.pl_penalty,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; KeyError/RuntimeError/ValueError/TypeError if it does not fit."""
        self.generator.load_state_dict(state["generator"])
        if self.ema:
            self.ema.load_state_dict(state["generator_ema"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.noise.set_state(state["noise"])
        if self.augment:
            self.augment.set_state(state["augment"])
        self.step, self.epoch, self.cursor = state["step"], state["epoch"], state["cursor"]
        self.train_seconds = state["train_seconds"]
        self.best = dict(state["best"])
        self.scored_at = state.get("scored_at", self.step)  # written before it was kept: after scoring, at the end
        self.pending_logs = dict(state.get("pending_logs", {}))
        self.log_every = state.get("log_every")
        for name in ("lazy_penalty", "pl_mean", "pl_penalty"):  # checkpoints made before they were kept: 0
            setattr(self, name, state.get(name, torch.zeros(())).to(getattr(self, name).device))


def _optimizer(variant: Variant, params: Any, lr: float, reg_every: int = 1) -> torch.optim.Optimizer:
    """The variant's optimizer; a lazily regularised network's Adam gets lr x r and betas ** r, r = N / (N + 1)
    (stylegan2-ada training_loop.py: ``mb_ratio = reg_interval / (reg_interval + 1)``)."""
    if variant.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    ratio = reg_every / (reg_every + 1) if reg_every > 1 else 1.0
    betas = tuple(beta**ratio for beta in variant.betas) if ratio != 1.0 else variant.betas
    return torch.optim.Adam(params, lr=lr * ratio, betas=betas)


class Batches:
    """Indices of minibatches in a fresh permutation each epoch; the permutation of epoch e comes
    from (seed, e) alone, so (epoch, cursor) is the whole state of the data order."""

    def __init__(self, size: int, device: torch.device, seed: int, state: TrainState) -> None:
        self.size, self.device, self.seed, self.state = size, device, seed, state
        self._perm_epoch = -1
        self._perm = torch.empty(0, dtype=torch.long)

    def next(self, n: int) -> torch.Tensor:
        s = self.state
        if s.cursor + n > self.size:
            s.epoch, s.cursor = s.epoch + 1, 0
        if self._perm_epoch != s.epoch:
            gen = torch.Generator().manual_seed(derive_seed(self.seed, f"data/{s.epoch}"))
            self._perm = torch.randperm(self.size, generator=gen).to(self.device)
            self._perm_epoch = s.epoch
        index = self._perm[s.cursor : s.cursor + n]
        s.cursor += n
        return index


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B*m, C, ...) -> (B, m*C, ...): m samples side by side along the first feature axis."""
    if m == 1:
        return x
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


@dataclass
class Outcome:
    stopped_by: str
    diverged_at: int | None = None


@dataclass
class Hooks:
    """What the loop calls out to: logs every ``log_every`` steps, checkpoints, evaluations.

    ``evaluate(step)`` returns metric values to log beside the losses (``eval_every`` steps
    and the last step of a step budget; before the last one's, ``on_checkpoint`` too).
    """

    log_every: int = DEFAULT_LOG_EVERY
    on_log: Callable[[int, dict[str, float]], None] | None = None
    checkpoint_every: int | None = None
    """None: no checkpoints."""
    on_checkpoint: Callable[[], None] | None = None
    eval_every: int | None = None
    evaluate: Callable[[int], dict[str, float]] | None = field(default=None)
    progress: bool = False

    def __post_init__(self) -> None:
        never = {"checkpoint_every": " (or None: never)", "eval_every": " (or left out: never)"}  # their defaults
        for name in ("log_every", "checkpoint_every", "eval_every"):
            optional = name in never
            value = whole_if_integral(getattr(self, name))
            if value is None and optional:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_STEPS:
                raise OptionError(  # the command line's name too: its advice must work where the user typed it
                    f"{name} (--{name.replace('_', '-')}) must be a whole number of steps from 1 to {MAX_STEPS:,}"
                    f"{never.get(name, '')}, not {value!r}; e.g. 1000"
                )
            setattr(self, name, int(value))
        self.progress = plain_bool(self.progress)  # numpy's too, as options take it
        if not isinstance(self.progress, bool):
            raise OptionError(f"progress must be True or False, not {self.progress!r}")


class Trainer:
    """Runs the training loop of one spec on one TrainState."""

    def __init__(self, spec: RunSpec, device: torch.device | str = "cpu") -> None:
        self.spec = spec
        self.device = torch.device(device)
        self.parts = Components.of(spec)
        dataset, variant = self.parts.dataset, self.parts.variant
        data, labels = load_checked(spec.dataset, dataset, self.parts.n_classes)  # missing files: reported first
        self.data = data.to(self.device)
        self.selection: list[Selected] = select_metrics(dataset, spec.eval.metrics, conditional=variant.conditional)
        check_reference_fits(spec.dataset, dataset, self.selection)
        preflight(dataset, self.selection)  # a missing extractor (weights, labels) stops the run before training
        check_network_fits(spec, variant, self.parts.network)
        check_batch_fits(spec, variant, len(self.data), tuple(dataset.shape))  # before a batch's tensors are built
        check_networks(spec, self.parts, self.device)
        warn_unequal_sizes(dataset, spec.eval.n_samples)  # once nothing refuses the run
        self.state = TrainState(spec, self.parts, self.device)
        self.labels = None if labels is None else labels.to(self.device)
        self.batches = Batches(len(self.data), self.device, spec.seed, self.state)
        self.scale = data_scale(spec, dataset, self.data) if variant.standardize else None
        """What the data are divided by before the networks see them (``standardize``), or None."""

    def to_model(self, items: torch.Tensor) -> torch.Tensor:
        """Training items as the networks see them: the dataset's model input, divided by ``scale``."""
        x = self.parts.dataset.to_model(items)
        return x if self.scale is None else x / self.scale

    def from_model(self, output: torch.Tensor) -> torch.Tensor:
        """Generator output as evaluation samples: times ``scale``, then the dataset's ``from_model``."""
        return samples_of(self.spec, self.parts.dataset, output if self.scale is None else output * self.scale)

    def fit(self, hooks: Hooks | None = None, steps: int | None = None, max_seconds: float | None = None) -> Outcome:
        """Train until ``steps`` generator updates, ``max_seconds`` of training, or a NaN/inf loss.

        On a GPU, with deterministic kernels: a run repeats bit for bit there as on a CPU.
        """
        with reproducible_kernels(self.device):
            return self._fit(hooks, steps, max_seconds)

    def _fit(self, hooks: Hooks | None, steps: int | None, max_seconds: float | None) -> Outcome:
        hooks = hooks or Hooks()
        steps = self.spec.budget.steps if steps is None else steps
        max_seconds = self.spec.budget.max_seconds if max_seconds is None else max_seconds
        v, s = self.parts.variant, self.state
        G, D, opt_g, opt_d, noise = s.generator, s.discriminator, s.opt_g, s.opt_d, s.noise
        m, n, classes = v.pack, v.batch_size * v.pack, self.parts.n_classes
        z_shape, device = (n, self.parts.network.z_dim), self.device
        d_loss, g_loss = v.d_loss, v.g_loss
        d_params = [p for p in D.parameters() if p.requires_grad]
        lazy_r1 = bool(v.r1_gamma) and v.r1_every > 1
        read_flag_every_step = device.type == "cpu"  # reading a CPU tensor costs nothing; a GPU's waits
        first_bad = torch.full((), -1, dtype=torch.long, device=device)
        bar = progress(
            steps,
            enabled=hooks.progress,
            initial=s.step,
            unit="step",
            desc=f"{self.spec.variant} {self.spec.dataset} s{self.spec.seed}",
        )
        started = time.perf_counter() - s.train_seconds
        out_of_time = lambda: max_seconds is not None and time.perf_counter() - started >= max_seconds  # noqa: E731

        def seen(x: torch.Tensor) -> torch.Tensor:
            """A batch as D sees it: through DiffAugment when the variant asks for it."""
            return diff_augment(x, v.diffaugment, s.augment) if s.augment else x

        def fake_batch() -> tuple[torch.Tensor, torch.Tensor | None]:
            z = torch.randn(z_shape, generator=noise, device=device)
            y = torch.randint(classes, (n,), generator=noise, device=device) if classes else None
            if v.style_mixing:
                return G.synthesize(self.styles(z, y)), y
            return (G(z) if y is None else G(z, y)), y

        outcome = Outcome("steps")
        try:
            while s.step < steps:
                if out_of_time():
                    outcome = Outcome("max_seconds")
                    break
                critic_steps = 0
                while critic_steps < v.n_critic:
                    if critic_steps and out_of_time():  # a long critic loop must not outlast the budget
                        break
                    seed_global_randomness(derive_seed(self.spec.seed, f"network/{s.step}/{critic_steps}"))
                    index = self.batches.next(n)
                    items = self.to_model(self.data[index])
                    if v.r1_gamma and not lazy_r1:
                        items.requires_grad_(True)
                    real = pack(seen(items), m)
                    y_real = None if self.labels is None else self.labels[index]
                    critic = D if y_real is None else (lambda x, y=y_real: D(x, y))
                    with torch.no_grad():
                        fake, y_fake = fake_batch()
                    fake = pack(seen(fake), m)
                    d_real = critic(real)
                    d_fake = D(fake) if y_fake is None else D(fake, y_fake)
                    loss_d = d_loss(d_real, d_fake)
                    penalties = []
                    if v.gp_lambda:
                        penalties.append(v.gp_lambda * gradient_penalty(critic, real, fake, noise))
                    if v.r1_gamma and not lazy_r1:
                        penalties.append(0.5 * v.r1_gamma * r1_penalty(d_real, items))
                    penalty = sum(penalties[1:], penalties[0]) if penalties else None
                    total_d = loss_d if penalty is None else loss_d + penalty
                    opt_d.zero_grad(set_to_none=True)
                    total_d.backward()
                    opt_d.step()
                    if lazy_r1 and (s.step * v.n_critic + critic_steps) % v.r1_every == 0:
                        s.lazy_penalty = self.lazy_r1_step(items, y_real, seen)
                        total_d = total_d + s.lazy_penalty * 0  # a NaN in it counts as divergence
                    if lazy_r1:
                        penalty = s.lazy_penalty if penalty is None else penalty + s.lazy_penalty
                    if v.weight_clip:
                        clip_weights(D, v.weight_clip)
                    critic_steps += 1
                if critic_steps < v.n_critic:
                    outcome = Outcome("max_seconds")
                    break
                seed_global_randomness(derive_seed(self.spec.seed, f"network/{s.step}/g"))
                fake, y_fake = fake_batch()
                fake = pack(seen(fake), m)
                for p in d_params:  # D's weight gradients would be discarded by its next zero_grad: skip them
                    p.requires_grad_(False)
                loss_g = g_loss(D(fake) if y_fake is None else D(fake, y_fake))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                for p in d_params:
                    p.requires_grad_(True)
                opt_g.step()
                log_due = (s.step + 1) % hooks.log_every == 0
                logs: dict[str, float] = {}
                if log_due:  # before the path-length step, which replaces G's gradients
                    logs = dynamics(v, loss_d, loss_g, penalty, d_real, d_fake, G)
                finite = torch.isfinite(total_d.detach()) & torch.isfinite(loss_g.detach())
                if v.pl_weight:
                    if s.step % v.g_reg_every == 0:
                        s.pl_penalty = self.path_length_step()
                        finite = finite & torch.isfinite(s.pl_penalty)
                    if log_due:
                        logs.update(pl_penalty=s.pl_penalty.item(), pl_mean=s.pl_mean.item())
                s.step += 1
                if s.ema:
                    s.ema.update(s.step)
                first_bad = torch.where(finite | (first_bad >= 0), first_bad, s.step)
                checkpoint_due = bool(hooks.checkpoint_every) and s.step % hooks.checkpoint_every == 0
                eval_due = bool(hooks.eval_every) and (s.step % hooks.eval_every == 0 or s.step == steps)
                if read_flag_every_step or log_due or checkpoint_due or eval_due or s.step == steps:
                    diverged_at = int(first_bad)
                    if diverged_at >= 0:
                        s.step = diverged_at
                        outcome = Outcome("diverged", diverged_at=diverged_at)
                        break
                if log_due and hooks.progress:
                    bar.set_postfix(logs, refresh=False)
                s.train_seconds = time.perf_counter() - started
                if eval_due and hooks.evaluate:
                    if s.step == steps and hooks.on_checkpoint:  # kept if scoring fails: a rerun scores, not trains
                        s.pending_logs = dict(logs)
                        hooks.on_checkpoint()
                        s.pending_logs = {}
                    evaluation_started = time.perf_counter()
                    try:
                        logs.update(hooks.evaluate(s.step))
                    except Exception:
                        if s.step < steps and hooks.on_checkpoint:  # kept: a rerun scores this step, not trains it
                            s.pending_logs = dict(logs)
                            hooks.on_checkpoint()
                        raise
                    started += time.perf_counter() - evaluation_started  # scoring is not training time
                if logs and hooks.on_log:
                    hooks.on_log(s.step, logs)
                if checkpoint_due and hooks.on_checkpoint:
                    hooks.on_checkpoint()
                bar.update(1)
        finally:
            s.train_seconds = time.perf_counter() - started
            bar.close()
        return outcome

    def lazy_r1_step(
        self, items: torch.Tensor, labels: torch.Tensor | None, seen: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """stylegan2-ada's 'Dreg' phase: one D step on gamma / 2 x E||grad D(x)||^2 x ``r1_every`` on the real
        batch of the step just taken (through the augmentation, if any). Returns the R1 term (gamma / 2 x E||.||^2)."""
        v, s = self.parts.variant, self.state
        items = items.detach().requires_grad_(True)
        real = pack(seen(items), v.pack)
        d_real = s.discriminator(real) if labels is None else s.discriminator(real, labels)
        term = 0.5 * v.r1_gamma * r1_penalty(d_real, items)
        s.opt_d.zero_grad(set_to_none=True)
        (term * v.r1_every).backward()
        s.opt_d.step()
        return term.detach()

    def styles(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """A training batch's styles, (B, num_ws, w_dim): z's, mixed with probability ``style_mixing`` with a
        second z's from a layer drawn uniformly in [1, num_ws) on (stylegan2-ada loss.py ``run_G``; the second
        mapping leaves the average of w alone). The draws come from the noise stream; no host sync."""
        v, s = self.parts.variant, self.state
        G, noise = s.generator, s.noise
        ws = G.map(z, y)
        if not v.style_mixing:
            return ws
        cutoff = torch.randint(1, G.num_ws, (), generator=noise, device=z.device)
        mixing = torch.rand((), generator=noise, device=z.device) < v.style_mixing
        other = G.map(torch.randn(z.shape, generator=noise, device=z.device), y, update_average=False)
        later = torch.arange(G.num_ws, device=z.device)[None, :, None] >= cutoff
        return torch.where(later & mixing, other, ws)

    def path_length_step(self) -> torch.Tensor:
        """stylegan2-ada's 'Greg' phase: one G step on pl_weight x (|J_w^T y| - a)^2 x ``g_reg_every`` over
        batch_size / pl_batch_shrink fresh samples (styles mixed as in training), y ~ N(0, I) / sqrt(pixels),
        a the running mean of the lengths (moved by ``pl_decay`` first). Returns the term (before the interval's
        weight)."""
        v, s = self.parts.variant, self.state
        G, noise, device = s.generator, s.noise, self.device
        size = v.batch_size // v.pl_batch_shrink
        seed_global_randomness(derive_seed(self.spec.seed, f"network/{s.step}/pl"))
        classes = self.parts.n_classes
        z = torch.randn((size, self.parts.network.z_dim), generator=noise, device=device)
        y = torch.randint(classes, (size,), generator=noise, device=device) if classes else None
        ws = self.styles(z, y)
        images = G.synthesize(ws)
        pixels = math.prod(images.shape[2:])
        directions = torch.randn(images.shape, generator=noise, device=device) / math.sqrt(pixels)
        lengths = path_lengths(images, ws, directions)
        pl_mean = s.pl_mean.lerp(lengths.mean(), v.pl_decay)
        s.pl_mean.copy_(pl_mean.detach())
        term = (lengths - pl_mean).square().mean() * v.pl_weight
        s.opt_g.zero_grad(set_to_none=True)
        (term * v.g_reg_every).backward()
        s.opt_g.step()
        return term.detach()

    def sample(self, n: int, seed: int, raw: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` evaluation samples (the dataset's form) and, for conditional runs, the classes asked for:
        the moving average's when the variant keeps one, unless ``raw`` asks for G's own."""
        labels = eval_labels(n, self.parts.n_classes) if self.parts.n_classes else None
        z_dim = self.parts.network.z_dim
        s = self.state
        generator = s.generator if raw or s.ema is None else s.ema.module
        truncation = self.spec.eval.truncation
        return generate(generator, n, z_dim, seed, self.device, labels, self.from_model, truncation=truncation), labels


LOG2 = math.log(2.0)


def dynamics(
    variant: Variant,
    loss_d: torch.Tensor,
    loss_g: torch.Tensor,
    penalty: torch.Tensor | None,
    d_real: torch.Tensor,
    d_fake: torch.Tensor,
    generator: torch.nn.Module,
) -> dict[str, float]:
    """A log step's row of history.csv, from tensors the step has already made (no extra pass).

    ``d_real``, ``d_fake``: D's outputs on the last critic step's real and fake batches, as mean
    probabilities for cross-entropy variants (``d_output == "logit"``), mean critic values otherwise.
    ``js_estimate`` (cross-entropy only): log 2 - L_D / 2, the Jensen-Shannon divergence between the
    data and the generator that the current D certifies (a lower bound; exact for the optimal D).
    ``g_grad_norm``: the norm of the generator loss's gradient w.r.t. all of G's parameters.
    """
    logit = variant.d_output == "logit"
    as_score = torch.sigmoid if logit else (lambda x: x)
    row = {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    if penalty is not None:
        row["penalty"] = penalty.item()
    row["d_real"] = as_score(d_real.detach()).mean().item()
    row["d_fake"] = as_score(d_fake.detach()).mean().item()
    if logit:
        row["js_estimate"] = LOG2 - row["loss_d"] / 2
    grads = [p.grad for p in generator.parameters() if p.grad is not None]
    row["g_grad_norm"] = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
    return row
