"""Speed of ganbench's classifier feature space: 10,000 colour 32 x 32 images, beside pytorch-fid's Inception.

The classifier is trained first (untimed), then scoring is timed: ``TrainedClassifier.apply``
on ``--n`` uint8 (N, 3, 32, 32) images, everything from the uint8 tensor to the features
and logits on the CPU (conversion to [-1, 1], forward passes in batches of 256 on one
thread, copies back), ``--repeats`` times; the table shows the median (fastest, slowest)
and images/s. Target: 10,000 images in at most 10 s on the CPU.

What it is trained on: CIFAR-10's training split when the registered ``cifar10`` dataset
finds its files (``--data-root`` / GANBENCH_DATA; no download here) and the user's
classifier cache (trained once, then loaded); otherwise a seeded synthetic labelled set
(``--train-n`` images: ten fixed colour patterns, one per class, under noise), in a
temporary cache, and the output says so. The data changes the weights, not the speed:
the network's size depends only on the image shape. The scored images are CIFAR-10's
first ``--n`` training images, or seeded random ones.

The peer: pytorch-fid's FID InceptionV3 (pool3), the usual feature space of FID, on the
first ``--inception-n`` of the same images in batches of 50 (its default) with torch's
default threads, scaled to ``--n`` images; the ratio says how many times faster the
classifier space is. Weights: GANBENCH_INCEPTION_WEIGHTS or pytorch-fid's file in torch's
hub cache, else seeded random values in its architecture (same speed; the output says so).

Run::

    python benchmarks/classifier.py                         # 10,000 images, 3 repeats, 500 through Inception
    python benchmarks/classifier.py --inception-n 100       # quicker peer
    python benchmarks/classifier.py --device cuda
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import torch

import ganbench.features.classifier as clf
from ganbench.features.inception import WEIGHTS_ENV, hub_cache_path, load_weights, resolve_weights
from ganbench.paths import CACHE_ENV
from ganbench.testing import random_fid_weights

TARGET_SECONDS = 10.0
INCEPTION_BATCH = 50


def synthetic_labelled(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uint8 (3, 32, 32) images of ten classes: a fixed smooth colour pattern per class under noise."""
    gen = torch.Generator().manual_seed(seed)
    patterns = torch.nn.functional.interpolate(torch.rand(10, 3, 4, 4, generator=gen), size=32, mode="bilinear")
    labels = torch.randint(10, (n,), generator=gen)
    images = 0.6 * patterns[labels] + 0.4 * torch.rand(n, 3, 32, 32, generator=gen)
    return images.mul(255).round().to(torch.uint8), labels


def cifar10() -> tuple[torch.Tensor, torch.Tensor] | None:
    """CIFAR-10's training split when its files are present, else None."""
    import ganbench

    try:
        dataset = dataclasses.replace(ganbench.get_dataset("cifar10"), split="train")
        return dataset.classifier_data() if dataset.available() else None
    except Exception as exc:  # no such plugin, unreadable files: fall back to synthetic data, and say why
        print(f"cifar10 not usable ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def inception_model(device: str) -> tuple[torch.nn.Module, str]:
    """pytorch-fid's InceptionV3 (pool3 block) with the FID weights if found, else seeded random ones."""
    import pytorch_fid.inception as pf

    if os.environ.get(WEIGHTS_ENV) or hub_cache_path().is_file():
        path = resolve_weights(download=False)
        state, what = load_weights(path), f"FID weights {path}"
    else:
        state, what = random_fid_weights(0), "seeded random values in the FID Inception architecture (no weights found)"
    with mock.patch.object(pf, "load_state_dict_from_url", lambda *args, **kwargs: state):
        model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).to(device).eval()
    return model, what


