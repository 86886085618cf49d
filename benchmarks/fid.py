"""Speed and agreement of ganbench's Fréchet distance against pytorch-fid and torch-fidelity.

All three compute d^2 = ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2) in float64 on
the same seeded random features (``--n`` rows of ``--dim`` columns per side; real rows are
standard normal, generated rows are standard normal times I + 0.5 G / sqrt(d), G a
standard normal matrix, plus a shift of 0.1, so both covariances are full rank and differ):

- ganbench: ``fid_from_features(real, fake)`` (the feature checks, mean and covariance,
  then the distance) and ``frechet_distance(mu1, s1, mu2, s2)`` on precomputed statistics:
  a Cholesky factor L of S1 and the symmetric eigenvalues of L^T S2 L.
- pytorch-fid: ``np.mean`` and ``np.cov(rowvar=False)`` as in its
  ``calculate_activation_statistics``, then ``calculate_frechet_distance``, which takes
  ``scipy.linalg.sqrtm`` of S1 S2 (its DeprecationWarning about ``disp`` is silenced).
- torch-fidelity: ``fid_features_to_statistics`` (a float64 tensor in, numpy out) and
  ``fid_statistics_to_metric``, which sums the square roots of the general (non-symmetric)
  eigenvalues of S1 S2.

Each implementation runs once per repeat, in a rotating order, in this one process; the
table shows the median seconds over ``--repeats`` (with the fastest and slowest) for
statistics -> distance and for features -> distance (the latter includes the mean and
covariance of both sides), and the value; the ratios are of medians, so on a shared machine
read the ranges first. The script only reports; the targets are a speed-up of at least 5x over pytorch-fid
and 1.5x over torch-fidelity (statistics -> distance), and a relative difference from
pytorch-fid of at most 1e-6. scipy's ``sqrtm`` on 2048 x 2048 takes on the order of a
minute on a small CPU, so the defaults run for several minutes.

Run::

    python benchmarks/fid.py                          # 10k x 2048 per side, 3 repeats
    python benchmarks/fid.py --n 50000 --repeats 5
    python benchmarks/fid.py --dim 512                # quicker
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganbench.metrics import fid_from_features, frechet_distance

TARGET_PYTORCH_FID = 5.0
TARGET_TORCH_FIDELITY = 1.5
TARGET_RELATIVE = 1e-6


def make_features(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded float64 real and generated features with full-rank, different covariances."""
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, dim))
    mix = np.eye(dim) + 0.5 * rng.standard_normal((dim, dim)) / np.sqrt(dim)
    fake = rng.standard_normal((n, dim)) @ mix + 0.1
    return real, fake


def pytorch_fid_side() -> tuple[Callable[..., float], Callable[..., float]]:
    """pytorch-fid's statistics -> distance and features -> distance."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    def stats_to_distance(mu1: Any, s1: Any, mu2: Any, s2: Any) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # sqrtm(..., disp=False)
            return float(calculate_frechet_distance(mu1, s1, mu2, s2))

    def features_to_distance(real: np.ndarray, fake: np.ndarray) -> float:
        mu1, s1 = np.mean(real, axis=0), np.cov(real, rowvar=False)
        mu2, s2 = np.mean(fake, axis=0), np.cov(fake, rowvar=False)
        return stats_to_distance(mu1, s1, mu2, s2)

    return stats_to_distance, features_to_distance


def torch_fidelity_side() -> tuple[Callable[..., float], Callable[..., float]]:
    """torch-fidelity's statistics -> distance and features -> distance."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    def stats_to_distance(mu1: Any, s1: Any, mu2: Any, s2: Any) -> float:
        out = fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, verbose=False)
        return float(out[KEY_METRIC_FID])

    def features_to_distance(real: np.ndarray, fake: np.ndarray) -> float:
        stat_1 = fid_features_to_statistics(torch.from_numpy(real))
        stat_2 = fid_features_to_statistics(torch.from_numpy(fake))
        return float(fid_statistics_to_metric(stat_1, stat_2, verbose=False)[KEY_METRIC_FID])

    return stats_to_distance, features_to_distance


def timed(fn: Callable[..., float], *args: Any) -> tuple[float, float]:
    """(seconds, value) of one call."""
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="feature rows per side (default 10000)")
    p.add_argument("--dim", type=int, default=2048, help="feature width (default 2048, Inception pool3)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls of each implementation (default 3)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Time the three implementations, interleaved, and print the table and the ratios."""
    args = parse_args(argv)
    if args.n <= args.dim or args.dim < 1 or args.repeats < 1:
        sys.exit("need --n > --dim (for full-rank covariances), --dim >= 1 and --repeats >= 1")
    real, fake = make_features(args.n, args.dim, args.seed)
    stats = (*_statistics(real), *_statistics(fake))

    sides = {
        "ganbench": (frechet_distance, fid_from_features),
        "pytorch-fid": pytorch_fid_side(),
        "torch-fidelity": torch_fidelity_side(),
    }
    names = list(sides)
    print(
        f"{args.n} x {args.dim} float64 features per side, {args.repeats} repeats, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}"
    )
    t_stats: dict[str, list[float]] = {name: [] for name in names}
    t_feats: dict[str, list[float]] = {name: [] for name in names}
    values: dict[str, tuple[float, float]] = {}
    for r in range(args.repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            stats_fn, feats_fn = sides[name]
            ts, vs = timed(stats_fn, *stats)
            tf, vf = timed(feats_fn, real, fake)
            t_stats[name].append(ts)
            t_feats[name].append(tf)
            values[name] = (vs, vf)
        print(f"  repeat {r + 1}/{args.repeats} done", file=sys.stderr, flush=True)

    med_stats = {name: statistics.median(t) for name, t in t_stats.items()}
    med_feats = {name: statistics.median(t) for name, t in t_feats.items()}
    print()
    print("seconds: median over repeats [min, max]")
    print(f"{'implementation':<16}{'statistics->distance':>26}{'features->distance':>26}{'value':>22}")
    for name in names:
        ts, tf = t_stats[name], t_feats[name]
        cell_s = f"{med_stats[name]:.3f} [{min(ts):.3f}, {max(ts):.3f}]"
        cell_f = f"{med_feats[name]:.3f} [{min(tf):.3f}, {max(tf):.3f}]"
        print(f"{name:<16}{cell_s:>26}{cell_f:>26}{values[name][1]:>22.12f}")
    print()
    ours_s, ours_f = med_stats["ganbench"], med_feats["ganbench"]
    for name, target in (("pytorch-fid", TARGET_PYTORCH_FID), ("torch-fidelity", TARGET_TORCH_FIDELITY)):
        print(
            f"speed-up vs {name}: {med_stats[name] / ours_s:.1f}x statistics->distance, "
            f"{med_feats[name] / ours_f:.1f}x features->distance (target >= {target:g}x)"
        )
    ours = values["ganbench"][1]
    for name in ("pytorch-fid", "torch-fidelity"):
        rel = abs(ours - values[name][1]) / abs(values[name][1])
        target = f"  (target <= {TARGET_RELATIVE:g})" if name == "pytorch-fid" else ""
        print(f"relative difference vs {name}: {rel:.2e}{target}")
    rel_stats = abs(values["ganbench"][0] - ours) / abs(ours)
    print(f"ganbench statistics->distance vs features->distance value: relative difference {rel_stats:.2e}")


def _statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 mean and unbiased covariance of rows, computed once for the statistics->distance timings."""
    return x.mean(0), np.cov(x, rowvar=False)


if __name__ == "__main__":
    main()
