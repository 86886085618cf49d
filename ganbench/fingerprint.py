"""What a run's result depends on beyond its options: the code of the parts that compute it.

A variant's losses, a network's and a dataset's classes, the metrics and feature extractors
are plugins' code; two versions of a plugin registered under one name must not share a run
id, or the second would be handed the first one's record. A part's fingerprint is its
providing distribution and version and a sha256 of its code:

- the registered object itself (a dataset's means, a network's layers as its fields say)
  and the plugin that registered it;
- code in a file outside the installed libraries (a working copy, an editable install,
  a plugin beside the script): the source of every module of its top-level package (a loss
  in ``myplug/losses.py`` calling ``myplug/helpers.py`` changes with either; a built-in with
  any module of ganbench, the training loop included, which decides results too), and the
  values of the globals its functions name (another module's helper, a module constant);
- code of an installed distribution (site-packages, the standard library): its name and
  version (torch 2.14.1), which pip changes when the code changes;
- code without a file (a notebook cell, ``exec``): its bytecode, constants, default
  arguments, closure values and the globals it names, fingerprinted the same way;
- values bound to it (``functools.partial``'s arguments, a closure's objects) and the globals it names: their
  type's code and what of their contents ``fingerprint_values`` follows, never a repr holding a memory address,
  so the same code gives the same id in every process.

An edit anywhere in that code gives new run ids (runs are trained again, never returned
stale), and tables keep runs of different code apart.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import dis
import functools
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import types
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ganbench import installed
from ganbench.fingerprint_values import (
    ADDRESS,
    DROPPED,
    Unordered,
    _outside,
    declared_state,
    is_a_reader,
    is_local,
    is_tensor,
    kept,
    qualname,
    reader_name,
    without_dropped,
)

MAX_CODE_DEPTH = 160
"""How deep the hasher follows code and values (a helper's helper's constant: two levels a function); deeper is
refused in one line, never cut off (pass 83: a constant six helpers down kept its run id when changed)."""


_LISTINGS: contextvars.ContextVar[dict[str, tuple] | None] = contextvars.ContextVar("listings", default=None)


@contextlib.contextmanager
def files_listed_once() -> Iterator[None]:
    """Within it, each package's files are listed and stat'ed once (a spec fingerprints several parts)."""
    token = _LISTINGS.set({} if _LISTINGS.get() is None else _LISTINGS.get())
    try:
        yield
    finally:
        _LISTINGS.reset(token)


def fingerprint(source: str, version: str, code: Iterable[Any]) -> str:
    """``"<distribution> <version> <sha256 of the code, 16 hex digits>"`` for a part made of ``code``
    (functions, classes or objects)."""
    digest = hashlib.sha256()
    try:
        for thing in code:
            hasher = _Hasher()
            digest.update(hasher.bytes_of(thing) + hasher.held_values())
    except RecursionError:
        from ganbench.errors import GanbenchError

        raise GanbenchError(
            f"the code of {source}'s part calls or holds values nested deeper than Python can follow; keep what "
            "its losses read in their options (or in constants, a dict or a dataclass)"
        ) from None
    return f"{source} {version} {digest.hexdigest()[:16]}"


class _Hasher:
    """Bytes that stand for a value's code and contents; each package's sources are hashed once."""

    def __init__(self) -> None:
        self.packages: dict[str, bytes] = {}  # top-level package -> what stands for it, the same each time: the
        # order a hasher meets packages in follows sets, which PYTHONHASHSEED orders (pass 81: a short form after
        # the first meeting gave one plugin two run ids, by process)
        self.seen: set[int] = set()
        self.code: dict[int, tuple[Any, bytes]] = {}  # id of a function or class -> (it, its bytes): a class met
        # for each of 20,000 instances is hashed once (pass 83: 24 s a spec)
        self.cycles = 0
        self.held_modules: dict[str, types.ModuleType] = {}  # the user's modules met, named or held (an object's
        # attribute): the values of theirs that any code followed names count (pass 98, 99: ``self.cfg.S``)
        self.names_read: set[str] = set()

    def bytes_of(self, thing: Any, depth: int = 0) -> bytes:
        if type(thing) is int:  # in hex: no digit limit (pass 84: 2**20000 was a ValueError of str())
            return f"int:{thing:x};".encode()
        if thing is None or isinstance(thing, (bool, int, float, complex, str, bytes)):
            return f"{type(thing).__name__}:{thing!r};".encode()
        if id(thing) in self.seen:  # a cycle: what holds it is not memoized (its bytes depend on where one began)
            self.cycles += 1
            return f"<{qualname(type(thing))}>".encode()
        if depth > MAX_CODE_DEPTH:
            from ganbench.errors import GanbenchError

            raise GanbenchError(
                f"the code a run computes with calls or holds values nested more than {MAX_CODE_DEPTH} levels deep "
                f"(down to a {qualname(type(thing))}); keep what its losses read in their options"
            )
        memo = self.code.get(id(thing)) if isinstance(thing, (types.FunctionType, type)) else None
        if memo is not None and memo[0] is thing:
            return memo[1]
        self.seen.add(id(thing))
        cycles = self.cycles
        try:
            made = self._compound(thing, depth + 1)
        finally:
            self.seen.discard(id(thing))
        if isinstance(thing, (types.FunctionType, type)) and self.cycles == cycles:
            self.code[id(thing)] = (thing, made)
        return made

    def held_values(self) -> bytes:
        """The values of the user's modules met (named, or held where no one can tell who reads them: an object's
        attribute) that any code followed names, once nothing new is met (pass 99: a value the module computed at
        import that no code reads, time.time(), gave another id in every process)."""
        while True:
            names, modules = set(self.names_read), dict(self.held_modules)
            values: dict[str, Any] = {}
            for name in sorted(modules):
                _module_values(f"module {name}", modules[name], names, values)
            made = self.bytes_of(values)  # may meet more modules and names: again, until none
            if names == self.names_read and modules.keys() == self.held_modules.keys():
                return made

    def _compound(self, thing: Any, depth: int) -> bytes:
        if isinstance(thing, (tuple, list)) and not isinstance(thing, Unordered):
            return b"[" + b"".join(self.bytes_of(x, depth) for x in thing) + b"]"
        if isinstance(thing, (set, frozenset, Unordered)):
            return b"{" + b"".join(sorted(self.bytes_of(x, depth) for x in thing)) + b"}"
        if isinstance(thing, dict):
            items = sorted((self.bytes_of(k, depth), self.bytes_of(v, depth)) for k, v in thing.items())
            return b"{" + b"".join(k + b":" + v for k, v in items) + b"}"
        if isinstance(thing, functools.partial):  # its arguments as a function's defaults count (pass 83: a logger)
            return b"partial" + self.bytes_of(kept(thing, lambda: f"an argument of {thing!r}"[:200]), depth)
        if isinstance(thing, types.ModuleType):
            local = is_local(thing)
            if sys.modules.get(thing.__name__) is not thing and local:  # loaded beside the import system
                package = f"module {thing.__name__} ".encode() + _module_digest(thing)  # (torch's
            else:  # cpp_extension.load): its own files (pass 90)
                package = self._package(thing.__name__) or thing.__name__.encode()
            if local and not _in_ganbench_files(thing):
                self.held_modules.setdefault(thing.__name__, thing)
            return package
        if isinstance(thing, np.ndarray) or is_tensor(thing):
            return self._array(thing, depth)
        if isinstance(thing, os.PathLike):  # a path's slots cache per-process hashes; its text is what it is
            return f"{qualname(type(thing))}:{os.fspath(thing)!r};".encode()
        if isinstance(thing, types.MethodType):  # its object as a global's is (pass 84: a logger's, a memo's)
            held = kept(thing.__self__, lambda: f"the object whose method {thing.__func__.__qualname__} is a loss")
            return self.bytes_of(thing.__func__, depth) + self.bytes_of(held, depth)
        if isinstance(thing, _BUILT_IN):  # C code (math.sqrt, tuple.__new__, str.join): its library's version
            return _built_in(thing)  # fixes it (pass 87: followed as an object, it walked every builtin type)
        if isinstance(thing, types.FunctionType) and _installed(thing):  # by its code's file: functools.wraps gives
            return self._library_function(thing, depth) + self._attributes(thing, depth)  # its caller's module
        if isinstance(thing, (types.FunctionType, type)):
            in_file = self._package(thing.__module__ or "") if _from_its_file(thing) else b""
            wrapped = getattr(thing, "__wrapped__", None)
            extra = self.bytes_of(wrapped, depth) if wrapped is not None else b""
            if in_file:  # which of the file's classes or functions it is: two of one file are not one code
                in_file += f"{qualname(thing)};".encode()
                if isinstance(thing, types.FunctionType):  # every lambda is "<lambda>": its code tells them apart
                    in_file += self._code(thing.__code__, depth)
            if in_file and _installed(thing):  # an installed library's: its name and version (pass 83: deepcopy's
                uses = _class_libraries(thing) if isinstance(thing, type) else b""  # globals reached tokenize's,
                return in_file + extra + self._attributes(thing, depth) + uses  # set-ordered)
            if in_file and isinstance(thing, type):  # its file fixes its source; a session may set its values, and
                methods = not _in_ganbench(thing)  # its methods' globals, defaults and closures count as a function's
                settings = {  # (pass 87: a method set at run time, a global SCALE a method read kept the run id; os.
                    k: _method_code(v) if _is_method(v) else _class_value(thing, k, v)  # environ in a method was
                    for k, v in vars(thing).items()  # not refused); not ganbench's own classes', whose methods read
                    if not _is_method(v) and not k.startswith("__") or methods and _is_method(v)  # its memos and
                }  # scoped settings (ContextVars), and whose code is its package's sources
                bases = self.bytes_of(thing.__bases__, depth)  # what it inherits, by the same rules (pass 88: a
                return in_file + extra + self.bytes_of(without_dropped(settings), depth) + bases  # base's forward)
            if in_file:  # its module's package fixes the code; defaults, closure and named globals may vary
                return in_file + extra + self._bound_values(thing, depth) + self._named_globals(thing, depth)
            return self._without_file(thing, depth) + extra
        if isinstance(thing, types.CodeType):
            return self._code(thing, depth)
        return self._object(thing, depth)

    def _array(self, thing: Any, depth: int) -> bytes:
        """An array's or tensor's dtype, shape and values: of an object array its items (its bytes are pointers:
        another id in every process), of a tensor numpy cannot take (bfloat16, float8, sparse) its raw bytes, of
        one that holds none (meta) its kind alone (pass 82: each was a traceback or a new id per process)."""
        if isinstance(thing, np.ndarray):
            if thing.dtype.hasobject:
                return f"array{thing.dtype}{thing.shape}".encode() + self.bytes_of(thing.tolist(), depth)
            array = np.ascontiguousarray(thing)
            head = f"array{array.dtype}{array.shape}".encode()
            if isinstance(thing, np.ma.MaskedArray):  # which values count is its mask's (pass 83)
                head += b"mask" + self.bytes_of((np.ma.getmaskarray(thing), thing.fill_value), depth)
            return head + hashlib.sha256(array.tobytes()).digest()
        if getattr(thing, "is_nested", False):  # its parts (pass 85: a RuntimeError, exit 1)
            return b"nested" + self.bytes_of(list(thing.unbind()), depth)
        if isinstance(thing, _torch().nn.parameter.UninitializedTensorMixin):  # a lazy module's, before its first call
            return f"uninitialized {type(thing).__name__}".encode()
        thing = thing.resolve_neg().resolve_conj() if thing.layout == _torch().strided else thing  # a view's sign
        head = f"tensor{thing.dtype}{tuple(thing.shape)}{thing.layout}".encode()
        if thing.is_quantized:  # its scales and zero points turn its integers into values (pass 86)
            head += self.bytes_of(_quantization(thing), depth)
        try:
            dense = thing.detach().cpu().to_dense() if thing.layout != _torch().strided else thing.detach().cpu()
            flat = dense.reshape(-1).clone(memory_format=_torch().contiguous_format)  # a 1-element view of stride 2
            raw = flat.view(_torch().uint8).numpy().tobytes()  # is "contiguous" yet cannot be viewed (pass 86)
        except (RuntimeError, TypeError, NotImplementedError):  # meta, quantized: no values to read
            return head + b"<no values>"
        return head + hashlib.sha256(raw).digest()

    def _object(self, thing: Any, depth: int) -> bytes:
        """An instance: a registered part (a dataclass) by its type's code and all its fields; any other object (a
        loss that is an object, the plugin holding a part) as a global's value is (pass 84: a progress bar it held
        gave an id per process, a memo it filled a new id after its first run)."""
        if not dataclasses.is_dataclass(thing) and not isinstance(thing, np.generic):
            held = kept(thing, lambda: f"a {qualname(type(thing))} object that a run's code is made of")
            if held is not thing:
                return self.bytes_of(held, depth)
        head = self.bytes_of(type(thing), depth)
        state = declared_state(thing)
        if state is not None:
            return head + self.bytes_of(state, depth)
        try:  # what pickling would keep (slots may hold caches, such as a per-process hash)
            reduced = thing.__reduce_ex__(4)
        except Exception:  # noqa: BLE001 - anything that cannot be pickled is described by its repr
            reduced = None
        if isinstance(reduced, tuple) and len(reduced) > 1:
            return head + self.bytes_of(reduced[1:], depth)
        return head + ADDRESS.sub("", repr(thing)).encode()

    def _bound_values(self, function: types.FunctionType, depth: int) -> bytes:
        cells = tuple(_cell_value(c) for c in function.__closure__ or ())

        def of(value: Any, what: str) -> Any:
            return kept(value, lambda: f"{what} of {_named(function)}")

        defaults = [of(v, "a default argument") for v in function.__defaults__ or ()]
        keywords = {k: of(v, f"the default of {k}") for k, v in (function.__kwdefaults__ or {}).items()}
        values = (defaults, keywords, [of(v, "a value in the closure") for v in cells])
        held = (*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values(), *cells)
        modules: dict[str, Any] = {}  # a local module held, not named: what the function reads of it (pass 87)
        for module in (v for v in held if isinstance(v, types.ModuleType)):
            _module_values(f"held {module.__name__}", module, _attribute_names(function), modules)
        self.names_read |= _names(function.__code__)
        values_bytes = self.bytes_of(values, depth) + (self.bytes_of(modules, depth) if modules else b"")
        return values_bytes + self._attributes(function, depth)

    def _without_file(self, thing: Any, depth: int) -> bytes:
        """Code made at run time: a function's bytecode, defaults, closure and the globals it names;
        a class's own attributes."""
        if isinstance(thing, type):  # every method (pass 81: __call__, staticmethods, properties were left out)
            own = {
                k: _method_code(v) if _is_method(v) else _class_value(thing, k, v)
                for k, v in vars(thing).items()
                if k not in _MADE_FOR_EVERY_CLASS and not _generated_by_attrs(v)
            }  # a class attribute as a global is (pass 83: a memo filled, a logger's cache moved the run id)
            own = without_dropped(own)
            bases = (thing.__bases__, type(thing)) if type(thing) is not type else thing.__bases__  # a metaclass's
            return qualname(thing).encode() + self.bytes_of(own, depth) + self.bytes_of(bases, depth)  # (pass 87)
        return self._code(thing.__code__, depth) + self._bound_values(thing, depth) + self._named_globals(thing, depth)

    def _library_function(self, function: types.FunctionType, depth: int) -> bytes:
        """A function of an installed library (contextlib's decorator wrapper too, pass 84): the library's name and
        version, where and what the function is, the function it wraps and the values its closure holds (the
        arguments a wrapper was made with) and the other installed libraries its code names; not its globals, which
        are the library's state."""
        module = _library_module(function.__code__.co_filename)
        top = module.partition(".")[0]
        wrapped = getattr(function, "__wrapped__", None)
        head = f"library {_installed_version(module)} {top} {function.__qualname__};".encode()
        where_named = lambda: f"a value in the closure of {_named(function)}"  # noqa: E731
        cells = [kept(_cell_value(c), where_named) for c in function.__closure__ or ()]  # a wrapper it made holds
        closure = self.bytes_of(without_dropped(dict(enumerate(cells))), depth) if cells else b""  # its arguments:
        code = self._code(function.__code__, depth)  # vmap's in_dims, grad's argnums (pass 87)
        uses = _libraries_named(function, top)
        return head + code + (self.bytes_of(wrapped, depth) if wrapped else b"") + closure + uses

    def _attributes(self, function: Any, depth: int) -> bytes:
        """A function's attributes (``g_loss.scale = 5.0``, singledispatch's registry) as its defaults count (pass 84:
        set at run time, they kept its run id); its ``__wrapped__`` is followed as code."""
        own = {
            k: v
            for k, v in (getattr(function, "__dict__", None) or {}).items()
            if k != "__wrapped__" and not k.startswith(_BOOKKEEPING)
        }
        if not isinstance(function, types.FunctionType) or not own:
            return b""
        values = {k: kept(v, lambda k=k: f"the attribute {k} of {_named(function)}") for k, v in own.items()}
        return b"attributes" + self.bytes_of(without_dropped(values), depth)

    def _named_globals(self, function: types.FunctionType, depth: int) -> bytes:
        """The values of the module globals a function names: a helper imported from a sibling module,
        a constant its caller may have changed."""
        code = getattr(function, "__code__", None)
        if code is None:
            return b""
        if _ganbench_code(function):  # ganbench's own: its package's sources count; its modules' state (the registries
            return b""  # of every plugin's parts, caches) does not, as an installed library's (pass 91: a plugin
        refuse_reads_by_name(function)  # deriving with get_variant counted every other plugin installed)
        scope, names = function.__globals__, _names(code)
        named = {
            n: kept(scope[n], lambda n=n: f"the global {n} that {_named(function)} reads")
            for n in sorted(names)
            if n in scope
        }
        named = without_dropped(named)
        for name in _imported(code, scope.get("__package__")):  # `import helpers` in its body (pass 84: kept a stale
            module = sys.modules.get(name)  # id), `from .helpers import x` too, loaded or not yet (pass 90)
            if isinstance(module, types.ModuleType):
                if name != "__main__" and is_local(module):
                    named[f"import {name}"] = module
                elif name != "__main__" and not _is_namespace(module):  # an installed one, loaded: its version
                    named[f"import {name}"] = f"library {_installed_version(name)}"  # (pass 91: only unloaded ones)
            elif (unloaded := _unloaded_sources(name)) is not None:
                named[f"import {name}"] = unloaded
        attributes = _attribute_names(function)  # getattr(consts, "SCALE") as consts.SCALE (pass 97)
        self.names_read |= attributes
        for name, value in list(named.items()):
            inside = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
            for module in [value, *inside]:  # a module named, or held in a dict or list named (MODS["c"].SCALE)
                if isinstance(module, types.ModuleType):
                    _module_values(name if module is value else f"{name} {module.__name__}", module, attributes, named)
        return self.bytes_of(named, depth)

    def _code(self, code: types.CodeType, depth: int) -> bytes:
        return code.co_code + self.bytes_of(code.co_consts, depth) + repr(code.co_names).encode()

    def _package(self, module_name: str) -> bytes:
        """The sources of every module of ``module_name``'s top-level package (once per hasher), of a namespace
        package's part, or b"" when it has none on disk (built in, ``__main__`` of ``-c``, made at run time)."""
        top = _below_namespaces(module_name)
        if _is_namespace(sys.modules.get(top)):  # a namespace shared by distributions: its parts count, each by its
            return f"namespace {top};".encode()  # own (pass 90)
        if top not in self.packages:
            self.packages[top] = self._package_bytes(top)
        return self.packages[top]

    def _package_bytes(self, top: str) -> bytes:
        module = sys.modules.get(top)
        if module is None:
            return b""
        if not is_local(module):
            return f"package {top} {_installed_version(top)};".encode()
        listings = _LISTINGS.get()
        signature = listings.get(top) if listings is not None else None
        if signature is None:  # once per listing: a spec's parts are hashed by many hashers, each meeting ganbench
            signature = tuple(_versions(_package_files(module)))
            _refuse_edited_since_imported(top, signature)
            if listings is not None:
                listings[top] = signature
        if not signature:  # none to list: a package in a zip (a zipped egg, a .whl on the path) by the archive
            archive = _archive_holding(module)  # (pass 96: a rebuilt zipped plugin kept its run id)
            return f"package {top} archive {file_sha256(archive)}".encode() if archive is not None else b""
        required = installed.requirements(top, _location(module))  # an editable install's (ganbench's own:
        return f"package {top} ".encode() + _sources_digest(signature) + required.encode()  # torch's, pass 93)


