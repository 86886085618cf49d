"""Which installed distributions, at which versions, hold a module: what an installed library's code counts as in
a run id (its code is the distribution's, which pip changes with the version), with the versions of everything it
requires. Read from the distributions' metadata, leaving out what cannot be read: a run id never fails on
another package's broken METADATA. Everything read is remembered until an entry of ``sys.path`` changes (a ``pip
install`` in a running session, then ``importlib.reload``: pass 93, the old version was remembered)."""

from __future__ import annotations

import csv
import email.message
import email.parser
import functools
import importlib.metadata
import json
import os
import re
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

PYTHON = f"python {sys.version.split()[0]}"
"""What the standard library counts as."""

OWN = __name__.partition(".")[0]
"""ganbench's own distribution: its requirements count in every run (every run's code is partly ganbench's)."""

METADATA_ERRORS = (ImportError, ValueError, TypeError, LookupError, OSError, AttributeError)
"""What a distribution's unreadable metadata raises (no Name, a RECORD line of four fields, Latin-1 text: pass 92,
one such distribution anywhere on the path was a traceback of every run id that looked distributions up)."""


def holders_version(top: str, where: str | None = None) -> str | None:
    """Of the distributions holding package ``top`` (at ``where``, the folder or file Python loads it from, when
    given), each with its version and what it requires, or None when none holds it there (a copy of its own that
    shadows a distribution's: pass 93, credited to the distribution it shadowed)."""
    return _holders_version(top, _real(where), _path_state())


def part_version(top: str, part: str, where: str | None = None) -> str | None:
    """The distributions whose files hold part ``part`` of namespace package ``top`` (``acme.core`` of acme-core,
    ``acme.other`` of acme-other) at ``where``, with their versions, or None when none holds it (pass 90: whichever
    was listed first counted; pass 93: an unowned part counted as another part's distribution)."""
    return _part_version(top, part, _real(where), _path_state())


def requirements(top: str, where: str | None = None) -> str:
    """The versions of what the distributions of a local package ``top`` (at ``where``) require: an editable
    install's, found by the package it holds, its name, or its project's folder holding ``where`` (pass 93: an
    editable plugin named otherwise than its package, a hatchling one without top_level.txt, counted none)."""
    state = _path_state()
    names = set(_holder_names(top, state))
    try:
        names.add(_headers(importlib.metadata.distribution(top))["Name"])
    except METADATA_ERRORS:
        pass
    real = _real(where)
    if real is not None:
        names |= {name for name, root in _editable_roots(state) if real == root or real.startswith(root + os.sep)}
    return "".join(sorted({_required(name, state) for name in names if isinstance(name, str) and name}))


@functools.lru_cache(maxsize=16)
def _editable_roots(state: tuple) -> tuple[tuple[str, str], ...]:
    """(name, project folder) of each editable install (its direct_url.json)."""
    found = []
    for dist in importlib.metadata.distributions():
        try:
            direct = json.loads(dist.read_text("direct_url.json") or "{}")
            info = direct.get("dir_info") if isinstance(direct, dict) else None
            url = direct.get("url") if isinstance(info, dict) and info.get("editable") is True else None
            if isinstance(url, str) and url.startswith("file://"):
                path = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
                found.append((_headers(dist)["Name"], os.path.realpath(path)))
        except (*METADATA_ERRORS, json.JSONDecodeError, RecursionError):
            continue
    return tuple(found)


def editable_packages(top: str) -> list[str]:
    """The top-level packages of the editable installs that the distributions holding ``top`` require: their sources
    are what runs, whatever their version says (pass 93: an installed plugin's editable helper kept its run id when
    edited)."""
    state = _path_state()
    names = {_canonical(n) for n in _holder_names(top, state)}
    required = set().union(*(_closure(n, state) for n in names)) - names if names else set()
    return sorted({package for name in required for package in _editable_tops(name, state)})


def is_plugin(module: str) -> bool:
    """Whether module ``module`` (dotted) is held by a distribution that registers ganbench plugins (an entry point
    in group ``ganbench``): its code is a part's, held to the rules a local plugin's is (pass 93: an installed loss
    reading ``os.environ`` was not refused). In a package several distributions share (a namespace: ``acme.gan`` a
    plugin's, ``acme.utils`` a library's), by the distributions holding its part (pass 96: the library's was
    refused as plugin code)."""
    top, _, rest = module.partition(".")
    return _is_plugin(top, rest.partition(".")[0], _path_state())


@functools.lru_cache(maxsize=4096)
def _is_plugin(top: str, part: str, state: tuple) -> bool:
    names = _holder_names(top, state)
    if len(names) > 1:
        held = []
        for dist in _part_holders(top, part, state):
            try:
                held.append(_headers(dist)["Name"])
            except METADATA_ERRORS:
                continue
        names = held or names  # none holds the part (a copy of the user's): as before, by the package's holders
    plugins = _plugin_distributions(state)
    return any(isinstance(name, str) and _canonical(name) in plugins for name in names)


