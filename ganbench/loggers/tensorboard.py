"""Writes TensorBoard event files in each run folder (``<run folder>/tensorboard/``): every value
of history.csv as a scalar at its step, and the picture of the samples (samples.png) at each
evaluation, so ``tensorboard --logdir results`` shows every run.

On when the ``tensorboard`` package is installed (``pip install 'ganbench[tensorboard]'``), as
PyTorch Lightning's default logger is; ``GANBENCH_TENSORBOARD=0`` turns it off. A resumed run
asks TensorBoard to hide what the killed process logged after the checkpoint it resumes from
(``purge_step``), so its curves are those of an uninterrupted run.
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from typing import Any

from ganbench.hookspecs import hookimpl

ENV = "GANBENCH_TENSORBOARD"
FOLDER = "tensorboard"
SAMPLES_TAG = "samples"
_writers: dict[str, Any] = {}


def enabled() -> bool:
    """Whether runs write TensorBoard events: tensorboard is installed and ``GANBENCH_TENSORBOARD`` is not 0."""
    if os.environ.get(ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return importlib.util.find_spec("tensorboard") is not None


@hookimpl
def on_run_start(run_dir, start_step):
    if not enabled():
        return
    from torch.utils.tensorboard import SummaryWriter

    # Steps up to the checkpoint were logged before it was written; later ones are the killed process's.
    purge = start_step + 1 if start_step else None
    _writers[str(run_dir)] = SummaryWriter(str(Path(run_dir) / FOLDER), purge_step=purge)


@hookimpl
def on_step_end(run_dir, step, logs):
    writer = _writers.get(str(run_dir))
    if writer is not None:
        for key, value in logs.items():
            if math.isfinite(value):  # as history.csv, whose cell is empty then
                writer.add_scalar(key, value, step)


@hookimpl
def on_evaluation(run_dir, step, samples_png):
    writer = _writers.get(str(run_dir))
    if writer is None or not Path(samples_png).is_file():
        return
    import numpy as np
    from PIL import Image

    with Image.open(samples_png) as image:
        pixels = np.asarray(image.convert("RGB"))
    writer.add_image(SAMPLES_TAG, pixels, step, dataformats="HWC")


@hookimpl
def on_run_end(run_dir):
    writer = _writers.pop(str(run_dir), None)
    if writer is not None:
        writer.close()
