"""ganbench's image-GAN training loop against the classic hand-written PyTorch loop, on 32x32x3 data.

Both sides train the same networks on the same uint8 images, in one process:

- ganbench: ``Trainer(spec, device).fit(Hooks(...))`` as ``run_spec`` drives it: the images
  stay on the device as uint8, each batch is indexed there and turned into floats in
  [-1, 1] there (``dataset.to_model``), no DataLoader; the per-step divergence flag (read
  every step on a CPU, at log steps on a GPU), the losses read and the ``on_step_end``
  plugins (history.csv) called every ``log_every = 10`` steps, ganbench's default for a real
  run. Checkpoints are off (``checkpoint_every = None``), so no checkpoint I/O is timed; files
  go to a temporary folder.
- hand-written: the loop of the PyTorch DCGAN examples, written as a user would:
  ``DataLoader(TensorDataset(images), batch_size, shuffle=True, drop_last=True)`` over the
  *same* uint8 tensor (``num_workers=0``: the tensor is already in memory, and on a CPU a
  worker process would only compete with the training threads for the cores; ``pin_memory``
  only on CUDA, where it matters), each batch moved to the device and converted with
  ``x.float() / 127.5 - 1``; then ``n_critic`` times a D step on that real batch and a fake
  batch made under ``torch.no_grad()`` (detached), then a G step on a fresh fake batch.
  No logging, no divergence check, no ``.item()``.

Same work per step on both sides: the same batch size, per generator step ``n_critic`` D
steps (G forward without grad, D forward on real and fake, D backward) and one G step (G
and D forward, backward through both), the same losses (the variant's ``d_loss`` and
``g_loss`` from ``ganbench.get_variant``), the same optimizers (Adam or RMSprop with the
variant's learning rates and betas) and the same initial weights: the hand-written side
builds its networks with ``ganbench.get_network(name).build((3, 32, 32), 1)`` under the same
init seed, adds spectral normalisation itself when the variant asks for it, and the script
checks that both start from identical weights. The FLOPs of one step are counted on each
side with ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions,
forward and backward; not elementwise ops or optimizer updates), so unequal work would show.
(pytorch/examples' dcgan reuses the D step's fake batch for the G step, one G forward fewer
and a different algorithm; that is not the loop compared here.)

Data: by default a synthetic dataset of 10,000 seeded random 32x32x3 uint8 images, registered
at run time as a ganbench plugin (``synthetic32``); ``--dataset cifar10`` uses CIFAR-10's
training split when its files are present. The speed of a step does not depend on the pixels.

Default variants: ``dcgan`` for the dcgan network (its own recipe: cross-entropy, Adam 2e-4,
betas (0.5, 0.999), batch 128, one D step per G step); ``sngan`` for the resnet (SNGAN's
hinge loss and spectral normalisation, the recipe this CIFAR ResNet comes from, in ganbench's
setting C: batch 64, one D step per G step). Both have ``n_critic = 1``, so a step is one D
step and one G step and the comparison stays clean; ``--variant wgan-gp`` (5 critic steps, a
gradient penalty) works too. ``biggan`` for the biggan network (StudioGAN's CIFAR-10 recipe:
hinge, 5 D steps per G step, batch 64, class-conditional on the synthetic images' 10 seeded
labels, the generator's EMA, decay 0.9999 after step 1000 and a copy before it) and ``stylegan2``
for its network (logistic loss, lazy R1 every 16 D steps as a separate step with the lazily scaled
Adam, the EMA of 500 kimg ramped up, noise inputs drawn per step). The hand loop writes these
parts out as the reference loops do (stylegan2-ada's training_loop.py: ``p_ema.copy_(p.lerp(p_ema,
beta))``, the 'Dreg' phase every 16 D steps; StudioGAN's EMA). Default widths (8 for dcgan and
resnet, 16 for biggan and stylegan2) make a step take roughly 0.1-0.4 s on two CPU cores
(biggan's 5 D steps about 4 s); a GPU wants wider networks (e.g. ``--width 64``) to be busy.

Each network gets a warm-up block of each side (discarded), then ``--rounds`` rounds of
``--steps`` generator steps per side, ganbench first in odd rounds and the hand loop first in
even ones. Reading the output, per network: one row per round with each side's steps/s and
their ratio (ganbench / hand-written: above 1 means ganbench is faster); the median, quartiles
and range of the per-round ratios and whether the median meets the target (>= 1.0 on a CPU,
>= 1.2 on a GPU); then steps/s, ms/step, minor page faults per step (memory the allocator
handed back to the OS and touched again: a cost of per-step allocations, which moves with the
heap's state), the FLOPs of one step of each side, the achieved
GFLOP/s (TFLOP/s on a GPU) and its share of a peak: on a CPU the measured float32 matrix
product throughput of this machine (``torch.mm`` of 2048 x 2048), on a GPU the datasheet's
dense FP32 and TF32 peaks (``--peak-tflops`` to give your own) and the measured ``torch.mm``
throughput. A summary of the median ratios ends the output. The script only reports.

Both loops run the same operators (a profile of each shows the same convolution, batch-norm
and optimizer calls per step), so on a CPU the ratio sits near 1 and the rounds' spread is the
machine's noise: on a shared machine rounds swing by several percent either way. Read the
quartiles before the median, use more rounds, or ``--threads 1 --clock cpu`` (process time,
which does not count the time the process waits for a core).

Run::

    python benchmarks/image_training.py                          # all four networks, synthetic data, cpu
    python benchmarks/image_training.py --network biggan stylegan2 --rounds 5 --steps 3
    python benchmarks/image_training.py --network dcgan --rounds 9 --steps 40
    python benchmarks/image_training.py --threads 1 --clock cpu --rounds 9   # on a busy machine
    python benchmarks/image_training.py --network resnet --variant hinge --width 16
    python benchmarks/image_training.py --dataset cifar10        # if its files are under GANBENCH_DATA
    python benchmarks/image_training.py --device cuda --width 64 --steps 200
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

import ganbench
from ganbench.errors import GanbenchError
from ganbench.images import ImageDataset
from ganbench.options import option
from ganbench.paths import DATA_ENV, data_root
from ganbench.plugins import call_hook
from ganbench.results import RunRecord
from ganbench.training import DEFAULT_LOG_EVERY, Hooks, Trainer, derive_seed
from ganbench.variant import Variant

SYNTHETIC = "synthetic32"
SHAPE = (3, 32, 32)
NETWORKS = ("dcgan", "resnet", "biggan", "stylegan2")
DEFAULT_WIDTH = {"dcgan": 8, "resnet": 8, "biggan": 16, "stylegan2": 16}
DEFAULT_VARIANT = {"dcgan": "dcgan", "resnet": "sngan", "biggan": "biggan", "stylegan2": "stylegan2"}
CLASSES = 10
TARGET = {"cpu": 1.0, "cuda": 1.2}
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
MATMUL_SIDE = {"cpu": 2048, "cuda": 8192}

# Dense (no sparsity) peaks from NVIDIA's datasheets, TFLOP/s: (FP32, TF32 tensor cores or None).
# Checked in this order against torch.cuda.get_device_name (first match wins).
GPU_PEAKS: tuple[tuple[tuple[str, ...], tuple[float, float | None]], ...] = (
    (("H200",), (67.0, 494.7)),
    (("H100", "PCIE"), (51.2, 378.0)),
    (("H100", "NVL"), (60.0, 417.5)),
    (("H100",), (67.0, 494.7)),  # SXM
    (("A100",), (19.5, 156.0)),
    (("L40S",), (91.6, 183.0)),
    (("L4",), (30.3, 60.0)),
    (("A10",), (31.2, 62.5)),
    (("V100",), (15.7, None)),
    (("T4",), (8.1, None)),
)


# --- the synthetic dataset, registered at run time ---------------------------------------------


@cache
def synthetic_images(n: int, seed: int) -> Tensor:
    """``n`` seeded random uint8 (3, 32, 32) images, made once per process (both sides get this tensor)."""
    return torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


@cache
def synthetic_labels(n: int, seed: int) -> Tensor:
    """``n`` seeded random classes in 0..9, for class-conditional variants."""
    return torch.randint(0, CLASSES, (n,), generator=torch.Generator().manual_seed(seed + 1))


@dataclass(frozen=True)
class SyntheticImages(ImageDataset):
    """Seeded uniform-noise 32x32 RGB images: CIFAR-10's shape and dtype without its files."""

    metrics: tuple[str, ...] = field(default=("fid",), metadata={"option": False})  # replaced by none: train only
    n_images: int = option(10_000, ge=1)
    image_seed: int = option(0, ge=0)

    @property
    def shape(self) -> tuple[int, ...]:
        return SHAPE

    @property
    def n_classes(self) -> int:
        return CLASSES

    def load(self) -> Tensor:
        return synthetic_images(self.n_images, self.image_seed)

    def labels(self) -> Tensor:
        return synthetic_labels(self.n_images, self.image_seed)