def packages_distributions() -> Mapping[str, list[str]]:
    """Top-level package -> the distributions holding it."""
    return _packages_distributions(_path_state())


def _path_state() -> tuple[tuple[str, int], ...]:
    """What changes when a distribution is installed, upgraded or removed: the folders on ``sys.path`` and when
    each last changed (pip adds and removes their dist-info folders)."""
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except (OSError, ValueError, TypeError):
            continue
    return tuple(state)


def _real(where: str | None) -> str | None:
    return os.path.realpath(where) if isinstance(where, str) else None


@functools.lru_cache(maxsize=4096)
def _holders_version(top: str, where: str | None, state: tuple) -> str | None:
    if top in sys.stdlib_module_names:  # no distribution holds it: not looked for in every one's file list
        return PYTHON
    holding = [dist for name in _holder_names(top, state) for dist in _all_named(name)]  # a leftover egg-info
    return _versions_of(holding, (top,), where, state)  # beside pip's dist-info: both (pass 93: the old one's version
    # counted, so an upgrade kept the run id)


@functools.lru_cache(maxsize=1024)
def _part_version(top: str, part: str, where: str | None, state: tuple) -> str | None:
    return _versions_of(_part_holders(top, part, state), (top, part), where, state)


def _versions_of(dists: Any, parts: tuple[str, ...], where: str | None, state: tuple) -> str | None:
    """Of ``dists``, those holding ``parts`` at ``where`` (any, when None), each with its version and requirements."""
    versions = set()
    for dist in dists:
        try:
            if where is None or _holds_at(dist, parts, where):
                head = _headers(dist)
                versions.add(f"{head['Name']} {head['Version']}{_required(head['Name'], state)}")
        except METADATA_ERRORS:
            continue
    return " + ".join(sorted(versions)) or None


@functools.lru_cache(maxsize=1024)
def _part_holders(top: str, part: str, state: tuple) -> tuple[importlib.metadata.Distribution, ...]:
    """The installed distributions whose files hold part ``part`` of package ``top`` (a subpackage, a module, an
    extension; "": ``top``'s own ``__init__.py``)."""
    found = []
    for name in _holder_names(top, state):
        for dist in _all_named(name):
            try:
                files = [file.parts for file in dist.files or ()]
            except METADATA_ERRORS:
                continue
            if part:
                holds = any(len(f) > 1 and f[0] == top and f[1].partition(".")[0] == part for f in files)
            else:
                holds = any(f[:2] == (top, "__init__.py") for f in files)
            if holds:
                found.append(dist)
    return tuple(found)


def _holds_at(dist: importlib.metadata.Distribution, parts: tuple[str, ...], where: str) -> bool:
    """Whether ``dist``'s package (a folder, or a module's file) is the one at ``where``."""
    target = os.path.realpath(str(dist.locate_file(os.path.join(*parts))))
    if where == target:  # a package's folder
        return True  # or a module's file: x.py, an extension x.cpython-311-x86_64-linux-gnu.so
    return os.path.dirname(where) == os.path.dirname(target) and os.path.basename(where).partition(".")[0] == parts[-1]


def _all_named(name: str) -> list[importlib.metadata.Distribution]:
    try:
        return list(importlib.metadata.distributions(name=name))
    except METADATA_ERRORS:
        return []


def _holder_names(top: str, state: tuple) -> list[str]:
    """The names of the distributions holding package ``top``: every one (pass 93: a fork installed over the same
    folder, tb-nightly over tensorboard's, did not count when a distribution was named after the package)."""
    return list(dict.fromkeys(_packages_distributions(state).get(top, ())))


@functools.lru_cache(maxsize=4096)
def _required(dist: str, state: tuple) -> str:
    """The installed distributions ``dist`` requires (its metadata's Requires-Dist, theirs in turn), each with its
    version: an installed plugin's code reaches its dependencies' constants, classes and functions, and theirs (pass
    91: a helper distribution's upgrade kept a plugin's run id). A plugin's count beyond those ganbench requires,
    which count in every run with ganbench's code (pass 93: they counted in none, so a torch upgrade kept every
    built-in's run id). Declare what a plugin uses."""
    own = _canonical(dist)
    base = _closure(OWN, state) if own != _canonical(OWN) else frozenset()
    if own in base:
        return ""
    found = []
    for name in sorted(_closure(dist, state) - base - {own}):
        facts = _facts(name, state)
        if facts is not None:
            found.append(f" requires {name} {facts[0]}")
    return "".join(found)