_loaded_sources: dict[tuple[str, str], tuple[int, tuple[int, ...], str]] = {}
"""(module name, its file) -> (id of its module spec, the file's ``file_version`` and sha256) when a fingerprint
first read it in this process: a later fingerprint of another file there means the code that runs is not it."""


def _quantization(tensor: Any) -> tuple[Any, ...]:
    if tensor.qscheme() in (_torch().per_tensor_affine, _torch().per_tensor_symmetric):
        return (str(tensor.qscheme()), tensor.q_scale(), tensor.q_zero_point())
    return (
        str(tensor.qscheme()),
        tensor.q_per_channel_scales(),
        tensor.q_per_channel_zero_points(),
        tensor.q_per_channel_axis(),
    )


def _refuse_edited_since_imported(top: str, signature: tuple[tuple[Any, ...], ...]) -> None:
    """GanbenchError if a loaded module of package ``top`` has changed on disk since this process first
    fingerprinted it: the run id would be the new file's, the run the old code's (pass 80: a session that edited a
    constant in a sibling module recorded the old code's result under the new id, and a fresh process was handed
    it). A module reloaded since (``importlib.reload``, or imported again) has a new spec: its file is what runs."""
    from ganbench.errors import GanbenchError, shell_path

    versions = {path: tuple(version) for _, path, *version in signature}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) if name == top or name.startswith(f"{top}.") else None
        version = versions.get(path) if isinstance(path, str) else None
        if version is None:
            continue
        spec = id(getattr(module, "__spec__", None))
        seen = _loaded_sources.get((name, path))
        if seen is None or seen[0] != spec:
            _loaded_sources[name, path] = spec, version, file_sha256(Path(path))
        elif seen[1] != version and file_sha256(Path(path)) != seen[2]:
            again = "run it again" if name == "__main__" else f"start Python again, or importlib.reload({name})"
            raise GanbenchError(  # (reload(__main__) fails: a script is run again)
                f"module {name} ({shell_path(path)}) changed on disk since this Python session loaded it, so a run "
                f"would compute with the code loaded but be recorded under the edited code's run id; {again}"
            )
        else:
            _loaded_sources[name, path] = spec, version, seen[2]


