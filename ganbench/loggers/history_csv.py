"""Writes history.csv in each run folder: one row of losses every ``log_every`` steps.

A resumed run drops the rows logged after its checkpoint, so the history of a killed and
resumed run equals that of an uninterrupted one.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

from ganbench.hookspecs import hookimpl

FILENAME = "history.csv"
_open: dict[str, tuple[IO[str], list[str] | None]] = {}


@hookimpl
def on_run_start(run_dir, start_step):
    path = Path(run_dir) / FILENAME
    kept: list[str] = []
    if start_step and path.exists():
        rows = path.read_text().splitlines()
        kept = rows[:1] + [r for r in rows[1:] if int(r.split(",", 1)[0]) <= start_step]
    path.write_text("".join(line + "\n" for line in kept))
    header = kept[0].split(",") if kept else None
    _open[str(run_dir)] = (path.open("a", newline=""), header)


@hookimpl
def on_step_end(run_dir, step, logs):
    handle, header = _open[str(run_dir)]
    if header is None:
        header = ["step", *logs]
        _open[str(run_dir)] = (handle, header)
        handle.write(",".join(header) + "\n")
    csv.writer(handle, lineterminator="\n").writerow([step, *(logs.get(k, "") for k in header[1:])])
    handle.flush()


@hookimpl
def on_run_end(run_dir):
    entry = _open.pop(str(run_dir), None)
    if entry:
        entry[0].close()