@functools.lru_cache(maxsize=4096)
def _facts(name: str, state: tuple) -> tuple[str, list[tuple[str, tuple[str, ...], Any]]] | None:
    """An installed distribution's version and requirements (name, extras asked for, marker), its metadata read and
    parsed once (None: not installed, or unreadable)."""
    from packaging.requirements import InvalidRequirement, Requirement

    versions, texts = set(), []
    for dist in _all_named(name):  # every one of the name on the path (pass 93: a leftover egg-info's version was
        try:  # read, not the upgraded dist-info's beside it)
            metadata = _headers(dist)
            version = metadata["Version"]
            if isinstance(version, str):
                versions.add(version)
                texts += list(metadata.get_all("Requires-Dist") or [])
        except METADATA_ERRORS:
            continue
    if not versions:
        return None
    version = " / ".join(sorted(versions))
    requirements = []
    for text in texts:
        try:
            requirement = Requirement(text)
        except (InvalidRequirement, *METADATA_ERRORS):
            continue
        requirements.append((requirement.name, tuple(sorted(requirement.extras)), requirement.marker))
    return version, requirements


@functools.lru_cache(maxsize=1024)
def _closure(dist: str, state: tuple) -> frozenset[str]:
    """``dist`` and the installed distributions it requires, transitively (by canonical name): requirements whose
    markers hold here, with the extras a requirement asks for (``helper[fast]``: pass 93) but not a distribution's
    own optional ones (pass 92: an optional extra, a Windows-only dependency counted; ganbench's test extra hid what
    plugins declared)."""
    found: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = [(dist, "")]
    while todo:
        name, extra = todo.pop()
        name = _canonical(name)
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        facts = _facts(name, state)
        if facts is None:
            continue  # not installed: nothing of it runs
        found.add(name)
        for required, extras, marker in facts[1]:
            try:
                if marker is None or marker.evaluate({"extra": extra}):
                    todo += [(required, e) for e in ("", *extras)]
            except METADATA_ERRORS:
                continue
    return frozenset(found)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=256)
def _editable_tops(dist: str, state: tuple) -> tuple[str, ...]:
    """The top-level packages of distribution ``dist`` if it is an editable install (``pip install -e``), else ()."""
    try:
        found = importlib.metadata.distribution(dist)
        direct = json.loads(found.read_text("direct_url.json") or "{}")
        editable = isinstance(direct, dict) and isinstance(direct.get("dir_info"), dict)
        if not editable or not direct["dir_info"].get("editable"):
            return ()
        return tuple(sorted(set((found.read_text("top_level.txt") or "").split())))
    except (*METADATA_ERRORS, json.JSONDecodeError, RecursionError):
        return ()


@functools.lru_cache(maxsize=16)
def _plugin_distributions(state: tuple) -> frozenset[str]:
    found = set()
    try:
        points = importlib.metadata.entry_points(group=OWN)
    except METADATA_ERRORS:
        return frozenset()
    for point in points:
        try:
            found.add(_canonical(_headers(point.dist)["Name"]))
        except (*METADATA_ERRORS, AttributeError):
            continue
    return frozenset(found)


@functools.lru_cache(maxsize=16)
def _packages_distributions(state: tuple) -> Mapping[str, list[str]]:
    """Top-level package -> the distributions holding it, read once (a second each: every distribution's files), as
    ``importlib.metadata.packages_distributions`` finds them, leaving out those whose metadata cannot be read."""
    found: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        try:
            name = _headers(dist)["Name"]
            tops = (dist.read_text("top_level.txt") or "").split() or _tops_in_record(dist)
        except (*METADATA_ERRORS, csv.Error):
            continue
        for top in tops if name else ():
            found.setdefault(top, []).append(name)
    return found


def _tops_in_record(dist: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules whose .py files a distribution's RECORD lists (read as text: ``dist.files`` makes an
    object of each of 26,000 lines, 0.4 s of each process's first run id), else of its files however listed."""
    record = dist.read_text("RECORD")
    if record is None:
        paths = [str(f) for f in dist.files or ()]
    else:
        paths = [row[0] for row in csv.reader(record.splitlines()) if row]
    tops = set()
    for path in paths:
        if path.endswith(".py"):
            parts = path.replace("\\", "/").split("/")
            tops.add(parts[0] if len(parts) > 1 else parts[0][:-3])
    return tops


def _headers(dist: importlib.metadata.Distribution) -> email.message.Message:
    """A distribution's metadata headers, without parsing its long description (numpy's is 40 KB: ``dist.metadata``
    parses all of it, 3 ms a distribution)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""  # "": an egg-info
    # that is a file, not a folder (distutils', Debian's: pass 95)
    return email.parser.HeaderParser().parsestr(text.replace("\r\n", "\n").split("\n\n", 1)[0])
