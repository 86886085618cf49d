"""Arrays in: numpy arrays or torch tensors checked once as feature matrices, and arrays
read from .npy/.npz files (and tensors saved with ``torch.save``, read without unpickling code).

Every metric function takes its inputs through ``feature_matrix`` so that a NaN, a
mismatched width or too few rows is one clear error, whichever metric meets it first.
Files are checked before numpy allocates anything: the magic bytes say whether a file is
a .npy or an .npz at all, and each array's header (shape, dtype) must fit the bytes the
file holds, so a header claiming 10^12 rows is an error, not a MemoryError.
"""

from __future__ import annotations

import math
import numbers
import tokenize
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from ganbench.errors import GanbenchError, SamplesError, refuse_link_loop, short_repr, shown_path
from ganbench.torchfiles import TorchFileError, load_torch_file

NPY_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, SyntaxError, tokenize.TokenError,
              RecursionError)  # fmt: skip
"""What numpy raises on a damaged .npy or .npz: its header parser falls back to Python's tokenizer."""


class FeatureError(GanbenchError):
    """Features a metric cannot score: wrong shape, too few rows, NaN or inf."""


TENSOR_DTYPES = (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.uint8,
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
)
"""The tensor dtypes samples may have (numpy's): others (float8, bit types) lack the operations scoring uses."""


def real_tensor(x: Any, what: str = "samples", error: type[GanbenchError] = SamplesError) -> torch.Tensor:
    """``x`` (a tensor, an array, nested lists) as a CPU tensor of real numbers, or ``error`` in one line: text,
    dates, booleans, records and complex numbers are not samples. Big-endian arrays (saved on another machine,
    or by ``astype('>f4')``) are read in this machine's byte order; bfloat16 becomes float32."""
    if isinstance(x, torch.Tensor):
        if x.is_meta:
            raise error(f"{what} must be a tensor with data, not a meta tensor (shapes only)")
        if x.is_nested:
            raise error(f"{what} must be one rectangular tensor, not a nested tensor; pass torch.stack of its parts")
        if x.is_quantized:
            raise error(f"{what} must be real numbers, not a quantized tensor; pass x.dequantize()")
        if x.layout != torch.strided:
            raise error(f"{what} must be a dense tensor, not {str(x.layout).removeprefix('torch.')}; pass x.to_dense()")
        if x.is_complex() or x.dtype == torch.bool:
            raise error(f"{what} must be real numbers, not {str(x.dtype).removeprefix('torch.')}")
        if x.dtype not in TENSOR_DTYPES:
            raise error(f"{what} must be of a common dtype, not {str(x.dtype).removeprefix('torch.')}; pass x.float()")
        t = x.detach().cpu()
        return t.float() if t.dtype == torch.bfloat16 else t
    if isinstance(x, np.ma.MaskedArray):
        hidden = int(np.ma.count_masked(x))
        if hidden:
            raise error(
                f"{what} are a masked array with {hidden} masked value(s), which scores cannot skip; "
                "pass x.filled(...) or only the rows without masked values"
            )
        x = x.data
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise error(f"{what} must be a rectangular array of numbers ({reason})") from None
    if array.dtype.kind == "c":
        raise error(f"{what} are complex ({array.dtype}); pass real numbers")
    if array.dtype.kind not in "iuf":
        raise error(f"{what} must be numbers, not {array.dtype}")
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:
        raise error(f"{what} are {array.dtype} (extended precision), which torch cannot hold; pass x.astype('float64')")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = array.copy()  # a read-only memmap (torch would warn), a flipped view x[::-1] (torch refuses it)
    return torch.from_numpy(array)


