"""Would training K seeds as one batched model beat training them one after the other?

Issue 13 proposes stacking the seeds of a run along a new dimension (torch.func's
``stack_module_state`` + ``functional_call`` + ``vmap``), so that K small operations become one
K-times-larger one. That pays where a step costs more in dispatch than in arithmetic, and not
where the step already runs near the machine's matrix-product peak. This script measures which
case ganbench's runs are in, on the networks and options they really train (a spec resolved as
``ganbench run`` resolves it: per-kind defaults, the paper's networks).

Both sides run the same step (``n_critic`` critic steps with the variant's loss and gradient
penalty, then one generator step; Adam or RMSProp as the variant says), on the run's data:

- one after the other: K plain (G, D) pairs, each with its own optimizers, a step each in turn;
- batched: the same K pairs stacked (``stack_module_state``), called through ``vmap`` of
  ``functional_call``, one optimizer over the stacked parameters, the K losses summed.

Blocks of ``--steps`` steps alternate between the sides (ABBA) for ``--rounds`` rounds after a
warm-up; the medians are printed: ms per step of one seed, of K seeds one after the other, of K
batched; the batched time over one seed's (issue 13's goal: at most 2) and the throughput gain
(K seeds one after the other over K batched; goal: at least 5 for 10 mixture seeds); and GFLOP/s
(matrix-product FLOPs of one seed's step from ``FlopCounterMode``, times steps/s) against this
process's measured single-precision matmul peak (a 1024 x 1024 x 1024 product). It reports and
never fails; a case whose networks ``vmap`` cannot run says why.

Run::

    python benchmarks/batched_seeds.py                   # issue 13's three cases, 1 torch thread
    python benchmarks/batched_seeds.py --cases ring8:nsgan:10 --rounds 6
    python benchmarks/batched_seeds.py --cases ring8:nsgan:64 --device cuda
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap
from torch.utils.flop_counter import FlopCounterMode

import ganbench
from ganbench.training import Trainer, derive_seed
from ganbench.variant import Variant

CASES = ("ring8:nsgan:10", "ring8:wgan-gp:10", "digits:dcgan:4", "ring8:nsgan:10:mlp")
"""dataset:variant:K[:network]: issue 13's three (digits dcgan at width 16), and nsgan on leaderboards/ci.toml's
small network (mlp, width 128)."""
OVERRIDES = {"digits": {"network.width": 16}}


@dataclass
class Case:
    dataset: str
    variant: str
    k: int
    network: str | None = None
    """None: the network the variant's per-kind defaults name (as `ganbench run`)."""


def parse_case(text: str) -> Case:
    try:
        dataset, variant, k, *network = text.split(":")
        if len(network) > 1 or int(k) < 1:
            raise ValueError
        return Case(dataset, variant, int(k), *network)
    except ValueError:
        raise SystemExit(f"a case is dataset:variant:K[:network], e.g. ring8:nsgan:10:mlp, not {text!r}") from None


class Step:
    """One generator step (n_critic critic steps, then G) of K seeds, given how G and D are called.

    ``g(z)`` and ``d(x)`` take and return tensors with a leading seed dimension of size K
    (one after the other: K separate calls stacked; batched: one vmap call).
    """

    def __init__(self, trainer: Trainer, k: int, g: Callable[[Tensor], Tensor], d: Callable[[Tensor], Tensor]) -> None:
        self.v: Variant = trainer.parts.variant
        self.k, self.g, self.d = k, g, d
        self.items = trainer.to_model(trainer.data)
        self.batch = self.v.batch_size * self.v.pack
        self.z_dim = trainer.parts.network.z_dim
        self.device = trainer.device
        self.rng = torch.Generator(device=trainer.device).manual_seed(derive_seed(0, "benchmark"))

    def real(self) -> Tensor:
        index = torch.randint(len(self.items), (self.k, self.batch), generator=self.rng, device=self.device)
        return self.items[index]

    def z(self) -> Tensor:
        return torch.randn((self.k, self.batch, self.z_dim), generator=self.rng, device=self.device)

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        d_real, d_fake = self.d(real).flatten(1), self.d(fake).flatten(1)
        if self.v.d_output == "logit":
            loss = F.softplus(-d_real).mean(1) + F.softplus(d_fake).mean(1)
        else:
            loss = d_fake.mean(1) - d_real.mean(1)
        if self.v.gp_lambda:
            eps = torch.rand((self.k, self.batch) + (1,) * (real.dim() - 2), generator=self.rng, device=self.device)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(self.d(x_hat).sum(), x_hat, create_graph=True)
            loss = loss + self.v.gp_lambda * ((grad.flatten(2).norm(dim=2) - 1) ** 2).mean(1)
        return loss.sum()

    def g_loss(self) -> Tensor:
        d_fake = self.d(self.g(self.z())).flatten(1)
        return (F.softplus(-d_fake) if self.v.d_output == "logit" else -d_fake).mean(1).sum()

    def __call__(self, opt_g: list[torch.optim.Optimizer], opt_d: list[torch.optim.Optimizer]) -> None:
        for _ in range(self.v.n_critic):
            real = self.real()
            with torch.no_grad():
                fake = self.g(self.z())
            loss = self.d_loss(real, fake)
            for opt in opt_d:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for opt in opt_d:
                opt.step()
        loss = self.g_loss()
        for opt in opt_g:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in opt_g:
            opt.step()