_MADE_FOR_EVERY_CLASS = frozenset(
    {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__", "__static_attributes__"}
    | {"__dataclass_fields__", "__dataclass_params__"}  # what a dataclass's generated __init__'s code holds too
)


_BUILT_IN = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
    types.MethodWrapperType,
)


def _built_in(thing: Any) -> bytes:
    """A function written in C as its module, name and library version say."""
    owner = getattr(thing, "__objclass__", None) or getattr(thing, "__self__", None)
    if isinstance(owner, types.ModuleType):
        module = owner.__name__
    else:
        module = getattr(thing, "__module__", None) or getattr(
            owner if isinstance(owner, type) else type(owner), "__module__", None
        )
    module = module if isinstance(module, str) and module else "builtins"
    loaded = owner if isinstance(owner, types.ModuleType) else sys.modules.get(module)  # its module, not its name,
    if isinstance(loaded, types.ModuleType) and getattr(loaded, "__file__", None) and is_local(loaded):  # which may
        built = _module_digest(loaded)  # differ from its file's (pass 91): a local extension (torch's
        return f"builtin {module}.{thing.__qualname__} ".encode() + built  # cpp_extension.load,
    return f"builtin {_installed_version(module)} {module}.{thing.__qualname__};".encode()  # StyleGAN2's ops, pass 90)