def whole_argument(value: Any, name: str, low: int, high: int | None = None) -> int:
    """``value`` of a public math function's argument ``name`` as an int in [low, high], or FeatureError in one line:
    1.5 or "3" were a TypeError from numpy, -1 a seed numpy refused in its words, a negative size a math error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (high and value > high):
        span = f"from {low:,} to {high:,}" if high else f">= {low:,}"
        raise FeatureError(f"{name} must be a whole number {span}, not {short_repr(value)}")
    return int(value)


def feature_matrix(
    x: Any, name: str = "features", min_rows: int = 2, dtype: torch.dtype | None = torch.float64
) -> torch.Tensor:
    """``x`` as a (N, d) CPU tensor of ``dtype`` (None: float32 and float64 kept as given), or FeatureError.

    Finiteness is checked on the column sums (a NaN or inf anywhere makes its column's sum
    one), which reads the data once and copies nothing.
    """
    t = real_tensor(x, name, FeatureError)
    if t.dim() != 2:
        raise FeatureError(f"{name} must be a 2-D array (samples x features), not of shape {tuple(t.shape)}")
    if len(t) < min_rows:
        raise FeatureError(f"{name} need at least {min_rows} samples, got {len(t)}")
    if t.shape[1] < 1:  # no dimension: every distance 0, a perfect score
        raise FeatureError(f"{name} need at least 1 dimension, not shape {tuple(t.shape)}")
    if dtype is not None or t.dtype not in (torch.float32, torch.float64):
        t = t.to(dtype or torch.float64)
    if not torch.isfinite(t.sum(0, dtype=torch.float64)).all():
        raise FeatureError(f"{name} hold NaN or inf; check the generator's output")
    return t


def feature_pair(
    real: Any, fake: Any, min_rows: int = 2, dtype: torch.dtype | None = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and generated features with equal widths (see ``feature_matrix`` for ``dtype``)."""
    r = feature_matrix(real, "real features", min_rows, dtype)
    f = feature_matrix(fake, "generated features", min_rows, dtype)
    check_widths(r.shape[1], f.shape[1])
    return r, f


def check_widths(real_dim: int, fake_dim: int) -> None:
    """FeatureError unless real and generated features have the same number of dimensions."""
    if real_dim != fake_dim:
        raise FeatureError(f"real features have {real_dim} dimensions but generated ones {fake_dim}; use one extractor")


NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
PICKLE_MAGIC = b"\x80"


def load_array(
    path: str | Path, preferred: tuple[str, ...], ndim: int | None = None, what: str = "samples"
) -> np.ndarray:
    """The array in a .npy file, or in an .npz the first ``preferred`` key (else the only one) of ``ndim`` dims."""
    path = Path(path)
    if path.is_dir():
        raise SamplesError(f"{what} path {shown_path(path)} is a folder; pass a .npy, .npz or .pt file")
    if not path.is_file():
        refuse_link_loop(path, f"{what} file ")
        state = "is not a regular file (a FIFO or a device)" if path.exists() else "does not exist"
        raise SamplesError(f"{what} file {shown_path(path)} {state}; pass a .npy, .npz or .pt file")
    fix = "save arrays with numpy.save or numpy.savez, or a tensor with torch.save"
    try:
        with open(path, "rb") as f:
            head = f.read(len(NPY_MAGIC))
        if not head:
            raise SamplesError(f"{what} file {shown_path(path)} is empty (0 bytes); {fix}")
        if head.startswith(NPY_MAGIC):
            with open(path, "rb") as f:
                _check_header(f, path.stat().st_size, str(path))
            return np.load(path, allow_pickle=False)
        if head[:1] == PICKLE_MAGIC:  # torch.save's format before torch 1.6 (a pickle): read as weights_only
            return _load_from_torch(path, preferred, ndim, what)
        if not head.startswith(ZIP_MAGICS):
            raise SamplesError(
                f"{shown_path(path)} is not a .npy, .npz or .pt file (it does not start as those do); {fix}"
            )
        if _is_torch_file(path):
            return _load_from_torch(path, preferred, ndim, what)
        return _load_from_npz(path, preferred, ndim, what)
    except SamplesError:
        raise
    except PermissionError as exc:  # not damage: the file is sound, this user may not read it
        raise SamplesError(f"cannot read {shown_path(path)} ({exc.strerror}); make it readable") from None
    except NPY_ERRORS as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SamplesError(f"cannot read {shown_path(path)} ({reason}); it is truncated or corrupt; {fix}") from None


def _candidates(dims: dict[str, int], preferred: tuple[str, ...], ndim: int | None) -> list[str]:
    """The arrays of a file (name -> number of dimensions) that could be the one asked for: those of the
    ``preferred`` names with ``ndim`` dimensions, else every one with ``ndim`` dimensions (more than one: a guess,
    which the callers refuse). numpy's name of an unnamed array (``arr_0``) is preferred only where it is the one
    array that fits: ``np.savez(f, a, b)`` names both alike."""
    fitting = [k for k, d in dims.items() if ndim is None or d == ndim]
    named = [k for k in preferred if k in fitting and not _unnamed(k)]
    return named or fitting


def _unnamed(key: str) -> bool:
    """Whether ``key`` is the name np.savez gives a positional array (arr_0, arr_1, ...)."""
    return key.startswith("arr_") and key[4:].isdigit()


