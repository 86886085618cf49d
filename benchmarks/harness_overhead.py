"""Overhead of ganbench's training loop over a hand-written PyTorch loop of the same run.

Both sides train the same networks (deep copies of the same initial G and D), with the same
batch size, losses, optimizers and data tensor, one generator step (``n_critic`` critic
steps, then one generator step) at a time:

- ganbench: ``Trainer.fit`` as ``run_spec`` calls it: the ``on_step_end`` hook every
  ``log_every`` steps (the built-in history.csv writer handles it), a checkpoint every
  1000 steps, the per-step ``.item()`` divergence check, the tqdm bar (disabled, as with
  ``--quiet``) and the rest of its bookkeeping. Files go to a temporary folder.
- hand-written: the loop a researcher would write, with its own noise generator and a
  uniform random minibatch sampler, no logging and no ``.item()``; gradient penalty and
  weight clipping are implemented here, independently of ``ganbench.regularizers``.

Blocks of ``--steps`` generator steps alternate between the two sides (ABBA order) for
``--rounds`` rounds, after one warm-up block of each. The ratio is total ganbench time over
total hand-written time (checkpoints fall into the blocks where they happen); the median,
quartiles and range of the per-round ratios are printed as well. GFLOP/s is the FLOP count of one hand-written
generator step (forward and backward of every critic step and the generator step, from
``torch.utils.flop_counter.FlopCounterMode``, which counts matrix products only, not
elementwise ops or optimizer updates) times each side's steps/s. The script only reports;
the target is a ratio of at most 1.03.

The MLPs on 2-D mixtures are small, so steps take milliseconds and timings swing with
anything else the machine runs; on a shared or busy machine use ``--threads 1``, more
rounds, and perhaps ``--clock cpu``, and read the per-round quartiles before the ratio.

Run::

    python benchmarks/harness_overhead.py                      # nsgan, grid25, mlp
    python benchmarks/harness_overhead.py --variant wgan-gp
    python benchmarks/harness_overhead.py --variant wgan --steps 500 --rounds 10 --threads 1
    python benchmarks/harness_overhead.py --set network.width=512   # options as in `ganbench run --set`
    python benchmarks/harness_overhead.py --device cuda             # times include a final sync
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

import ganbench
from ganbench.checkpoints import FILENAME as CHECKPOINT
from ganbench.checkpoints import save_checkpoint
from ganbench.errors import GanbenchError
from ganbench.plugins import call_hook
from ganbench.results import RunRecord
from ganbench.spec import parse_set
from ganbench.training import DEFAULT_CHECKPOINT_EVERY, DEFAULT_LOG_EVERY, Hooks, Trainer
from ganbench.variant import Variant

TARGET = 1.03
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


class HandLoop:
    """The plain PyTorch loop: n_critic critic steps, then one generator step."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        variant: Variant,
        data: Tensor,
        z_dim: int,
        seed: int = 12345,
    ) -> None:
        self.G, self.D, self.v, self.data = generator, discriminator, variant, data
        self.opt_g = make_optimizer(variant, generator.parameters(), variant.lr_g)
        self.opt_d = make_optimizer(variant, discriminator.parameters(), variant.lr_d)
        self.device = data.device
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        self.z_shape = (variant.batch_size, z_dim)
        self.scale = float(data.float().std()) if variant.standardize else None

    def real_batch(self) -> Tensor:
        """A uniformly random minibatch of the data (divided by its standard deviation with ``standardize``)."""
        idx = torch.randint(len(self.data), (self.v.batch_size,), generator=self.gen, device=self.device)
        return self.data[idx] if self.scale is None else self.data[idx] / self.scale

    def z(self) -> Tensor:
        """A batch of latent noise."""
        return torch.randn(self.z_shape, generator=self.gen, device=self.device)

    def gradient_penalty(self, real: Tensor, fake: Tensor) -> Tensor:
        """(||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake (Gulrajani 2017)."""
        eps = torch.rand((len(real),) + (1,) * (real.dim() - 1), generator=self.gen, device=self.device)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def step(self) -> None:
        """One generator step."""
        G, D, v = self.G, self.D, self.v
        for _ in range(v.n_critic):
            real = self.real_batch()
            with torch.no_grad():
                fake = G(self.z())
            loss_d = v.d_loss(D(real), D(fake))
            if v.gp_lambda:
                loss_d = loss_d + v.gp_lambda * self.gradient_penalty(real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            if v.weight_clip:
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-v.weight_clip, v.weight_clip)
        loss_g = v.g_loss(D(G(self.z())))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

    def run(self, steps: int) -> None:
        """``steps`` generator steps."""
        for _ in range(steps):
            self.step()


