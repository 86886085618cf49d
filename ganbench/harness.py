"""Training: a RunSpec in, a RunRecord out, reproducible bit for bit.

The loop alternates ``n_critic`` discriminator steps (real batch, detached fake batch)
and one generator step. All randomness comes from the run's seed through three derived
streams: weight init, data order, noise. Everything that changes during training lives in
one ``TrainState``; saving and restoring it resumes a killed run exactly.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganbench.checkpoints import FILENAME as CHECKPOINT
from ganbench.checkpoints import load_checkpoint, save_checkpoint
from ganbench.dataset import Dataset
from ganbench.devices import resolve_device
from ganbench.environment import environment
from ganbench.errors import CheckpointError, GanbenchError, OptionError, OutputError
from ganbench.evaluation import generate, score
from ganbench.locks import RunLock, RunLockedError
from ganbench.network import Network
from ganbench.options import with_options
from ganbench.plugins import call_hook, registries
from ganbench.regularizers import add_spectral_norm, clip_weights, gradient_penalty, r1_penalty
from ganbench.results import METRICS, RECORD, SPEC, RunRecord, read_record, write_json_atomic, write_record
from ganbench.spec import RunSpec
from ganbench.variant import Variant

DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_LOG_EVERY = 10


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream of a run."""
    digest = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


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


class TrainState:
    """Everything that changes while training; ``state_dict`` holds tensors and numbers only."""

    def __init__(self, spec: RunSpec, parts: Components, device: torch.device) -> None:
        variant = parts.variant
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(spec.seed, "init"))
            generator, discriminator = parts.network.build(parts.dataset.shape, variant.pack)
            if variant.spectral_norm:
                add_spectral_norm(discriminator)
        self.generator = generator.to(device)
        self.discriminator = discriminator.to(device)
        self.opt_g = _optimizer(variant, self.generator.parameters(), variant.lr_g)
        self.opt_d = _optimizer(variant, self.discriminator.parameters(), variant.lr_d)
        self.noise = torch.Generator(device=device).manual_seed(derive_seed(spec.seed, "noise"))
        self.step = 0
        self.epoch = 0
        self.cursor = 0
        self.train_seconds = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "noise": self.noise.get_state(),
            "step": self.step,
            "epoch": self.epoch,
            "cursor": self.cursor,
            "train_seconds": self.train_seconds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; KeyError/RuntimeError/ValueError/TypeError if it does not fit."""
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.noise.set_state(state["noise"])
        self.step, self.epoch, self.cursor = state["step"], state["epoch"], state["cursor"]
        self.train_seconds = state["train_seconds"]


def _optimizer(variant: Variant, params: Any, lr: float) -> torch.optim.Optimizer:
    if variant.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=variant.betas)


class Batches:
    """Minibatches in a fresh permutation each epoch; the permutation of epoch e comes from
    (seed, e) alone, so (epoch, cursor) is the whole state of the data order."""

    def __init__(self, data: torch.Tensor, seed: int, state: TrainState) -> None:
        self.data, self.seed, self.state = data, seed, state
        self._perm_epoch = -1
        self._perm = torch.empty(0, dtype=torch.long)

    def next(self, n: int) -> torch.Tensor:
        s = self.state
        if s.cursor + n > len(self.data):
            s.epoch, s.cursor = s.epoch + 1, 0
        if self._perm_epoch != s.epoch:
            gen = torch.Generator().manual_seed(derive_seed(self.seed, f"data/{s.epoch}"))
            self._perm = torch.randperm(len(self.data), generator=gen).to(self.data.device)
            self._perm_epoch = s.epoch
        batch = self.data[self._perm[s.cursor : s.cursor + n]]
        s.cursor += n
        return batch


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B*m, C, ...) -> (B, m*C, ...): m samples side by side along the first feature axis."""
    if m == 1:
        return x
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


@dataclass
class Outcome:
    stopped_by: str
    diverged_at: int | None = None


