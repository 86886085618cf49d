"""Image files: decoding them safely, and image sets from files for ``ganbench eval``.

``folder_layout`` is the one place a folder's image files are found, and ``decode_images`` the one place
they are read, for training on a user's folder and
for scoring samples saved elsewhere: a header of more than ``MAX_PIXELS`` is refused before
any pixel is decoded (a decompression bomb), 16-bit and float images are scaled to 0..255 by
their format's full scale (``FULL_SCALE``) rather than clipped, and a file that cannot be read
is named in one line.

``load_image_set`` reads samples made elsewhere (an .npz/.npy/.pt array or a folder: class subfolders allowed,
hidden files skipped) for ``ganbench eval``; real images named by path are the dataset ``run --dataset PATH``
trains on. Images are read as uint8 (N, C, H, W), as PNG files hold them; float arrays in [0, 1] are rounded to that.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from ganbench.arrays import load_array
from ganbench.errors import GanbenchError, SamplesError, counted, one_line, refuse_link_loop, shown_path
from ganbench.images import as_uint8_nchw
from ganbench.writable import kind_of

MAX_ENTRIES_WITHOUT_IMAGES = 100_000
"""Entries a class folder's walk looks at without meeting an image before it stops: not a folder of images."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")  # ImageFolder's
UNREAD_IMAGE_SUFFIXES = (".gif", ".jfif", ".heic", ".heif", ".avif", ".jp2", ".jxl", ".ico", ".tga", ".pcx", ".psd")
"""Images ImageFolder leaves out (as ganbench does, for the same data): said as skipped, not skipped unsaid."""
ARRAY_KEYS = ("images", "samples", "x", "arr_0")
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
MAX_PIXELS = 2**26
"""An image of more pixels than this (8192 x 8192) is refused from its header: no GAN benchmark image is
that large, and a decompression bomb's header says so before it fills the memory."""


class ImageFileError(GanbenchError):
    """An image file that cannot be read: damaged, empty, too large, or of a format whose values do not fit."""


def read_image(path: Path) -> np.ndarray:
    """One image file as uint8, (H, W) if grey else (H, W, 3); ImageFileError naming the file if it cannot be."""
    return _read(path)[0]


ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _read(path: Path) -> tuple[np.ndarray, bool, int]:
    """``read_image``'s pixels, whether the file had transparency (dropped) and how many frames it holds (the
    first read), as torchvision's loader reads them: said of a folder, since two see-through images that look
    alike may train as red and blue."""
    from PIL import Image

    too_large = ImageFileError(
        f"image {shown_path(path)} has more than {MAX_PIXELS:,} pixels: refused before decoding (a decompression "
        "bomb, or not an image to train a GAN on)"
    )
    try:
        with warnings.catch_warnings(record=True) as caught:  # said once below, or folded into the error
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked here instead
            with Image.open(path) as image:
                if image.size[0] * image.size[1] > MAX_PIXELS:
                    raise too_large
                deep = any("16" in str(tile[3]) for tile in image.tile if len(tile) > 3)  # a 16-bit PNG: I;16B
                image.load()
                alpha = _see_through(image, deep)
                frames = getattr(image, "n_frames", 1)
                pixels = _as_uint8(image, path)
        said = list(dict.fromkeys(one_line(w.message) for w in caught if not _is_transparency_note(w.message)))
        if said:  # a damaged TIFF's tags: one line per file, not Pillow's one per tag
            warnings.warn(f"image {shown_path(path)} may be damaged: {said[0]} (read all the same)", stacklevel=3)
        return pixels, alpha, frames if isinstance(frames, int) else 1
    except ImageFileError:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, at twice its warning size: checked in open()
        raise too_large from None
    except PermissionError:  # the file may be fine: removing it would drop an image from the data unsaid
        raise ImageFileError(
            f"cannot read image {shown_path(path)} (Permission denied); make it readable (chmod a+r, or run as its "
            "owner)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        reason = (getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__).replace(
            f" {str(path)!r}", ""
        )  # the file named once, as typed: Pillow's "cannot identify image file '/abs/path'" named it again
        if not reason.startswith("Permission") and _empty(path):
            reason = "an empty file, 0 bytes"
        raise ImageFileError(f"cannot read image {shown_path(path)} ({reason}); remove or replace it") from None


