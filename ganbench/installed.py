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
import sysconfig
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


def roots() -> tuple[str, ...]:
    """Folders of installed libraries: this interpreter's, and every site-packages on the path (a venv made with
    --system-site-packages, the user site, a .pth's): the same torch counts as installed from any of them."""
    return _roots(tuple(sys.path))


@functools.cache
def _roots(path: tuple[str, ...]) -> tuple[str, ...]:
    found = [sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    found += [entry for entry in path if os.path.basename(entry) in ("site-packages", "dist-packages")]
    return tuple(dict.fromkeys(os.path.realpath(root) for root in found if root))


def holders_version(top: str, where: str | None = None) -> str | None:
    """Of the distributions holding package ``top`` (at ``where``, the folder or file Python loads it from, when
    given), each with its version and what it requires, or None when none holds it there (a copy of its own that
    shadows a distribution's: pass 93, credited to the distribution it shadowed)."""
    return _holders_version(top, _real(where), _path_state())


def part_version(top: str, inner: tuple[str, ...], where: str | None = None) -> str | None:
    """The distributions whose files hold part ``inner`` of namespace package ``top`` (``acme.core`` of acme-core,
    ``acme.other`` of acme-other) at ``where``, with their versions, or None when none holds it (pass 90: whichever
    was listed first counted; pass 93: an unowned part counted as another part's distribution)."""
    return _part_version(top, inner, _real(where), _path_state())


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
        names |= {name for name, root in _editable_roots(state) if _within(real, (root,))}
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


def required_packages(top: str, inner: tuple[str, ...] = ()) -> list[str]:
    """The top-level packages of what the distributions holding ``top`` (its namespace part ``inner``) require,
    transitively: the caller counts by their sources those Python loads from outside the installed folders, whatever
    their versions say (pass 93: an installed plugin's editable helper kept its run id when edited; pass 97: one
    without top_level.txt, a working copy ahead of the installed one on the path, a namespace part's)."""
    state = _path_state()
    held = _holding(top, inner, state) if inner else ()
    names = {_canonical(n) for n in (_names_of(held) if held else _holder_names(top, state))}
    required = set().union(*(_closure(n, state) for n in names)) - names if names else set()
    found = {package for name in required for package in _tops_of(state).get(name, ())}
    missing = set().union(*(_requirement_tree(n, state)[1] for n in names)) if names else set()
    found |= {name.replace("-", "_") for name in missing}  # none installed: a copy on the path (pass 98)
    editable = [root for name, root in _editable_roots(state) if _canonical(name) in required]
    return sorted(found | (_importable_under(tuple(editable)) if editable else set()))


@functools.lru_cache(maxsize=16)
def _tops_of(state: tuple) -> Mapping[str, list[str]]:
    """Distribution (canonical name) -> the top-level packages it holds."""
    found: dict[str, list[str]] = {}
    for top, names in _packages_distributions(state).items():
        for name in names:
            found.setdefault(_canonical(name), []).append(top)
    return found


def _names_of(dists: Any) -> list[str]:
    names = []
    for dist in dists:
        try:
            names.append(_headers(dist)["Name"])
        except METADATA_ERRORS:
            continue
    return [name for name in names if isinstance(name, str)]


def _importable_under(projects: tuple[str, ...]) -> set[str]:
    """The top-level packages an editable install without top_level.txt (hatchling's, flit's: a .pth naming its
    folder) provides: those loaded from its project folders ``projects``, and those importable from the folders on
    the path inside them (pass 97: such a dependency of an installed plugin's library was edited and kept the run
    id; pass 98: one the library imports in a function's body, not loaded yet)."""
    found, installed = set(), roots()  # not a library installed in a venv inside the project's folder
    for name, module in list(sys.modules.items()):
        if "." in name:
            continue
        where = getattr(module, "__file__", None)
        for path in [where] if isinstance(where, str) else list(getattr(module, "__path__", None) or ()):
            real = os.path.realpath(path) if isinstance(path, str) else ""
            if _within(real, projects) and not _within(real, installed):
                found.add(name)
    for entry in sys.path:
        real = os.path.realpath(entry or ".")
        if not _within(real, projects) or _within(real, installed):
            continue
        try:
            names = os.listdir(real)
        except OSError:
            continue
        found |= {n for n in names if n.isidentifier() and _package_folder(os.path.join(real, n))}
        found |= {n[:-3] for n in names if n.endswith(".py") and n[:-3].isidentifier() and n not in _NOT_MODULES}
    return found


def _package_folder(path: str) -> bool:
    """Whether ``path`` is a package's folder, or a namespace package's (a folder holding one)."""
    if os.path.isfile(os.path.join(path, "__init__.py")):
        return True
    try:
        return any(os.path.isfile(os.path.join(path, n, "__init__.py")) for n in os.listdir(path) if n.isidentifier())
    except OSError:
        return False


_NOT_MODULES = frozenset({"setup.py", "conftest.py", "noxfile.py"})
"""A project folder's scripts that no package imports."""


def _within(real: str, folders: tuple[str, ...]) -> bool:
    """Whether the real path ``real`` is one of ``folders`` or inside one."""
    return any(real == folder or real.startswith(folder + os.sep) for folder in folders)


def is_plugin(module: str) -> bool:
    """Whether module ``module`` (dotted) is held by a distribution that registers ganbench plugins (an entry point
    in group ``ganbench``): its code is a part's, held to the rules a local plugin's is (pass 93: an installed loss
    reading ``os.environ`` was not refused). In a package several distributions share (a namespace: ``acme.gan`` a
    plugin's, ``acme.utils`` a library's), by the distributions holding the deepest of its folders that any holds
    (pass 96, 97: the library's was refused as plugin code, one level deep, then two)."""
    top, *inner = module.split(".")
    return _is_plugin(top, tuple(inner), _path_state())


@functools.lru_cache(maxsize=4096)
def _is_plugin(top: str, inner: tuple[str, ...], state: tuple) -> bool:
    names = _holder_names(top, state)
    if len(names) > 1:
        held: tuple = ()
        for depth in range(len(inner), -1, -1):  # depth 0: the distributions holding ``top``'s own __init__.py
            held = _holding(top, inner[:depth], state)
            if held:
                break
        names = _names_of(held) or names  # none holds it (a copy of the user's): as before, by the package's holders
    plugins = _plugin_distributions(state)
    return any(_canonical(name) in plugins for name in names)


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
def _part_version(top: str, inner: tuple[str, ...], where: str | None, state: tuple) -> str | None:
    return _versions_of(_holding(top, inner, state), (top, *inner), where, state)


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
def _holding(top: str, inner: tuple[str, ...], state: tuple) -> tuple[importlib.metadata.Distribution, ...]:
    """The installed distributions whose files hold ``top.inner...`` (a subpackage, a module, an extension; ``()``:
    ``top``'s own ``__init__.py``)."""
    found = []
    for name in _holder_names(top, state):
        for dist in _all_named(name):
            try:
                files = [file.parts for file in dist.files or ()]
            except METADATA_ERRORS:
                continue
            if any(_holds_module(file, (top, *inner)) for file in files):
                found.append(dist)
    return tuple(found)


def _holds_module(file: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether an installed file (its path's parts) is module ``parts`` or in its folder: ``acme/gan/loss.py`` of
    ``(acme, gan)``; ``(acme,)``: only ``acme/__init__.py``."""
    if len(parts) == 1:
        return file[:2] == (parts[0], "__init__.py")
    last = len(parts) - 1
    return len(file) > last and file[:last] == parts[:last] and file[last].partition(".")[0] == parts[last]


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


def _closure(dist: str, state: tuple) -> frozenset[str]:
    """``dist`` and the installed distributions it requires, transitively (by canonical name): requirements whose
    markers hold here, with the extras a requirement asks for (``helper[fast]``: pass 93) but not a distribution's
    own optional ones (pass 92: an optional extra, a Windows-only dependency counted; ganbench's test extra hid what
    plugins declared)."""
    return _requirement_tree(dist, state)[0]


@functools.lru_cache(maxsize=1024)
def _requirement_tree(dist: str, state: tuple) -> tuple[frozenset[str], frozenset[str]]:
    """``_closure``'s distributions, and the names it requires that no installed distribution has."""
    found: set[str] = set()
    missing: set[str] = set()
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
            missing.add(name)  # not installed: what runs of it is a copy of the user's, if any
            continue
        found.add(name)
        for required, extras, marker in facts[1]:
            try:
                if marker is None or marker.evaluate({"extra": extra}):
                    todo += [(required, e) for e in ("", *extras)]
            except METADATA_ERRORS:
                continue
    return frozenset(found), frozenset(missing)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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