class Trainer:
    """Runs the training loop of one spec on one TrainState."""

    def __init__(self, spec: RunSpec, device: torch.device | str = "cpu") -> None:
        self.spec = spec
        self.device = torch.device(device)
        self.parts = Components.of(spec)
        self.state = TrainState(spec, self.parts, self.device)
        self.data = self.parts.dataset.load().to(self.device)
        variant = self.parts.variant
        if variant.batch_size * variant.pack > len(self.data):
            raise OptionError(
                f"variant {spec.variant!r} takes batches of {variant.batch_size * variant.pack} samples but dataset "
                f"{spec.dataset!r} holds {len(self.data)}; lower --set batch_size"
            )
        self.batches = Batches(self.data, spec.seed, self.state)

    def fit(
        self,
        steps: int | None = None,
        max_seconds: float | None = None,
        log_every: int = DEFAULT_LOG_EVERY,
        on_log: Any = None,
        checkpoint_every: int = 0,
        on_checkpoint: Any = None,
        progress: bool = False,
    ) -> Outcome:
        """Train until ``steps`` generator updates, ``max_seconds`` of training, or a NaN/inf loss."""
        steps = self.spec.budget.steps if steps is None else steps
        max_seconds = self.spec.budget.max_seconds if max_seconds is None else max_seconds
        v, s = self.parts.variant, self.state
        G, D, opt_g, opt_d, noise = s.generator, s.discriminator, s.opt_g, s.opt_d, s.noise
        m, n = v.pack, v.batch_size * v.pack
        z_shape, device = (n, self.parts.network.z_dim), self.device
        d_loss, g_loss = v.d_loss, v.g_loss
        bar = tqdm(
            total=steps,
            initial=s.step,
            disable=not progress,
            unit="step",
            dynamic_ncols=True,
            desc=f"{self.spec.variant} {self.spec.dataset} s{self.spec.seed}",
        )
        started = time.perf_counter() - s.train_seconds
        out_of_time = lambda: max_seconds is not None and time.perf_counter() - started >= max_seconds  # noqa: E731
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
                    real = pack(self.batches.next(n), m)
                    with torch.no_grad():
                        fake = pack(G(torch.randn(z_shape, generator=noise, device=device)), m)
                    if v.r1_gamma:
                        real.requires_grad_(True)
                    d_real = D(real)
                    loss_d = d_loss(d_real, D(fake))
                    penalty = None
                    if v.gp_lambda:
                        penalty = v.gp_lambda * gradient_penalty(D, real, fake, noise)
                    if v.r1_gamma:
                        penalty = 0.5 * v.r1_gamma * r1_penalty(d_real, real)
                    total_d = loss_d if penalty is None else loss_d + penalty
                    opt_d.zero_grad(set_to_none=True)
                    total_d.backward()
                    opt_d.step()
                    if v.weight_clip:
                        clip_weights(D, v.weight_clip)
                    critic_steps += 1
                if critic_steps < v.n_critic:
                    outcome = Outcome("max_seconds")
                    break
                loss_g = g_loss(D(pack(G(torch.randn(z_shape, generator=noise, device=device)), m)))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                s.step += 1
                ld, lg = total_d.item(), loss_g.item()
                if not (math.isfinite(ld) and math.isfinite(lg)):
                    outcome = Outcome("diverged", diverged_at=s.step)
                    break
                if s.step % log_every == 0:
                    logs = {"loss_d": loss_d.item(), "loss_g": lg}
                    if penalty is not None:
                        logs["penalty"] = penalty.item()
                    if on_log:
                        on_log(s.step, logs)
                    if progress:
                        bar.set_postfix(logs, refresh=False)
                s.train_seconds = time.perf_counter() - started
                if checkpoint_every and s.step % checkpoint_every == 0 and on_checkpoint:
                    on_checkpoint()
                bar.update(1)
        finally:
            s.train_seconds = time.perf_counter() - started
            bar.close()
        return outcome

    def sample(self, n: int, seed: int) -> torch.Tensor:
        return generate(self.state.generator, n, self.parts.network.z_dim, seed, self.device)