def _generated_by_attrs(value: Any) -> bool:
    """Whether a method is one attrs wrote from the class's fields (which count as its ``__attrs_attrs__``): its
    ``__hash__`` holds ``hash()`` of a text, another in every process (pass 87)."""
    code = getattr(value, "__code__", None)
    return isinstance(code, types.CodeType) and code.co_filename.startswith("<attrs generated")


def _is_method(value: Any) -> bool:
    return isinstance(value, (types.FunctionType, staticmethod, classmethod, property))


def _method_code(value: Any) -> Any:
    """A class attribute with the functions a staticmethod, classmethod or property holds brought out."""
    if isinstance(value, (staticmethod, classmethod)):
        return (type(value).__name__, value.__func__)
    if isinstance(value, property):
        return ("property", value.fget, value.fset, value.fdel)
    return value


def _from_its_file(thing: types.FunctionType | type) -> bool:
    """Whether a function or class is what its module's file defines, so that the file identifies it: not code a
    string made (``exec``: a class there is "builtins'"), nor what a module held before a reload (pass 81: the
    class a plugin imported, hashed by the file reloaded since)."""
    if isinstance(thing, types.FunctionType) and not os.path.isfile(thing.__code__.co_filename):
        return False
    module = sys.modules.get(thing.__module__ or "")
    if module is None or module.__name__ == "builtins":
        return module is not None and getattr(module, thing.__name__, None) is thing
    parts = thing.__qualname__.split(".")
    if "<locals>" in parts or "<lambda>" in parts:  # made by a call: nothing to look it up by; a class by its own
        return not isinstance(thing, type)  # code then, its methods' closures too (pass 82: a factory's scale)
    return _held_at(module, parts) is thing or not is_local(module)


def _held_at(module: types.ModuleType, parts: list[str]) -> Any:
    """What ``module`` holds by the qualified name ``parts`` (``Outer.Inner``), or None."""
    held: Any = module
    for part in parts:
        held = vars(held).get(part) if isinstance(held, (types.ModuleType, type)) else None
    return held


def _module_values(
    prefix: str, module: types.ModuleType, names: set[str], into: dict[str, Any], seen: set[int] | None = None
) -> None:
    """Into ``into``, ``prefix.attr`` -> value for each attribute of a local module (and of its modules, however
    deep: pass 97, five deep were cut off) that ``names`` name and ``stable`` keeps: a module's file says what it
    held when loaded, not that a session set ``consts.SCALE = 50.0`` since (the same id for another computation,
    found probing pass 80's fix)."""
    seen = set() if seen is None else seen
    if id(module) in seen:
        return
    seen.add(id(module))
    if not is_local(module):  # an installed one's values are its state; of a namespace package, the parts it names
        into.update((f"{prefix} {part.__name__}", part) for part in _namespace_parts(module, names))  # count
        return
    for attr in sorted(names):
        value = vars(module).get(attr, _ABSENT)  # vars, not getattr: a module's __getattr__ may import or compute
        if isinstance(value, types.ModuleType):
            _module_values(f"{prefix}.{attr}", value, names, into, seen)
        elif value is not _ABSENT and (value := kept(value, lambda a=attr: f"{prefix}.{a}")) is not DROPPED:
            into[f"{prefix}.{attr}"] = value


