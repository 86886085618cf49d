"""Writes TensorBoard event files in each run folder (``<run folder>/tensorboard/``): every value
of history.csv as a scalar at its step, and the picture of the samples (samples.png) at each
evaluation, so ``tensorboard --logdir results`` shows every run.

On when the ``tensorboard`` package is installed (``pip install 'ganbench[tensorboard]'``), as
PyTorch Lightning's default logger is; ``GANBENCH_TENSORBOARD=0`` turns it off. Each process
that trains a run asks TensorBoard to hide what earlier processes logged after the step it
starts from (``purge_step``): a run resumed after kill -9, or trained again with --force,
shows the curves of one uninterrupted run. TensorBoard is a view, not a record: when its
folder cannot be written, the run goes on without it and says so in one line.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from ganbench.errors import one_line
from ganbench.hookspecs import hookimpl

ENV = "GANBENCH_TENSORBOARD"
FOLDER = "tensorboard"
SAMPLES_TAG = "samples"
_writers: dict[str, Any] = {}
_thread_errors: list[OSError] = []
_warned: list[str] = []


OFF, ON = ("0", "false", "no", "off"), ("", "1", "true", "yes", "on")


def enabled() -> bool:
    """Whether runs write TensorBoard events: tensorboard is installed and ``GANBENCH_TENSORBOARD`` is not 0.
    Another value is warned of once (a typo for "off" must not pass for "on" unnoticed)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in OFF:
        return False
    if value not in ON and not _warned:
        _warned.append(value)
        warnings.warn(
            f"{ENV}={one_line(value)!r} is neither 0 (off) nor 1 (on); TensorBoard events are written", stacklevel=2
        )
    return importlib.util.find_spec("tensorboard") is not None


def _give_up(run_dir: str, exc: BaseException) -> None:
    """Stop writing this run's events, in one line on stderr: the run itself goes on."""
    writer = _writers.pop(run_dir, None)
    if writer is not None:
        try:
            writer.close()
        except Exception:  # the same failure again
            pass
    _thread_errors.clear()  # what the writer's thread met is this failure too
    reason = getattr(exc, "strerror", None) or exc
    print(
        f"warning: TensorBoard events of {one_line(run_dir)} not written ({reason}); the run goes on", file=sys.stderr
    )


def _writer_thread_hook(previous: Any) -> Any:
    """A threading.excepthook that turns a disk error in TensorBoard's writer thread (a full disk while it
    flushes) into the one-line warning, where Python would print the thread's traceback."""

    def hook(args: Any) -> None:
        if type(args.thread).__name__ == "_AsyncWriterThread" and isinstance(args.exc_value, OSError):
            _thread_errors.append(args.exc_value)  # said once, with the run's folder, by the next hook call
            return
        previous(args)

    hook.ganbench = True
    return hook


@hookimpl
def on_run_start(run_dir, start_step):
    if not start_step:  # a run started afresh (new, or --force), whether events are written now or not: an
        try:  # earlier attempt's events are not this run's
            folder = Path(run_dir) / FOLDER
            for old in [] if folder.is_symlink() else folder.glob("events.out.tfevents.*"):  # not another folder's
                old.unlink()
        except OSError as exc:
            return _give_up(str(run_dir), exc)
    if not enabled():
        return
    from torch.utils.tensorboard import SummaryWriter

    if not getattr(threading.excepthook, "ganbench", False):
        threading.excepthook = _writer_thread_hook(threading.excepthook)

    try:  # steps up to the one it starts from are logged; later ones are a dead or earlier process's
        _writers[str(run_dir)] = SummaryWriter(str(Path(run_dir) / FOLDER), purge_step=start_step + 1)
    except Exception as exc:  # a file in the way, no permission, a full disk
        _give_up(str(run_dir), exc)


@hookimpl
def on_step_end(run_dir, step, logs):
    writer = _writers.get(str(run_dir))
    if writer is None:
        return
    if _thread_errors:
        return _give_up(str(run_dir), _thread_errors.pop())
    try:
        for key, value in logs.items():
            if math.isfinite(value):  # as history.csv, whose cell is empty then
                writer.add_scalar(key, value, step)
    except Exception as exc:
        _give_up(str(run_dir), exc)


@hookimpl
def on_evaluation(run_dir, step, samples_png):
    writer = _writers.get(str(run_dir))
    if writer is None or not Path(samples_png).is_file():
        return
    import numpy as np
    from PIL import Image

    try:
        with Image.open(samples_png) as image:
            pixels = np.asarray(image.convert("RGB"))
        writer.add_image(SAMPLES_TAG, pixels, step, dataformats="HWC")
    except Exception as exc:
        _give_up(str(run_dir), exc)


@hookimpl
def on_run_end(run_dir):
    writer = _writers.get(str(run_dir))
    if writer is not None:
        try:
            writer.close()
        except Exception as exc:
            _thread_errors.append(exc)
        if _thread_errors:
            _give_up(str(run_dir), _thread_errors.pop())
        _writers.pop(str(run_dir), None)