@torch.no_grad()
def inception_pool3(model: torch.nn.Module, images: torch.Tensor, device: str) -> torch.Tensor:
    """pytorch-fid's features of uint8 images: floats in [0, 1], its resize and scaling inside."""
    out = [
        model(images[i : i + INCEPTION_BATCH].to(device).float().div(255))[0].flatten(1).cpu()
        for i in range(0, len(images), INCEPTION_BATCH)
    ]
    return torch.cat(out)


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(seconds, value) of one call."""
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="images to score (default 10,000)")
    p.add_argument("--repeats", type=int, default=3, help="timed scorings by the classifier (default 3)")
    p.add_argument("--inception-n", type=int, default=500, help="images through Inception (default 500)")
    p.add_argument("--train-n", type=int, default=5000, help="synthetic training images without CIFAR-10")
    p.add_argument("--device", default="cpu", help="torch device for both networks (default cpu)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Train (untimed), time the classifier's scoring and Inception's, print the table and the ratio."""
    args = parse_args(argv)
    if min(args.n, args.repeats, args.inception_n, args.train_n) < 1 or args.inception_n > args.n:
        sys.exit("need --n, --repeats, --inception-n and --train-n >= 1, and --inception-n <= --n")
    with tempfile.TemporaryDirectory(prefix="ganbench-classifier-bench-") as tmp:
        data = cifar10()
        if data is None:
            os.environ[CACHE_ENV] = tmp  # synthetic classifiers are not worth keeping
            data = synthetic_labelled(args.train_n, args.seed)
            source = f"no CIFAR-10 files found: {args.train_n} synthetic labelled 3x32x32 images (10 classes)"
            images = torch.randint(
                0, 256, (args.n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(args.seed + 1)
            )
        else:
            source = f"CIFAR-10 training split ({len(data[0]):,} images)"
            images = data[0][: args.n]
        print(
            f"torch {torch.__version__} ({torch.get_num_threads()} threads; the classifier uses 1 on CPUs), "
            f"{os.cpu_count()} CPUs, device {args.device}"
        )
        print(f"classifier trained on {source}", flush=True)
        seconds, trained = timed(clf.classifier_from_data, *data, clf.Recipe(), args.device, True)
        print(
            f"  {trained.arch.describe()}; held-out accuracy {trained.held_out_accuracy:.4f} "
            f"({trained.n_held_out:,} images); {trained.epochs} epochs; its training took "
            f"{trained.train_seconds:.1f} s; obtained here in {seconds:.1f} s",
            flush=True,
        )
        trained.apply(images[:256])  # warm-up: lazy library set-up
        rounds = []
        for r in range(args.repeats):
            t, (features, _) = timed(trained.apply, images)
            rounds.append(t)
            print(f"  classifier round {r + 1}/{args.repeats}: {t:.2f} s", file=sys.stderr, flush=True)

        model, weights = inception_model(args.device)
        inception_pool3(model, images[:2], args.device)  # warm-up
        t_inception, pool3 = timed(inception_pool3, model, images[: args.inception_n], args.device)
        scaled = t_inception * args.n / args.inception_n

    median = statistics.median(rounds)
    print()
    print(f"seconds to score {args.n:,} uint8 3x32x32 images, from the tensor to features on the CPU")
    print(f"{'side':<34}{'seconds':>26}{'images/s':>12}")
    cell = f"{median:.2f} [{min(rounds):.2f}, {max(rounds):.2f}]"
    print(f"{'ganbench classifier':<34}{cell:>26}{args.n / median:>12.0f}")
    side = f"pytorch-fid Inception (x{args.n / args.inception_n:g})"
    print(f"{side:<34}{f'{scaled:.1f} ({t_inception:.1f} s for {args.inception_n})':>26}{args.n / scaled:>12.1f}")
    print()
    verdict = "meets" if median <= TARGET_SECONDS else "MISSES"
    print(f"classifier: median {median:.2f} s for {args.n:,} images; {verdict} the target of <= {TARGET_SECONDS:g} s")
    print(f"classifier / Inception images/s: {scaled / median:.0f}x")
    print(f"features: classifier {tuple(features.shape)}, Inception pool3 {tuple(pool3.shape)}; Inception: {weights}")


if __name__ == "__main__":
    main()