def run_spec(
    spec: RunSpec,
    out: str | Path = "results",
    *,
    force: bool = False,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    log_every: int = DEFAULT_LOG_EVERY,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> RunRecord:
    """Train, evaluate and record one run; resume from its checkpoint; skip it if finished.

    One process trains a run folder at a time: a second one gets RunLockedError, naming
    the first.
    """
    wall_start = time.perf_counter()
    device = resolve_device(device)
    existing = read_record(Path(out) / spec.dirname)
    if existing is not None and not force:
        return existing
    trainer = Trainer(spec, device)  # data, networks, batch size: every error before the folder exists
    run_dir = prepare_run_dir(Path(out), spec)
    with RunLock(run_dir):
        existing = read_record(run_dir)  # finished by another process since the first look?
        if existing is not None and not force:
            return existing
        remove_stale_files(run_dir)
        if force:
            for name in (RECORD, METRICS, CHECKPOINT):
                (run_dir / name).unlink(missing_ok=True)
        return _train(trainer, run_dir, wall_start, checkpoint_every, log_every, progress)


def _train(
    trainer: Trainer, run_dir: Path, wall_start: float, checkpoint_every: int, log_every: int, progress: bool
) -> RunRecord:
    spec, device = trainer.spec, trainer.device
    checkpoint = run_dir / CHECKPOINT
    resumed_from = None
    if checkpoint.exists():
        state = load_checkpoint(checkpoint, spec.run_id)
        try:
            trainer.state.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise CheckpointError(
                f"checkpoint {checkpoint} does not fit this run ({type(exc).__name__}: {reason}); "
                f"rerun with --force to start this run afresh (or delete {checkpoint})"
            ) from None
        resumed_from = trainer.state.step
    write_json_atomic(run_dir / SPEC, {"run_id": spec.run_id, **spec.to_dict()})
    call_hook("on_run_start", spec=spec, run_dir=str(run_dir), start_step=trainer.state.step)
    record = RunRecord(spec.run_id, spec.to_dict(), "failed", "error", trainer.state.step, str(run_dir))
    try:
        outcome = trainer.fit(
            log_every=log_every,
            on_log=lambda step, logs: call_hook("on_step_end", spec=spec, run_dir=str(run_dir), step=step, logs=logs),
            checkpoint_every=checkpoint_every,
            on_checkpoint=lambda: save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict()),
            progress=progress,
        )
        if outcome.stopped_by != "diverged":
            save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
            fake = trainer.sample(spec.eval.n_samples, spec.eval.seed)
            record.metrics = score(trainer.parts.dataset, fake, spec.eval.metrics)
            trainer.parts.dataset.render(
                trainer.parts.dataset.reference(), fake, run_dir / "samples.png", record.metrics
            )
        record.status = "diverged" if outcome.stopped_by == "diverged" else "completed"
        record.stopped_by = outcome.stopped_by
        record.diverged_at = outcome.diverged_at
    except Exception as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.steps_done = trainer.state.step
        record.train_seconds = trainer.state.train_seconds
        record.resumed_from = resumed_from
        record.environment = environment(device)
        record.wall_seconds = time.perf_counter() - wall_start
        if record.status != "failed":
            write_record(record)
        call_hook("on_run_end", spec=spec, run_dir=str(run_dir), record=record)
    return record


def prepare_run_dir(out: Path, spec: RunSpec) -> Path:
    """Create the run folder, or say in one line why it cannot be written."""
    run_dir = out / spec.dirname
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=run_dir, prefix=".write-test-")  # unique: two processes may probe at once
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"cannot write results to {out} ({exc.strerror or exc}); choose another folder with --out"
        ) from None
    return run_dir


def remove_stale_files(run_dir: Path) -> None:
    """Half-written files of a killed run's atomic writes (only safe while holding the folder's lock)."""
    for stale in run_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def run_job(spec: dict[str, Any], out: str, **kwargs: Any) -> RunRecord:
    """Executor entry point: one run, whose failure becomes a 'failed' record (or 'skipped', when
    another process is training it), never an exception."""
    parsed = RunSpec.from_dict(spec)
    try:
        return run_spec(parsed, out, **kwargs)
    except RunLockedError as exc:
        return RunRecord(parsed.run_id, spec, "skipped", "error", 0, str(Path(out) / parsed.dirname), error=str(exc))
    except GanbenchError as exc:
        error = str(exc)
    except Exception:
        error = traceback.format_exc()
    return RunRecord(parsed.run_id, spec, "failed", "error", 0, str(Path(out) / parsed.dirname), error=error)
