"""How long the ``ganbench`` command takes to answer before any work: ``--help``, ``run --help``, ``list``.

Each command runs as a fresh process (what a user types), ``--repeats`` times, alternating with two
peers measured in the same loop: a bare ``python -c pass`` (the interpreter's own start) and
``python -c "import torch"`` (what every command paid before the CLI imported torch only where a
command needs it). ``ganbench list`` is timed warm (its cache filled by the warm-up round: what
every call after an install or an edit costs) and cold (its cache emptied before each call). Prints
the median and range of each, and whether ``--help`` and warm ``list`` meet the target (under 0.5 s).
The script only reports; it keeps its list cache in a temporary folder.

Run::

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 11
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5


def commands() -> dict[str, list[str]]:
    """The commands timed, by label: the peers first."""
    ganbench = shutil.which("ganbench") or sys.exit("error: no `ganbench` on PATH; pip install -e . first")
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "ganbench --help": [ganbench, "--help"],
        "ganbench run --help": [ganbench, "run", "--help"],
        "ganbench list (warm)": [ganbench, "list"],
        "ganbench list (cold)": [ganbench, "list"],
    }


def seconds(argv: list[str], cold_cache: Path | None = None) -> float:
    """Wall seconds of one run of ``argv`` (output discarded), after removing ``cold_cache``; exits if the
    command fails."""
    if cold_cache is not None:
        cold_cache.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"error: {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        sys.exit("error: --repeats must be at least 1")
    os.environ["GANBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganbench-startup-")
    listing = Path(os.environ["GANBENCH_CACHE_DIR"]) / "list.json"
    timed = commands()
    times: dict[str, list[float]] = {label: [] for label in timed}
    for command in timed.values():  # a warm-up round: file caches filled for every command alike
        seconds(command)
    for _ in range(args.repeats):
        for label, command in timed.items():
            times[label].append(seconds(command, listing if "cold" in label else None))
            if "cold" in label:
                seconds(command)  # filled again for the warm call of the next round
    print(f"{'command':<28}{'median s':>10}{'min s':>8}{'max s':>8}")
    for label, values in times.items():
        print(f"{label:<28}{statistics.median(values):>10.3f}{min(values):>8.3f}{max(values):>8.3f}")
    torch_s = statistics.median(times["python -c 'import torch'"])
    for label in ("ganbench --help", "ganbench list (warm)"):
        median = statistics.median(times[label])
        print(
            f"{label}: {median:.3f} s median ({median / torch_s:.2f}x the time of importing torch); "
            f"target < {TARGET_S} s: {'met' if median < TARGET_S else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
