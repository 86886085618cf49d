"""Which torch device a run trains on: a name checked against this machine before any work.

``torch.device("foo")`` raises a RuntimeError and ``torch.device("cuda")`` on a machine
without a GPU fails only at the first tensor; both become one line here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import traceback
from collections.abc import Iterator

import torch

from ganbench.errors import MORE_MEMORY, GanbenchError, OptionError, memory_size, one_line, raised_importing

KNOWN = ("cpu", "cuda", "mps")


class DeviceError(GanbenchError):
    """A device name that is malformed or absent on this machine."""


def default_device() -> torch.device:
    """CUDA when torch sees a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """``name`` as a device that exists here (None: the default), or DeviceError."""
    if name is None:
        return default_device()
    if isinstance(name, torch.device):
        device = name
    else:
        text = str(name).strip()
        try:
            device = torch.device(text)
        except (RuntimeError, ValueError):
            raise DeviceError(f"unknown device {text!r}; use cpu, cuda, cuda:N or mps") from None
    if device.type not in KNOWN:
        raise DeviceError(f"device {str(device)!r} is not supported; use cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "no CUDA"
            raise DeviceError(
                f"--device {device} but torch {torch.__version__} ({build}) finds no CUDA GPU here; use --device cpu"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"--device {device} but this machine has {count} CUDA GPU(s): cuda:0 to cuda:{count - 1}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("--device mps but torch finds no Apple GPU here; use --device cpu")
    return device


@contextlib.contextmanager
def reproducible_kernels(device: torch.device) -> Iterator[None]:
    """Deterministic CUDA kernels while training on ``device``, then torch's settings as they were.

    cuDNN's fastest backward convolutions add partial sums with atomics, so two runs of one
    spec on one GPU drew apart: on an H100, dcgan on MNIST's test split gave FID 106.5 and
    135.1 after 400 steps, from the same seed. Here cuDNN takes its deterministic algorithms
    and torch its deterministic kernels; an operator that has none still runs, with torch's
    warning that the run will not repeat bit for bit. CPU kernels are deterministic already,
    so nothing changes there (and their uninitialised memory is not filled, as torch's
    deterministic mode would).
    """
    if device.type != "cuda":
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # one fixed cuBLAS workspace: its reductions repeat
    saved = (
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[:2]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


A_LIBRARY = "a library could not be loaded into memory"
ONEDNN_REFUSED = "could not create a primitive"
"""How oneDNN (convolutions on the CPU) says it could not allocate a kernel's buffers: under a memory cap, at a
convolution's backward."""


def out_of_memory(exc: BaseException) -> str | None:
    """What ``exc`` says if it is torch failing to allocate (a GPU's OutOfMemoryError, the CPU allocator's
    RuntimeError), in a few words; else None."""
    text, seen, inner = str(exc), 0, exc
    while inner is not None and seen < 8:  # torch.save's "unexpected pos" raised while handling a MemoryError
        if isinstance(inner, MemoryError):  # Python's own (a buffer, a pickle), under ulimit -v say
            return "Python could not allocate"
        if isinstance(inner, ImportError) and "failed to map segment" in str(inner):  # scipy's library, say
            return A_LIBRARY
        if isinstance(inner, OSError) and inner.errno == errno.ENOMEM:  # importlib listing a folder (pass 75)
            return "the system could not allocate"
        if not isinstance(inner, RuntimeError | ImportError):  # a plugin's KeyError in an `except MemoryError:`
            break  # block is its own bug, not memory (pass 70); torch.save's RuntimeError is not
        inner, seen = inner.__cause__ or inner.__context__, seen + 1
    if isinstance(exc, RuntimeError) and text.strip() == ONEDNN_REFUSED:  # its buffers, under ulimit -v (pass 72);
        # "could not create a primitive descriptor for ..." is a shape or type it does not support (pass 73)
        return "oneDNN could not create a primitive"
    if not isinstance(exc, torch.OutOfMemoryError) and not (
        isinstance(exc, RuntimeError) and "can't allocate memory" in text
    ):  # the allocator's text inside a PluginError or a plugin's ValueError is theirs to tell (pass 71)
        return None
    asked = re.search(r"allocate (\d+) bytes", text)
    if asked:
        return f"it asked for {memory_size(int(asked.group(1)))} more"
    return one_line(text.split(". ")[0])[:120]


@contextlib.contextmanager
def refused_if_out_of_memory(doing: str, fix: str) -> Iterator[None]:
    """An allocation that fails inside as one OptionError, "``doing`` ran out of memory (...); ``fix``", not the
    allocator's traceback (exit 1): `eval` of a million samples, say."""
    try:
        yield
    except Exception as exc:
        line = memory_line(exc, doing, fix)
        if line is None:
            raise
        raise OptionError(line) from None


DATA_TOO_BIG = "its items do not fit here: use a smaller dataset (a mixture's --set dataset.n_samples), or more memory"
DATA_FIXED = f"its items do not fit here: {MORE_MEMORY}"
"""Where the data are not the command's to change: finished runs' (`plot`, `table`; pass 74), runs that resume."""
CLASSIFIER = (
    "training the classifier space's network on the dataset's images",
    f"{MORE_MEMORY}, use a smaller dataset, or name no metrics of the classifier space (*_classifier)",
)
"""(what ran out, what to do) where the classifier that fid_classifier's features come from trained: it copies the
dataset's images, whatever the number of samples (pass 71)."""


def memory_error_line(exc: BaseException, data_fixed: bool = False) -> str | None:
    """One line for an allocation that failed where nothing said what to lower (a dataset claimed as the command
    starts, a library loaded late): else None, for another error. ``data_fixed``: see ``memory_line``."""
    return memory_line(exc, "ganbench", MORE_MEMORY if data_fixed else f"{MORE_MEMORY}, or ask for less", data_fixed)


def memory_line(exc: BaseException, doing: str, fix: str, data_fixed: bool = False) -> str | None:
    """ "``doing`` ran out of memory (...); ``fix``" of an allocation that failed, unless the data or a library is
    what did not fit (fewer samples changed nothing there); None for another error. ``data_fixed``: the data are
    finished runs' (a smaller dataset would be other runs): more memory is the one fix."""
    short_of = out_of_memory(exc)
    if short_of is None:
        return None
    part = where_memory_ran_out(exc)
    if part == "dataset":
        doing, fix = "reading the dataset", DATA_FIXED if data_fixed else DATA_TOO_BIG
    elif part == "library":  # scipy's, loaded late: not the samples
        doing, fix = "loading a library", MORE_MEMORY
    elif part == "classifier":
        doing, fix = CLASSIFIER
    elif part == "file":
        doing, fix = "reading a file of arrays", f"{MORE_MEMORY}, or save fewer samples in it"
    return f"{doing} ran out of memory ({short_of}); {fix}"


def where_memory_ran_out(exc: BaseException) -> str | None:
    """The part of the work an allocation failed in, by the code it failed in: "library" (loading one, or a module
    Python imports), "checkpoint", "resume" (reading one), "classifier" (training the classifier space's network on
    the dataset), "dataset" (in a dataset's method: its items), "optimizer" (its state, made at the first step),
    "file" (reading a file of arrays: eval's samples), "scoring", or None. Each needs its own advice: batch_size was
    advised for all, which changed nothing for these (passes 68, 69, 71)."""
    from ganbench.dataset import Dataset  # not at the top: datasets' modules import this one

    if out_of_memory(exc) == A_LIBRARY:  # a library's own memory, whatever it was loaded for (matplotlib, scipy)
        return "library"
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    names = {frame.f_code.co_name for frame in frames}
    if raised_importing(exc):
        return "library"  # torch._dynamo imported by the first nn.init call, say: not the batch that called it
    if "save_checkpoint" in names:
        return "checkpoint"
    if "load_checkpoint" in names:
        return "resume"
    if names & {"_obtain", "train_classifier"}:  # it trains on a copy of the dataset's images, not the samples
        return "classifier"
    if names & {"load_checked", "data_scale", "read_images", "matched_subset"} or any(
        isinstance(f.f_locals.get("self"), Dataset) for f in frames
    ):
        return "dataset"
    if any(isinstance(frame.f_locals.get("self"), torch.optim.Optimizer) for frame in frames):
        return "optimizer"
    if names & {"load_array", "load_torch_file"}:
        return "file"
    if names & {"evaluate", "score", "evaluate_samples"}:
        return "scoring"
    return None
