"""matplotlib's Agg canvas, whatever MPLBACKEND or a matplotlibrc says.

ganbench draws PNG files and never opens a window, so the user's backend is not ours to refuse: matplotlib
checks MPLBACKEND as it is imported, and an invalid one would otherwise stop `plot` with a traceback, or a
`run` after its training, for a setting neither uses. Drawing on ``Figure`` with ``FigureCanvasAgg`` (never
pyplot) also leaves a Python user's own backend and pyplot's figures alone. ``own_style`` draws with
matplotlib's defaults, not the user's rcParams: ``text.usetex`` without LaTeX failed every run after its
training (pass 74), a font the machine lacks printed a line per text, and a figure looks the same everywhere.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar


def _import_matplotlib() -> None:
    """Import matplotlib; an MPLBACKEND it refuses is set aside for the import and named in a warning."""
    try:
        import matplotlib  # noqa: F401
    except ValueError as error:  # "Key backend: 'x' is not a valid value for backend; ..."
        backend = os.environ.get("MPLBACKEND")
        if not backend or "backend" not in str(error):
            raise
        line = (
            f"MPLBACKEND={backend!r} is not a backend matplotlib knows; ganbench draws its PNG files with Agg all "
            "the same (unset MPLBACKEND, or set it to one of matplotlib's backends, to silence this)"
        )
        try:
            warnings.warn(line, stacklevel=3)
        except Warning:  # -W error: a notice must not stop the drawing (a run's after its training, pass 74)
            print(f"warning: {line}", file=sys.stderr)
        for name in [name for name in sys.modules if name.startswith("matplotlib.")]:
            del sys.modules[name]  # the failed import's half-made submodules would be reused, and fail
        del os.environ["MPLBACKEND"]
        logger = logging.getLogger("matplotlib")
        level = logger.level
        logger.setLevel(logging.ERROR)  # a matplotlibrc's bad key was warned of by the first import
        try:
            import matplotlib  # noqa: F401
        finally:
            os.environ["MPLBACKEND"] = backend
            logger.setLevel(level)


_import_matplotlib()

from matplotlib import colormaps, style  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

__all__ = ["Figure", "FigureCanvasAgg", "Line2D", "Patch", "colormaps", "own_style"]

Drawing = TypeVar("Drawing", bound=Callable[..., Any])


def own_style(draw: Drawing) -> Drawing:
    """``draw`` with matplotlib's default rcParams, whatever a matplotlibrc or the caller set (restored after)."""

    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        with style.context("default"):  # the backend and other settings of the session are left as they are
            return draw(*args, **kwargs)

    return drawn  # type: ignore[return-value]
