"""Which installed distributions, at which versions, hold a module: what an installed library's code counts as in
a run id (its code is the distribution's, which pip changes with the version), with the versions of everything it
requires. Read from the distributions' metadata, leaving out what cannot be read: a run id never fails on
another package's broken METADATA."""

from __future__ import annotations

import functools
import importlib.metadata
import re
import sys
from collections.abc import Mapping

PYTHON = f"python {sys.version.split()[0]}"
"""What the standard library counts as."""

METADATA_ERRORS = (ImportError, ValueError, TypeError, LookupError, OSError, AttributeError)
"""What a distribution's unreadable metadata raises (no Name, a RECORD line of four fields, Latin-1 text: pass 92,
one such distribution anywhere on the path was a traceback of every run id that looked distributions up)."""


@functools.cache
def holders_version(top: str) -> str | None:
    """Of the distributions holding package ``top``, each with its version (two may: opencv-python and
    opencv-contrib-python, one installed over the other: pass 92, the first listed counted), or None."""
    if top in sys.stdlib_module_names:  # no distribution holds it: not looked for in every one's file list
        return PYTHON
    versions = set()
    for dist in dict.fromkeys(_named_after(top) or packages_distributions().get(top, ())):
        try:
            versions.add(f"{dist} {importlib.metadata.version(dist)}{_required(dist)}")
        except METADATA_ERRORS:
            continue
    return " + ".join(sorted(versions)) or None


@functools.cache
def part_version(top: str, part: str) -> str:
    """The distribution whose files hold part ``part`` of namespace package ``top`` (``acme.core`` of acme-core,
    ``acme.other`` of acme-other), with its version (pass 90: whichever was listed first counted)."""
    for dist in packages_distributions().get(top, ()):
        try:
            files = importlib.metadata.distribution(dist).files or ()
            if any(file.parts[:2] in ((top, part), (top, f"{part}.py")) for file in files):
                return f"{dist} {importlib.metadata.version(dist)}{_required(dist)}"
        except METADATA_ERRORS:
            continue
    return holders_version(top) or PYTHON


@functools.cache
def _required(dist: str) -> str:
    """The installed distributions ``dist`` requires (its metadata's Requires-Dist, theirs in turn), each with its
    version, beyond those ganbench requires itself: an installed plugin's code reaches its dependencies' constants,
    classes and functions, and theirs (pass 91: a helper distribution's upgrade kept a plugin's run id). Declare
    what a plugin uses."""
    base = _closure("ganbench")
    if _canonical(dist) in base:
        return ""
    found = []
    for name in sorted(_closure(dist) - base - {_canonical(dist)}):
        try:
            found.append(f" requires {name} {importlib.metadata.version(name)}")
        except METADATA_ERRORS:
            continue
    return "".join(found)


@functools.cache
def _closure(dist: str) -> frozenset[str]:
    """``dist`` and the installed distributions it requires, transitively (by canonical name): requirements whose
    markers hold here, without extras (pass 92: an optional extra, a Windows-only dependency counted; ganbench's test
    extra hid what plugins declared)."""
    from packaging.requirements import InvalidRequirement, Requirement

    found, todo = set(), [dist]
    while todo:
        name = _canonical(todo.pop())
        if name in found:
            continue
        try:
            requires = importlib.metadata.requires(name) or []
        except METADATA_ERRORS:
            continue  # not installed: nothing of it runs
        found.add(name)
        for text in requires:
            try:
                requirement = Requirement(text)
                if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                    todo.append(requirement.name)
            except (InvalidRequirement, *METADATA_ERRORS):
                continue
    return frozenset(found)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def packages_distributions() -> Mapping[str, list[str]]:
    """Top-level package -> the distributions holding it, read once (a second each: every distribution's files), as
    ``importlib.metadata.packages_distributions`` finds them, leaving out those whose metadata cannot be read."""
    found: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"]
            tops = (dist.read_text("top_level.txt") or "").split()
            if not tops:  # its files, read only then (torch's list is 15,000 lines)
                files = dist.files or ()
                tops = {f.parts[0] if len(f.parts) > 1 else f.with_suffix("").name for f in files if f.suffix == ".py"}
        except METADATA_ERRORS:
            continue
        for top in tops if name else ():
            found.setdefault(top, []).append(name)
    return found


def _named_after(top: str) -> list[str]:
    """The distribution named as package ``top`` is when it holds it (torch, numpy): found without
    ``packages_distributions``, which reads every installed distribution's file list (0.4 s of each process's
    first run id)."""
    try:
        dist = importlib.metadata.distribution(top)
        holds = any(file.parts[:1] in ((top,), (f"{top}.py",)) for file in dist.files or ())
        name = dist.metadata["Name"]
    except METADATA_ERRORS:
        return []
    return [name] if holds and name else []
