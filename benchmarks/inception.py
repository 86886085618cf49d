"""Speed and agreement of ganbench's Inception features against pytorch-fid's ``get_activations``.

Both sides start from the same folder of ``--n`` seeded random uint8 RGB PNGs of
``--size`` x ``--size`` pixels (written with PIL into a temporary folder) and the same
weights file, and return the 2048-d pool3 features of every image, ``--batch-size``
images per forward pass on ``--device``:

- ganbench: ``load_image_set(folder)`` (PIL decodes every PNG in the main process, one
  stacked float32 tensor in [0, 1]), then ``inception_features(images, weights=PATH)``,
  which resolves and ``torch.load``s the weights, builds pytorch-fid's ``InceptionV3``
  (pool3 block) with them, hashes the file (sha256, for provenance) and runs the batches;
  it also returns the logits (pool3 @ fc.weight^T). It puts the model and every batch in
  channels-last memory format (oneDNN's fast layout on CPUs), whatever the input layout.
- pytorch-fid: ``torch.load`` of the weights and ``InceptionV3([3])`` built with them
  (its ``load_state_dict_from_url`` patched to return the loaded state dict, which is where
  pytorch-fid would read its hub-cache file), then ``get_activations(files, model, ...)``
  on the sorted PNG paths: a ``DataLoader`` over its ``ImagePathDataset`` (PIL +
  ``ToTensor`` per image) with ``num_workers=--workers`` (default 0, so that both sides
  decode in the main process; ganbench has no reader workers). Its tqdm progress bar is
  replaced by the plain iterator.

Each timed call covers everything from the PNG folder and the weights file to the
features, model construction included, as ``pytorch_fid.fid_score.calculate_fid_given_paths``
does per folder; the network's forward passes dominate (0.1 to 0.3 s per image on two CPU
cores), so the fixed costs (model setup, hashing, reading) are timed once more on their own
and printed below the table. An untimed warm-up (two images, in both memory layouts) runs
first; then the sides alternate for ``--repeats`` rounds in this one process, and the table
shows the median seconds (with the fastest and slowest round) and images/s from the median.
The script only reports; the target is ganbench >= 1.0x pytorch-fid's images/s, and the
features should agree to about 1e-5 (both run the same network on the same float32 values;
the memory layouts differ, so the convolutions sum in a different order and the features
differ by ~1e-6).

Without ``--weights`` the script uses GANBENCH_INCEPTION_WEIGHTS or pytorch-fid's file in
torch's hub cache if present, else (no download here) a weights file it builds in the
temporary folder: pytorch-fid's FID Inception architecture with seeded random values
(``ganbench.testing.random_fid_weights``). Random weights change the features, not the speed.

Run::

    python benchmarks/inception.py                          # 500 32x32 PNGs, batch 50, 3 repeats, cpu
    python benchmarks/inception.py --n 100 --repeats 1      # quick check
    python benchmarks/inception.py --weights pt_inception-2015-12-05-6726825d.pth --size 64
    python benchmarks/inception.py --device cuda --n 5000 --workers 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

from ganbench.features.inception import (
    WEIGHTS_ENV,
    FIDInception,
    WeightsError,
    hub_cache_path,
    inception_features,
    load_weights,
    resolve_weights,
    sha256_of,
)
from ganbench.imagefiles import load_image_set
from ganbench.testing import random_fid_weights

TARGET_SPEED = 1.0
TARGET_DIFFERENCE = 1e-5
SIDES = ("ganbench", "pytorch-fid")


def write_pngs(folder: Path, n: int, size: int, seed: int) -> list[Path]:
    """``n`` seeded random uint8 RGB images as PNGs in ``folder``; their sorted paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{i:06d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return sorted(paths)


def choose_weights(explicit: str | None, tmp: Path, seed: int) -> tuple[Path, bool]:
    """(weights file, whether it is random): --weights, the environment, the hub cache, else seeded random."""
    if explicit and not Path(explicit).is_file():
        sys.exit(f"--weights {explicit} does not exist")
    if explicit or os.environ.get(WEIGHTS_ENV) or hub_cache_path().is_file():
        try:
            return resolve_weights(explicit, download=False), False
        except WeightsError as exc:
            sys.exit(str(exc))
    path = tmp / "fid_inception_random.pth"
    torch.save(random_fid_weights(seed), path)
    return path, True


def ganbench_side(folder: Path, weights: Path, batch_size: int, device: str) -> np.ndarray:
    """ganbench: read the PNG folder, then Inception features (model setup and hashing included)."""
    images = load_image_set(folder)
    out = inception_features(images, weights=weights, batch_size=batch_size, device=device, progress=False)
    return out["pool3"].numpy()


def pytorch_fid_model(weights: Path, device: str) -> torch.nn.Module:
    """pytorch-fid's InceptionV3 (pool3 block), loading ``weights`` where it would load its hub-cache file."""
    import pytorch_fid.inception as pf

    load = lambda *args, **kwargs: torch.load(weights, map_location="cpu", weights_only=True)
    with mock.patch.object(pf, "load_state_dict_from_url", load):
        return pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).to(device)


def pytorch_fid_side(files: list[Path], weights: Path, batch_size: int, device: str, workers: int) -> np.ndarray:
    """pytorch-fid: build its model with the weights, then ``get_activations`` on the PNG paths."""
    import pytorch_fid.fid_score as fs

    model = pytorch_fid_model(weights, device)
    with mock.patch.object(fs, "tqdm", lambda iterable, *args, **kwargs: iterable):
        return fs.get_activations(files, model, batch_size, 2048, device, workers)