def _is_torch_file(path: Path) -> bool:
    """torch.save's zip format: every member under one folder, a data.pkl among them (an .npz holds .npy files)."""
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/data.pkl") for name in archive.namelist())


def array_names(path: Path) -> set[str]:
    """The names of the arrays in a file ``load_array`` reads: an .npz's members, the tensors of a dict saved with
    torch.save (under any suffix); none for a file of one array (.npy, one tensor)."""
    if not zipfile.is_zipfile(path):
        return set()
    if _is_torch_file(path):
        obj = load_torch_file(path)
        return {k for k in obj if isinstance(k, str)} if isinstance(obj, dict) else set()  # tensors or not: named
    with zipfile.ZipFile(path) as archive:
        return {n.removesuffix(".npy") for n in archive.namelist()}


def _load_from_torch(path: Path, preferred: tuple[str, ...], ndim: int | None, what: str) -> np.ndarray:
    """A tensor saved with torch.save, or the ``preferred`` one of a dict of tensors; read with weights_only, which
    builds tensors and containers and never runs a pickled object's code."""
    try:
        obj = load_torch_file(path)
    except TorchFileError as exc:
        raise SamplesError(
            f"cannot read torch file {shown_path(path)}: it {exc}; save one tensor with torch.save"
        ) from None
    except OSError as exc:
        raise SamplesError(f"cannot read torch file {shown_path(path)} ({exc.strerror or exc})") from None
    if isinstance(obj, dict):
        named = next((k for k in preferred if k in obj), None)
        if named is not None and not isinstance(obj[named], torch.Tensor):  # labels as a list: dropped unsaid
            raise SamplesError(
                f"{shown_path(path)}: its {named!r} entry is a {type(obj[named]).__name__}, not a tensor; save it as "
                f"one (torch.tensor(...))"
            )
        tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        chosen = _candidates({k: v.dim() for k, v in tensors.items()}, preferred, ndim)
        if len(chosen) != 1:
            names = " or ".join(preferred)
            held = ", ".join(map(str, obj)) or "nothing"
            raise SamplesError(
                f"{shown_path(path)} holds a dict of {held}; save one {what} tensor (or a dict with one {names})"
            )
        obj = tensors[chosen[0]]
    if not isinstance(obj, torch.Tensor):
        raise SamplesError(
            f"{shown_path(path)} holds a {type(obj).__name__}, not a tensor; save one {what} tensor with torch.save"
        )
    return real_tensor(obj, f"the {what} tensor in {shown_path(path)}").numpy()  # "label must be" named no file


def _load_from_npz(path: Path, preferred: tuple[str, ...], ndim: int | None, what: str) -> np.ndarray:
    with zipfile.ZipFile(path) as archive:
        shapes = {}
        for info in archive.infolist():
            if info.filename.endswith(".npy"):
                with archive.open(info) as member:
                    shapes[info.filename[:-4]] = _check_header(
                        member, info.file_size, f"{shown_path(path)}:{info.filename}"
                    )
    chosen = _candidates({k: len(shape) for k, shape in shapes.items()}, preferred, ndim)
    if len(chosen) > 1:  # which one the user meant is a guess: say so rather than score one
        raise SamplesError(
            f"{shown_path(path)} holds several {what} arrays ({', '.join(chosen)}), "
            "and which to read would be a guess; save "
            "only the one to use"
        )
    if not chosen:
        shape = f"a {ndim}-D array" if ndim else "an array"
        names = " or ".join(preferred)
        held = ", ".join(f"{k} of shape {tuple(s)}" for k, s in shapes.items()) or "nothing"
        fix = (
            f"; give them a channel axis ({ndim}-D, e.g. N x 1 x H x W for grey)"
            if ndim == 4 and any(len(s) == 3 for s in shapes.values())
            else ""
        )
        raise SamplesError(f"{shown_path(path)} has no {what} array ({shape} named {names}); it holds {held}{fix}")
    with np.load(path, allow_pickle=False) as loaded:
        return loaded[chosen[0]]


def _check_header(f: IO[bytes], size: int, name: str) -> tuple[int, ...]:
    """The shape in a .npy header, after checking that the dtype is numeric and the data fit in ``size`` bytes."""
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(f)
    if dtype.hasobject:
        raise SamplesError(f"{name} holds Python objects ({dtype}), not numbers; save a numeric array")
    needed = math.prod(shape) * dtype.itemsize
    available = size - f.tell()
    if needed > available:
        raise SamplesError(
            f"{name} is truncated or its header is wrong: shape {shape} of {dtype} needs {needed:,} bytes, "
            f"the file holds {available:,}"
        )
    return shape
