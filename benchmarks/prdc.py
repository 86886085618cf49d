"""Speed, peak memory and agreement of ganbench's PRDC against the ``prdc`` package.

Both sides score the same seeded float32 features (``--n`` real and ``--n`` generated rows
of ``--dim`` columns; real rows are standard normal, generated rows standard normal times
1.01 plus a shift of 0.02) with k = ``--k`` nearest neighbours:

- ganbench: ``ganbench.metrics.prdc(real, fake, k, block_bytes)``: float32 matrix
  products a block at a time (``--block-mb`` sets ``block_bytes``), one triangle of blocks
  for each set's own neighbours, error bounds on every value, and float64 distances for the
  few pairs the bounds cannot decide; memory grows with the block, not with N x N.
- prdc: ``prdc.compute_prdc(real, fake, k)`` (its print is suppressed), which builds the
  three full N x N float32 distance matrices with ``sklearn.metrics.pairwise_distances``
  (``n_jobs=8``, threads; sklearn upcasts float32 to float64 a chunk at a time).

Each call runs in a fresh interpreter (this script run again with a hidden ``--one``
flag), which imports its library, generates the features and then reads its resident
memory, so that the peak of each side is measured apart from the other's:
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end, reported as the rise above the
RSS after loading the data and as the absolute peak. With ``--repeats`` above 1 the sides
alternate and the table shows the median time and the highest peak.

The script only reports; the targets are a speed-up of at least 2.5x over prdc and a peak
(rise above the loaded data) of at most 1/4 of prdc's. prdc holds a float32 N x N matrix
and its int64 argpartition index at once, about 12 N^2 bytes (30 GB at 50k), so 50k x 50k
is beyond a machine of tens of GB; ``--only-ganbench`` runs ganbench alone for such sizes.

Run::

    python benchmarks/prdc.py                              # 10k x 10k x 2048, k = 5
    python benchmarks/prdc.py --n 5000 --repeats 3
    python benchmarks/prdc.py --only-ganbench --n 50000    # ganbench alone, 50k x 50k
    python benchmarks/prdc.py --block-mb 64                # smaller blocks, lower peak
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TARGET_SPEED = 2.5
TARGET_MEMORY = 0.25
KEYS = ("precision", "recall", "density", "coverage")
SIDES = ("ganbench", "prdc")
MB = 2**20


def make_features(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded float32 real and generated features, generated in float32 (no float64 temporaries)."""
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, dim), dtype=np.float32)
    fake = rng.standard_normal((n, dim), dtype=np.float32)
    fake *= 1.01
    fake += 0.02
    return real, fake


def peak_rss() -> int:
    """Peak resident memory of this process so far, in bytes (ru_maxrss is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss() -> int:
    """Resident memory of this process now, in bytes (the peak so far where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss()
    return pages * os.sysconf("SC_PAGE_SIZE")


def run_one(args: argparse.Namespace) -> None:
    """In the child: import one side, load the data, time one call, print a JSON line."""
    if args.one == "ganbench":
        from ganbench.metrics import prdc as ganbench_prdc

        block_bytes = int(args.block_mb * MB)
        score = lambda r, f: ganbench_prdc(r, f, k=args.k, block_bytes=block_bytes)
    else:
        # this script is itself named prdc.py: drop its folder from the path to import the package
        here = Path(__file__).resolve().parent
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
        from prdc import compute_prdc

        def score(r: np.ndarray, f: np.ndarray) -> dict[str, Any]:
            with contextlib.redirect_stdout(io.StringIO()):
                return compute_prdc(r, f, nearest_k=args.k)

    real, fake = make_features(args.n, args.dim, args.seed)
    loaded = current_rss()
    start = time.perf_counter()
    out = score(real, fake)
    seconds = time.perf_counter() - start
    peak = peak_rss()
    values = {key: float(out[key]) for key in KEYS}
    print(json.dumps({"seconds": seconds, "loaded": loaded, "peak": peak, "values": values}))


def spawn(side: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one side in a fresh interpreter and read back its JSON line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", side]
    cmd += ["--n", str(args.n), "--dim", str(args.dim), "--k", str(args.k)]
    cmd += ["--block-mb", str(args.block_mb), "--seed", str(args.seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = "killed (out of memory?)" if proc.returncode < 0 else f"exit status {proc.returncode}"
        sys.exit(f"{side} failed: {reason}\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="real rows, and generated rows (default 10000)")
    p.add_argument("--dim", type=int, default=2048, help="feature width (default 2048)")
    p.add_argument("--k", type=int, default=5, help="nearest neighbours (default 5)")
    p.add_argument(
        "--block-mb",
        type=float,
        default=128,
        help="ganbench's block_bytes in MiB (default 128, ganbench's default)",
    )
    p.add_argument("--repeats", type=int, default=1, help="runs of each side, alternating (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only-ganbench", action="store_true", help="run ganbench alone (for sizes prdc cannot hold)")
    p.add_argument("--one", choices=SIDES, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run each side in its own process and print the table and the ratios."""
    args = parse_args(argv)
    if args.n <= args.k or args.dim < 1 or args.k < 1 or args.repeats < 1 or args.block_mb <= 0:
        sys.exit("need --n > --k >= 1, --dim >= 1, --repeats >= 1 and --block-mb > 0")
    if args.one:
        run_one(args)
        return

    sides = ("ganbench",) if args.only_ganbench else SIDES
    print(
        f"{args.n} real x {args.n} generated x {args.dim} float32 features, k = {args.k}, "
        f"ganbench block {args.block_mb:g} MiB, {args.repeats} repeat(s), {os.cpu_count()} CPUs",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for r in range(args.repeats):
        for side in sides if r % 2 == 0 else sides[::-1]:
            runs[side].append(spawn(side, args))
            print(f"  {side} run {r + 1}/{args.repeats}: {runs[side][-1]['seconds']:.1f} s", file=sys.stderr)

    seconds = {side: statistics.median(x["seconds"] for x in runs[side]) for side in sides}
    rise = {side: max(x["peak"] - x["loaded"] for x in runs[side]) / MB for side in sides}
    peak = {side: max(x["peak"] for x in runs[side]) / MB for side in sides}
    values = {side: runs[side][-1]["values"] for side in sides}
    print()
    header = f"{'side':<10}{'seconds':>10}{'peak rise MB':>14}{'peak MB':>10}"
    print(header + "".join(f"{key:>12}" for key in KEYS))
    for side in sides:
        row = f"{side:<10}{seconds[side]:>10.2f}{rise[side]:>14.0f}{peak[side]:>10.0f}"
        print(row + "".join(f"{values[side][key]:>12.6f}" for key in KEYS))
    print()
    if args.only_ganbench:
        print(f"ganbench alone: {seconds['ganbench']:.1f} s, peak {rise['ganbench']:.0f} MB above the loaded data")
        return
    print(f"speed-up vs prdc: {seconds['prdc'] / seconds['ganbench']:.2f}x  (target >= {TARGET_SPEED:g}x)")
    print(
        f"memory (peak rise) ganbench / prdc: {rise['ganbench'] / rise['prdc']:.3f}  "
        f"(target <= {TARGET_MEMORY:g}, 1/4 of prdc's peak); absolute peaks: {peak['ganbench'] / peak['prdc']:.3f}"
    )
    diff = max(abs(values["ganbench"][key] - values["prdc"][key]) for key in KEYS)
    print(f"max absolute difference of the four values: {diff:.2e}")


if __name__ == "__main__":
    main()
