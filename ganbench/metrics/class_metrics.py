"""Metrics of class-conditional runs: do generated samples show the class they were asked for?

- ``class-accuracy``: the fraction of generated samples that ganbench's classifier of the
  dataset assigns to the class the generator was asked for (the "classification
  accuracy" of conditional GANs, e.g. Odena et al. 2017's AC-GAN). Real images with their
  true labels score the classifier's accuracy; shuffled labels score ~1/classes.
- ``intra-fid``: the mean over classes of the FID between the generated and the real
  samples of each class (Miyato & Koyama 2018), here in the classifier's feature space.
  A generator that draws good images of the wrong class has a fine FID and a poor
  intra-FID. The per-class values are recorded next to the mean
  (``intra_fid_classifier_per_class``: a list by class, null where a class has fewer than
  two samples on either side).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ganbench.arrays import FeatureError, check_widths, feature_matrix
from ganbench.dataset import Dataset
from ganbench.gaussian import frechet_distance, gaussian_statistics, singular_note
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric


def class_accuracy(logits: Any, labels: Any) -> float:
    """Fraction of rows whose arg-max logit is their label."""
    x = feature_matrix(logits, "classifier logits", min_rows=1, dtype=None)
    y = _labels(labels, len(x), "generated samples")
    if int(y.max()) >= x.shape[1]:
        raise FeatureError(f"labels go up to {int(y.max())}, but the classifier knows {x.shape[1]} classes")
    return float((x.argmax(1) == y).double().mean())


def intra_fid(
    real: Any, real_labels: Any, fake: Any, fake_labels: Any, n_classes: int | None = None
) -> tuple[float, list[float | None], str | None]:
    """(mean over classes of the per-class FID, the FID of each class or None, a note if some are unreliable).

    Classes are 0..n_classes-1 (default: up to the largest label); a class with fewer than
    two samples on either side has no FID and is left out of the mean.
    """
    r = feature_matrix(real, "real features", dtype=None)
    f = feature_matrix(fake, "generated features", dtype=None)
    check_widths(r.shape[1], f.shape[1])
    rl = _labels(real_labels, len(r), "real samples")
    fl = _labels(fake_labels, len(f), "generated samples")
    k = n_classes or int(max(rl.max(), fl.max())) + 1
    per_class: list[float | None] = []
    sizes = []
    for c in range(k):
        rc, fc = r[rl == c], f[fl == c]
        if min(len(rc), len(fc)) < 2:
            per_class.append(None)
            continue
        per_class.append(frechet_distance(*gaussian_statistics(rc), *gaussian_statistics(fc)))
        sizes.append(min(len(rc), len(fc)))
    values = [v for v in per_class if v is not None]
    if not values:
        raise FeatureError("intra-FID needs two or more real and generated samples of at least one class")
    notes = [singular_note(min(sizes), min(sizes), r.shape[1])]
    missing = [str(c) for c, v in enumerate(per_class) if v is None]
    if missing:
        notes.append(f"classes {', '.join(missing)} have fewer than two samples on a side and are left out")
    return float(np.mean(values)), per_class, "; ".join(n for n in notes if n) or None


def _labels(labels: Any, n: int, what: str) -> torch.Tensor:
    if labels is None:
        raise FeatureError(f"class metrics need the labels of the {what}; score a labelled dataset")
    y = labels.detach().cpu() if isinstance(labels, torch.Tensor) else torch.from_numpy(np.asarray(labels))
    if y.dim() != 1 or len(y) != n or y.is_floating_point() or (len(y) and int(y.min()) < 0):
        raise FeatureError(f"the labels of the {what} must be {n} class numbers >= 0, not {y.dtype} {tuple(y.shape)}")
    return y.long()


def _single_classifier(dataset: Dataset) -> bool:
    """Labelled images that one classifier pass classifies (not stacked ones, whose labels are tuples)."""
    return not _why_no_classes(dataset)


def _why_no_classes(dataset: Dataset) -> str:
    """Why ``dataset`` is not one a classifier pass labels ("" when it is): the one test of that, so the
    refusal's reason and ``applies_to`` cannot disagree."""
    if getattr(dataset, "stacked_channels", 0):
        return "its labels are tuples of digits, one per channel, not one class a classifier gives"
    if dataset.n_classes <= 0:
        return (
            "it needs class labels, which the dataset has none of (a folder of images gets them from class subfolders)"
        )
    return ""


class ClassAccuracy(Metric):
    def applies_to(self, dataset: Dataset) -> bool:
        return _single_classifier(dataset)

    def why_not(self, dataset: Dataset) -> str:
        return _why_no_classes(dataset)

    def compute(self, ctx: EvalContext, space: str | None = None) -> dict[str, Any]:
        return {"class_accuracy": class_accuracy(ctx.features("classifier-logits", "fake"), ctx.fake_labels)}


class IntraFID(Metric):
    def applies_to(self, dataset: Dataset) -> bool:
        return _single_classifier(dataset) and super().applies_to(dataset)

    def why_not(self, dataset: Dataset) -> str:
        return _why_no_classes(dataset) or super().why_not(dataset)

    def samples_needed(self, dataset: Dataset) -> int:
        """Two of every class: evaluation asks for the classes in turn, and a class with fewer has no FID."""
        return max(self.min_samples, 2 * dataset.n_classes)

    def compute(self, ctx: EvalContext, space: str | None = "classifier") -> dict[str, Any]:
        space = space or "classifier"
        real, fake = ctx.features(space, "real"), ctx.features(space, "fake")
        mean, per_class, note = intra_fid(real, ctx.real_labels, fake, ctx.fake_labels, ctx.dataset.n_classes)
        out: dict[str, Any] = {f"intra_fid_{space}": mean, f"intra_fid_{space}_per_class": per_class}
        return {**out, **({f"intra_fid_{space}_note": note} if note else {})}


CLASS_ACCURACY = ClassAccuracy(
    "class-accuracy",
    outputs={"class_accuracy": "higher"},
    ranges={"class_accuracy": (0.0, 1.0)},
    description="accuracy of ganbench's classifier on generated samples against the classes they were asked for",
    conditional=True,
    uses=("classifier-logits",),
)
INTRA_FID = IntraFID(
    "intra-fid",
    outputs={"intra_fid_{space}": "lower"},
    ranges={"intra_fid_{space}": (0.0, math.inf)},
    description="mean over classes of the FID between generated and real samples of the class (Miyato & Koyama 2018)",
    spaces=("classifier",),
    conditional=True,
)


@hookimpl
def register_metrics(register):
    register(CLASS_ACCURACY)
    register(INTRA_FID)