def make_optimizer(variant: Variant, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimizer the variant names, with its hyperparameters."""
    if variant.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=variant.betas)


def unsupported(variant: Variant) -> str | None:
    """Why the hand-written loop cannot reproduce this variant, or None."""
    if variant.r1_gamma:
        return "R1 penalty (r1_gamma)"
    if variant.spectral_norm:
        return "spectral normalisation"
    if variant.pack != 1:
        return f"packing (pack={variant.pack})"
    return None


class GanbenchSide:
    """ganbench's Trainer driven the way run_spec drives it: hooks, history.csv, checkpoints."""

    def __init__(self, trainer: Trainer, run_dir: Path) -> None:
        self.trainer, self.run_dir = trainer, run_dir
        spec = trainer.spec
        self.on_log = lambda step, logs: call_hook("on_step_end", spec=spec, run_dir=str(run_dir), step=step, logs=logs)
        checkpoint = run_dir / CHECKPOINT
        self.on_checkpoint = lambda: save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
        call_hook("on_run_start", spec=spec, run_dir=str(run_dir), start_step=0)

    def run(self, steps: int) -> None:
        """``steps`` more generator steps, resuming where the last call stopped."""
        target = self.trainer.state.step + steps
        hooks = Hooks(
            log_every=DEFAULT_LOG_EVERY,
            on_log=self.on_log,
            checkpoint_every=DEFAULT_CHECKPOINT_EVERY,
            on_checkpoint=self.on_checkpoint,
        )
        outcome = self.trainer.fit(hooks, steps=target)
        if outcome.stopped_by != "steps":
            sys.exit(
                f"ganbench stopped by {outcome.stopped_by!r} at step {self.trainer.state.step}; "
                "the timing would not compare, try another seed or variant"
            )

    def close(self) -> None:
        """End the run for the plugins (closes history.csv)."""
        spec, s = self.trainer.spec, self.trainer.state
        record = RunRecord(spec.run_id, spec.to_dict(), "completed", "steps", s.step, str(self.run_dir))
        call_hook("on_run_end", spec=spec, run_dir=str(self.run_dir), record=record)


def timed(run: Callable[[int], None], steps: int, device: torch.device, clock: Callable[[], float]) -> float:
    """Seconds to run ``steps`` generator steps, the device synchronised at both ends."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = clock()
    run(steps)
    sync()
    return clock() - start


class _NoModuleTracking:
    """Stands in for FlopCounterMode's per-module tracker, whose backward hooks make
    ``autograd.grad`` on a leaf input fail (pytorch/pytorch#131753), as the gradient
    penalty does. Only the total is needed, which the tracker does not change."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _NoModuleTracking:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def flops_per_step(hand: HandLoop) -> int:
    """FLOPs of one generator step of the hand-written loop, forward and backward."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _NoModuleTracking()
    with counter:
        hand.step()
    return counter.get_total_flops()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--variant", default="nsgan")
    p.add_argument("--dataset", default="grid25")
    p.add_argument("--network", default="mlp")
    p.add_argument("--steps", type=int, default=200, help="generator steps per timed block (default 200)")
    p.add_argument("--rounds", type=int, default=6, help="timed rounds; each runs one block of each side (default 6)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: leave as is)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option override, as in `ganbench run --set`: e.g. network.width=512 (repeatable)",
    )
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time, steadier on a busy\n"
        "machine with --threads 1 on CPU, but blind to time spent waiting on I/O or a GPU",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Time both loops block by block and print the table and the ratio."""
    args = parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        sys.exit("--steps and --rounds must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    total_steps = args.steps * (args.rounds + 1)
    try:
        spec = ganbench.create_spec(
            args.variant,
            args.dataset,
            seed=args.seed,
            steps=total_steps,
            network=args.network,
            overrides=parse_set(args.sets),
        )
        trainer = Trainer(spec, device)
    except GanbenchError as exc:
        sys.exit(f"error: {exc}")
    variant = trainer.parts.variant
    missing = unsupported(variant)
    if missing:
        sys.exit(
            f"variant {args.variant!r} uses {missing}, which the hand-written loop does not implement; "
            "choose e.g. nsgan, lsgan, hinge, wgan or wgan-gp"
        )

    z_dim = trainer.parts.network.z_dim
    G0, D0 = trainer.state.generator, trainer.state.discriminator
    hand = HandLoop(copy.deepcopy(G0), copy.deepcopy(D0), variant, trainer.data, z_dim, seed=args.seed + 1)
    flops = flops_per_step(HandLoop(copy.deepcopy(G0), copy.deepcopy(D0), variant, trainer.data, z_dim))

    print(
        f"{args.variant} on {args.dataset}, network {args.network}, device {device}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, {args.clock} clock"
    )
    print(
        f"batch {variant.batch_size}, n_critic {variant.n_critic}, {variant.optimizer}, "
        f"gp_lambda {variant.gp_lambda}, weight_clip {variant.weight_clip}; "
        f"{flops / 1e6:.3f} MFLOP per generator step"
    )
    hooks = total_steps // DEFAULT_LOG_EVERY - args.steps // DEFAULT_LOG_EVERY
    checkpoints = total_steps // DEFAULT_CHECKPOINT_EVERY - args.steps // DEFAULT_CHECKPOINT_EVERY
    print(
        f"{args.rounds} rounds of {args.steps} steps per side after a warm-up block of each; "
        f"the timed ganbench blocks make {hooks} on_step_end calls and {checkpoints} checkpoints"
    )

    with tempfile.TemporaryDirectory(prefix="ganbench-overhead-") as tmp:
        ours = GanbenchSide(trainer, Path(tmp))
        clock = CLOCKS[args.clock]
        try:
            timed(ours.run, args.steps, device, clock)
            timed(hand.run, args.steps, device, clock)
            t_ours: list[float] = []
            t_hand: list[float] = []
            for r in range(args.rounds):
                if r % 2 == 0:
                    t_ours.append(timed(ours.run, args.steps, device, clock))
                    t_hand.append(timed(hand.run, args.steps, device, clock))
                else:
                    t_hand.append(timed(hand.run, args.steps, device, clock))
                    t_ours.append(timed(ours.run, args.steps, device, clock))
        finally:
            ours.close()

    n = args.steps * args.rounds
    rows = [("ganbench", n / sum(t_ours)), ("hand-written", n / sum(t_hand))]
    print()
    print(f"{'side':<14}{'steps/s':>10}{'ms/step':>10}{'GFLOP/s':>10}")
    for side, rate in rows:
        print(f"{side:<14}{rate:>10.1f}{1e3 / rate:>10.3f}{rate * flops / 1e9:>10.3f}")
    per_round = [a / b for a, b in zip(t_ours, t_hand, strict=True)]
    print()
    if len(per_round) >= 4:
        q1, q2, q3 = statistics.quantiles(per_round, n=4)
        print(
            f"per-round ratio: median {q2:.3f}, quartiles {q1:.3f} to {q3:.3f}, "
            f"range {min(per_round):.3f} to {max(per_round):.3f} ({len(per_round)} rounds)"
        )
    else:
        print("per-round ratios: " + " ".join(f"{x:.3f}" for x in per_round))
    print(f"ratio (ganbench time / hand-written time): {sum(t_ours) / sum(t_hand):.3f}  target <= {TARGET}")


if __name__ == "__main__":
    main()