class SyntheticPlugin:
    """Registers ``synthetic32``."""

    @ganbench.hookimpl
    def register_datasets(self, register: Callable[[object], None]) -> None:
        register(
            SyntheticImages(SYNTHETIC, description="10,000 seeded random 3x32x32 uint8 images, 10 classes (benchmark)")
        )


# --- the hand-written loop ---------------------------------------------------------------------


def spectral_normalise(disc: nn.Module) -> None:
    """torch's spectral norm on every convolution and linear layer of D, as a user would add it."""
    for module in list(disc.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(module)


def make_optimizer(
    variant: Variant, params: Iterator[nn.Parameter], lr: float, reg_interval: int = 1
) -> torch.optim.Optimizer:
    """The optimizer the variant names, with its hyperparameters; a lazily regularised network's Adam as
    stylegan2-ada's training_loop.py makes it (``mb_ratio = reg_interval / (reg_interval + 1)``)."""
    if variant.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    ratio = reg_interval / (reg_interval + 1) if reg_interval > 1 else 1.0
    return torch.optim.Adam(params, lr=lr * ratio, betas=tuple(b**ratio for b in variant.betas))


def unsupported(variant: Variant) -> str | None:
    """Why the hand-written loop cannot reproduce this variant, or None."""
    if variant.pack != 1:
        return f"packing (pack={variant.pack})"
    if variant.diffaugment:
        return "DiffAugment"
    return None


class HandLoop:
    """The classic PyTorch GAN loop over a DataLoader: n_critic D steps, then a G step; with the
    modern recipes' parts written out as their reference loops write them: class labels, R1 (every
    D step, or lazily every ``r1_every`` D steps as a separate step), the lazily scaled Adam, and
    the generator's moving average (BigGAN's decay after a start step, StyleGAN2's half-life)."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        variant: Variant,
        images: Tensor,
        labels: Tensor | None,
        z_dim: int,
        device: torch.device,
        workers: int = 0,
        skip_d_weight_grads: bool = False,
    ) -> None:
        self.G, self.D, self.v, self.z_dim, self.device = generator, discriminator, variant, z_dim, device
        self.skip_d_weight_grads = skip_d_weight_grads
        """Only for counting FLOPs: the G step without D's weight gradients, as ganbench does it."""
        self.classes = int(labels.max()) + 1 if labels is not None else 0
        self.lazy = variant.r1_every if variant.r1_gamma and variant.r1_every > 1 else 1
        self.opt_g = make_optimizer(variant, generator.parameters(), variant.lr_g, variant.g_reg_every)
        self.opt_d = make_optimizer(variant, discriminator.parameters(), variant.lr_d, self.lazy)
        self.G_ema = copy.deepcopy(generator).requires_grad_(False) if variant.ema else None
        self.d_steps = self.g_steps = 0
        tensors = (images,) if labels is None else (images, labels)
        self.loader = DataLoader(
            TensorDataset(*tensors),
            batch_size=variant.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        self.batches = self._forever()

    def _forever(self) -> Iterator[list[Tensor]]:
        while True:  # one epoch after another, a fresh shuffle each
            yield from self.loader

    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        """The next real images in [-1, 1] and their labels (None if unconditional)."""
        batch = next(self.batches)
        x = batch[0].to(self.device, non_blocking=True).float() / 127.5 - 1
        return x, (batch[1].to(self.device, non_blocking=True) if self.classes else None)

    def fake_batch(self, n: int) -> tuple[Tensor, Tensor | None]:
        """G's images of fresh noise (and random classes)."""
        z = torch.randn(n, self.z_dim, device=self.device)
        if not self.classes:
            return self.G(z), None
        y = torch.randint(self.classes, (n,), device=self.device)
        return self.G(z, y), y

    def critic(self, x: Tensor, y: Tensor | None) -> Tensor:
        return self.D(x) if y is None else self.D(x, y)

    def r1(self, real: Tensor, y: Tensor | None) -> Tensor:
        """gamma / 2 x E||grad D(x)||^2 on real images (Mescheder et al. 2018)."""
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.critic(real, y).sum(), real, create_graph=True)
        return 0.5 * self.v.r1_gamma * grad.square().sum([1, 2, 3]).mean()

    @torch.no_grad()
    def update_ema(self) -> None:
        """BigGAN's EMA (decay after ``ema_start``, a copy before) or StyleGAN2's (a half-life of
        ``ema_kimg`` thousand images, ramped up with the images seen; buffers copied), as in their loops."""
        v = self.v
        if v.ema_kimg > 0:
            seen = self.g_steps * v.batch_size
            half_life = min(v.ema_kimg * 1000, seen * v.ema_rampup) if v.ema_rampup > 0 else v.ema_kimg * 1000
            decay = 0.5 ** (v.batch_size / max(half_life, 1e-8))
        else:
            decay = v.ema_decay if self.g_steps >= v.ema_start else 0.0
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
            p_ema.copy_(p.lerp(p_ema, decay))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            if v.ema_buffers == "average" and b.is_floating_point():
                b_ema.copy_(b.lerp(b_ema, decay))
            else:
                b_ema.copy_(b)

    def gradient_penalty(self, real: Tensor, fake: Tensor) -> Tensor:
        """(||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake (Gulrajani 2017)."""
        eps = torch.rand(len(real), 1, 1, 1, device=self.device)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def step(self) -> None:
        """One generator step."""
        D, v, b = self.D, self.v, self.v.batch_size
        for _ in range(v.n_critic):
            real, y_real = self.real_batch()
            with torch.no_grad():
                fake, y_fake = self.fake_batch(b)
            if v.r1_gamma and self.lazy == 1:  # R1 every step, from the same forward pass of D
                real.requires_grad_(True)
                d_real = self.critic(real, y_real)
                (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
                loss_d = v.d_loss(d_real, self.critic(fake, y_fake))
                loss_d = loss_d + 0.5 * v.r1_gamma * grad.square().sum([1, 2, 3]).mean()
            else:
                loss_d = v.d_loss(self.critic(real, y_real), self.critic(fake, y_fake))
            if v.gp_lambda:
                loss_d = loss_d + v.gp_lambda * self.gradient_penalty(real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            if self.lazy > 1 and self.d_steps % self.lazy == 0:  # stylegan2-ada's 'Dreg' phase
                self.opt_d.zero_grad(set_to_none=True)
                (self.r1(real, y_real) * self.lazy).backward()
                self.opt_d.step()
            self.d_steps += 1
            if v.weight_clip:
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-v.weight_clip, v.weight_clip)
        D.requires_grad_(not self.skip_d_weight_grads)
        loss_g = v.g_loss(self.critic(*self.fake_batch(b)))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        D.requires_grad_(True)
        self.opt_g.step()
        self.g_steps += 1
        if self.G_ema is not None:
            self.update_ema()

    def run(self, steps: int) -> None:
        """``steps`` generator steps."""
        for _ in range(steps):
            self.step()


# --- ganbench's side ---------------------------------------------------------------------------


class GanbenchSide:
    """ganbench's Trainer driven as run_spec drives it: on_step_end plugins every log_every steps."""

    def __init__(self, trainer: Trainer, run_dir: Path) -> None:
        self.trainer, self.run_dir = trainer, run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = trainer.spec
        on_log = lambda step, logs: call_hook("on_step_end", spec=spec, run_dir=str(run_dir), step=step, logs=logs)
        self.hooks = Hooks(log_every=DEFAULT_LOG_EVERY, on_log=on_log, checkpoint_every=None, progress=False)
        call_hook("on_run_start", spec=spec, run_dir=str(run_dir), start_step=trainer.state.step)

    def run(self, steps: int) -> None:
        """``steps`` more generator steps, resuming where the last call stopped."""
        outcome = self.trainer.fit(self.hooks, steps=self.trainer.state.step + steps)
        if outcome.stopped_by != "steps":
            sys.exit(
                f"ganbench stopped by {outcome.stopped_by!r} at step {self.trainer.state.step}; "
                "the timing would not compare, try another --seed or variant"
            )

    def close(self) -> None:
        """End the run for the plugins (closes history.csv)."""
        spec, s = self.trainer.spec, self.trainer.state
        record = RunRecord(spec.run_id, spec.to_dict(), "completed", "steps", s.step, str(self.run_dir))
        call_hook("on_run_end", spec=spec, run_dir=str(self.run_dir), record=record)


# --- measuring ---------------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    """Wait for the device (a no-op on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(
    run: Callable[[int], None], steps: int, device: torch.device, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds for ``steps`` generator steps on ``clock``, the device synchronised at both ends."""
    synchronize(device)
    start = clock()
    run(steps)
    synchronize(device)
    return clock() - start


class _NoModuleTracking:
    """Stands in for FlopCounterMode's per-module tracker, whose backward hooks make
    ``autograd.grad`` on a leaf input fail (pytorch/pytorch#131753), as the gradient penalty
    does. Only the total is needed, which the tracker does not change."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _NoModuleTracking:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def count_flops(run: Callable[[int], None]) -> int:
    """FLOPs (matrix products and convolutions, forward and backward) of ``run(1)``: one generator step."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _NoModuleTracking()
    with counter:
        run(1)
    return counter.get_total_flops()


def minor_faults() -> int:
    """Minor page faults of this process so far (0 where ``resource`` is missing, as on Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def matmul_tflops(device: torch.device) -> float:
    """Measured float32 ``torch.mm`` throughput of this device (best of a few), TFLOP/s."""
    n = MATMUL_SIDE[device.type]
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(4 if device.type == "cpu" else 10):
        best = min(best, timed(lambda _: torch.mm(a, b), 1, device))
    return 2 * n**3 / best / 1e12


def datasheet_peaks(device: torch.device) -> tuple[str, float, float | None] | None:
    """(GPU name, FP32 and TF32 dense peak TFLOP/s) from GPU_PEAKS, or None if unknown."""
    name = torch.cuda.get_device_name(device)
    for keys, (fp32, tf32) in GPU_PEAKS:
        if all(k in name.upper() for k in keys):
            return name, fp32, tf32
    return None


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    """Whether two modules hold equal parameters and buffers, name by name."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@dataclass
class Result:
    """One network's timings."""

    network: str
    variant: str
    width: int
    steps: int
    t_ours: list[float] = field(default_factory=list)
    t_hand: list[float] = field(default_factory=list)
    flops_ours: int = 0
    flops_hand: int = 0
    faults_ours: int = 0
    faults_hand: int = 0

    @property
    def ratios(self) -> list[float]:
        """Per round: ganbench steps/s over hand-written steps/s."""
        return [h / o for o, h in zip(self.t_ours, self.t_hand, strict=True)]


def bench_network(args: argparse.Namespace, network: str, device: torch.device, tmp: Path) -> Result:
    """Build both sides for ``network``, count their FLOPs, time them round by round, print the table."""
    width = args.width or DEFAULT_WIDTH[network]
    variant_name = args.variant or DEFAULT_VARIANT[network]
    total = args.steps * args.rounds + args.warmup + 1
    try:
        spec = ganbench.create_spec(
            variant_name, args.dataset, network=network, seed=args.seed, steps=total, overrides={"network.width": width}
        )
        spec = dataclasses.replace(spec, eval=dataclasses.replace(spec.eval, metrics=()))  # train only: no preflight
        trainer = Trainer(spec, device)
    except GanbenchError as exc:
        sys.exit(f"error: {exc}")
    variant = ganbench.get_variant(variant_name)
    missing = unsupported(variant)
    if missing:
        sys.exit(f"variant {variant_name!r} uses {missing}, which the hand-written loop does not implement")

    net = dataclasses.replace(ganbench.get_network(network), width=width)
    conditional = {"n_classes": CLASSES, "conditioning": variant.conditioning} if variant.conditional else {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(args.seed, "init"))  # ganbench's init stream: the same initial weights
        G, D = net.build(SHAPE, 1, **conditional)
        if variant.spectral_norm:
            spectral_normalise(D)
    G, D = G.to(device), D.to(device)
    identical = same_weights(G, trainer.state.generator) and same_weights(D, trainer.state.discriminator)
    images = trainer.data if trainer.data.device.type == "cpu" else trainer.data.cpu()
    labels = trainer.labels.cpu() if trainer.labels is not None else None
    torch.manual_seed(args.seed + 1)  # the hand loop's noise and shuffling come from torch's global generator

    def hand_copy(skip_d_weight_grads: bool = False) -> HandLoop:
        return HandLoop(
            copy.deepcopy(G),
            copy.deepcopy(D),
            variant,
            images,
            labels,
            net.z_dim,
            device,
            args.workers,
            skip_d_weight_grads,
        )

    hand = hand_copy()
    ours = GanbenchSide(trainer, tmp / network)
    flops_hand = count_flops(hand_copy().run)
    flops_hand_skipping = count_flops(hand_copy(skip_d_weight_grads=True).run)
    flops_ours = count_flops(ours.run)  # one real step of the trainer, before the warm-up
    params = [sum(p.numel() for p in m.parameters()) for m in (G, D)]

    print(f"\n== {network}, width {width} (G {params[0]:,} / D {params[1]:,} parameters), variant {variant_name}")
    print(
        f"batch {variant.batch_size}, n_critic {variant.n_critic}, {variant.optimizer} lr_d {variant.lr_d} "
        f"lr_g {variant.lr_g} betas {variant.betas}, spectral_norm {variant.spectral_norm}, "
        f"gp_lambda {variant.gp_lambda}; {len(images):,} images of {args.dataset}"
    )
    skipped = flops_hand - flops_hand_skipping
    same_work = abs(flops_ours - flops_hand_skipping) <= 1e-3 * flops_hand
    print(
        f"same initial weights: {'yes' if identical else 'NO'}; FLOPs per generator step: "
        f"ganbench {flops_ours / 1e9:.3f} G, hand-written {flops_hand / 1e9:.3f} G, of which {skipped / 1e9:.3f} G are "
        "D's weight gradients in its G step (discarded by its next zero_grad; ganbench does not compute them)"
        + ("" if same_work else "  (UNEQUAL WORK beyond that: do not trust the ratio)")
    )
    print(
        f"warm-up {args.warmup} steps per side, then {args.rounds} rounds of {args.steps} steps per side; "
        f"ganbench logs every {DEFAULT_LOG_EVERY} steps, no checkpoints; hand loop: DataLoader "
        f"num_workers={args.workers}, pin_memory={device.type == 'cuda'}"
    )

    result = Result(network, variant_name, width, args.steps, flops_ours=flops_ours, flops_hand=flops_hand)
    clock = CLOCKS[args.clock]

    def block(side: str) -> None:
        before = minor_faults()
        if side == "ganbench":
            result.t_ours.append(timed(ours.run, args.steps, device, clock))
            result.faults_ours += minor_faults() - before
        else:
            result.t_hand.append(timed(hand.run, args.steps, device, clock))
            result.faults_hand += minor_faults() - before

    try:
        if args.warmup:
            timed(ours.run, args.warmup, device)
            timed(hand.run, args.warmup, device)
        print(f"{'round':>5}  {'first':<14}{'ganbench steps/s':>18}{'hand steps/s':>14}{'ratio':>8}")
        for r in range(args.rounds):
            order = ("ganbench", "hand-written") if r % 2 == 0 else ("hand-written", "ganbench")
            for side in order:
                block(side)
            rate_o, rate_h = args.steps / result.t_ours[-1], args.steps / result.t_hand[-1]
            print(f"{r + 1:>5}  {order[0]:<14}{rate_o:>18.2f}{rate_h:>14.2f}{rate_o / rate_h:>8.3f}", flush=True)
    finally:
        ours.close()
    return result


def report(result: Result, device: torch.device, peaks: list[tuple[str, float]]) -> bool:
    """Print a network's summary; whether its median ratio meets the target."""
    ratios, target = result.ratios, TARGET.get(device.type, 1.0)
    median = statistics.median(ratios)
    if len(ratios) >= 4:
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        spread = f"quartiles {q1:.3f} to {q3:.3f}, range {min(ratios):.3f} to {max(ratios):.3f}"
    else:
        spread = f"range {min(ratios):.3f} to {max(ratios):.3f}"
    met = median >= target
    print(
        f"median ratio (ganbench / hand-written steps/s) {median:.3f}; {spread} ({len(ratios)} rounds); "
        f"target >= {target}: {'met' if met else 'NOT met'}"
    )
    unit, scale = ("TFLOP/s", 1e12) if device.type == "cuda" else ("GFLOP/s", 1e9)
    head = f"{'side':<14}{'steps/s':>9}{'ms/step':>10}{'faults/step':>13}{'GFLOP/step':>12}{'GFLOP/s':>10}"
    head += f"{unit:>10}" if unit != "GFLOP/s" else ""
    print(head + "".join(f"{'% ' + name:>16}" for name, _ in peaks))
    n = result.steps * len(result.t_ours)
    for side, seconds, flops, faults in (
        ("ganbench", result.t_ours, result.flops_ours, result.faults_ours),
        ("hand-written", result.t_hand, result.flops_hand, result.faults_hand),
    ):
        rate = n / sum(seconds)
        achieved = rate * flops
        row = f"{side:<14}{rate:>9.2f}{1e3 / rate:>10.1f}{faults / n:>13.0f}{flops / 1e9:>12.3f}{achieved / 1e9:>10.1f}"
        row += f"{achieved / scale:>10.2f}" if unit != "GFLOP/s" else ""
        print(row + "".join(f"{100 * achieved / (peak * 1e12):>15.1f}%" for _, peak in peaks))
    return met


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--network", nargs="+", choices=NETWORKS, default=list(NETWORKS), help="default: all of them, in turn"
    )
    p.add_argument(
        "--width", type=int, default=None, help="network width (default: 8 for dcgan and resnet, 16 for the others)"
    )
    p.add_argument(
        "--variant",
        default=None,
        help="default: dcgan for the dcgan network, sngan for resnet, biggan and stylegan2 for theirs",
    )
    p.add_argument("--dataset", default=SYNTHETIC, help=f"{SYNTHETIC} (default) or cifar10 if its files are present")
    p.add_argument("--steps", type=int, default=30, help="generator steps per side per round (default 30)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps per side before the rounds (default 5)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: leave as is)")
    p.add_argument("--workers", type=int, default=0, help="the hand loop's DataLoader num_workers (default 0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time, steadier on a busy machine\n"
        "with --threads 1 on a CPU (blind to time spent waiting on a GPU, so refused with cuda)",
    )
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's peak, to compare with (optional)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Time both loops for each network and print the tables and the median ratios."""
    args = parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.warmup < 0 or (args.width is not None and args.width < 1):
        sys.exit("--steps, --rounds and --width must be at least 1, --warmup at least 0")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("torch finds no CUDA GPU")
    except RuntimeError as exc:
        sys.exit(f"error: --device {args.device}: {exc}")
    if args.clock == "cpu" and device.type != "cpu":
        sys.exit("error: --clock cpu measures CPU time only; use it with --device cpu")
    ganbench.register_plugin(SyntheticPlugin(), name="image-training-benchmark")
    if args.dataset == "cifar10" and not ganbench.get_dataset("cifar10").available():
        root = data_root()
        sys.exit(f"error: CIFAR-10's files are not in {root} (set {DATA_ENV} to the folder that holds them)")

    peaks: list[tuple[str, float]] = []
    if args.peak_tflops:
        peaks.append(("given peak", args.peak_tflops))
    if device.type == "cuda":
        known = datasheet_peaks(device)
        if known:
            peaks += [("FP32 peak", known[1])] + ([("TF32 peak", known[2])] if known[2] else [])
        name = torch.cuda.get_device_name(device)
        tf32 = f"cudnn.allow_tf32 {torch.backends.cudnn.allow_tf32}, matmul {torch.get_float32_matmul_precision()}"
        where = f"{name} ({tf32}; datasheet peaks {'known' if known else 'unknown: give --peak-tflops'})"
    else:
        where = f"{torch.get_num_threads()} threads, {args.clock} clock"
    measured = matmul_tflops(device)
    peaks.append(("of mm", measured))
    print(f"device {device}: {where}; torch {torch.__version__}, ganbench {ganbench.__version__}")
    side = MATMUL_SIDE[device.type]
    print(f"measured float32 torch.mm ({side} x {side}): {measured * 1e3:.1f} GFLOP/s ('% of mm' below)")

    networks = tuple(dict.fromkeys(args.network))
    results: list[tuple[Result, bool]] = []
    with tempfile.TemporaryDirectory(prefix="ganbench-image-training-") as tmp:
        for network in networks:
            result = bench_network(args, network, device, Path(tmp))
            results.append((result, report(result, device, peaks)))

    print("\nsummary (median per-round ratio, ganbench / hand-written steps/s):")
    for result, met in results:
        median = statistics.median(result.ratios)
        print(
            f"  {result.network:<7} width {result.width:<4} {result.variant:<8} {median:.3f}  "
            f"target >= {TARGET.get(device.type, 1.0)}: {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