def _namespace_parts(module: types.ModuleType, names: set[str]) -> list[types.ModuleType]:
    """Of a namespace package (no ``__init__``, parts in several distributions), the loaded parts ``names`` name:
    each counts by its own distribution (pass 90: acme.other as whichever acme distribution was listed first)."""
    if not _is_namespace(module):
        return []
    held = (vars(module).get(attr) for attr in sorted(names))
    return [part for part in held if isinstance(part, types.ModuleType)]


def _is_namespace(module: Any) -> bool:
    """Whether ``module`` is a namespace package: a folder without ``__init__.py``, which several distributions may
    each put a part in."""
    is_module = isinstance(module, types.ModuleType)
    return is_module and getattr(module, "__file__", None) is None and hasattr(module, "__path__")


def _class_value(cls: type, name: str, value: Any) -> Any:
    """What of a class attribute that is no method a fingerprint follows: the values a session may set (pass 81),
    not the caches Python keeps there (``__slotnames__``, an enum's members by value, which ``Flag`` composites
    join as they are made: pass 84; an ``abc.ABC``'s registry: pass 87)."""
    if name in _CACHED_ON_CLASSES:
        return DROPPED
    return kept(value, lambda: f"the attribute {name} of class {qualname(cls)}")


_CACHED_ON_CLASSES = frozenset({"__slotnames__", "_value2member_map_", "_unhashable_values_", "_abc_impl"})


def _installed(thing: types.FunctionType | type) -> bool:
    """Whether a function's code (its file: functools.wraps gives a wrapper its caller's module, pass 84) or a class's
    module is an installed library's, not a ganbench plugin's: an installed plugin's code is a part's, followed as a
    local plugin's is, its helpers' globals too, by the same rules (pass 93: a helper of its loss reading os.environ,
    a user's module, an editable or upgraded library kept the run id), with its distribution's version."""
    if isinstance(thing, types.FunctionType):
        filename = thing.__code__.co_filename
        return not _outside_or_unknown(filename) and not installed.is_plugin(_library_module(filename))
    module = sys.modules.get(thing.__module__ or "")
    if module is None or is_local(module):  # a plugin's module is local (``is_local``, pass 95)
        return False
    if _held_at(module, thing.__qualname__.split(".")) is thing:
        return True
    own = vars(thing)  # a class a library's factory made (its module: "types", "abc", the library's) of your
    values = (v for k, v in own.items() if not k.startswith("_") and not isinstance(v, (classmethod, property)))
    if any(not callable(v) for v in values):  # values (pass 98), functions (pass 97) or classes (pass 98: a
        return False  # parametrization's subclass of your module) is yours
    functions = (getattr(v, "__func__", None) or getattr(v, "fget", None) or v for v in own.values())
    return all(_installed(f) for f in functions if isinstance(f, types.FunctionType)) and all(
        base is object or _installed(base) for base in thing.__bases__
    )


def _library_module(filename: str) -> str:
    """An installed file's module (``torch.nn.modules.linear``), by its path under the nearest installed root."""
    return _module_under(filename, installed.roots())


@functools.lru_cache(maxsize=4096)
def _module_under(filename: str, roots: tuple[str, ...]) -> str:
    if filename.startswith("<frozen "):
        return filename.removeprefix("<frozen ").rstrip(">").partition(".")[0]
    where = os.path.realpath(filename)
    roots = [r for r in roots if where.startswith(r + os.sep)]  # the nearest: a venv's lib holds its
    root = max(roots, key=len, default=os.path.dirname(where))  # site-packages (pass 93: every installed function
    parts = os.path.relpath(where, root).split(os.sep)  # Python's)
    return ".".join([*parts[:-1], parts[-1].partition(".")[0]])


def _outside_or_unknown(filename: str) -> bool:
    if filename.startswith("<frozen "):  # the standard library frozen into Python (os, posixpath: pass 86)
        return False
    return not os.path.isfile(filename) or _outside(filename, installed.roots())


def _ganbench_code(function: types.FunctionType) -> bool:
    """Whether a function's code is in ganbench's own files: by its file, not ``__module__``, which
    ``functools.wraps`` copies onto a user's wrapper of a built-in loss (pass 87)."""
    return os.path.realpath(function.__code__.co_filename).startswith(_GANBENCH + os.sep)


_GANBENCH = os.path.dirname(os.path.realpath(__file__))


def _in_ganbench_files(module: Any) -> bool:
    """Whether a module is one of ganbench's own files."""
    where = getattr(module, "__file__", None)
    return isinstance(where, str) and os.path.realpath(where).startswith(_GANBENCH + os.sep)


def _in_ganbench(cls: type) -> bool:
    """Whether a class is defined in ganbench's own files."""
    return _in_ganbench_files(sys.modules.get(cls.__module__ or ""))


def _named(function: types.FunctionType) -> str:
    """A function as a one-line message names it: ``g_loss (losses.py)``, or its module for code without a file."""
    where = function.__code__.co_filename
    where = os.path.basename(where) if os.path.isfile(where) else function.__module__
    return f"{function.__qualname__} ({where})"


_ABSENT = object()


def _package_files(module: types.ModuleType) -> list[tuple[str, str]]:
    """A package's .py files by their path inside it (sorted), or a lone module's file."""
    roots = list(getattr(module, "__path__", ()))
    if roots:
        return _files_under(roots)
    try:
        path = inspect.getsourcefile(module)
    except TypeError:
        path = None
    path = path or getattr(module, "__file__", None)  # an extension's .so (pass 90: torch's cpp_extension.load)
    return [(os.path.basename(path), path)] if isinstance(path, str) and os.path.isfile(path) else []


def _files_under(roots: list[str]) -> list[tuple[str, str]]:
    """The module files under a package's folders, by their path inside it (sorted): its .py files and extensions
    built in place (``build_ext --inplace``)."""
    files = {}
    for root in roots:
        for folder, subfolders, names in os.walk(root):  # what an import can load: an editor's lock file
            subfolders[:] = sorted(d for d in subfolders if d.isidentifier())  # (.#x.py, a dangling link)
            for name in names:  # and Jupyter's .ipynb_checkpoints copies are no module (pass 82)
                path = os.path.join(folder, name)
                if _module_file(name) and os.path.isfile(path):
                    files[os.path.relpath(path, root).replace(os.sep, "/")] = path
    return sorted(files.items())


def _module_file(name: str) -> bool:
    """Whether a file name is one an import loads: ``x.py``, an extension ``x.cpython-311-x86_64-linux-gnu.so``, or
    ``x.pyc`` beside it (a package shipped without sources: pass 97, it had no files to count)."""
    if name.endswith((".py", ".pyc")):
        return name.rpartition(".")[0].isidentifier()
    suffix = next((s for s in importlib.machinery.EXTENSION_SUFFIXES if name.endswith(s)), None)
    return suffix is not None and name[: -len(suffix)].isidentifier()


def _versions(files: list[tuple[str, str]]) -> Iterator[tuple[str, str, int, int, int, int]]:
    """(name, path, ``file_version``) of each file still there (one removed since it was listed is not)."""
    for name, path in files:
        try:
            yield (name, path, *file_version(path))
        except OSError:
            continue


