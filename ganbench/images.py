"""Images: conversions between the forms they take, and the base class of image datasets.

Images come in as uint8 or float in [0, 1], NCHW or NHWC, one or three channels; every
path into a feature extractor goes through ``as_unit_nchw`` or ``as_uint8_nchw``, so a
wrong range or shape is one clear error before any network runs. Inside ganbench an
image dataset keeps uint8 (N, C, H, W) items on the training device, feeds the networks
floats in [-1, 1], and evaluates uint8 images (generator output rounded as a PNG would
be), so scores of a run equal scores of its samples saved to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganbench.arrays import FeatureError, real_tensor
from ganbench.atomic import write_atomic
from ganbench.dataset import Dataset

RANGE_TOLERANCE = 1e-6


def channels_first(images: Any) -> torch.Tensor:
    """Images (NCHW or NHWC, tensor or array) as an (N, C, H, W) tensor on the CPU, C 1 or 3; FeatureError
    for other shapes, and for shapes both layouts read (a side of 1 or 3 pixels: which is the channel?)."""
    t = real_tensor(images, "images", FeatureError)
    if t.dim() != 4:
        raise FeatureError(f"images must be 4-D (N, C, H, W) or (N, H, W, C), not of shape {tuple(t.shape)}")
    first, last = t.shape[1] in (1, 3), t.shape[-1] in (1, 3)
    if first and last:
        raise FeatureError(
            f"images of shape {tuple(t.shape)} read as (N, C, H, W) and (N, H, W, C) alike; ganbench takes "
            "images of more than 3 pixels a side"
        )
    if not (first or last):
        raise FeatureError(f"images need 1 or 3 channels; got shape {tuple(t.shape)}")
    return t.permute(0, 3, 1, 2) if last else t


def _digits(value: float, allowed: Callable[[float], bool]) -> str:
    """``value`` in 3 significant digits, or as many as show that it is not ``allowed`` (1.0001 read as "1")."""
    for digits in (3, 6, 9):
        text = f"{value:.{digits}g}"
        if allowed(value) or not allowed(float(text)):
            return text
    return repr(value)


def as_unit_nchw(images: Any) -> torch.Tensor:
    """Images as float32 (N, 3, H, W) in [0, 1]; grayscale is repeated to three channels."""
    t = channels_first(images)
    if t.dtype == torch.uint8:
        t = t.float() / 255
    elif t.is_floating_point():
        if not torch.isfinite(t).all():
            raise FeatureError("images hold NaN or inf")
        lo, hi = float(t.min()), float(t.max())  # in their own precision: 1e300 is out of range, not inf
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            low = _digits(lo, lambda v: v >= -RANGE_TOLERANCE)
            high = _digits(hi, lambda v: v <= 1 + RANGE_TOLERANCE)
            raise FeatureError(
                f"float images must lie in [0, 1], these span [{low}, {high}]; rescale them or pass uint8"
            )
        t = t.float().clamp(0, 1)
    else:
        raise FeatureError(f"images must be uint8 or float, not {str(t.dtype).removeprefix('torch.')}")
    return t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t


def as_uint8_nchw(images: Any, channels: int | None = None) -> torch.Tensor:
    """Images as uint8 (N, C, H, W): floats in [0, 1] are rounded to 0..255.

    ``channels`` is the dataset's: grey images saved as RGB (three equal channels) become
    one channel; anything else that differs is a FeatureError.
    """
    t = channels_first(images)
    if t.dtype != torch.uint8:
        grey = t.shape[1] == 1
        t = as_unit_nchw(t).mul(255).round_().to(torch.uint8)  # checks the range; repeats grey to 3 channels
        t = t[:, :1] if grey else t
    if channels == 1 and t.shape[1] == 3 and bool((t[:, :1] == t[:, 1:]).all()):
        t = t[:, :1]
    if channels is not None and t.shape[1] != channels:
        raise FeatureError(f"images have {t.shape[1]} channel(s), the dataset's have {channels}")
    return t.contiguous()


def to_unit_range(items: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1], on their device (what image networks take and make)."""
    return items.float().div_(127.5).sub_(1.0)