def _see_through(image: Any, deep: bool = False) -> bool:
    """Whether a loaded image has a pixel its alpha, palette or colour key makes less than opaque: "read without
    transparency" of images saved as RGBA but opaque said a loss where none was (pass 77)."""
    if image.mode not in ALPHA_MODES and "transparency" not in image.info:
        return False
    if deep and "transparency" in image.info:  # a 16-bit colour key, which Pillow compares with 8-bit pixels
        return True  # (it hid pixels unsaid, pass 78; keys under 256 too, pass 79): said, as before pass 77
    try:
        with_alpha = image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
        return with_alpha.getchannel("A").getextrema()[0] < 255
    except (OSError, ValueError):  # a mode Pillow cannot convert: said as before
        return True


def _is_transparency_note(message: Warning | str) -> bool:
    """Pillow's advice, as it converts a palette image with per-entry transparency, to use RGBA: no damage (the
    folder's transparency note says what was read)."""
    return str(message).startswith("Palette images with Transparency expressed in bytes")


FULL_SCALE = {"I": 65535.0, "F": 1.0}
"""What the brightest pixel is, per Pillow mode, for images deeper than 8 bits (16-bit modes "I;16...": 65535):
a format's scale, never one image's own maximum, so an image and a darker one of the same folder stay apart.
Pillow reads 16-bit PNGs as "I" too; float images ("F", 32-bit TIFF) hold 0..1, as float arrays do."""


def _as_uint8(image, path: Path) -> np.ndarray:
    """8-bit pixels of a decoded image: deeper ones scaled by their format's full scale and rounded (a plain
    conversion would clip them to 255); ImageFileError for values outside that scale, NaN or inf."""
    bits = getattr(image, "tag_v2", {}).get(258)  # a TIFF's BitsPerSample: "I" holds 32-bit integers there
    if image.mode == "I" and bits is not None and max(np.atleast_1d(bits)) > 16:
        raise ImageFileError(
            f"image {shown_path(path)} holds {max(np.atleast_1d(bits))}-bit integer pixels, which have no agreed "
            "brightest value (16-bit ones run to 65535); save it as 8 or 16 bits"
        )
    if image.mode.startswith("I;16") or image.mode in FULL_SCALE:
        top = FULL_SCALE.get(image.mode, 65535.0)
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ImageFileError(f"image {shown_path(path)} holds NaN or inf; save finite values")
        if values.min(initial=0) < 0 or values.max(initial=0) > top:
            raise ImageFileError(
                f"image {shown_path(path)} ({image.mode} mode) holds values from {values.min():.6g} to "
                f"{values.max():.6g}; its format's pixels run from 0 to {top:g}: rescale it, or save it as 8 bits"
            )
        return np.round(values * (255.0 / top)).astype(np.uint8)
    return np.asarray(image.convert("L" if image.mode in GREY_MODES else "RGB"))


def decode_images(files: list[Path], folder: Path, notes: list[str] | None = None) -> torch.Tensor:
    """uint8 (N, C, H, W): one channel if every image is grey, else RGB (grey images repeated); ImageFileError
    naming the first file that cannot be read or whose size differs from the first's. What was read otherwise
    than the file shows (transparency dropped, frames past the first) is appended to ``notes``, in words."""
    arrays: list[np.ndarray] = []
    see_through: list[Path] = []
    animated: list[tuple[Path, int]] = []
    for f in files:
        pixels, alpha, frames = _read(f)
        arrays.append(pixels)
        see_through += [f] * alpha
        animated += [(f, frames)] * (frames > 1)
        if arrays[-1].shape[:2] != arrays[0].shape[:2]:
            raise ImageFileError(
                f"images in {shown_path(folder)} differ in size: {one_line(files[0].relative_to(folder))} is "
                f"{_size(arrays[0])}, {one_line(f.relative_to(folder))} is {_size(arrays[-1])}; resize them to one size"
            )
    grey = all(a.ndim == 2 for a in arrays)
    images = np.empty((len(arrays), 1 if grey else 3, *arrays[0].shape[:2]), dtype=np.uint8)
    for i, a in enumerate(arrays):
        images[i] = a if a.ndim == 2 else a.transpose(2, 0, 1)  # a grey image broadcasts to three channels
    if notes is not None:
        notes += _content_notes(folder, see_through, animated)
    return torch.from_numpy(images)


