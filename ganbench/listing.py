"""What ``ganbench list`` shows: every registered plugin object, its source and options, kept in a cache.

Building the listing imports every plugin, and with them torch (seconds). The listing depends
only on the code of the plugins and on which dataset files are on disk, so it is cached
(``<cache dir>/list.json``) under a key made of what decides it, read without importing a plugin:
the interpreter, the entry points of group ``ganbench`` with their
distributions' versions, the size and modification time of every source file of ganbench and of
each plugin's top-level package, and the folders of the data root (datasets appear there when
downloaded). Any change gives a new key and a fresh listing; a cache that cannot be read or
written is ignored. In a process that has loaded its plugins already (the Python API, tests that
register plugins at run time) the listing is built from them, never read from the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from ganbench.atomic import write_atomic
from ganbench.entry_points import ENTRY_POINT_GROUP
from ganbench.errors import GanbenchError
from ganbench.fingerprint import file_version
from ganbench.paths import cache_dir, check_entry_is_a_file, data_root

CACHE_FILE = "list.json"
MAX_CACHE_BYTES = 16 * 2**20
MAX_FILES = 20_000
"""Source files a key may stat; a plugin package larger than this is listed afresh every time."""
DATA_DEPTH = 3
"""Folder levels under the data root whose modification times enter the key (MNIST/raw/...)."""
OPTION_FLAGS = {"variants": "--set ", "datasets": "--set dataset.", "networks": "--set network.",
                "executors": "--executor-option "}  # fmt: skip
"""How each kind's options are set on the command line; the other kinds have none."""


def listing() -> dict[str, list[dict[str, Any]]]:
    """Every kind's entries (name, plugin, source, version, about, details, options), from the cache if its key
    still holds, else built from the plugins (and cached)."""
    plugins = sys.modules.get("ganbench.plugins")  # imported, it would import torch; not imported, none loaded
    if plugins is not None and plugins.loaded():
        return build_listing()
    key = cache_key()
    path = cache_dir() / CACHE_FILE
    if key is not None:
        cached = _read(path)
        if cached is not None and cached.get("key") == key and cached.get("sha256") == _digest(cached.get("listing")):
            if _renders(cached["listing"]):  # as written: a damaged or edited listing is built again
                return cached["listing"]
    built = build_listing()
    if key is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"key": key, "sha256": _digest(built), "listing": built}, allow_nan=False)
            write_atomic(path, lambda f: f.write(text.encode()))
        except (OSError, ValueError):  # a read-only or full cache: the listing is still right, only slower
            pass
    return built


def _renders(listed: Any) -> bool:
    """Whether a cached listing has the shape ``render`` reads (an edit that recomputed the sha256 may not)."""
    try:
        render(listed)
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    return isinstance(listed, dict) and all(isinstance(entries, list) for entries in listed.values())


def _digest(listing: Any) -> str:
    """The sha256 of a listing as JSON (keys sorted): what the cache entry must match to be used."""
    try:
        return hashlib.sha256(json.dumps(listing, sort_keys=True, allow_nan=False).encode()).hexdigest()
    except (ValueError, TypeError, RecursionError):  # NaN, or deeper than JSON can be written: not a listing
        return ""