def to_uint8(output: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> uint8 images, rounded as saving a PNG would round them."""
    return output.float().clamp(-1, 1).add_(1).mul_(127.5).round_().to(torch.uint8)


IMAGE_METRICS = ("fid", "is", "kid", "prdc")
CONDITIONAL_METRICS = ("class-accuracy", "intra-fid")


@dataclass(frozen=True)
class ImageDataset(Dataset):
    """Base class of image datasets: uint8 (N, C, H, W) items; subclasses implement ``shape`` and ``load``."""

    default_network: str = field(default="dcgan", metadata={"option": False})
    metrics: tuple[str, ...] = field(default=IMAGE_METRICS, metadata={"option": False})
    conditional_metrics: tuple[str, ...] = field(default=CONDITIONAL_METRICS, metadata={"option": False})
    feature_spaces: tuple[str, ...] = field(default=("inception", "classifier"), metadata={"option": False})
    eval_samples: int = field(default=10_000, metadata={"option": False})

    def to_model(self, items: torch.Tensor) -> torch.Tensor:
        return to_unit_range(items)

    def from_model(self, output: torch.Tensor) -> torch.Tensor:
        return to_uint8(output)

    def reference(self) -> torch.Tensor:
        return self.load().cpu()

    def render(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        path: Path,
        scores: dict[str, Any],
        fake_labels: torch.Tensor | None = None,
    ) -> None:
        from ganbench.tables import format_number

        real_labels = self.reference_labels() if fake_labels is not None else None
        numbers = [(k, v) for k, v in scores.items() if (isinstance(v, int | float) or v is None) and "std" not in k]
        key = ", ".join(f"{k} {format_number(v)}" for k, v in numbers[:4])
        title = f"{self.name}: {key}" if key else self.name
        save_grid(fake, path, fake_labels, self.n_classes, real=real, real_labels=real_labels, title=title)


REAL_SHOWN_SEED = 0
"""Which real images samples.png shows: a seeded draw, the same for every run of a dataset."""


def grid(images: torch.Tensor, labels: torch.Tensor | None = None, n_classes: int = 0) -> torch.Tensor:
    """uint8 images as one float (3, H, W) grid in [0, 1]: 8 x 8, or a row of up to 10 per class
    when ``labels`` are given; small images (8 x 8 digits) enlarged to be visible."""
    from torchvision.utils import make_grid

    rows = [images[labels.cpu() == c][:10] for c in range(n_classes)] if labels is not None else []
    width = min((len(r) for r in rows), default=0)
    if width:  # else a class without a sample (fewer samples than classes): no rows by class, the plain grid
        chosen, per_row = torch.cat([r[:width] for r in rows]), width
    else:
        chosen, per_row = images[:64], 8
    tiles = chosen.float().div(255)
    scale = max(1, 32 // tiles.shape[-1])
    if scale > 1:
        tiles = torch.nn.functional.interpolate(tiles, scale_factor=scale, mode="nearest")
    return make_grid(tiles, nrow=per_row, padding=2, pad_value=1.0)


def save_grid(
    images: torch.Tensor,
    path: Path,
    labels: torch.Tensor | None = None,
    n_classes: int = 0,
    real: torch.Tensor | None = None,
    real_labels: torch.Tensor | None = None,
    title: str | None = None,
) -> None:
    """Generated uint8 images as a PNG grid (one row per class when ``labels`` are given); with ``real``,
    a grid of real images (a seeded draw; per class when ``real_labels`` are given) beside them,
    each captioned, so a reader judges the samples against the data; ``title`` (the run's key
    metrics) above them."""
    from PIL import Image, ImageDraw

    panels = [("generated", grid(images, labels, n_classes))]
    if real is not None and len(real):
        order = torch.randperm(len(real), generator=torch.Generator().manual_seed(REAL_SHOWN_SEED))
        if real_labels is None:
            panels.insert(0, ("real", grid(real[order[:64]])))
        else:
            shown = torch.cat([order[real_labels[order] == c][:10] for c in range(n_classes)])
            panels.insert(0, ("real", grid(real[shown], real_labels[shown], n_classes)))
    line, gap = 14, 12
    top = line if title else 0
    caption = line if len(panels) > 1 else 0
    pictures = [Image.fromarray(t.mul(255).round().byte().permute(1, 2, 0).numpy()) for _, t in panels]
    width = sum(p.width for p in pictures) + gap * (len(pictures) - 1)
    if title:
        width = max(width, 6 * len(title) + 4)  # PIL's default font: about 6 pixels a character
    canvas = Image.new("RGB", (width, top + caption + max(p.height for p in pictures)), "white")
    draw, x = ImageDraw.Draw(canvas), 0
    if title:
        draw.text((2, 1), title, fill="black")
    for (name, _), picture in zip(panels, pictures, strict=True):
        if caption:
            draw.text((x + 2, top + 1), name, fill="black")
        canvas.paste(picture, (x, top + caption))
        x += picture.width + gap
    write_atomic(Path(path), lambda f: canvas.save(f, format="PNG"))  # never half a PNG on a full disk