def _content_notes(folder: Path, see_through: list[Path], animated: list[tuple[Path, int]]) -> list[str]:
    notes = []
    if see_through:
        n, path = len(see_through), _relative(see_through[0], folder)
        notes.append(
            f"{shown_path(folder)}: {counted(n, 'image')} with transparency (the first {path}) "
            f"read without it, as torchvision's loader reads them; flatten them onto a background if it matters"
        )
    if animated:
        n, path, frames = len(animated), _relative(animated[0][0], folder), animated[0][1]
        notes.append(
            f"{shown_path(folder)}: {counted(n, 'file')} of several frames (the first {path}, {frames}): "
            "only the first frame is read, as torchvision's loader reads it; save each frame as an image of its own "
            "if they are data"
        )
    return notes


def _size(array: np.ndarray) -> str:
    """An image's size as every message gives sizes: width x height (an HWC array's second and first)."""
    return f"{array.shape[1]}x{array.shape[0]}"


class Layout(NamedTuple):
    """A folder's image files, their labels (None: flat), and notes to warn of once: a file there under two names,
    entries named as images that are no files (skipped)."""

    files: list[Path]
    labels: torch.Tensor | None
    notes: tuple[str, ...]


def folder_layout(folder: Path, labelled: bool = True) -> Layout:
    """Image files in ``folder`` and their labels: class subfolders (sorted names -> 0, 1, ...) or flat (None).
    ``labelled=False``: the labels will not be used (samples to score), which only the note needs to know."""
    ids: dict[Path, tuple[int, int]] = {}  # image file -> its inode: a file linked in twice is found twice
    odd: list[Path] = []  # entries named as images that are no regular files: skipped, and said
    try:
        names = sorted(folder.iterdir())
    except OSError as exc:
        raise ImageFileError(
            f"cannot read the folder {shown_path(folder)} ({exc.strerror or exc}); make it readable"
        ) from None
    entries = [(p, _kind(p, ids, odd)) for p in names]
    top = [p for p, kind in entries if kind == "image"]
    subfolders = [p for p, kind in entries if kind == "folder"]
    _check_class_links(folder, subfolders)
    # folder -> (its class folder, the path it was first met by); a link back to the top is skipped, as ImageFolder
    seen = {_inode(d): (d, d) for d in (folder, *subfolders)}
    per_class: dict[Path, list[Path]] = {}
    for d in subfolders:
        per_class[d] = _images_below(d, seen, folder, ids, odd)
        if d == subfolders[0] and not per_class[d] and not top:  # stop now: `-d /` would walk the whole disk
            raise ImageFileError(
                f"folder {shown_path(folder)} holds no images ({', '.join(IMAGE_SUFFIXES)}) beside its subfolders, "
                f"nor below its first, {one_line(d.name)}{_hidden(d)}; name a folder of images: images alone, or class "
                "subfolders each holding some"
            )
    if not any(per_class.values()):
        if not top:
            raise ImageFileError(
                f"folder {shown_path(folder)} holds no images ({', '.join(IMAGE_SUFFIXES)}){_hidden(folder)}"
            )
        return Layout(top, None, _notes(_linked_files(folder, top, ids, classes=False), *_skipped(folder, odd)))
    if top:
        raise ImageFileError(
            f"folder {shown_path(folder)} holds images ({top[0].name}, ...) next to class subfolders; move them into a "
            "class subfolder, or put all images directly in the folder for unlabelled data"
        )
    empty = [d for d, files in per_class.items() if not files]
    if empty:
        raise ImageFileError(
            f"class folder {shown_path(empty[0])} holds no images{_hidden(empty[0])}; add some or remove it (its "
            "name is a class)"
        )
    files = [f for d in subfolders for f in per_class[d]]
    labels = [c for c, d in enumerate(subfolders) for _ in per_class[d]]
    notes = _notes(_linked_files(folder, files, ids, classes=labelled), *_skipped(folder, odd))
    return Layout(files, torch.tensor(labels, dtype=torch.int64), notes)


def _notes(*notes: str | None) -> tuple[str, ...]:
    return tuple(note for note in notes if note)


def _skipped(folder: Path, odd: list[Path]) -> tuple[str | None, str | None]:
    """Warnings' words for entries named as images that are no regular files (a link to nothing, a FIFO, a
    device), and for images of a format ImageFolder does not read (.gif): skipped, as ImageFolder skips them, but
    an image a user meant to train on may be missing."""
    unread = [p for p in odd if p.suffix.lower() in UNREAD_IMAGE_SUFFIXES]
    return _not_files(folder, [p for p in odd if p not in unread]), _unread_formats(folder, unread)


def _relative(path: Path, folder: Path) -> str:
    return one_line(path.relative_to(folder) if path.is_relative_to(folder) else path)


