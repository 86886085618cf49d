"""Progress for long loops: a tqdm bar on a terminal; in a log (stderr not a terminal), a line per 10%.

Carriage-return bars fill log files with thousands of half-lines (a CI log, ``> run.log 2>&1``), so
off a terminal the same calls print one plain line each time another tenth of the work is done.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm.auto import tqdm

LOG_EVERY_FRACTION = 0.1


class LineProgress:
    """tqdm's ``update``/``set_postfix``/``close`` interface, printing a line per tenth of ``total``."""

    def __init__(self, total: int, initial: int = 0, desc: str = "", unit: str = "it", file: TextIO | None = None):
        self.total, self.n, self.desc, self.unit = total, initial, desc, unit
        self.file = file if file is not None else sys.stderr
        self.postfix: dict[str, Any] = {}
        self.started, self.start_n = time.perf_counter(), initial
        self.reported = self._tenths(initial)

    def _tenths(self, n: int) -> int:
        return int(n / self.total / LOG_EVERY_FRACTION) if self.total else 0

    def update(self, n: int = 1) -> None:
        self.n += n
        tenths = self._tenths(self.n)
        if tenths > self.reported:
            self.reported = tenths
            self._line()

    def set_postfix(self, postfix: dict[str, Any] | None = None, refresh: bool = True, **more: Any) -> None:
        self.postfix = {**(postfix or {}), **more}

    def _line(self) -> None:
        seconds = time.perf_counter() - self.started
        rate = (self.n - self.start_n) / seconds if seconds > 0 else 0.0
        extra = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.postfix.items())
        share = 100 * self.n / self.total if self.total else 100.0
        done = f"{self.n:,}/{self.total:,} {self.unit}s, {seconds:.0f} s, {rate:.3g} {self.unit}/s"
        print(
            f"{self.desc}: {share:.0f}% ({done})" + (f" {extra}" if extra else ""),
            file=self.file,
            flush=True,
        )

    def close(self) -> None:
        return None

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(total: int, *, enabled: bool | None = True, initial: int = 0, desc: str = "", unit: str = "it") -> Any:
    """A tqdm bar when ``enabled`` and stderr is a terminal, line progress when ``enabled`` and it is
    not, nothing when ``enabled`` is False. ``enabled`` None: only on a terminal (no lines either)."""
    terminal = sys.stderr.isatty()
    if enabled is False or (enabled is None and not terminal):
        return tqdm(total=total, initial=initial, disable=True)
    if terminal:
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True)
    return LineProgress(total, initial=initial, desc=desc, unit=unit)
