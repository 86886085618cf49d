"""What a run's result depends on beyond its options: the code of the parts that compute it.

A variant's losses, a network's and a dataset's classes are plugins' code; two versions of a
plugin registered under one name must not share a run id, or the second would be handed the
first one's record. A part's fingerprint is its providing distribution and version and a
sha256 of the source of the modules that define it (the losses' modules for a variant, the
class's module for a network or dataset): an edit there gives new run ids (runs are trained
again, never returned stale), and tables keep runs of different code apart.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any


def fingerprint(source: str, version: str, code: Iterable[Any]) -> str:
    """``"<distribution> <version> <sha256 of the code, 16 hex digits>"`` for a part made of ``code``
    (functions or classes)."""
    code = [part for thing in code for part in _unwrapped(thing)]
    digest = hashlib.sha256()
    for module in dict.fromkeys(_module_name(c) for c in code):
        digest.update(module.encode() + b"\0" + _module_source(module).encode() + b"\0")
    for thing in code:  # bound arguments, and functions outside any readable module (a notebook): their bytes
        if isinstance(thing, str) or not _module_source(_module_name(thing)):
            digest.update(_bytecode(thing))
    return f"{source} {version} {digest.hexdigest()[:16]}"


def _unwrapped(thing: Any) -> list[Any]:
    """A function and what it wraps: functools.partial's function (and its bound arguments, as text),
    a decorated function's ``__wrapped__``; so a loss made with partial(f, ...) is fingerprinted by f."""
    parts = [thing]
    while isinstance(thing, functools.partial) or hasattr(thing, "__wrapped__"):
        if isinstance(thing, functools.partial):
            parts.append(repr((thing.args, sorted(thing.keywords.items()))))
            thing = thing.func
        else:
            thing = thing.__wrapped__
        parts.append(thing)
    return parts


def _module_name(thing: Any) -> str:
    return getattr(thing, "__module__", None) or ""


def _module_source(name: str) -> str:
    """The source of module ``name`` as its file holds it now (linecache re-reads a changed file), or ""
    when it has none on disk (built in, or made at run time)."""
    module = sys.modules.get(name)
    try:
        return inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        return ""


def _bytecode(thing: Callable[..., Any] | type | str) -> bytes:
    if isinstance(thing, str):  # a partial's bound arguments
        return thing.encode()
    code = getattr(thing, "__code__", None)
    if code is None:
        return repr(thing).encode()
    return code.co_code + repr(code.co_consts).encode() + repr(code.co_names).encode()