def _read(path: Path) -> dict[str, Any] | None:
    try:
        check_entry_is_a_file(path)  # a FIFO would block forever: dropped (an empty folder too), so a good one follows
        if path.stat().st_size > MAX_CACHE_BYTES:
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def cache_key() -> str | None:
    """A sha256 of what the listing depends on (see the module's docstring), or None when it cannot be told
    cheaply (a plugin package of more than MAX_FILES files)."""
    points = sorted(
        (ep.name, ep.value, ep.dist.name if ep.dist else "", ep.dist.version if ep.dist else "")
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    )
    packages = {"ganbench"} | {value.split(":")[0].split(".")[0] for _, value, _, _ in points}
    files: list[tuple[str, int, int, int, int]] = []
    for package in sorted(packages):
        found = _source_files(package, MAX_FILES - len(files))
        if found is None:
            return None
        files += found
    parts = {
        "python": [sys.version, sys.prefix],
        "entry_points": points,
        "files": files,
        "data": _folder_times(data_root(), DATA_DEPTH),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _source_files(package: str, limit: int) -> list[tuple[str, int, int, int, int]] | None:
    """(path, ``file_version``) of the .py files of a top-level module or package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)  # a top-level name: found, not imported (editable finders too)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return [(package, 0, 0, 0, 0)]  # not importable now: the listing fails the same way each time
    roots = list(spec.submodule_search_locations or []) or [spec.origin or package]
    found: list[tuple[str, int, int, int, int]] = []
    for root in roots:
        paths = [root] if os.path.isfile(root) else _walk_py(root)
        for path in paths:
            try:
                found.append((path, *file_version(path)))
            except OSError:
                continue
            if len(found) > limit:
                return None
    return sorted(found)


def _walk_py(root: str) -> list[str]:
    paths = []
    for folder, _, names in os.walk(root):
        paths += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    return paths


def _folder_times(root: Path, depth: int) -> list[tuple[str, int, int, int, int]]:
    """(path, ``file_version``) of ``root``, its folders ``depth`` levels down and the files in them: files added,
    removed, or changed in place (a truncated archive, one copied over) show. At most 1000 entries a level."""
    found: list[tuple[str, int, int, int, int]] = []
    level = [str(root)]
    for _ in range(depth + 1):
        below: list[str] = []
        for folder in level:
            try:
                found.append((folder, *file_version(folder)))
                with os.scandir(folder) as entries:
                    for entry in sorted(entries, key=lambda e: e.name)[:1000]:
                        if entry.is_dir(follow_symlinks=False):
                            below.append(entry.path)
                        elif entry.is_file():
                            found.append((entry.path, *file_version(entry.path)))
            except OSError:
                continue
        level = below[:1000]
    return found


def build_listing() -> dict[str, list[dict[str, Any]]]:
    """The listing from the loaded plugins (imports them all)."""
    from ganbench.plugins import registries

    built = {
        kind.removeprefix("register_"): [
            {
                "name": e.obj.name,
                "plugin": e.plugin,
                "source": e.source,
                "version": e.version,
                "about": _about(e.obj),
                **_details(e.obj),
                "options": _options(e.obj) if kind.removeprefix("register_") in OPTION_FLAGS else {},
            }
            for e in reg
        ]
        for kind, reg in registries().by_hook().items()
    }
    built["loggers"] = _loggers()
    return built


def render(listed: dict[str, list[dict[str, Any]]]) -> str:
    """The listing as `ganbench list` prints it: per kind, one line per entry, then its details and options."""
    from ganbench.options import cli_text

    lines = []
    for kind, entries in listed.items():
        lines.append(f"{kind}:")
        width = max((len(e["name"]) for e in entries), default=0)
        for e in entries:
            lines.append(f"  {e['name'].ljust(width)}  {e['source']} {e['version']}  {e['about']}")
            lines += [f"  {' ' * width}    {line}" for line in (e.get("summary") or "").splitlines()]
            if e["options"] and kind in OPTION_FLAGS:
                flag = OPTION_FLAGS[kind]
                prefix = flag.split(" ", 1)[1]
                shown = " ".join(f"{prefix}{k}={cli_text(v)}" for k, v in e["options"].items())
                lines.append(f"  {' ' * width}    options ({flag.split(' ')[0]}): {shown}")
    return "\n".join(lines)


def _loggers() -> list[dict[str, Any]]:
    """The plugins that see a run's progress (``on_run_start``/``on_step_end``/``on_run_end``): the loggers."""
    from ganbench.plugins import plugin_manager, plugin_origins

    pm, origins = plugin_manager(), plugin_origins()
    names: dict[str, Any] = {}
    for hook in ("on_run_start", "on_step_end", "on_run_end"):
        for impl in getattr(pm.hook, hook).get_hookimpls():
            names.setdefault(impl.plugin_name, impl.plugin)
    entries = []
    for name, plugin in sorted(names.items()):
        source, version = origins.get(name, (name, "runtime"))
        doc = (getattr(plugin, "__doc__", None) or "").strip().split("\n\n")[0]
        about = " ".join(doc.split())
        entries.append({"name": name.rsplit(".", 1)[-1], "plugin": name, "source": source, "version": version,
                        "about": about, "options": {}})  # fmt: skip
    return entries


def _options(obj: Any) -> dict[str, Any]:
    """A plugin object's options and their values (none for objects that are not option dataclasses)."""
    from ganbench.options import options_of

    return options_of(obj) if dataclasses.is_dataclass(obj) else {}


def _about(obj: Any) -> str:
    return getattr(obj, "paper", "") or getattr(obj, "description", "") or ""


def _files_of_splits(dataset: Any, available: bool | None) -> str:
    """Whether a dataset's files are present, per split where it has a ``split`` option of several choices (the
    default split's files alone said "files missing" of a data root holding the test split)."""
    import typing

    from ganbench.options import option_types, with_options

    words = {True: "files present", False: "files missing", None: "embedded"}
    splits = typing.get_args(option_types(dataset).get("split"))
    if available is None or len(splits) < 2:
        return words[available]
    present = []
    for split in splits:
        try:
            present.append(
                with_options(dataset, {"split": split}, "").available() if split != dataset.split else available
            )
        except GanbenchError:
            present.append(False)
    return "; ".join(
        f"{split} split {'present' if there else 'missing'}" for split, there in zip(splits, present, strict=True)
    )


def _details(obj: Any) -> dict[str, Any]:
    """What `list` shows beyond the name: a dataset's shape, classes and files; a metric's spaces and outputs."""
    from ganbench.dataset import Dataset
    from ganbench.metric import Metric
    from ganbench.plugins import registries
    from ganbench.variant import Variant

    if isinstance(obj, Dataset):
        try:
            shape, classes = list(obj.shape), obj.n_classes
        except GanbenchError:  # a prototype that needs an option first (a path) has no shape yet
            shape, classes = None, None
        available = obj.available()
        budget = f"{obj.default_steps:,} steps unless --steps"
        if shape is None:  # the prototype of data a user names (`-d PATH`): neither embedded nor unlabelled
            summary = f"shape, classes and files from the data named, {budget}"
        else:
            text = f"{'x'.join(map(str, shape))}, {f'{classes} classes' if classes else 'unlabelled'}"
            summary = f"{text}, {_files_of_splits(obj, available)}, {budget}"
        return {
            "shape": shape,
            "classes": classes,
            "available": available,
            "default_steps": obj.default_steps,
            "summary": summary,
        }
    if isinstance(obj, Metric):
        spaces = [s for s in obj.spaces if s in registries().spaces()]
        outputs = obj.output_names(tuple(spaces) or None)
        where = f"in {', '.join(spaces)} space" if spaces else "on the samples"
        return {"spaces": spaces, "outputs": outputs, "summary": f"{where}: {', '.join(outputs)}"}
    if isinstance(obj, Variant):
        lines = [f"class-conditional ({obj.conditioning})"] if obj.conditional else []
        applied = {kind: obj.defaults_for(kind) for kind in obj.defaults}  # less what a derived variant changed
        for kind, defaults in applied.items():
            lines += [f"on {kind}: {_settings(defaults)}", f"  source: {defaults.source}"]
        lines.append(f"{'elsewhere' if obj.defaults else 'on any data'}: its own options on the dataset's network")
        defaults = {
            kind: {
                "options": {k: list(v) if isinstance(v, tuple) else v for k, v in d.options.items()},
                "network": d.network,
                "network_options": dict(d.network_options),
                "source": d.source,
            }
            for kind, d in applied.items()
        }
        return {"conditional": obj.conditional, "defaults": defaults, "summary": "\n".join(lines)}
    return {}


def _settings(defaults: Any) -> str:
    """Per-kind defaults in one line, as --set would write them."""

    from ganbench.options import cli_text

    parts = [f"{k}={cli_text(v)}" for k, v in defaults.options.items()]
    if defaults.network:
        parts.append(f"network {defaults.network}")
        parts += [f"network.{k}={cli_text(v)}" for k, v in defaults.network_options.items()]
    return " ".join(parts) or "the variant's own options"
