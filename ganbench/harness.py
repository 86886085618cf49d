"""Runs: a RunSpec in, a RunRecord out, reproducible bit for bit, even when killed and resumed.

The run folder is created only once the spec's parts have been built (so a rejected run
leaves nothing behind) and is held with a lock while training. A checkpoint, verified
before use, resumes an interrupted run; a finished one is returned from disk. Scores are
computed at the end and, with ``eval_every``, during training: history.csv then holds
each metric's curve, and the record the best value of each with its step.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ganbench.checkpoints import FILENAME as CHECKPOINT
from ganbench.checkpoints import checkpoint_header, load_checkpoint, save_checkpoint
from ganbench.devices import (
    CLASSIFIER,
    MORE_MEMORY,
    memory_error_line,
    out_of_memory,
    resolve_device,
    where_memory_ran_out,
)
from ganbench.environment import environment
from ganbench.errors import (
    CheckpointError,
    GanbenchError,
    OptionError,
    OutputError,
    PluginError,
    link_loop,
    link_loop_message,
    one_line,
    short_repr,
)
from ganbench.evaluation import PROVENANCE, score
from ganbench.fingerprint_values import qualname
from ganbench.locks import RunLock, RunLockedError
from ganbench.memory_limits import capped_import_line
from ganbench.options import plain_bool
from ganbench.paths import refuse_undecodable_name
from ganbench.plugins import blamed, call_loggers, registries
from ganbench.results import (
    METRICS,
    RECORD,
    SPEC,
    RunRecord,
    read_record,
    refuse_run_folder,
    strict_json,
    write_json_atomic,
    write_record,
)
from ganbench.spec import RunSpec
from ganbench.training import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_LOG_EVERY,
    Components,
    Hooks,
    TooBigForMemory,
    Trainer,
    callers_randomness_kept,
)
from ganbench.writable import advice, in_the_way, probe, refuse_writing_into_data, too_long_name

SAMPLES = "samples.png"
DISK_ERRORS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.EISDIR,
    errno.ENOTDIR,
}
"""What the disk says when a run folder cannot be written (full, quota, read-only, no permission, failing, a folder
where a file belongs)."""
IN_THE_WAY = {errno.EISDIR, errno.ENOTDIR, errno.EEXIST}

__all__ = ["Components", "Trainer", "lost_job", "run_job", "run_spec"]


RESUMES = "then run the same command again: it resumes from the run's last checkpoint"
AFRESH = "then run the same command again"
FORCED_RESUMES = "then run it again without --force: it resumes from the run's last checkpoint"
"""How to go on after ``unwritable``: a run resumes; a --force that failed before it removed the old files starts
afresh when repeated; one that failed while training resumes without --force (with it, it would start again)."""


@callers_randomness_kept()
def run_spec(
    spec: RunSpec,
    out: str | Path = "results",
    *,
    force: bool = False,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    log_every: int = DEFAULT_LOG_EVERY,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> RunRecord:
    """Train, evaluate and record one run; resume from its checkpoint; skip it if finished.

    One process trains a run folder at a time: a second one gets RunLockedError, naming
    the first.
    """
    wall_start = time.perf_counter()
    force = plain_bool(force)  # numpy's too, as options take it
    if not isinstance(force, bool):
        raise OptionError(f"force must be True or False, not {force!r}")
    cadence = Hooks(log_every=log_every, checkpoint_every=checkpoint_every, progress=progress)  # checks them
    device = resolve_device(device)
    refuse_process_wide_torch_settings()
    run_dir = Path(out) / spec.dirname
    existing = read_record(run_dir)
    if existing is not None and not force:
        return existing
    refuse_undecodable_name(out, "out")
    if not link_loop(out):  # a loop: prepare_run_dir names it as the results folder's
        refuse_run_folder(out, "out")  # the API's out too: a run nested in another's folder is counted as a run
    checkpoint = run_dir / CHECKPOINT
    resumes = not force and checkpoint.is_file()
    trainer = _trainer(spec, device, resumes)  # data, networks, batch size: every error before the folder exists
    refuse_writing_into_data(trainer.parts.dataset.data_paths(), {"results folder": out})
    check_run_files(run_dir)
    try:
        restored = None if force else restore(trainer, checkpoint)  # a bad one is refused before we touch anything
    except CheckpointError:
        _refuse_if_trained_elsewhere(run_dir)
        raise
    except Exception as exc:  # out of memory as it reads the checkpoint: one line, the checkpoint kept
        refused = _short_of_memory(exc, spec, device, "as it read its checkpoint to resume", "resume")
        if refused is None:
            raise
        raise refused from None
    _refuse_another_cadence(trainer, cadence.log_every)
    then = AFRESH if force else RESUMES  # --force's old files are still there: a rerun with it starts afresh
    prepare_run_dir(Path(out), spec, then)
    with locked(run_dir, then):
        existing = read_record(run_dir)  # finished by another process since the first look?
        if existing is not None and not force:
            return existing
        if not force and _header(checkpoint) != restored:  # another process checkpointed meanwhile
            trainer = _trainer(spec, device, resumes=checkpoint.is_file())
            restored = restore(trainer, checkpoint)
            _refuse_another_cadence(trainer, cadence.log_every)
        remove_stale_files(run_dir)
        if force:  # the record last: while anything else stays, so does it
            for name in (CHECKPOINT, METRICS, RECORD):
                try:
                    (run_dir / name).unlink(missing_ok=True)
                except OSError as exc:
                    raise OutputError(
                        in_the_way(run_dir / name, name)
                        if exc.errno in IN_THE_WAY
                        else f"--force cannot remove {exc.filename or run_dir / name} ({exc.strerror}); fix the "
                        "folder's permissions or choose another --out"
                    ) from None
        return _train(trainer, run_dir, wall_start, cadence, FORCED_RESUMES if force else RESUMES)


def _refuse_another_cadence(trainer: Trainer, log_every: int) -> None:
    """OptionError if a run resumes logging at another cadence than its history's rows so far (pass 93: rows every
    10 steps, then every 7, in one history.csv, and nothing recorded the change); else the cadence it keeps."""
    kept = trainer.state.log_every
    if trainer.state.step and kept is not None and kept != log_every:
        raise OptionError(
            f"run {trainer.spec.run_id} logged its history every {kept:,} steps up to step {trainer.state.step:,}; "
            f"resume it with --log-every {kept} (another cadence would mix two in its history.csv), or start it "
            "afresh with --force"
        )
    trainer.state.log_every = log_every


def _refuse_if_trained_elsewhere(run_dir: Path) -> None:
    """RunLockedError if another process holds the run's lock: a checkpoint it replaced while this one read it
    looks damaged, and the advice for a damaged one (--force, or delete it) would destroy a live run."""
    try:
        with locked(run_dir):
            pass
    except RunLockedError:
        raise
    except (OSError, GanbenchError):  # no lock to take (a read-only folder): the checkpoint's own error stands
        pass


@contextmanager
def locked(run_dir: Path, then: str = RESUMES) -> Iterator[None]:
    """The run folder's lock (RunLockedError if another process holds it); a disk too full to take it is one line
    (``then``: how to go on, as ``unwritable`` takes it)."""
    lock = RunLock(run_dir)
    try:
        lock.__enter__()
    except OSError as exc:
        if exc.errno not in DISK_ERRORS:
            raise
        raise unwritable(exc, run_dir, then) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def restore(trainer: Trainer, checkpoint: Path) -> dict[str, Any] | None:
    """Load a verified checkpoint into ``trainer``; its header (None if there is none). CheckpointError if bad."""
    if not checkpoint.exists():
        return None
    spec = trainer.spec
    state = load_checkpoint(checkpoint, spec.run_id)
    afresh = f"rerun with --force to start this run afresh (or delete {checkpoint})"
    counters = {k: state.get(k) for k in ("step", "epoch", "cursor")}
    wrong = [k for k, c in counters.items() if isinstance(c, bool) or not isinstance(c, int) or c < 0]
    wrong += ["cursor"] * (not wrong and counters["cursor"] > len(trainer.data))  # a position past the data's end
    if wrong or counters["step"] > spec.budget.steps or counters["step"] != checkpoint_header(checkpoint)["step"]:
        field = wrong[0] if wrong else "step"
        raise CheckpointError(
            f"checkpoint {checkpoint} holds {field} {short_repr(counters[field])} (its header: step "
            f"{checkpoint_header(checkpoint)['step']}; the run: {spec.budget.steps} steps), which no run of this spec "
            f"wrote; {afresh}"
        )
    try:
        trainer.state.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise CheckpointError(
            f"checkpoint {checkpoint} does not fit this run ({type(exc).__name__}: {reason}); {afresh}"
        ) from None
    return checkpoint_header(checkpoint)


def _header(checkpoint: Path) -> dict[str, Any] | None:
    return checkpoint_header(checkpoint) if checkpoint.exists() else None


def _trainer(spec: RunSpec, device: torch.device, resumes: bool = False) -> Trainer:
    """``spec``'s trainer: its forward check (a batch through both networks) may run out of memory too. A run that
    ``resumes`` from a checkpoint is told to find more memory, not to shrink its network (another run)."""
    try:
        return Trainer(spec, device)
    except TooBigForMemory as exc:
        if not resumes:
            raise
        raise OptionError(exc.resuming(f"run {spec.run_id} resumes from its checkpoint")) from None
    except Exception as exc:
        refused = _short_of_memory(exc, spec, device, "as it checked a batch through its networks", resumes=resumes)
        if refused is None:
            raise
        raise refused from None


def _short_of_memory(
    exc: BaseException, spec: RunSpec, device: torch.device, when: str, part: str | None = None, resumes: bool = False
) -> OptionError | None:
    """What the pre-check does not count (a batch's activations, the data, scoring): one line naming what to lower
    for the part that ran out, not the allocator's traceback (exit 1). None where ``exc`` is another error. A run
    that ``resumes`` is told more memory: a smaller batch, network or dataset would be another run (pass 73)."""
    short_of = out_of_memory(exc)
    if short_of is None:
        return None
    where, lower = _memory_phase(exc, spec, part)
    lower = MORE_MEMORY if resumes else lower  # any setting lowered is another run id: the checkpoint left behind
    return OptionError(f"run {spec.run_id} ran out of memory on {device} {where or when} ({short_of}); {lower}")


def _memory_phase(exc: BaseException, spec: RunSpec, part: str | None = None) -> tuple[str, str]:
    """Where in a run an allocation failed and what to lower for that part (``devices.where_memory_ran_out``; else
    ``part``, the caller's)."""
    part = where_memory_ran_out(exc) or part
    smaller = f"use a smaller network (`ganbench list` shows the options of network {spec.network!r})"
    if part == "library":
        return "as it loaded a library", MORE_MEMORY
    if part == "checkpoint":
        return "as it saved its checkpoint", smaller
    if part == "resume":  # a smaller network would be another run; --force would need as much to save it (pass 71)
        return "as it read its checkpoint to resume", MORE_MEMORY
    if part == "classifier":
        return f"as it trained {CLASSIFIER[0].removeprefix('training ')}", CLASSIFIER[1]
    if part == "dataset":
        n = spec.dataset_options.get("n_samples")
        lower = (
            f"lower --set dataset.n_samples, e.g. --set dataset.n_samples={max(n // 4, 1)}"
            if type(n) is int
            else "use a smaller dataset: its items do not fit here"
        )
        return "as it loaded the dataset", lower
    if part == "optimizer":
        return "as it made the optimizer's state", smaller
    if part == "scoring":
        n = spec.eval.n_samples
        fewer = f"lower --eval-samples, e.g. --eval-samples {max(n // 4, 2)}" if n > 2 else "name fewer metrics"
        return f"as it scored {n:,} samples", fewer
    batch = spec.variant_options.get("batch_size")
    return "", "lower --set batch_size, or the network's sizes" if batch != 1 else smaller


def _train(trainer: Trainer, run_dir: Path, wall_start: float, cadence: Hooks, then: str) -> RunRecord:
    spec, device, dataset = trainer.spec, trainer.device, trainer.parts.dataset
    checkpoint = run_dir / CHECKPOINT
    resumed_from = trainer.state.step or None
    told = resumed_from is not None and trainer.state.scored_at == resumed_from  # its loggers saw that step's scores
    record = RunRecord(spec.run_id, spec.to_dict(), "failed", "error", trainer.state.step, str(run_dir))
    scored: dict[int, dict[str, Any]] = {}

    def evaluate(step: int) -> dict[str, float]:
        fake, labels = trainer.sample(spec.eval.n_samples, spec.eval.seed)
        scores = score(dataset, fake, spec.eval.metrics, fake_labels=labels)
        scored.clear()
        scored[step] = scores
        values = numbers_of(scores)
        update_best(trainer.state.best, values, step)
        samples = run_dir / SAMPLES
        with blamed("datasets", spec.dataset, "render"):
            dataset.render(dataset.reference(), fake, samples, scores, labels)
        if not (told and step == resumed_from):  # a run resumed at its end was scored there before its checkpoint
            path = str(samples)
            call_loggers("on_evaluation", spec=spec, run_dir=str(run_dir), step=step, scores=values, samples_png=path)
        trainer.state.scored_at = step
        return values

    def on_log(step: int, logs: dict[str, float]) -> None:
        try:
            call_loggers("on_step_end", spec=spec, run_dir=str(run_dir), step=step, logs=logs)
        except PluginError as exc:  # every logger has this row: keep the steps trained, for the rerun to resume
            save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
            raise PluginError(f"{exc}; once it is fixed, the same command resumes at step {step}") from exc

    try:  # from the loggers' start on, so that on_run_end closes what any of them opened, whatever fails
        write_json_atomic(run_dir / SPEC, {"run_id": spec.run_id, **spec.to_dict()})
        call_loggers(
            "on_run_start", spec=spec, run_dir=str(run_dir), start_step=trainer.state.step, log_every=cadence.log_every
        )
        hooks = dataclasses.replace(
            cadence,
            on_log=on_log,
            on_checkpoint=lambda: save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict()),
            eval_every=spec.eval.every,
            evaluate=evaluate,
        )
        if scoring_was_cut_short(trainer):  # as the uninterrupted run did at this step, before training on
            on_log(trainer.state.step, {**trainer.state.pending_logs, **evaluate(trainer.state.step)})
            trainer.state.pending_logs = {}
            save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
        outcome = trainer.fit(hooks)
        if outcome.stopped_by != "diverged":
            step = trainer.state.step
            if step not in scored:  # not scored at this step inside the loop (no --eval-every, or out of time)
                if (_header(checkpoint) or {}).get("step") != step:  # a metric that fails then costs a rescore only
                    save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
                values = evaluate(step)
                if spec.eval.every and not (told and step == resumed_from):  # else it has logged this row
                    on_log(step, {**trainer.state.pending_logs, **values})  # losses a checkpoint kept, if any
                    trainer.state.pending_logs = {}
            save_checkpoint(checkpoint, spec.run_id, trainer.state.state_dict())
            record.metrics = strict_json(scored[step])  # as record.json holds them: null, not NaN
            if trainer.state.ema:  # the average is scored above; G's own scores too, named apart
                fake, labels = trainer.sample(spec.eval.n_samples, spec.eval.seed, raw=True)
                record.raw_metrics = strict_json(score(dataset, fake, spec.eval.metrics, fake_labels=labels))
            record.best = strict_json(dict(trainer.state.best)) if spec.eval.every else {}
        record.status = "diverged" if outcome.stopped_by == "diverged" else "completed"
        record.stopped_by = outcome.stopped_by
        record.diverged_at = outcome.diverged_at
    except OSError as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        if exc.errno not in DISK_ERRORS:
            raise
        raise unwritable(exc, run_dir, then) from None
    except Exception as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        refused = _short_of_memory(exc, spec, device, f"at step {trainer.state.step}", resumes=resumed_from is not None)
        if refused is None:
            raise
        raise refused from None
    finally:
        record.steps_done = trainer.state.step
        record.train_seconds = trainer.state.train_seconds
        record.resumed_from = resumed_from
        record.environment = environment(device)
        record.wall_seconds = time.perf_counter() - wall_start
        if record.status != "failed":
            try:
                write_record(record)
            except OSError as exc:
                if exc.errno not in DISK_ERRORS:
                    raise
                raise unwritable(exc, run_dir, then) from None
        try:
            call_loggers("on_run_end", spec=spec, run_dir=str(run_dir), record=record)
        except (OSError, PluginError) as exc:
            if record.status == "failed":  # the run's own error is the one to report, not a logger's after it
                pass
            elif isinstance(exc, PluginError):
                raise PluginError(f"{exc} (the run itself is {record.status} and recorded in {run_dir})") from exc
            elif exc.errno in DISK_ERRORS:
                raise unwritable(exc, run_dir, then) from None
            else:
                raise
    return record


def scoring_was_cut_short(trainer: Trainer) -> bool:
    """Whether the run resumes from the checkpoint written when scoring a step inside the loop (``eval_every``)
    failed: a step the loop scores, not scored yet. (The loop's own checkpoints at such steps come after scoring;
    the last step's is handled with the final scores.)"""
    spec, state = trainer.spec, trainer.state
    every, step = spec.eval.every, state.step
    return bool(every) and 0 < step < spec.budget.steps and step % every == 0 and state.scored_at != step


def unwritable(exc: OSError, run_dir: Path, then: str = RESUMES) -> OutputError:
    """One line for a run folder the disk refused (full, read-only, ...): what, why, and how to go on (``then``)."""
    if exc.errno in IN_THE_WAY:
        target = Path(exc.filename2 or exc.filename or run_dir)  # a rename names its destination second
        return OutputError(in_the_way(target, target.name if target.parent == run_dir else "files"))
    name = exc.filename or run_dir
    if Path(name).name.startswith(".ganbench-probe-"):  # the probe's random name: the folder is what refuses
        name = f"in the run folder {run_dir}"
    if then != AFRESH and not (run_dir / CHECKPOINT).is_file():  # "it resumes" of a run that starts again
        then = "then run the same command again: the run starts again (it had written no checkpoint yet)"
    return OutputError(f"cannot write {name} ({exc.strerror}); {advice(exc)}, {then}")


def numbers_of(scores: dict[str, Any]) -> dict[str, float]:
    """The numeric outputs of a score dict (no provenance, no notes)."""
    return {
        k: float(v)
        for k, v in scores.items()
        if k != PROVENANCE and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def update_best(best: dict[str, dict[str, float]], values: dict[str, float], step: int) -> None:
    """Keep each output's best value so far (by its registered direction) and the step it came at."""
    directions = registries().metric_directions()
    for key, value in values.items():
        direction = directions.get(key)
        if direction is None or value != value:  # no direction, or NaN
            continue
        old = best.get(key)
        if old is None or (value > old["value"] if direction == "higher" else value < old["value"]):
            best[key] = {"value": value, "step": step}


def refuse_process_wide_torch_settings() -> None:
    """GanbenchError if the process has changed what every network computes outside the options and the code a run
    id follows: torch's default dtype (runs compute in float32) or device (runs place their tensors: --device), or
    hooks registered for every module (pass 87: float64 was a dtype traceback with half a folder written, while
    another process's float32 record was handed out under the same id; pass 88: a global forward hook halving every
    Linear kept the id, and the meta device was a traceback)."""
    if torch.get_default_dtype() != torch.float32:
        raise GanbenchError(
            f"torch's default dtype is {torch.get_default_dtype()} (torch.set_default_dtype), but runs compute in "
            "float32, as their run ids and records say; call torch.set_default_dtype(torch.float32) before a run"
        )
    if torch.get_default_device() != torch.device("cpu"):
        raise GanbenchError(
            f"torch's default device is {torch.get_default_device()} (torch.set_default_device), but runs place their "
            "tensors themselves (--device, device=); call torch.set_default_device('cpu') before a run"
        )
    modes = _modes_in_force()
    if modes:  # pass 89: a run inside `with torch.autocast(...)` trained in bfloat16 under the float32 run's id
        raise GanbenchError(
            f"a run was started inside {modes[0]}, which changes what it computes but no run id can follow; start it "
            "outside (training sets its own precision and gradients)"
        )
    module = torch.nn.modules.module
    hooked = [name for name in _GLOBAL_MODULE_HOOKS if getattr(module, name, None)]
    optimizer = sys.modules.get("torch.optim.optimizer")
    hooked += [name for name in _GLOBAL_OPTIMIZER_HOOKS if getattr(optimizer, name, None)]
    if hooked:
        raise GanbenchError(
            f"hooks for every torch module or optimizer are registered in this process ({hooked[0]}: "
            "register_module_*_hook, register_optimizer_step_*_hook), which change what every run computes but no "
            "run id can follow; remove them (their handles' .remove()) before a run, or put them in a network's code"
        )


_GLOBAL_OPTIMIZER_HOOKS = ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")


def _modes_in_force() -> list[str]:
    """The process-wide torch modes in force that change what a run computes: autocast, gradients off, saved-tensor
    hooks (pass 89), a TorchFunctionMode or TorchDispatchMode (pass 90: one scaling F.linear kept the run id) but
    ``with torch.device(...)``, whose device the default-device check judges, and parametrize's cache (pass 90: a
    parametrization computed once per run, a second backward through it a traceback)."""
    modes = [f"torch.autocast({d!r})" for d in ("cpu", "cuda") if torch.is_autocast_enabled(d)]
    if not torch.is_grad_enabled() or torch.is_inference_mode_enabled():
        modes.append("torch.no_grad() or torch.inference_mode() (gradients off)")
    if torch._C._autograd._top_saved_tensors_default_hooks(False) is not None:
        modes.append("torch.autograd.graph.saved_tensors_hooks")
    from torch.overrides import _get_current_function_mode_stack
    from torch.utils._device import DeviceContext
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    functions = [m for m in _get_current_function_mode_stack() if not isinstance(m, DeviceContext)]
    for mode in (*functions, *_get_current_dispatch_mode_stack()):
        modes.append(f"a torch mode ({qualname(type(mode))})")
    if torch.nn.utils.parametrize._cache_enabled:
        modes.append("torch.nn.utils.parametrize.cached()")
    return modes


_GLOBAL_MODULE_HOOKS = (
    "_global_forward_pre_hooks",
    "_global_forward_hooks",
    "_global_backward_pre_hooks",
    "_global_backward_hooks",
    "_global_buffer_registration_hooks",
    "_global_module_registration_hooks",
    "_global_parameter_registration_hooks",
)


def prepare_run_dir(out: Path, spec: RunSpec, then: str = RESUMES) -> Path:
    """Create the run folder, or say in one line why it cannot be written (``then``: as ``unwritable`` takes it)."""
    run_dir = out / spec.dirname
    too_long = too_long_name(run_dir)
    if too_long:
        raise OutputError(f"cannot write results to {out}: {too_long}; choose another results folder")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe(run_dir)
    except OSError as exc:
        if exc.errno == errno.EEXIST and exc.filename:  # a file where the run's folder goes
            raise OutputError(in_the_way(exc.filename, "folder")) from None
        if exc.errno == errno.ELOOP:
            raise OutputError(link_loop_message(out, "results folder ")) from None
        if run_dir.is_dir() and (run_dir / SPEC).exists():  # an existing run: another --out would lose its checkpoint
            raise unwritable(exc, run_dir, then) from None
        why = exc.strerror or exc
        raise OutputError(f"cannot write results to {out} ({why}); choose another results folder") from None
    return run_dir


RUN_FILES = (SPEC, CHECKPOINT, "history.csv", SAMPLES, METRICS, RECORD)
"""The files a run reads and writes in its folder."""


def check_run_files(run_dir: Path) -> None:
    """OutputError if one of a run's files is there but is not a regular file: a FIFO would block the run forever
    (reading or writing it), a folder or a device would fail it after training. Nor may the folder be a link:
    through a link to another run's folder, this run would overwrite that run's files."""
    if run_dir.is_symlink():
        target = os.readlink(run_dir)
        raise OutputError(
            f"run folder {one_line(run_dir)} is a link (to {one_line(target)}); a run writes only into a folder of its "
            "own: delete the link, then run the same command again"
        )
    for name in RUN_FILES:
        path = run_dir / name
        try:
            mode = os.stat(path).st_mode
        except OSError:  # absent: written anew; a link to nothing (or to itself): its writes fail, after training
            if os.path.islink(path):
                raise OutputError(in_the_way(path, name)) from None
            continue
        if not stat.S_ISREG(mode):
            raise OutputError(in_the_way(path, name))
    try:  # a link to a file or a folder (tensorboard/, the lock's owner file): written through, another run's
        with os.scandir(run_dir) as entries:  # record or events would become this run's
            links = sorted(entry.path for entry in entries if entry.is_symlink())
    except OSError:  # absent yet, or unreadable: the run's own writes say why
        links = []
    if links:
        raise OutputError(
            f"{one_line(links[0])} is a link (to {one_line(os.readlink(links[0]))}); a run writes only files of its "
            "own, and would overwrite what it links to: delete the link, then run the same command again"
        )


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
        return _unfinished(spec, out, "skipped", str(exc))
    except GanbenchError as exc:
        error = str(exc)
    except Exception as exc:  # out of memory in a worker under ulimit -v: the line one process gives (pass 74)
        error = memory_error_line(exc) or capped_import_line(exc) or traceback.format_exc()
    return _unfinished(spec, out, "failed", error)


def lost_job(job: tuple[Any, dict[str, Any]], why: str) -> RunRecord:
    """The result of a job whose process died every time an executor ran it (killed, out of memory):
    for a run, a 'failed' record saying so; other jobs have none to fail with (GanbenchError)."""
    fn, kwargs = job
    if fn is not run_job:
        raise GanbenchError(f"job {getattr(fn, '__qualname__', fn)!r} did not finish: {why}")
    return _unfinished(kwargs["spec"], kwargs["out"], "failed", f"{why}; rerun to resume from its checkpoint")


def _unfinished(spec: dict[str, Any], out: str, status: Any, error: str) -> RunRecord:
    parsed = RunSpec.from_dict(spec)
    return RunRecord(parsed.run_id, spec, status, "error", 0, str(Path(out) / parsed.dirname), error=error)