def _unread_formats(folder: Path, unread: list[Path]) -> str | None:
    if not unread:
        return None
    formats, n = sorted({p.suffix.lower() for p in unread}), len(unread)
    return (
        f"{shown_path(folder)}: {counted(n, 'image')} of a format torchvision's ImageFolder does not read "
        f"({', '.join(formats)}), skipped as it skips them (the first {_relative(unread[0], folder)}); convert them "
        "to .png to train on them"
    )


def _not_files(folder: Path, odd: list[Path]) -> str | None:
    if not odd:
        return None
    count = (
        f"{len(odd)} entries named as images are not image files"
        if len(odd) > 1
        else "1 entry named as an image is not an image file"
    )
    return (
        f"{shown_path(folder)}: {count}, skipped (the first {_relative(odd[0], folder)}, {kind_of(odd[0])}); "
        "restore or remove them"
    )


def _hidden(folder: Path) -> str:
    """Words for a message that ``folder`` holds nothing: that what it holds is hidden, if so (skipped, as
    ImageFolder skips it, which a user looking at the folder's files may not know)."""
    try:
        hidden = sorted(name for name in os.listdir(folder) if name.startswith("."))
    except OSError:
        return ""
    if not hidden:
        return ""
    return f" but hidden entries ({one_line(hidden[0])}, ...), skipped: to use them, rename them without the '.'"


def _linked_files(folder: Path, files: list[Path], ids: dict[Path, tuple[int, int]], classes: bool) -> str | None:
    """A warning's words when image files are one file under two names (a link, hard or symbolic): each name
    counts, as in ImageFolder, under the label of its class folder, so one image in two classes counts under both.
    Not refused as a linked class folder is: the labels do not hang on the walk's order, and a folder de-duplicated
    with hard links (rdfind, fdupes -L) is a user's own data."""
    first: dict[tuple[int, int], Path] = {}
    again = [(first[ids[f]], f) for f in files if first.setdefault(ids[f], f) != f]
    if not again:
        return None
    a, b = (one_line(f.relative_to(folder)) for f in again[0])
    across = " under two labels" if classes and Path(a).parts[0] != Path(b).parts[0] else ""
    more = f" (and {len(again) - 1:,} more like it)" if len(again) > 1 else ""
    return (
        f"{a} and {b} in {shown_path(folder)} are one image file (a link), counted twice{across}{more}; remove the "
        "links to count each image once"
    )


def warn_once(message: str) -> None:
    """A warning said once per process however often its folder is read (Python's own once-per-place is reset by
    every catch_warnings)."""
    if message not in _SAID:
        _SAID.add(message)
        warnings.warn(message, stacklevel=2)


_SAID: set[str] = set()


def _check_class_links(folder: Path, subfolders: list[Path]) -> None:
    """ImageFileError for a subfolder that is a link to the folder or one above it, or a second name of another
    class folder (its images would count under two labels)."""
    classes: dict[tuple[int, int], Path] = {}
    for d in subfolders:
        _check_not_above(d, folder)
        first = classes.setdefault(_inode(d), d)
        if first != d:
            raise ImageFileError(
                f"class folders {one_line(first.name)} and {one_line(d.name)} in {shown_path(folder)} are one folder "
                "(a link); remove the link, or its images would count as two classes"
            )


def _check_not_above(path: Path, folder: Path, itself: bool = True) -> None:
    """ImageFileError if ``path`` (a link) leads to a folder above ``folder`` (its walk would leave the folder for
    the images around it) or, with ``itself``, to the folder (a class subfolder of every image)."""
    top = folder.resolve()
    if (itself and path.resolve() == top) or path.resolve() in top.parents:
        raise ImageFileError(
            f"{shown_path(path)} is a link to the folder {shown_path(folder)} itself or one above it, "
            "not a folder of its images; remove the link"
        )