def file_version(path: str | os.PathLike[str]) -> tuple[int, int, int, int]:
    """What tells a file rewritten since it was last read: size, mtime, ctime and inode. Not mtime and size
    alone: ``cp -p``, ``tar x`` and ``rsync -t`` set the mtime back, and idx files of one N have one size (pass
    80: a session served the old files' record); ``utime`` cannot set ctime, and a replaced file is another inode."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


@functools.lru_cache(maxsize=256)
def _sources_digest(signature: tuple[tuple[str, str, int, int, int, int], ...]) -> bytes:
    """sha256 of a package's sources, cached by its files' names and ``file_version``s."""
    digest = hashlib.sha256()
    for name, path, *_ in signature:  # file_sha256's memo: the files the edited-since check hashed are read once
        digest.update(name.encode() + b"\0" + bytes.fromhex(file_sha256(Path(path))))
    return digest.digest()


def _installed_version(module_name: str) -> str:
    """The distributions and versions ("torch 2.14.1") that hold an installed module where Python loaded it from, or
    Python's for the standard library: by its top-level package, or in a namespace package that several
    distributions share (``acme.core``, ``acme.other``) by those whose files hold its part (pass 90: whichever was
    listed first, another's version); a module in site-packages that no distribution holds there by its sources
    (pass 92: it counted as Python's; pass 93: as the distribution whose copy it shadowed); the editable installs
    they require by their sources, and any they require that Python loads from outside the installed folders (a
    working copy ahead on the path: pass 97)."""
    name = _below_namespaces(module_name)
    top, *inner = name.split(".")
    module = sys.modules.get(name)
    if inner:
        version = installed.part_version(top, tuple(inner), _location(module)) or _unowned(name, module)
    else:
        version = installed.holders_version(top, _location(module)) or _unowned(top, module)
    for package in installed.required_packages(top, tuple(inner)):
        version += _own_copy(package, _loaded_or_found(package))
    return version


def _below_namespaces(module_name: str) -> str:
    """The package of ``module_name`` that one distribution holds: its top-level package, or below the namespace
    packages that several share (``acme.tools.gan`` of ``acme.tools.gan.loss``: pass 97, two deep counted both)."""
    parts = module_name.split(".")
    depth = 1
    while depth < len(parts) and _is_namespace(sys.modules.get(".".join(parts[:depth]))):
        depth += 1
    return ".".join(parts[:depth])


def _own_copy(package: str, module: Any) -> str:
    """What stands for a package a distribution requires where Python loads (or would load) a copy no installed
    distribution holds: from outside the installed folders (an editable install, a working copy ahead on the path,
    one of a namespace's folders), in site-packages where none holds it, or a zip; "" where an installed one is
    what loads, counted by its version (pass 97, 98)."""
    if module is None:
        return ""
    loaded = isinstance(module, types.ModuleType)
    where = getattr(module, "__file__", None) if loaded else getattr(module, "origin", None)
    folders = list((getattr(module, "__path__", None) if loaded else module.submodule_search_locations) or ())
    archive = _archive_holding_path(where) if isinstance(where, str) else None
    if archive is not None:
        return f" zip {package} {file_sha256(archive)}"
    if not isinstance(where, str) or not os.path.isfile(where):  # a namespace: its folders
        local = any(isinstance(f, str) and _outside(f, installed.roots()) for f in folders)
        return f" local {package} {_sources_hex(package, module)}" if local else ""
    if _outside(where, installed.roots()):
        return f" local {package} {_sources_hex(package, module)}"
    location = os.path.dirname(where) if folders else where
    if installed.holders_version(package, location) is None:
        return f" unowned {package} {_sources_hex(package, module)}"
    return ""


def _location(module: Any) -> str | None:
    """The folder of a package, the file of a module, as Python loaded it (None: not loaded, or a namespace)."""
    where = getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None
    if not isinstance(where, str):
        return None
    return os.path.dirname(where) if getattr(module, "__path__", None) is not None else where


def _unowned(name: str, module: Any) -> str:
    if not isinstance(module, types.ModuleType):
        return installed.PYTHON
    archive = _archive_holding(module)  # a zip in site-packages a .pth names (pass 98: no sources to list)
    return f"unowned {name} " + (f"zip {file_sha256(archive)}" if archive else _sources_hex(name, module))


def _sources_hex(name: str, module: Any) -> str:
    """The sha256 of a module's files (a package's sources, an extension's file) as hex, refused where a loaded one
    changed on disk since this process first read it (pass 93: an unowned module edited in a session); "none" where
    it has none."""
    if isinstance(module, types.ModuleType):
        signature = tuple(_versions(_package_files(module)))
    else:  # a spec found without importing it, or None
        signature = tuple(_versions(_spec_files(module))) if module is not None else ()
    if not signature:
        return "none"
    _refuse_edited_since_imported(name, signature)
    return _sources_digest(signature).hex()


def _archive_holding(module: types.ModuleType) -> Path | None:
    """The zip file a module was imported from (zipimport: its ``__file__`` is a path inside it), or None."""
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or ()), None)
    return _archive_holding_path(where) if isinstance(where, str) else None


def _archive_holding_path(where: str) -> Path | None:
    """The zip file holding a path that is not on disk (a module's file inside the archive), or None."""
    path = Path(where)
    if path.exists():  # on disk: in no archive
        return None
    for parent in path.parents:
        if parent.is_file():
            return parent if zipfile.is_zipfile(parent) else None
    return None


def _loaded_or_found(name: str) -> Any:
    return sys.modules.get(name) or _find_unloaded(name)


def _module_digest(module: types.ModuleType) -> bytes:
    """sha256 of a module's own files (its package's sources, an extension's built file), b"" where it has none."""
    files = tuple(_versions(_package_files(module)))
    return _sources_digest(files) if files else b""


_BY_NAME = frozenset(
    {"globals", "eval", "exec", "__import__", "import_module", "getenv", "environ", "getenvb", "environb"}
)
"""What reads values by a name known only at run time (``globals()["SCALE"]``, ``importlib.import_module(name)``,
``os.environ["SCALE"]``): no fingerprint can say which values those are."""
_BY_NAME_FROM = {
    "modules": ("sys",),
    "import_module": ("importlib",),
    "environ": ("os", "posix", "nt"),
    "environb": ("os",),
    "getenv": ("os",),
    "getenvb": ("os",),
    "_getframe": ("sys",),
    "currentframe": ("inspect",),
    "eval": ("builtins",),
    "exec": ("builtins",),
    "globals": ("builtins",),
    "argv": ("sys",),  # the command line (pass 87: `"--hard" in sys.argv` kept the run id)
    "orig_argv": ("sys",),
    "ops": ("torch",),  # custom operators, found in torch's registry by name (pass 89)
    "expandvars": ("posixpath", "ntpath", "os.path"),
    "resolve_name": ("pkgutil",),
}
_SPELLED_READER = re.compile(r"^(?:[A-Za-z_][\w.]*[.:])?(?:environb?|getenvb?|argv|orig_argv|expandvars)$")
"""A string that names a reader (``getattr(os, "environ")``, ``vars(os)["environ"]``: pass 97), refused where the code
also reads attributes by name (``_BY_STRING``); a dict's key "environ" alone is no reader."""
_BY_STRING = frozenset(
    {"getattr", "attrgetter", "methodcaller", "vars", "__dict__", "getattr_static", "reduce", "__getattribute__"}
)
_READ_OF_ANY = frozenset({"environ", "environb", "expandvars"})
"""Attributes refused when read of an object the code computed (``getattr(sys, "modules")["os"].environ``)."""
_BOOKKEEPING = ("_torchdynamo", "_isolate_recompiles_id", "get_compiler_config", "aot_compile", "__dynamo")
"""Attributes torch.compile sets on the function it returns: counters of the process (pass 86: an id per process),
and dynamo's mark on a function it must not compile, set at its first call (pass 88: torch.utils.checkpoint)."""


def _is_reader(function: types.FunctionType, name: str) -> bool:
    """Whether the global ``name`` a function loads is what reads by name (the builtin ``eval``, ``os.environ``),
    not a global of its own called so."""
    held = function.__globals__.get(name, _ABSENT)
    return held is _ABSENT or is_a_reader(held)  # absent: a builtin


def _module_holding(function: types.FunctionType, loaded: str | None, attribute: str) -> bool:
    """Whether the name loaded before reading ``attribute`` is the module that holds it as a reader (``os`` for
    ``environ``), under any alias it is imported as (``import os as _os``, pass 86)."""
    held = function.__globals__.get(loaded or "", _ABSENT)
    module = held.__name__ if isinstance(held, types.ModuleType) else loaded
    return module in _BY_NAME_FROM[attribute]


def refuse_reads_by_name(function: types.FunctionType) -> None:
    """GanbenchError if ``function``'s code reads values by a name known only at run time (pass 85: a loss reading
    ``globals()["SCALE"]``, a module by ``importlib.import_module`` or ``os.environ`` kept its run id when they
    changed, and was handed the old record), by its name or any other (`ENV = os.environ`, pass 86)."""
    scope = function.__globals__
    for name in sorted(_names(function.__code__) & scope.keys()):
        if is_a_reader(scope[name]):
            held = reader_name(scope[name])
            _refuse_reading_by_name(function, name if held.endswith(name) else f"{name}, {held}")
    for code in _codes(function.__code__):
        previous = importing = None
        aliases: dict[str, str] = {}  # `import os as _os` in the body: _os -> os
        for instruction in dis.get_instructions(code):
            name = instruction.argval if isinstance(instruction.argval, str) else None
            if instruction.opname == "IMPORT_NAME":
                importing = name
            elif instruction.opname == "IMPORT_FROM" and name in _BY_NAME_FROM and importing in _BY_NAME_FROM[name]:
                _refuse_reading_by_name(function, f"{importing}.{name}")  # `from os import getenv` in the body
            elif instruction.opname in ("STORE_FAST", "STORE_DEREF", "STORE_NAME") and importing and name:
                aliases[name], importing = importing.partition(".")[0], None
            loads_global = instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")  # a parameter named eval is not
            loads_local = instruction.opname in ("LOAD_FAST", "LOAD_DEREF")  # eval (pass 86); `import os` in the body
            if (loads_global and name in _BY_NAME and _is_reader(function, name)) or (
                instruction.opname in ("LOAD_ATTR", "LOAD_METHOD")
                and (
                    name in ("__globals__", "f_globals")
                    or name in _BY_NAME_FROM
                    and _module_holding(function, aliases.get(previous or "", previous), name)
                )
            ):
                _refuse_reading_by_name(function, f"{previous}.{name}" if not loads_global else f"{name}")
            if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and name in _READ_OF_ANY and previous is None:
                _refuse_reading_by_name(function, name)
            previous = name if loads_global or loads_local else None
    names = _names(function.__code__)
    if names & _BY_STRING:
        spelled = next((s for s in _strings_held(function) if _SPELLED_READER.match(s)), None)
        if spelled is not None:
            _refuse_reading_by_name(function, repr(spelled))


def _strings_held(function: types.FunctionType) -> list[str]:
    """The strings a function's code, defaults, closure and the globals it names hold (not docstrings): the names
    ``getattr`` and its kind may be handed (pass 97: ``getattr(os, KEY)``, ``key="environ"``)."""
    found = []
    for code in _codes(function.__code__):
        comprehension = code.co_name.startswith("<") and code.co_name != "<lambda>"
        held_consts = code.co_consts[0 if comprehension else 1 :]
        found += [c for c in held_consts if isinstance(c, str)]
        found += [x for c in held_consts if isinstance(c, (tuple, frozenset)) for x in c if isinstance(x, str)]
    held = [*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()]
    held += [_cell_value(c) for c in function.__closure__ or ()]
    scope = function.__globals__
    held += [scope[n] for n in _names(function.__code__) if n in scope]
    for value in held:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found += [x for x in value if isinstance(x, str)]
    return found


def _refuse_reading_by_name(function: types.FunctionType, spelled: str) -> None:
    from ganbench.errors import GanbenchError

    raise GanbenchError(
        f"{_named(function)} reads values by a name known only at run time ({spelled}), which its run id cannot "
        "follow, so a change to them would be handed the old record; name them in its code, or keep them in its "
        "options"
    )


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _attribute_names(function: types.FunctionType) -> set[str]:
    """The attributes a function may read of a module: those it names, and the names the strings it holds spell
    (``getattr(consts, "SCALE")``: pass 97; ``attrgetter("consts.SCALE")``, ``getattr(consts, ATTR)``, a default
    holding the name: pass 98)."""
    found = _names(function.__code__)
    for text in _strings_held(function):
        found.update(part for part in re.split(r"[.:]", text) if part.isidentifier())
    return found


def _libraries_named(function: types.FunctionType, own: str) -> bytes:
    """The versions of the other installed libraries whose modules, functions or classes an installed function's
    code names among its globals: an installed plugin's helper distribution decides its result as its own code does
    (pass 90: ganutils 2.0 kept gplug's run id); what they in turn call counts by their own versions."""
    scope, tops, names = function.__globals__, set(), _names(function.__code__)
    held = [scope.get(name) for name in names]  # its globals, defaults (pass 91: pen=g91dep.f2) and closure
    held += [*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()]
    for value in held:
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)) and module:
            tops.add(module if isinstance(module, str) else "")
        if _is_namespace(value):  # no distribution's own: the parts it names are
            tops.discard(module)
            tops.update(part.__name__ for part in _namespace_parts(value, names))
    imported = _imported(function.__code__, scope.get("__package__"))  # in its body (pass 91: `import g91dep`)
    tops = {t for t in tops | set(imported) if t.partition(".")[0] not in (own, "", "__main__", *_STANDARD)}
    uses = set()
    for name in tops:
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType):
            if _is_namespace(module):
                continue
            if is_local(module):  # a user's module an installed plugin reads (pass 93: its edits kept the run id)
                top = name.partition(".")[0]
                uses.add(f"uses local {top} {_sources_hex(top, sys.modules.get(top, module))};")
            else:
                uses.add(f"uses {_installed_version(name)};")
        elif name in imported:  # not loaded yet: found without importing it, or absent (then it is not used)
            uses.add(f"uses {_unloaded_sources(name) or 'nothing'} as {name};")
    return "".join(sorted(uses)).encode()


def _class_libraries(cls: type) -> bytes:
    """``_libraries_named`` of each function an installed class defines (its methods, static and class methods), and
    the versions of the distributions its bases come from (pass 91: ``class P(g91dep.Pen)``)."""
    own = (cls.__module__ or "").partition(".")[0]
    functions = [f for value in vars(cls).values() for f in _functions_in(value)]
    uses = b"".join(_libraries_named(f, own) for f in functions)
    bases = {(b.__module__ or "") for b in cls.__mro__[1:] if (b.__module__ or "").partition(".")[0] != own}
    bases = {b for b in bases if b.partition(".")[0] not in ("", "builtins", *_STANDARD)}
    return uses + "".join(sorted(f"base of {_installed_version(b)};" for b in bases)).encode()


_STANDARD = frozenset(sys.stdlib_module_names)


def _functions_in(value: Any) -> list[types.FunctionType]:
    """The functions a class attribute runs: a method, a static or class method's, a property's getter, setter and
    deleter, and what each wraps (``functools.wraps``: pass 92, a decorated ``__call__`` counted the decorator's)."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    found = []
    for function in (value.fget, value.fset, value.fdel) if isinstance(value, property) else (value,):
        for _ in range(8):
            if isinstance(function, types.FunctionType):
                found.append(function)
            function = getattr(function, "__wrapped__", None)
            if function is None:
                break
    return found


@functools.lru_cache(maxsize=4096)
def _imported(code: types.CodeType, package: str | None) -> list[str]:
    """The modules a function's body imports, by absolute name (sorted): ``import a.b``, ``from .helpers import f``
    (resolved against its ``package``), and of ``from . import helpers`` the submodule it may name."""
    found: set[str] = set()
    for each in _codes(code):
        consts: list[Any] = []
        for instruction in dis.get_instructions(each):
            if instruction.opname == "IMPORT_NAME" and len(consts) >= 2 and isinstance(consts[-2], int):
                level, fromlist = consts[-2:]
                try:
                    base = importlib.util.resolve_name("." * level + instruction.argval, package)
                except (ImportError, ValueError, TypeError, AttributeError):  # a relative import outside a package
                    base = None
                if base:
                    found.add(base)
                    found.update(f"{base}.{name}" for name in fromlist or () if isinstance(name, str) and name != "*")
            consts = [*consts[-1:], instruction.argval] if instruction.opname == "LOAD_CONST" else []
    return sorted(found)


def _unloaded_sources(name: str) -> str | tuple[str, bytes] | None:
    """What stands for a module a body imports that is not loaded yet, found without importing it: an installed
    one's distribution and version, a local one's sources (pass 90: a helper first imported inside a loss was not
    in the run id, so an edit of it kept the id); None where none is found (an import that would fail)."""
    spec = _find_unloaded(name)
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or ())
    where = spec.origin if spec.origin and os.path.isfile(spec.origin) else next(iter(roots), None)
    inside = spec.origin if isinstance(spec.origin, str) and not os.path.exists(spec.origin) else where
    archive = _archive_holding_path(inside) if isinstance(inside, str) else None
    if archive is not None:  # in a zip (pass 96; pass 97: a package's, whose folder is a path inside it)
        return (f"archive of {name}", bytes.fromhex(file_sha256(archive)))
    if where is None:  # built in, frozen
        return None
    top, _, rest = name.partition(".")
    if not _outside(where, installed.roots()) and not installed.is_plugin(name):  # a plugin's: its sources (pass 95)
        part = rest.partition(".")[0]  # a namespace's part (not loaded: not known to be one) by its holder (pass 91)
        held = sys.modules.get(top)
        namespace = _is_namespace(held) if held is not None else _spec_of_namespace(_find_unloaded(top))
        if part and (namespace or len(installed.packages_distributions().get(top, ())) > 1):  # (pass 93: a part no
            version = installed.part_version(top, (part,), _spec_location(_find_unloaded(f"{top}.{part}")))  # holds)
        else:
            version = installed.holders_version(top, _location(held) if held else _spec_location(_find_unloaded(top)))
        if version is not None:  # else none holds it there: its sources (pass 93)
            return f"library {version}"
    return (f"sources of {name}", _sources_digest(tuple(_versions(_spec_files(spec)))))


def _spec_files(spec: Any) -> list[tuple[str, str]]:
    """The files of a module found without importing it, as ``_package_files`` lists a loaded one's."""
    roots = list(spec.submodule_search_locations or ())
    if roots:
        return _files_under(roots)
    origin = spec.origin
    return [(os.path.basename(origin), origin)] if isinstance(origin, str) and os.path.isfile(origin) else []


def _spec_of_namespace(spec: Any) -> bool:
    """Whether a module found without importing it is a namespace package (folders without ``__init__.py``)."""
    return spec is not None and spec.origin in (None, "namespace") and spec.submodule_search_locations is not None


def _spec_location(spec: Any) -> str | None:
    """``_location`` of a module found without importing it."""
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not os.path.isfile(origin):
        return None
    return os.path.dirname(origin) if spec.submodule_search_locations is not None else origin


def _find_unloaded(name: str) -> Any:
    """A module's spec as the import system would find it, without importing it or its parents."""
    parent, _, _ = name.rpartition(".")
    path = None
    if parent:
        held = sys.modules.get(parent)
        if held is not None:
            path = getattr(held, "__path__", None)
        else:
            found = _find_unloaded(parent)
            path = found.submodule_search_locations if found is not None else None
        if path is None:  # a parent that is no package: no such module
            return None
    for finder in sys.meta_path:
        try:
            spec = finder.find_spec(name, path)
        except Exception:  # noqa: BLE001 - a finder of another kind; the import itself would say
            continue
        if spec is not None:
            return spec
    return None


def _cell_value(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _torch() -> Any:
    return sys.modules["torch"]


def file_sha256(path: Path) -> str:
    """A file's sha256 (Inception weights, data that no published checksum vouches for), remembered per path and
    ``file_version`` so a process hashes ~100 MB once."""
    key = (str(path.resolve()), *file_version(path))
    if key not in _sha256_memo:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _sha256_memo[key] = digest.hexdigest()
    return _sha256_memo[key]


_sha256_memo: dict[tuple[str, int, int, int, int], str] = {}