def fixed_costs(folder: Path, files: list[Path], weights: Path, batch_size: int, device: str, workers: int) -> None:
    """Seconds of each side's reading and model setup on their own (the forward passes are the rest)."""
    import pytorch_fid.fid_score as fs
    import torchvision.transforms as TF

    def pf_read() -> None:
        dataset = fs.ImagePathDataset(files, transforms=TF.ToTensor())
        for _ in torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers):
            pass

    def gb_setup() -> None:
        FIDInception(load_weights(resolve_weights(weights))).to(device)
        sha256_of(weights)

    costs = {
        "ganbench": (timed(load_image_set, folder)[0], timed(gb_setup)[0]),
        "pytorch-fid": (timed(pf_read)[0], timed(pytorch_fid_model, weights, device)[0]),
    }
    print()
    print("fixed costs, timed once on their own (seconds; included in the timings above)")
    print(f"{'side':<14}{'read PNGs':>12}{'model setup':>14}  setup covers")
    what = {
        "ganbench": "torch.load, InceptionV3 with the state dict, sha256 of the file",
        "pytorch-fid": "torch.load, InceptionV3 with the state dict",
    }
    for side in SIDES:
        read, setup = costs[side]
        print(f"{side:<14}{read:>12.3f}{setup:>14.3f}  {what[side]}")


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(seconds, value) of one call."""
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=500, help="images (default 500)")
    p.add_argument("--size", type=int, default=32, help="image height and width in pixels (default 32, as CIFAR)")
    p.add_argument("--batch-size", type=int, default=50, help="images per forward pass, both sides (default 50)")
    p.add_argument("--device", default="cpu", help="torch device for both networks (default cpu)")
    p.add_argument("--workers", type=int, default=0, help="pytorch-fid's DataLoader num_workers (default 0)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls of each side, alternating (default 3)")
    p.add_argument("--weights", help=f"FID Inception weights file (default: {WEIGHTS_ENV}, hub cache, else random)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Time both sides, alternating, and print the table, the ratio and the agreement."""
    args = parse_args(argv)
    if args.n < 1 or args.size < 1 or args.batch_size < 1 or args.repeats < 1 or args.workers < 0:
        sys.exit("need --n, --size, --batch-size and --repeats >= 1, and --workers >= 0")
    with tempfile.TemporaryDirectory(prefix="ganbench-inception-bench-") as tmp:
        folder = Path(tmp) / "images"
        files = write_pngs(folder, args.n, args.size, args.seed)
        weights, random_weights = choose_weights(args.weights, Path(tmp), args.seed)
        print(
            f"{args.n} random {args.size}x{args.size} RGB PNGs, batch {args.batch_size}, device {args.device}, "
            f"pytorch-fid workers {args.workers}, {args.repeats} repeat(s), "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), {os.cpu_count()} CPUs",
            flush=True,
        )
        if random_weights:
            print("weights: seeded random values in pytorch-fid's FID Inception architecture (no FID weights found);")
            print("         same network and arithmetic, so the speed is that of the real weights", flush=True)
        else:
            print(f"weights: {weights} (sha256 {sha256_of(weights)[:16]}...)", flush=True)

        sides = {
            "ganbench": lambda: ganbench_side(folder, weights, args.batch_size, args.device),
            "pytorch-fid": lambda: pytorch_fid_side(files, weights, args.batch_size, args.device, args.workers),
        }
        warm, pair = pytorch_fid_model(weights, args.device), load_image_set(folder)[:2].to(args.device).float() / 255
        with torch.no_grad():
            warm(pair), warm(pair.contiguous())  # lazy library set-up; channels-last and NCHW kernels
        del warm, pair

        seconds: dict[str, list[float]] = {side: [] for side in SIDES}
        features: dict[str, np.ndarray] = {}
        for r in range(args.repeats):
            for side in SIDES if r % 2 == 0 else SIDES[::-1]:
                t, features[side] = timed(sides[side])
                seconds[side].append(t)
                print(f"  {side} round {r + 1}/{args.repeats}: {t:.1f} s", file=sys.stderr, flush=True)

        median = {side: statistics.median(t) for side, t in seconds.items()}
        print()
        print("seconds from the PNG folder to the features: median over repeats [min, max]")
        print(f"{'side':<14}{'seconds':>26}{'images/s':>12}")
        for side in SIDES:
            t = seconds[side]
            cell = f"{median[side]:.2f} [{min(t):.2f}, {max(t):.2f}]"
            print(f"{side:<14}{cell:>26}{args.n / median[side]:>12.2f}")
        print()
        ratio = median["pytorch-fid"] / median["ganbench"]
        print(f"ganbench / pytorch-fid images/s: {ratio:.3f}x  (target >= {TARGET_SPEED:g}x)")
        ours, ref = features["ganbench"], features["pytorch-fid"]
        diff = float(np.abs(ours - ref).max())
        print(
            f"pool3 features {ours.shape} vs {ref.shape}: max absolute difference {diff:.2e} "
            f"(target <= {TARGET_DIFFERENCE:g}; largest |feature| {float(np.abs(ref).max()):.3g})"
        )
        fixed_costs(folder, files, weights, args.batch_size, args.device, args.workers)


if __name__ == "__main__":
    main()