def _images_below(
    folder: Path,
    seen: dict[tuple[int, int], tuple[Path, Path]],
    top: Path,
    ids: dict[Path, tuple[int, int]],
    odd: list[Path],
) -> list[Path]:
    """Image files anywhere below the class folder ``folder``, in ImageFolder's order (sorted walk); hidden ones
    skipped. Links are followed, as ImageFolder does (to images kept elsewhere too), but never into a folder in
    ``seen`` again (a loop would repeat images), never into one another class reached (one line: its images
    would take whichever label the walk met first), and never above ``top`` (one line: the walk would leave it).
    A loop, not recursion: a folder nested a thousand deep is walked like any other."""
    found, stack, looked = [], [folder], 0
    while stack:
        here = stack.pop()
        try:
            names = sorted(os.listdir(here))
        except OSError as exc:  # os.walk skips it: its images would be left out without a word
            raise ImageFileError(
                f"cannot read the folder {shown_path(here)} ({exc.strerror or exc}); make it readable, or move it out "
                f"of {shown_path(top)}"
            ) from None
        looked += len(names)
        below = []
        for name in names:
            path = here / name
            kind = _kind(path, ids, odd)
            if kind == "image":
                found.append(path)
            elif kind == "folder":
                if path.is_symlink():  # only a link leads above: a real folder's parents are its walk's own
                    _check_not_above(path, top, itself=False)  # back to the top: in seen, skipped
                owner, first = seen.setdefault(_inode(path), (folder, path))
                if owner not in (folder, top):
                    raise ImageFileError(
                        f"{shown_path(first)} and {shown_path(path)} are one folder (a link), under the class folders "
                        f"{one_line(owner.name)} and {one_line(folder.name)}; remove the link, or its images would "
                        "take either class's label"
                    )
                if first == path:
                    below.append(path)
        stack.extend(reversed(below))
        if not found and looked > MAX_ENTRIES_WITHOUT_IMAGES:  # a home folder, say: stop before walking it all
            raise ImageFileError(
                f"class folder {shown_path(folder)} holds no image among the first {MAX_ENTRIES_WITHOUT_IMAGES:,} "
                "entries below it; name a folder of images (class subfolders of them, or images alone)"
            )
    return sorted(found, key=lambda p: (str(p.parent), p.name))


def _kind(path: Path, ids: dict[Path, tuple[int, int]], odd: list[Path]) -> str | None:
    """ "image", "folder" (not hidden) or None (anything else, a hidden name, a dangling link); ImageFileError,
    naming it, for an entry that cannot be looked at (a link into a folder this user may not enter). An image's
    inode goes into ``ids``, from the one stat this takes; an entry named as an image that is no file into ``odd``."""
    if path.name.startswith("."):
        return None
    suffix = path.suffix.lower()
    unread = suffix in UNREAD_IMAGE_SUFFIXES
    named_as_image = suffix in IMAGE_SUFFIXES or unread
    try:
        st = path.stat()
        mode = st.st_mode
    except FileNotFoundError:  # a dangling link
        odd += [path] * named_as_image
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            odd += [path] * named_as_image
            return None
        raise ImageFileError(
            f"cannot look at {shown_path(path)} ({exc.strerror or exc}); make it readable, or remove it from the folder"
        ) from None
    if stat.S_ISDIR(mode):
        return "folder"
    if not (stat.S_ISREG(mode) and named_as_image) or unread:
        odd += [path] * named_as_image  # a FIFO, a device or a socket; a GIF, which ImageFolder leaves out too
        return None
    ids[path] = (st.st_dev, st.st_ino)
    return "image"


def _inode(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def load_image_set(path: str | Path) -> torch.Tensor:
    """Images in ``path`` as uint8 (N, C, H, W): an .npz/.npy array or a folder of images."""
    path = Path(path)
    if path.is_dir():
        layout = folder_layout(path, labelled=False)  # what `run --dataset` reads of the folder, less labels
        notes = list(layout.notes)
        images = decode_images(layout.files, path, notes)
        for note in notes:
            warn_once(note)
        return images
    if not path.exists():
        refuse_link_loop(path, "samples ")
        raise SamplesError(
            f"samples {shown_path(path)} do not exist; pass an .npy, .npz or .pt file or a folder of images"
        )
    if path.suffix.lower() in IMAGE_SUFFIXES + UNREAD_IMAGE_SUFFIXES and path.is_file():  # not "numpy.save" advice
        raise SamplesError(
            f"{shown_path(path)} is one image; pass the folder of images it is in ({shown_path(path.resolve().parent)}"
            ", say), or an array of them in a .npy, .npz or .pt file"
        )
    array = load_array(path, ARRAY_KEYS, ndim=4, what="image")
    if array.ndim and len(array) == 0:
        raise SamplesError(f"{shown_path(path)} holds no images")
    try:
        return as_uint8_nchw(array)
    except GanbenchError as exc:  # a shape or range: say whose
        raise SamplesError(f"{shown_path(path)}: {exc}") from None


def _empty(path: Path) -> bool:
    """Whether ``path`` is a file of no bytes (Pillow calls it an image it "cannot identify")."""
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return False