def optimizer(v: Variant, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=lr) if v.optimizer == "rmsprop" else torch.optim.Adam(params, lr, v.betas)


def one_after_another(trainer: Trainer, pairs: list[tuple[nn.Module, nn.Module]]) -> Callable[[], None]:
    """K plain seeds: each seed's G and D called on its slice, its own optimizers."""
    v = trainer.parts.variant
    gs, ds = [copy.deepcopy(g) for g, _ in pairs], [copy.deepcopy(d) for _, d in pairs]
    opt_g = [optimizer(v, list(g.parameters()), v.lr_g) for g in gs]
    opt_d = [optimizer(v, list(d.parameters()), v.lr_d) for d in ds]
    step = Step(
        trainer,
        len(pairs),
        lambda z: torch.stack([g(z[i]) for i, g in enumerate(gs)]),
        lambda x: torch.stack([d(x[i]) for i, d in enumerate(ds)]),
    )
    return lambda: step(opt_g, opt_d)


def batched(trainer: Trainer, pairs: list[tuple[nn.Module, nn.Module]]) -> Callable[[], None]:
    """The K seeds stacked: one vmap call per network, one optimizer per network over stacked parameters."""
    v = trainer.parts.variant

    def stacked(modules: list[nn.Module]) -> tuple[Callable[[Tensor], Tensor], list[Tensor]]:
        params, buffers = stack_module_state([copy.deepcopy(m) for m in modules])
        base = copy.deepcopy(modules[0]).to("meta")
        call = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)), randomness="different")
        return (lambda x: call(params, buffers, x)), list(params.values())

    g, g_params = stacked([g for g, _ in pairs])
    d, d_params = stacked([d for _, d in pairs])
    step = Step(trainer, len(pairs), g, d)
    opt_g, opt_d = optimizer(v, g_params, v.lr_g), optimizer(v, d_params, v.lr_d)
    return lambda: step([opt_g], [opt_d])


def flops_of(run: Callable[[], None]) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return counter.get_total_flops()


def matmul_peak(device: torch.device, n: int = 1024, repeats: int = 10) -> float:
    """Single-precision GFLOP/s of an n x n x n matrix product here (the best of ``repeats``)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], None], steps: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        run()
    sync(device)
    return (time.perf_counter() - start) / steps


def measure(case: Case, args: argparse.Namespace, peak: float) -> None:
    overrides = OVERRIDES.get(case.dataset, {})
    specs = [
        ganbench.create_spec(case.variant, case.dataset, network=case.network, seed=s, overrides=overrides)
        for s in range(case.k)
    ]
    spec, trainer = specs[0], Trainer(specs[0], args.device)
    pairs = []
    for seed_spec in specs:  # each seed's own initial weights
        state = Trainer(seed_spec, args.device).state
        pairs.append((state.generator.train(), state.discriminator.train()))
    one = one_after_another(trainer, pairs[:1])
    seq = one_after_another(trainer, pairs)
    try:
        both = batched(trainer, pairs)
        both()
    except Exception as exc:  # a network vmap cannot run: say so, measure the rest
        both = None
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        print(f"  vmap cannot batch {case.dataset} {case.variant}: {type(exc).__name__}: {why}")
    flops = flops_of(one)
    for run in (one, seq, both):
        if run:
            timed(run, max(1, args.steps // 4), trainer.device)  # warm-up
    times: dict[str, list[float]] = {"one": [], "seq": [], "batched": []}
    order = [("one", one), ("seq", seq), ("batched", both)]
    for r in range(args.rounds):
        for name, run in order if r % 2 == 0 else order[::-1]:
            if run:
                times[name].append(timed(run, args.steps, trainer.device))
    med = {name: statistics.median(t) for name, t in times.items() if t}
    net = spec.network
    print(
        f"{case.dataset} {case.variant} (network {net}, batch {trainer.parts.variant.batch_size}, "
        f"{trainer.parts.variant.n_critic} critic steps), K = {case.k}, {args.rounds} rounds of {args.steps} steps:"
    )
    print(f"  one seed:              {med['one'] * 1e3:9.2f} ms/step  {flops / med['one'] / 1e9:6.1f} GFLOP/s")
    print(
        f"  {case.k} one after another: {med['seq'] * 1e3:9.2f} ms/step  "
        f"{case.k * flops / med['seq'] / 1e9:6.1f} GFLOP/s  ({med['seq'] / med['one']:.2f}x one seed's time)"
    )
    if "batched" in med:
        print(
            f"  {case.k} batched (vmap):    {med['batched'] * 1e3:9.2f} ms/step  "
            f"{case.k * flops / med['batched'] / 1e9:6.1f} GFLOP/s  ({med['batched'] / med['one']:.2f}x one seed's "
            f"time, goal <= 2; throughput {med['seq'] / med['batched']:.2f}x one after another)"
        )
    print(
        f"  matmul peak {peak:.1f} GFLOP/s; one seed's step is {flops / 1e6:.1f} MFLOP of matrix products, so no "
        f"batching can raise throughput above {peak / (flops / med['one'] / 1e9):.1f}x here"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="dataset:variant:K (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (median reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    peak = matmul_peak(device)
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {device}")
    for text in args.cases:
        measure(parse_case(text), args, peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
